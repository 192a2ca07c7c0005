/**
 * The local MSK twin of a synthesized app, the halves put together:
 *
 * 1. synthesize the chosen profile offline (assembly.ts);
 * 2. start the broker(s) with the template's broker configuration (broker-config.ts), TLS and IAM sign-in (twin.ts);
 * 3. translate the function roles' IAM policies to Kafka ACLs (policy-acls.ts) and apply them;
 * 4. give each function a Lambda-like runner on Node.js 24 (lambda-runner.ts) with its template environment (the
 *    bootstrap brokers resolved to the twin), credentials issued for its own role, and the twin's CA.
 *
 *   const twin = await startTwinApp({ profile: 'dev' });
 *   const producer = twin.runner('producer');
 *   await producer.invoke({ message: 'Hello MSK' });
 *   await twin.stop();
 */
import * as fs from 'fs';
import { describeTwinApp, synthesizeApp, type TwinApp, type TwinFunction } from './assembly';
import { brokerConfigFor, localBrokerCount, type BrokerConfigPlan } from './broker-config';
import { LambdaRunner, functionSpec, type LambdaRunnerOptions } from './lambda-runner';
import type { BrokerCount, Logger } from './local-kafka';
import { translatePolicies, type PolicyTranslation } from './policy-acls';
import type { IssuedCredentials } from './credentials';
import { LocalTwin, startTwin, type StartTwinOptions } from './twin';
import type { AclBinding } from './twin-identity';

/** Lambda hands a function's container credentials of its role's session; the twin's last this long. */
export const FUNCTION_CREDENTIAL_TTL_SECONDS = 3600;

export interface StartTwinAppOptions extends Pick<
  StartTwinOptions,
  'port' | 'logDir' | 'jvmOptions' | 'readyTimeoutMs' | 'maxSessionMs'
> {
  /** Profile from cdk.json. @default cdk.json's `profile` context (dev) */
  readonly profile?: string;
  /** More synth context, as `cdk synth -c key=value` gives it. @default none */
  readonly context?: Readonly<Record<string, unknown>>;
  /**
   * Brokers to run; the deployed replication needs 3 for a cluster of more than one broker.
   * @default localBrokerCount(cluster)
   */
  readonly brokers?: BrokerCount;
  /**
   * server.properties entries over the template's, for every broker (e.g. a listener's
   * `listener.name.iam.max.connection.creation.rate`). @default none
   */
  readonly brokerConfig?: Readonly<Record<string, string>>;
  /** Kafka's `group.initial.rebalance.delay.ms` when the configuration leaves it out. @default 3000, as MSK */
  readonly groupInitialRebalanceDelayMs?: number;
  /**
   * Changes the app before its policies are translated: a test's variant of a role (policy-variants.ts).
   * @default none
   */
  readonly editApp?: (app: TwinApp) => TwinApp;
  /** Progress messages. @default silent */
  readonly log?: Logger;
}

/** How long each step of the start took (ms); Maven downloads and the validator build are not counted. */
export interface TwinAppTimings {
  readonly synthMs: number;
  readonly brokersMs: number;
  readonly aclsMs: number;
  readonly totalMs: number;
}

export interface RunnerOptions extends Omit<LambdaRunnerOptions, 'credentials' | 'caFile'> {
  /** The export to run, for functions of one bundle with several handlers. @default the first Kafka function */
  readonly handler?: string;
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
    /** The synthesized app, as edited by `editApp`. */
    readonly app: TwinApp,
    readonly translation: PolicyTranslation,
    readonly brokerConfig: BrokerConfigPlan,
    readonly timings: TwinAppTimings,
    /** Whether stop() ends the brokers (false for a variant sharing another instance's twin). */
    private readonly ownsTwin = true,
  ) {}

  /**
   * The same twin, with the ACLs of a variant of the app added (policy-variants.ts): grants add up, so a variant
   * should use topic and group names of its own. stop() of the variant stops only its runners.
   */
  async variant(edit: (app: TwinApp) => TwinApp): Promise<TwinAppInstance> {
    return twinAppOn(this.twin, edit(this.app));
  }

  /** The Kafka function that runs `bundle` (and `handler`, e.g. `index.isComplete`). */
  kafkaFunction(bundle: string, handler?: string): TwinFunction {
    const fn = this.app.kafkaFunctions.find((f) => f.bundle === bundle && (!handler || f.handler === handler));
    if (!fn) throw new Error(`No Kafka function of the app runs ${bundle}${handler ? ` ${handler}` : ''}`);
    return fn;
  }

  /** The ACLs the twin granted to `roleArn`. */
  aclsOf(roleArn: string): AclBinding[] {
    return this.translation.authorization.acls.filter((a) => a.principal === `User:${roleArn}`);
  }

  /**
   * A Lambda-like container for the function that runs `bundle`: Node.js 24, the template's environment with
   * the twin's bootstrap brokers, credentials issued for its role at each cold start, NODE_EXTRA_CA_CERTS.
   * Stopped by stop().
   */
  runner(bundle: string, options: RunnerOptions = {}): LambdaRunner {
    const { handler, roleArn, credentialTtlSeconds, credentials: given, ...rest } = options;
    const fn = this.kafkaFunction(bundle, handler);
    const role = roleArn ?? fn.roleArn;
    const runner = new LambdaRunner(functionSpec(this.app, fn, { bootstrapBrokers: this.twin.bootstrapBrokers }), {
      ...rest,
      region: rest.region ?? this.twin.region,
      caFile: this.twin.caFile,
      credentials: () => {
        const credentials =
          given?.() ?? this.twin.issueCredentials(role, credentialTtlSeconds ?? FUNCTION_CREDENTIAL_TTL_SECONDS);
        this.issued.get(runner)?.push(credentials);
        return credentials;
      },
    });
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

  /** Stops every runner, then the brokers (certificates and credentials go with them). */
  async stop(): Promise<void> {
    await Promise.all(this.runners.map((r) => r.stop().catch(() => undefined)));
    if (this.ownsTwin) await this.twin.stop();
  }
}

/** Synthesizes the app, starts its twin, grants its roles' policies as ACLs; see the file comment. */
export async function startTwinApp(options: StartTwinAppOptions = {}): Promise<TwinAppInstance> {
  const synthesized = await synthesizeApp({ profile: options.profile, context: options.context });
  let app: TwinApp;
  try {
    app = describeTwinApp(synthesized.assembly);
  } finally {
    synthesized.dispose();
  }
  if (options.editApp) app = options.editApp(app);
  // Translated before anything starts: a statement the twin cannot translate fails here, in one line.
  const translation = translatePolicies(app);
  const brokers = options.brokers ?? localBrokerCount(app.cluster);
  const brokerConfig = brokerConfigFor(app.cluster, {
    brokers,
    groupInitialRebalanceDelayMs: options.groupInitialRebalanceDelayMs,
  });
  const synthMs = synthesized.synthMs;
  options.log?.(`synthesized ${app.cluster.stack} and ${app.functions.length} functions in ${ms(synthMs)}`);
  const twin = await startTwin({
    brokers,
    port: options.port,
    logDir: options.logDir,
    jvmOptions: options.jvmOptions,
    readyTimeoutMs: options.readyTimeoutMs,
    maxSessionMs: options.maxSessionMs,
    version: brokerConfig.kafkaVersion.local,
    brokerConfig: { ...brokerConfig.properties, ...options.brokerConfig },
    log: options.log,
  });
  try {
    const aclsStarted = performance.now();
    await twin.applyAuthorization(translation.authorization);
    const aclsMs = performance.now() - aclsStarted;
    const timings = { synthMs, brokersMs: twin.startupMs, aclsMs, totalMs: synthMs + twin.startupMs + aclsMs };
    return new TwinAppInstance(twin, app, translation, brokerConfig, timings);
  } catch (error) {
    await twin.stop();
    throw error;
  }
}

/**
 * An app on a twin that is already running (e.g. the integration tests' shared one): grants its roles' policies as
 * ACLs and returns the instance; its stop() leaves the brokers running.
 */
export async function twinAppOn(twin: LocalTwin, app: TwinApp): Promise<TwinAppInstance> {
  const translation = translatePolicies(app);
  const brokerConfig = brokerConfigFor(app.cluster, { brokers: twin.cluster.brokers.length });
  const started = performance.now();
  await twin.applyAuthorization(translation.authorization);
  const aclsMs = performance.now() - started;
  return new TwinAppInstance(
    twin,
    app,
    translation,
    brokerConfig,
    { synthMs: 0, brokersMs: 0, aclsMs, totalMs: aclsMs },
    false,
  );
}

/** CloudFormation delivers every number and boolean of a custom resource's properties as a string. */
export function asCloudFormationDelivers(value: unknown): unknown {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map(asCloudFormationDelivers);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asCloudFormationDelivers(v)]));
  }
  return value;
}

/** The Create event CloudFormation sends the topic bootstrap, with the properties the template declares. */
export function topicsCreateEvent(twin: TwinAppInstance): Record<string, unknown> {
  const [found] = twin.app.resolver.resourcesOfType(['Custom::KafkaTopics']);
  if (!found) throw new Error('The synthesized app declares no Custom::KafkaTopics resource');
  const properties = twin.app.resolver.resolve(found.resource.Properties ?? {}, {
    stack: found.stack,
    where: `${found.stack.name}/${found.logicalId} Properties`,
    endpoint: { bootstrapBrokers: twin.twin.bootstrapBrokers },
  }) as { ServiceToken?: unknown };
  return {
    RequestType: 'Create',
    ServiceToken: properties.ServiceToken,
    ResponseURL: 'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/local-twin',
    StackId: `arn:aws:cloudformation:${twin.twin.region}:111122223333:stack/${found.stack.name}/local-twin`,
    RequestId: 'local-twin-create',
    LogicalResourceId: found.logicalId,
    ResourceType: 'Custom::KafkaTopics',
    ResourceProperties: asCloudFormationDelivers(properties),
  };
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
