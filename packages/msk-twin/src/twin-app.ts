/**
 * The local MSK twin of a synthesized app, the halves put together:
 *
 * 1. read the cloud assembly (assembly/assembly.ts);
 * 2. start as many brokers as the cluster declares, with the client listeners it opens (topology.ts), its broker
 *    configuration (broker-config.ts), TLS and IAM sign-in (twin.ts);
 * 3. hand the function roles' IAM policies to the twin, which evaluates them for every request (policies.ts);
 * 4. give each function a Lambda-like runner on Node.js 24 (lambda-runner.ts) with its template environment (the
 *    bootstrap brokers resolved to the twin), credentials issued for its own role, and the twin's CA.
 *
 *   const twin = await startTwinApp({ profile: 'dev' });
 *   const producer = twin.runner('producer');
 *   await producer.invoke({ message: 'Hello MSK' });
 *   await twin.stop();
 */
import * as fs from 'fs';
import {
  describeTwinApp,
  findFunction,
  readCloudAssembly,
  withDeployment,
  type CloudAssemblyView,
  type TwinApp,
  type TwinFunction,
} from './assembly/assembly';
import { brokerConfigFor, type BrokerConfigPlan } from './broker/broker-config';
import { clientListeners, localBrokerCount } from './broker/topology';
import { LambdaRunner, functionSpec, type LambdaRunnerOptions } from './runner/lambda-runner';
import type { Logger } from './broker/local-kafka';
import { policiesOf, type PolicyDocuments, type TwinRolePolicies } from './authorization/policies';
import type { IssuedCredentials } from './iam/credentials';
import { LocalTwin, startTwin, type StartTwinOptions } from './twin';
import { twinIdentity, type TwinIdentity } from './identity';
import { brokerReach, type BrokerReach } from './network/security-groups';
import { startAwsApi, type AwsApiEndpoint } from './aws-api/server';
import { emptyDeployment, type TwinDeployment } from './assembly/deployment';
import { deployCustomResources, type DeployOptions, type DeployedResource } from './deploy/custom-resources';

/** Lambda hands a function's container credentials of its role's session; the twin's last this long. */
export const FUNCTION_CREDENTIAL_TTL_SECONDS = 3600;

export interface StartTwinAppOptions extends Pick<
  StartTwinOptions,
  'port' | 'logDir' | 'jvmOptions' | 'readyTimeoutMs' | 'maxSessionMs' | 'detached'
> {
  /** The partition, account and region the app's ARNs resolve to and the twin runs in. @default TWIN_* */
  readonly identity?: Partial<TwinIdentity>;
  /**
   * Documents of managed policies (or permissions boundaries) the function roles name but the assembly does not
   * hold, by policy ARN; without one the start stops, naming the policy. @default none
   */
  readonly policyDocuments?: PolicyDocuments;
  /** The synthesized app: a cloud assembly directory (`cdk synth -o DIR`), or one already read. */
  readonly assembly: string | CloudAssemblyView;
  /** How long the caller took to synthesize the assembly, for timings. @default 0 */
  readonly synthMs?: number;
  /** The functions' environment variable that carries the bootstrap brokers. @default found from the template */
  readonly brokersVariable?: string;
  /**
   * server.properties entries over the template's, for every broker (e.g. a listener's
   * `listener.name.iam.max.connections`). @default none
   */
  readonly brokerConfig?: Readonly<Record<string, string>>;
  /** Kafka's `group.initial.rebalance.delay.ms` when the configuration leaves it out. @default 3000, as MSK */
  readonly groupInitialRebalanceDelayMs?: number;
  /**
   * Changes the app before its policies are read: a test's variant of a role (policy-variants.ts).
   * @default none
   */
  readonly editApp?: (app: TwinApp) => TwinApp;
  /**
   * Run the app's custom resources as `cdk deploy` would (TwinAppInstance.deploy), so that the functions get their
   * values (the bootstrap brokers) through them. @default true
   */
  readonly deploy?: boolean;
  /** Progress messages. @default silent */
  readonly log?: Logger;
}

/** How long each step of the start took (ms); Maven downloads and the validator build are not counted. */
export interface TwinAppTimings {
  /** Given by the caller that synthesized the assembly (StartTwinAppOptions.synthMs); 0 otherwise. */
  readonly synthMs: number;
  /** Reading the assembly and planning the brokers. */
  readonly assemblyMs: number;
  readonly brokersMs: number;
  /** Handing the roles' policies to the twin. */
  readonly policiesMs: number;
  /** Running the custom resources (StartTwinAppOptions.deploy). */
  readonly deployMs: number;
  readonly totalMs: number;
}

export interface RunnerOptions extends Omit<LambdaRunnerOptions, 'credentials' | 'caFile'> {
  /** Sign in as another role than the function's own (tests of refusals). @default the function's role */
  readonly roleArn?: string;
  /** @default FUNCTION_CREDENTIAL_TTL_SECONDS */
  readonly credentialTtlSeconds?: number;
  /** Credentials to give every container instead of issuing them (expired or unknown ones, in tests). */
  readonly credentials?: () => IssuedCredentials;
}

/** A running twin of a synthesized app (see startTwinApp). */
export class TwinAppInstance {
  private readonly runners: LambdaRunner[] = [];
  private readonly issued = new Map<LambdaRunner, IssuedCredentials[]>();

  constructor(
    readonly twin: LocalTwin,
    app: TwinApp,
    /** The policies the twin evaluates for the app's function roles. */
    readonly policies: readonly TwinRolePolicies[],
    readonly brokerConfig: BrokerConfigPlan,
    readonly timings: TwinAppTimings,
    /** Whether stop() ends the brokers (false for a variant sharing another instance's twin). */
    private readonly ownsTwin = true,
    /** See StartTwinAppOptions.brokersVariable. */
    private readonly brokersVariable?: string,
    /** The AWS API endpoint the functions' SDK calls reach (aws-api/server.ts). @default none */
    readonly awsApi?: AwsApiEndpoint,
    /** What a deploy of the app left (deploy()); undefined until one ran. */
    deployment?: TwinDeployment,
  ) {
    this.currentApp = deployment ? withDeployment(app, deployment) : app;
    this.currentDeployment = deployment;
  }

  private currentApp: TwinApp;
  private currentDeployment?: TwinDeployment;

  /** The synthesized app, as edited by `editApp`; after deploy(), resolving from what the deploy created. */
  get app(): TwinApp {
    return this.currentApp;
  }

  /** What the last deploy() created (custom resource answers, SSM parameters); undefined before one ran. */
  get deployment(): TwinDeployment | undefined {
    return this.currentDeployment;
  }

  /**
   * Creates the app's custom resources and SSM parameters as `cdk deploy` would (deploy/custom-resources.ts): their
   * handlers run in containers with their roles' credentials; runners made afterwards resolve their environment from
   * the answers. A failed resource throws CustomResourceError, with CloudFormation's reason in one line.
   */
  async deploy(
    options: DeployOptions & { readonly environment?: Readonly<Record<string, string>> } = {},
  ): Promise<DeployedResource[]> {
    const deployment = emptyDeployment();
    this.currentApp = withDeployment(this.currentApp, deployment);
    this.currentDeployment = deployment;
    return deployCustomResources(
      {
        app: this.currentApp,
        deployment,
        endpoint: { bootstrapBrokers: this.twin.bootstrapBrokers, brokersVariable: this.brokersVariable },
        runner: (fn, routes) => this.runnerFor(fn, { environmentOverrides: options.environment, routes }),
        putParameter: (name, value) => this.awsApi?.putParameter(name, value),
        keystoreFile: this.twin.keystoreFile,
      },
      options,
    );
  }

  /**
   * The same twin, with a variant of the app (policy-variants.ts) whose function roles get ARNs of their own
   * (`<role>-v<n>`), so that the variant starts from exactly its own policies and changes nobody else's. stop() of
   * the variant stops its runners and forgets its roles' policies.
   */
  async variant(edit: (app: TwinApp) => TwinApp): Promise<TwinAppInstance> {
    const variant = withOwnRoles(edit(this.app), `-v${++variantCount}${process.pid.toString(36)}`);
    const instance = await twinAppOn(this.twin, variant, {
      brokersVariable: this.brokersVariable,
      deployment: this.deployment,
    });
    instance.forgetOnStop = instance.policies.map((p) => p.roleArn);
    return instance;
  }

  /** The function named `name`: its construct path or a tail of it (`Producer`), logical id or function name. */
  function(name: string): TwinFunction {
    return findFunction(this.app.functions, name);
  }

  /** Whether the template's security groups let the function named `name` reach the brokers, and why. */
  reach(name: string): BrokerReach {
    return brokerReach(this.app, this.function(name));
  }

  /** The policies the twin evaluates for `roleArn` (throws when no function of the app runs as it). */
  policiesOf(roleArn: string): TwinRolePolicies {
    const found = this.policies.find((p) => p.roleArn === roleArn);
    if (!found) throw new Error(`No function of the app runs as ${roleArn}`);
    return found;
  }

  /**
   * A Lambda-like container for the function named `name` (see function()): its runtime's Node.js, the
   * template's environment with the twin's bootstrap brokers, credentials issued for its role at each cold
   * start, NODE_EXTRA_CA_CERTS. Stopped by stop().
   */
  runner(name: string, options: RunnerOptions = {}): LambdaRunner {
    return this.runnerFor(this.function(name), options);
  }

  /** runner() for a function of the app already found. */
  private runnerFor(fn: TwinFunction, options: RunnerOptions): LambdaRunner {
    const { roleArn, credentialTtlSeconds, credentials: given, ...rest } = options;
    const role = roleArn ?? fn.roleArn;
    // In the VPC, a function whose security groups do not allow it cannot open a connection to any broker.
    const unreachablePorts = brokerReach(this.app, fn).reachable
      ? []
      : this.twin.bootstrapBrokers.split(',').map((address) => Number(address.slice(address.lastIndexOf(':') + 1)));
    const runner = new LambdaRunner(
      functionSpec(this.app, fn, {
        bootstrapBrokers: this.twin.bootstrapBrokers,
        brokersVariable: this.brokersVariable,
      }),
      {
        unreachablePorts,
        ...rest,
        // The SDK's standard endpoint variables: the functions' AWS calls go to the twin, never to AWS.
        environmentOverrides: { ...this.awsApi?.environment(), ...rest.environmentOverrides },
        region: rest.region ?? this.twin.region,
        caFile: this.twin.caFile,
        credentials: () => {
          const credentials =
            given?.() ?? this.twin.issueCredentials(role, credentialTtlSeconds ?? FUNCTION_CREDENTIAL_TTL_SECONDS);
          this.issued.get(runner)?.push(credentials);
          return credentials;
        },
      },
    );
    this.issued.set(runner, []);
    this.runners.push(runner);
    return runner;
  }

  /** The access keys issued to `runner`'s containers, oldest first. */
  accessKeysOf(runner: LambdaRunner): string[] {
    return (this.issued.get(runner) ?? []).map((c) => c.accessKeyId);
  }

  /**
   * The brokers' log lines of sign-ins with the access keys issued to `runner`'s containers, e.g.
   * `MSK IAM sign-in [id]: arn:aws:iam::111122223333:role/… with access key TWIN…, session until …`.
   */
  signIns(runner: LambdaRunner): string[] {
    const keys = this.accessKeysOf(runner);
    return this.twin.cluster.brokers.flatMap((broker) =>
      readLines(broker.logFile).filter(
        (line) => line.includes('MSK IAM sign-in [') && keys.some((key) => line.includes(`with access key ${key},`)),
      ),
    );
  }

  /** Roles whose policies stop() removes from the twin (a variant's own). */
  private forgetOnStop: readonly string[] = [];

  /** Stops every runner, then the brokers (certificates and credentials go with them). */
  async stop(): Promise<void> {
    await Promise.all(this.runners.map((r) => r.stop().catch(() => undefined)));
    if (this.forgetOnStop.length > 0 && this.twin.cluster.isRunning) {
      await this.twin.removePolicies(this.forgetOnStop).catch(() => undefined);
    }
    await this.awsApi?.stop();
    if (this.ownsTwin) await this.twin.stop();
  }
}

let variantCount = 0;

/** The app with every function role renamed `<role><suffix>`, in the roles and in the functions that run as them. */
export function withOwnRoles(app: TwinApp, suffix: string): TwinApp {
  const used = new Set(app.functions.map((f) => f.roleArn));
  const rename = (arn: string) => (used.has(arn) ? `${arn}${suffix}` : arn);
  return {
    ...app,
    roles: app.roles.map((role) => (used.has(role.arn) ? { ...role, arn: rename(role.arn) } : role)),
    functions: app.functions.map((f) => ({ ...f, roleArn: rename(f.roleArn) })),
    kafkaFunctions: app.kafkaFunctions.map((f) => ({ ...f, roleArn: rename(f.roleArn) })),
  };
}

/** Reads the app's assembly, starts its twin with its roles' policies; see the file comment. */
export async function startTwinApp(options: StartTwinAppOptions): Promise<TwinAppInstance> {
  const started = performance.now();
  const identity = twinIdentity(options.identity);
  const assembly = typeof options.assembly === 'string' ? readCloudAssembly(options.assembly) : options.assembly;
  let app = describeTwinApp(assembly, identity);
  if (options.editApp) app = options.editApp(app);
  // Read before anything starts: a policy the twin cannot read fails here, in one line.
  const policies = policiesOf(app, { policyDocuments: options.policyDocuments });
  const brokers = localBrokerCount(app.cluster);
  const listeners = clientListeners(app.cluster);
  const brokerConfig = brokerConfigFor(app.cluster, {
    brokers,
    groupInitialRebalanceDelayMs: options.groupInitialRebalanceDelayMs,
  });
  const assemblyMs = performance.now() - started;
  const synthMs = options.synthMs ?? 0;
  options.log?.(
    `read ${app.cluster.stack} and ${app.functions.length} functions from the assembly in ${ms(assemblyMs)}`,
  );
  const twin = await startTwin({
    brokers,
    listeners,
    port: options.port,
    logDir: options.logDir,
    jvmOptions: options.jvmOptions,
    readyTimeoutMs: options.readyTimeoutMs,
    maxSessionMs: options.maxSessionMs,
    detached: options.detached,
    identity,
    policies,
    version: brokerConfig.kafkaVersion.local,
    brokerConfig: { ...brokerConfig.properties, ...options.brokerConfig },
    log: options.log,
  });
  const timings = {
    synthMs,
    assemblyMs,
    brokersMs: twin.startupMs,
    policiesMs: 0,
    deployMs: 0,
    totalMs: synthMs + assemblyMs + twin.startupMs,
  };
  const awsApi = await startAppAwsApi(twin, app, options.log).catch(async (error: unknown) => {
    await twin.stop();
    throw error;
  });
  const instance = new TwinAppInstance(
    twin,
    app,
    policies,
    brokerConfig,
    timings,
    true,
    options.brokersVariable,
    awsApi,
  );
  if (options.deploy ?? true) {
    const deployStarted = performance.now();
    await instance.deploy({ log: options.log }).catch(async (error: unknown) => {
      await instance.stop();
      throw error;
    });
    timings.deployMs = performance.now() - deployStarted;
    timings.totalMs += timings.deployMs;
  }
  return instance;
}

/** The AWS API endpoint of the app's twin: its cluster, brokers and zones, and the SSM parameters given. */
export function startAppAwsApi(
  twin: LocalTwin,
  app: TwinApp,
  log?: Logger,
  parameters?: Readonly<Record<string, string>>,
): Promise<AwsApiEndpoint> {
  return startAwsApi({
    parameters,
    registryDir: twin.registryDir,
    identity: twin.identity,
    cluster: {
      arn: app.cluster.arn,
      name: app.cluster.name,
      serverless: app.cluster.serverless,
      kafkaVersion: app.cluster.kafkaVersion ?? '',
      instanceType: app.cluster.instanceType ?? '',
      bootstrapBrokersSaslIam: twin.hasIamListener ? twin.bootstrapBrokers : '',
      brokerIds: twin.cluster.brokers.map((_, i) => i + 1),
      azCount: app.cluster.azCount ?? 3,
      tags: app.cluster.tags,
    },
    log,
  });
}

export interface TwinAppOnOptions {
  /** Set the app's policies (false when the twin that runs already holds them, as `up` left it). @default true */
  readonly grant?: boolean;
  /** See StartTwinAppOptions.policyDocuments. */
  readonly policyDocuments?: PolicyDocuments;
  /** See StartTwinAppOptions.brokersVariable. */
  readonly brokersVariable?: string;
  /** What a deploy of the app left (`msk-twin up` records it): answers, and the SSM parameters. @default none */
  readonly deployment?: TwinDeployment;
}

/**
 * An app on a twin that is already running (e.g. the integration tests' shared one, or the CLI's): sets its
 * roles' policies, replacing what those roles had, and returns the instance; its stop() leaves the brokers running.
 * The app must be described with the twin's identity (describeTwinApp(assembly, twin.identity)).
 */
export async function twinAppOn(
  twin: LocalTwin,
  app: TwinApp,
  options: TwinAppOnOptions = {},
): Promise<TwinAppInstance> {
  const policies = policiesOf(app, { policyDocuments: options.policyDocuments });
  const brokerConfig = brokerConfigFor(app.cluster, { brokers: twin.cluster.brokers.length });
  const started = performance.now();
  if (options.grant ?? true) await twin.setPolicies(policies);
  const policiesMs = performance.now() - started;
  return new TwinAppInstance(
    twin,
    app,
    policies,
    brokerConfig,
    { synthMs: 0, assemblyMs: 0, brokersMs: 0, policiesMs, deployMs: 0, totalMs: policiesMs },
    false,
    options.brokersVariable,
    await startAppAwsApi(twin, app, undefined, options.deployment?.parameters),
    options.deployment,
  );
}

function readLines(file: string): string[] {
  try {
    return fs.readFileSync(file, 'utf8').split('\n');
  } catch {
    return [];
  }
}

function ms(value: number): string {
  return `${(value / 1000).toFixed(1)} s`;
}
