/**
 * How the command-line tools reach Kafka directly: one function turns Kafka's `--bootstrap-server` (and how to
 * sign in) into a kafkajs configuration. Today's local broker speaks plaintext; the local MSK twin will take
 * TLS and an IAM token signed as its admin role (TWIN_ADMIN_ROLE_ARN), which the `iam` security below covers.
 */
import { generateAuthTokenFromCredentialsProvider } from 'aws-msk-iam-sasl-signer-js';
import { logLevel, type KafkaConfig } from 'kafkajs';
import { DEFAULT_PORT, LocalKafkaCluster, listStatePorts } from 'msk-twin';

/** Temporary AWS credentials, as the AWS SDK's credential providers return them. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

/** Plaintext: the local broker that `npm run kafka:start` runs today. */
export interface PlaintextSecurity {
  readonly protocol: 'plaintext';
}

/** TLS + SASL/OAUTHBEARER with an MSK IAM token, as MSK's IAM listener (and the local twin) want it. */
export interface IamSecurity {
  readonly protocol: 'iam';
  /** The region the token is signed for. */
  readonly region: string;
  /** The identity to sign as, e.g. credentials the twin issued for its admin role. */
  readonly credentials: () => Promise<AwsCredentials>;
  /** PEM certificate(s) to trust besides the system's, e.g. the twin's CA. @default the system's trust store */
  readonly ca?: string;
}

export interface ConnectionOptions {
  /** `host:port[,host:port...]`, as Kafka's tools take it. */
  readonly bootstrapServer: string;
  /** @default plaintext */
  readonly security?: PlaintextSecurity | IamSecurity;
  /** @default 'hello-msk-cli' */
  readonly clientId?: string;
}

const HOST_PORT = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** A bad `--bootstrap-server`: the message is one line naming the value. */
export class ConnectionError extends Error {}

/** The kafkajs configuration for the given server and sign-in; kafkajs' own logging stays off (errors are thrown). */
export function toolKafkaConfig(options: ConnectionOptions): KafkaConfig {
  const brokers = options.bootstrapServer.split(',').map((b) => b.trim());
  const bad = brokers.find((b) => {
    const m = HOST_PORT.exec(b);
    return !m || Number(m[2]) < 1 || Number(m[2]) > 65535;
  });
  if (bad !== undefined) {
    throw new ConnectionError(
      `--bootstrap-server ${JSON.stringify(options.bootstrapServer)} is not valid; expected host:port[,host:port...]`,
    );
  }
  const base: KafkaConfig = {
    clientId: options.clientId ?? 'hello-msk-cli',
    brokers,
    // A missing broker fails a command in seconds, not after kafkajs' default minute of retries.
    connectionTimeout: 3000,
    requestTimeout: 10000,
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 },
    logLevel: logLevel.NOTHING,
  };
  const security = options.security ?? { protocol: 'plaintext' };
  if (security.protocol === 'plaintext') return base;
  return {
    ...base,
    ssl: security.ca ? { ca: [security.ca] } : true,
    sasl: {
      mechanism: 'oauthbearer',
      oauthBearerProvider: async () => {
        const { token } = await generateAuthTokenFromCredentialsProvider({
          region: security.region,
          awsCredentialsProvider: security.credentials,
        });
        return { value: token };
      },
    },
  };
}

/**
 * The bootstrap server when `--bootstrap-server` is not given, in this order: KAFKA_BROKERS, the local Kafka
 * that `npm run kafka:start` started (the one on 9092 if it started several), else 127.0.0.1:9092.
 */
export function defaultBootstrapServer(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.KAFKA_BROKERS?.trim();
  if (fromEnv) return fromEnv;
  const started = listStatePorts()
    .map((port) => LocalKafkaCluster.attach(port))
    .filter((c): c is LocalKafkaCluster => c !== undefined && c.detached && c.isRunning);
  const chosen = started.find((c) => c.port === DEFAULT_PORT) ?? started[0];
  return chosen?.bootstrapBrokers ?? `127.0.0.1:${DEFAULT_PORT}`;
}
