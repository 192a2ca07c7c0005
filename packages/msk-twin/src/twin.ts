/**
 * The local MSK twin, broker side: a local Kafka whose clients sign in as MSK's do (TLS, SASL/OAUTHBEARER with an
 * MSK IAM token) and are authorized by their roles' IAM policies, composed from its parts:
 *
 * - local-kafka.ts: the broker processes, ports and PIDs;
 * - tls.ts: a throwaway CA and the broker certificate (localhost, 127.0.0.1);
 * - iam/: the token validator and the authorizer the broker loads (Java, built with Maven) and the code that builds them;
 * - credentials.ts: the credential issuer whose registry the validator reads;
 * - authorization/: the roles' policies (policies.ts) and the decision service that evaluates them for the
 *   validator and the authorizer (decision-service.ts, evaluator.ts, kafka-actions.ts);
 * - iam-client.ts: kafkajs options that sign in with the real aws-msk-iam-sasl-signer-js.
 *
 * Each broker listens on 127.0.0.1 on the client listeners of the deployed cluster (by default the IAM listener,
 * SASL_SSL, the bootstrap brokers; see broker/topology.ts), on a plaintext INTERNAL listener for broker-to-broker
 * traffic, and (the first three) on a KRaft controller listener. The INTERNAL listener is no MSK listener: it is
 * the one documented switch for raw access, needs no sign-in and its principal (User:ANONYMOUS) is a super user,
 * as the brokers themselves need; it is for tests and tools that kill, pause and inspect brokers, never for the
 * functions' own traffic.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Kafka, logLevel, type Admin, type KafkaConfig } from 'kafkajs';
import { dropKafkajsTimeoutWarnings } from './kafkajs-warnings';
import { decisionServicePid, startDecisionService, stopDecisionService } from './authorization/decision-service';
import { updatePolicySet, type TwinRolePolicies } from './authorization/policies';
import { CredentialIssuer, credentialsEnvironment, type IssuedCredentials } from './iam/credentials';
import { iamKafkaConfig } from './iam/iam-client';
import { AUTHORIZER_CLASS, VALIDATOR_CLASS, ensureValidatorJar } from './iam/validator';
import {
  LocalKafkaCluster,
  startKafka,
  type KafkaEndpoint,
  type SecureListener,
  type StartKafkaOptions,
} from './broker/local-kafka';
import { twinClusterArn } from './assembly/assembly';
import { createTlsMaterial, listenerTlsProperties } from './tls/tls';
import { adminRoleArn, cloudFormationResponseHost, kafkaPrincipal, twinIdentity, type TwinIdentity } from './identity';
import type { ClientListenerPlan, ListenerKind } from './broker/topology';

/** The client listener's name; its settings are `listener.name.iam.*`. */
export const IAM_LISTENER = 'IAM';
/** The listener name of each kind of client listener; its settings are `listener.name.<lower case>.*`. */
export const LISTENER_NAMES: Readonly<Record<ListenerKind, string>> = {
  iam: IAM_LISTENER,
  scram: 'SCRAM',
  tls: 'TLS',
  plaintext: 'CLIENT',
};
/** MSK's IAM listener on port 9098: the twin's default, and its only one unless `listeners` says otherwise. */
export const DEFAULT_LISTENERS: readonly ClientListenerPlan[] = [{ kind: 'iam', mskPort: 9098 }];
/**
 * How far a token's X-Amz-Date may lie ahead of the broker's clock. AWS accepts a signed request within five minutes
 * of its time stamp (IAM User Guide, "AWS Signature Version 4 for API requests": "a request must reach AWS within
 * five minutes of the time stamp in the request").
 */
export const CLOCK_SKEW_SECONDS = 300;
/**
 * The longest IAM session, connections.max.reauth.ms on the IAM listener: the lifetime of the tokens both MSK
 * signers make (X-Amz-Expires 900). A session ends sooner when its token or its credentials expire first.
 */
export const DEFAULT_MAX_SESSION_MS = 900_000;
/**
 * The one switch that shortens every IAM session of a twin started without `maxSessionMs` (tests of session
 * expiry): milliseconds, as `connections.max.reauth.ms`. A session still ends sooner when its token or its
 * credentials expire first, as on MSK.
 */
export const SESSION_MS_VARIABLE = 'MSK_TWIN_SESSION_MS';
/** The admin role's credentials are issued for this long and re-issued when less than ADMIN_RENEW_MS remains. */
const ADMIN_CREDENTIAL_TTL_SECONDS = 3600;
const ADMIN_RENEW_MS = 5 * 60_000;
const TWIN_DIR_PREFIX = 'hello-msk-twin-';
const TWIN_FILE = 'twin.json';
const TWIN_KIND = 'hello-msk-local-twin';

export interface StartTwinOptions extends Omit<StartKafkaOptions, 'secureListener'> {
  /** The roles' IAM policies the twin evaluates from the start. @default none: only the admin role signs in */
  readonly policies?: readonly TwinRolePolicies[];
  /** The partition, account and region of the twin (the tokens' region, the admin role's ARN). @default TWIN_* */
  readonly identity?: Partial<TwinIdentity>;
  /**
   * connections.max.reauth.ms of the IAM listener: the longest session before a client must sign in again.
   * @default MSK_TWIN_SESSION_MS when set, else DEFAULT_MAX_SESSION_MS
   */
  readonly maxSessionMs?: number;
  /**
   * The client listeners, as the deployed cluster opens them (topology.ts clientListeners). Without an IAM listener
   * the twin's own admin client uses the INTERNAL listener. @default DEFAULT_LISTENERS
   */
  readonly listeners?: readonly ClientListenerPlan[];
}

/** A client listener of a running twin. */
export interface TwinListener extends ClientListenerPlan {
  /** Its listener name (LISTENER_NAMES). */
  readonly name: string;
  /** Its host:port list, as MSK's bootstrap broker string for that port. */
  readonly bootstrapBrokers: string;
}

/** What a process needs to use a twin another process started (written to twin.json in the twin's directory). */
interface TwinFile {
  kind: typeof TWIN_KIND;
  region: string;
  partition: string;
  account: string;
  adminRoleArn: string;
  caFile: string;
  /** The brokers' key and certificate chain (PEM). */
  keystoreFile: string;
  registryDir: string;
  maxSessionMs: number;
  /** The client listeners; absent in files of twins started with the IAM listener alone. */
  listeners?: ClientListenerPlan[];
}

/** server.properties entries of a client listener other than IAM's. */
export function listenerBrokerConfig(
  listener: ClientListenerPlan,
  tls: { caFile: string; brokerKeystoreFile: string },
): Record<string, string> {
  const prefix = `listener.name.${LISTENER_NAMES[listener.kind].toLowerCase()}.`;
  const tlsProperties = {
    ...listenerTlsProperties({ ...tls, brokerCertFile: '' }, prefix),
    ...(listener.clientCertificates
      ? {
          [`${prefix}ssl.client.auth`]: listener.clientCertificates,
          [`${prefix}ssl.truststore.type`]: 'PEM',
          [`${prefix}ssl.truststore.location`]: tls.caFile,
        }
      : {}),
  };
  switch (listener.kind) {
    case 'plaintext':
      return {};
    case 'tls':
      return tlsProperties;
    case 'scram':
      // No user has SCRAM credentials until one is created (AdminClient alterUserScramCredentials).
      return {
        ...tlsProperties,
        [`${prefix}sasl.enabled.mechanisms`]: 'SCRAM-SHA-512',
        [`${prefix}scram-sha-512.sasl.jaas.config`]:
          'org.apache.kafka.common.security.scram.ScramLoginModule required;',
      };
    case 'iam':
      throw new Error('the IAM listener is configured by twinBrokerConfig');
  }
}

const LISTENER_PROTOCOLS: Readonly<Record<ListenerKind, 'PLAINTEXT' | 'SSL' | 'SASL_SSL'>> = {
  iam: 'SASL_SSL',
  scram: 'SASL_SSL',
  tls: 'SSL',
  plaintext: 'PLAINTEXT',
};

/** server.properties entries of the IAM listener and of authorization. */
export function twinBrokerConfig(twin: {
  caFile: string;
  brokerKeystoreFile: string;
  registryDir: string;
  maxSessionMs: number;
  region: string;
  adminRoleArn: string;
}): Record<string, string> {
  const prefix = `listener.name.${IAM_LISTENER.toLowerCase()}.`;
  const jaasOptions = {
    // The broker logs itself in on every SASL listener; this identity is never used to connect anywhere.
    unsecuredLoginStringClaim_sub: 'hello-msk-twin-broker',
    twinRegion: twin.region,
    twinRegistry: twin.registryDir,
    twinAdminRoleArn: twin.adminRoleArn,
    twinClockSkewSeconds: String(CLOCK_SKEW_SECONDS),
  };
  const jaas = Object.entries(jaasOptions)
    .map(([key, value]) => `${key}="${value}"`)
    .join(' ');
  return {
    ...listenerTlsProperties(
      { caFile: twin.caFile, brokerKeystoreFile: twin.brokerKeystoreFile, brokerCertFile: '' },
      prefix,
    ),
    [`${prefix}sasl.enabled.mechanisms`]: 'OAUTHBEARER',
    [`${prefix}oauthbearer.sasl.jaas.config`]: `org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required ${jaas};`,
    [`${prefix}oauthbearer.sasl.server.callback.handler.class`]: VALIDATOR_CLASS,
    [`${prefix}oauthbearer.connections.max.reauth.ms`]: String(twin.maxSessionMs),
    // IAM principals by their policies; the super users below, and nothing else, by StandardAuthorizer.
    'authorizer.class.name': AUTHORIZER_CLASS,
    'msk.twin.registry': twin.registryDir,
    'allow.everyone.if.no.acl.found': 'false',
    // The admin role, and the plaintext listeners' unauthenticated principal that broker-to-broker and
    // controller traffic uses.
    'super.users': [kafkaPrincipal(twin.adminRoleArn), 'User:ANONYMOUS'].join(';'),
  };
}

/** MSK_TWIN_SESSION_MS, when set; refused in one line when it is not a whole number of ms of at least 1000. */
export function sessionMsFromEnvironment(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env[SESSION_MS_VARIABLE];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < 1000) {
    throw new Error(
      `${SESSION_MS_VARIABLE} is ${JSON.stringify(raw)}; allowed: a whole number of milliseconds, at least 1000 (the IAM session lifetime)`,
    );
  }
  return value;
}

function readTwinFile(dir: string): TwinFile | undefined {
  try {
    const parsed = JSON.parse(fs.readFileSync(path.join(dir, TWIN_FILE), 'utf8')) as Partial<TwinFile>;
    return parsed.kind === TWIN_KIND ? (parsed as TwinFile) : undefined;
  } catch {
    return undefined;
  }
}

export class LocalTwin implements KafkaEndpoint {
  readonly started = true;
  private readonly issuer: CredentialIssuer;
  private adminCredentials: IssuedCredentials | undefined;
  private startTime = 0;

  private constructor(
    readonly cluster: LocalKafkaCluster,
    private readonly file: TwinFile,
  ) {
    this.issuer = new CredentialIssuer(file.registryDir);
  }

  /** Starts a twin with `options.policies`; resolves once the admin role has signed in over TLS. */
  static async start(options: StartTwinOptions = {}): Promise<LocalTwin> {
    const maxSessionMs = options.maxSessionMs ?? sessionMsFromEnvironment() ?? DEFAULT_MAX_SESSION_MS;
    if (!Number.isInteger(maxSessionMs) || maxSessionMs < 1000) {
      throw new Error(`maxSessionMs must be a whole number of milliseconds, at least 1000, got ${maxSessionMs}`);
    }
    // Its own readiness checks and admin clients are kafkajs too.
    dropKafkajsTimeoutWarnings();
    const started = Date.now();
    const validatorJar = await ensureValidatorJar(options.log);
    const buildMs = Date.now() - started;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), TWIN_DIR_PREFIX));
    let cluster: LocalKafkaCluster | undefined;
    try {
      const identity = twinIdentity(options.identity);
      const tls = await createTlsMaterial(path.join(dir, 'tls'), undefined, [
        cloudFormationResponseHost(identity.region),
      ]);
      const registryDir = path.join(dir, 'iam');
      fs.mkdirSync(registryDir, { mode: 0o700 });
      const listeners = [...(options.listeners ?? DEFAULT_LISTENERS)];
      if (listeners.length === 0) throw new Error('listeners must name at least one client listener');
      const file: TwinFile = {
        kind: TWIN_KIND,
        region: identity.region,
        partition: identity.partition,
        account: identity.account,
        adminRoleArn: adminRoleArn(identity),
        caFile: tls.caFile,
        keystoreFile: tls.brokerKeystoreFile,
        registryDir,
        maxSessionMs,
        listeners,
      };
      fs.writeFileSync(path.join(dir, TWIN_FILE), `${JSON.stringify(file, null, 2)}\n`);
      const iamPrefix = `listener.name.${IAM_LISTENER.toLowerCase()}.`;
      const brokerConfig = Object.fromEntries(
        Object.entries(twinBrokerConfig({ ...file, brokerKeystoreFile: tls.brokerKeystoreFile })).filter(
          ([key]) => !key.startsWith(iamPrefix) || listeners.some((l) => l.kind === 'iam'),
        ),
      );
      for (const listener of listeners.filter((l) => l.kind !== 'iam')) {
        Object.assign(brokerConfig, listenerBrokerConfig(listener, tls));
      }
      const [primary, ...more] = listeners.map((l) => ({
        name: LISTENER_NAMES[l.kind],
        protocol: LISTENER_PROTOCOLS[l.kind],
      }));
      const secureListener: SecureListener = {
        ...primary,
        more,
        brokerConfig,
        classpath: [validatorJar],
        ownedDirs: [dir],
      };
      if (options.policies) await updatePolicySet(registryDir, options.policies);
      const launching = Date.now();
      cluster = await startKafka({ ...options, secureListener });
      const downloadMs = Date.now() - launching - cluster.startupMs;
      const twin = new LocalTwin(cluster, file);
      // The validator asks the decision service at every sign-in (the signature; Connect for roles but the admin's),
      // and waits for it to listen: it starts while the admin signs in, not while the brokers' JVMs start.
      await Promise.all([
        startDecisionService(registryDir, path.join(dir, 'decision-service.log')),
        twin.withAdmin((admin) => admin.describeCluster()),
      ]);
      twin.startTime = Date.now() - started - buildMs - Math.max(0, downloadMs);
      return twin;
    } catch (error) {
      const pid = decisionServicePid(path.join(dir, 'iam'));
      if (cluster) await cluster.stop().catch(() => undefined);
      if (pid) stopDecisionService(pid, path.join(dir, 'iam'));
      fs.rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** The twin started by another process (e.g. `kafka:start --security iam`) on `port`, if there is one. */
  static attach(port: number): LocalTwin | undefined {
    const cluster = LocalKafkaCluster.attach(port);
    if (!cluster || cluster.secureListenerName === null) return undefined;
    const file = cluster.ownedDirs.map(readTwinFile).find((f) => f !== undefined);
    return file ? new LocalTwin(cluster, file) : undefined;
  }

  /** Start-to-ready: from the start call until the admin role signed in, not counting Maven downloads and builds. */
  get startupMs(): number {
    return this.startTime;
  }
  /** The IAM listeners (TLS + SASL/OAUTHBEARER), as MSK's `BootstrapBrokerStringSaslIam`. */
  get bootstrapBrokers(): string {
    const iam = this.cluster.listenerBrokers(IAM_LISTENER);
    if (iam === undefined) {
      throw new Error(
        `The twin has no IAM listener (the cluster's ClientAuthentication does not enable Sasl.Iam); its client listeners: ${this.listeners.map((l) => `${l.name} (MSK port ${l.mskPort})`).join(', ')}`,
      );
    }
    return iam;
  }
  /** The client listeners, in MSK's port order. */
  get listeners(): TwinListener[] {
    return (this.file.listeners ?? DEFAULT_LISTENERS).map((l) => ({
      ...l,
      name: LISTENER_NAMES[l.kind],
      bootstrapBrokers: this.cluster.listenerBrokers(LISTENER_NAMES[l.kind]) ?? '',
    }));
  }
  /** Whether clients sign in with IAM (the cluster enables ClientAuthentication.Sasl.Iam). */
  get hasIamListener(): boolean {
    return this.cluster.listenerBrokers(IAM_LISTENER) !== undefined;
  }
  /** The plaintext listeners: no sign-in, super user. For raw broker access in tests only. */
  get plaintextBrokers(): string {
    return this.cluster.internalBrokers;
  }
  /** The CA certificate clients trust (NODE_EXTRA_CA_CERTS, kafkajs `ssl.ca`, Java PEM truststore). */
  get caFile(): string {
    return this.file.caFile;
  }
  /** The brokers' private key and certificate (localhost, 127.0.0.1) in one PEM file, signed by the CA. */
  get keystoreFile(): string {
    return this.file.keystoreFile;
  }
  get region(): string {
    return this.file.region;
  }
  /** The partition, account and region the twin was started with. */
  get identity(): TwinIdentity {
    return twinIdentity({ region: this.file.region, partition: this.file.partition, account: this.file.account });
  }
  /** The cluster ARN for policies written by hand, without an app (`cluster/local-twin/<uuid>`). */
  get clusterArn(): string {
    return twinClusterArn('local-twin', this.identity);
  }
  /** The role the admin tools sign in as (a Kafka super user). */
  get adminRoleArn(): string {
    return this.file.adminRoleArn;
  }
  /** The credential registry the validator reads. */
  get registryDir(): string {
    return this.file.registryDir;
  }
  get maxSessionMs(): number {
    return this.file.maxSessionMs;
  }

  /** Issues credentials for `roleArn`, valid for `ttlSeconds`; the role also needs Connect to sign in. */
  issueCredentials(roleArn: string, ttlSeconds: number): IssuedCredentials {
    return this.issuer.issue(roleArn, ttlSeconds);
  }

  /** Withdraws issued credentials: the next sign-in with them is refused. */
  revokeCredentials(accessKeyId: string): void {
    this.issuer.revoke(accessKeyId);
  }

  /** The environment of a function signing in as the role of `credentials` (what Lambda would set, and the CA). */
  clientEnvironment(credentials: IssuedCredentials): Record<string, string> {
    return {
      ...credentialsEnvironment(credentials),
      AWS_REGION: this.region,
      KAFKA_BROKERS: this.bootstrapBrokers,
      KAFKA_AUTH: 'iam',
      NODE_EXTRA_CA_CERTS: this.caFile,
    };
  }

  /** kafkajs options signing in as the role of `credentials` (a function: re-read at every sign-in). */
  clientConfig(credentials: IssuedCredentials | (() => IssuedCredentials), clientId?: string): KafkaConfig {
    return iamKafkaConfig({
      brokers: this.bootstrapBrokers.split(','),
      caFile: this.caFile,
      region: this.region,
      credentials,
      clientId,
    });
  }

  /** kafkajs options signing in as the twin's admin role (a super user), with credentials renewed as they age. */
  adminConfig(clientId = 'hello-msk-twin-admin'): KafkaConfig {
    return this.clientConfig(() => {
      const current = this.adminCredentials;
      if (!current || current.expiration.getTime() - Date.now() < ADMIN_RENEW_MS) {
        this.adminCredentials = this.issueCredentials(this.file.adminRoleArn, ADMIN_CREDENTIAL_TTL_SECONDS);
      }
      return this.adminCredentials as IssuedCredentials;
    }, clientId);
  }

  /**
   * Runs `fn` with an admin client signed in as the admin role (over the INTERNAL listener when the twin has no
   * IAM listener), and disconnects it.
   */
  async withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
    const config: KafkaConfig = this.hasIamListener
      ? this.adminConfig()
      : { clientId: 'hello-msk-twin-admin', brokers: this.plaintextBrokers.split(','), logLevel: logLevel.NOTHING };
    const admin = new Kafka(config).admin();
    await admin.connect();
    try {
      return await fn(admin);
    } finally {
      await admin.disconnect();
    }
  }

  /**
   * Sets the IAM policies of the roles in `policies`, replacing whatever they had; other roles keep theirs. The
   * brokers decide by the new policies from their next request on.
   */
  async setPolicies(policies: readonly TwinRolePolicies[]): Promise<void> {
    await updatePolicySet(this.registryDir, policies);
  }

  /** Forgets the policies of `roleArns`: their sign-ins and requests are refused from then on. */
  async removePolicies(roleArns: readonly string[]): Promise<void> {
    await updatePolicySet(this.registryDir, [], roleArns);
  }

  /** Stops the brokers and the decision service, and removes the certificates and the credential registry. */
  async stop(): Promise<void> {
    const pid = decisionServicePid(this.registryDir);
    await this.cluster.stop();
    if (pid) stopDecisionService(pid, this.registryDir);
  }
}

/** Starts a local MSK twin (see LocalTwin). */
export function startTwin(options: StartTwinOptions = {}): Promise<LocalTwin> {
  return LocalTwin.start(options);
}
