/** Where and how a function reaches Kafka, read once from its environment. */
export interface KafkaSettings {
  /** `host:port` of each bootstrap broker. */
  readonly brokers: string[];
  /** `iam`: TLS + SASL/OAUTHBEARER signed with the function's role; `none`: plaintext, for a local broker. */
  readonly auth: 'iam' | 'none';
  /** Region used to sign IAM tokens. */
  readonly region?: string;
}

/** A missing or malformed environment variable; the message names the variable. */
export class EnvironmentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnvironmentError';
  }
}

type Env = Record<string, string | undefined>;

/** The variable's value, or a one-line error naming it. */
export function requireEnv(name: string, env: Env = process.env): string {
  const value = env[name]?.trim();
  if (!value) throw new EnvironmentError(`Environment variable ${name} is not set`);
  return value;
}

const HOST_PORT = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** Reads `KAFKA_BROKERS` and `KAFKA_AUTH` (and, for IAM, `AWS_REGION`). */
export function readKafkaSettings(env: Env = process.env): KafkaSettings {
  const raw = requireEnv('KAFKA_BROKERS', env);
  const brokers = raw.split(',').map((b) => b.trim());
  for (const broker of brokers) {
    const m = HOST_PORT.exec(broker);
    const port = m ? Number(m[2]) : 0;
    if (!m || port < 1 || port > 65535) {
      throw new EnvironmentError(
        `Environment variable KAFKA_BROKERS has ${JSON.stringify(broker)}; expected host:port[,host:port...]`,
      );
    }
  }
  const auth = requireEnv('KAFKA_AUTH', env);
  if (auth !== 'iam' && auth !== 'none') {
    throw new EnvironmentError(`Environment variable KAFKA_AUTH is ${JSON.stringify(auth)}; expected iam or none`);
  }
  if (auth === 'none') return { brokers, auth };
  return { brokers, auth, region: requireEnv('AWS_REGION', env) };
}

/** A positive whole number from an optional variable, or the default. */
export function intEnv(name: string, fallback: number, env: Env = process.env): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new EnvironmentError(`Environment variable ${name} is ${JSON.stringify(raw)}; expected a whole number >= 1`);
  }
  return value;
}
