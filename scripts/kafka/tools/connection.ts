/**
 * Where the local path acts: Kafka's `--bootstrap-server` (checked), the default one, and how to sign in there.
 * A local MSK twin's IAM listener takes TLS and an MSK IAM token signed as its admin role; any other Kafka,
 * plaintext.
 */
import * as net from 'node:net';
import { DEFAULT_PORT, defaultKafkaVersion, LocalKafkaCluster, LocalTwin, listStatePorts } from 'msk-twin';

const HOST_PORT = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** A bad `--bootstrap-server`: the message is one line naming the value. */
export class ConnectionError extends Error {}

/** The `host:port` pairs of a `--bootstrap-server`, as Kafka's tools take it. */
export function bootstrapBrokers(bootstrapServer: string): string[] {
  const brokers = bootstrapServer.split(',').map((b) => b.trim());
  const bad = brokers.find((b) => {
    const m = HOST_PORT.exec(b);
    return !m || Number(m[2]) < 1 || Number(m[2]) > 65535;
  });
  if (bad !== undefined) {
    throw new ConnectionError(
      `--bootstrap-server ${JSON.stringify(bootstrapServer)} is not valid; expected host:port[,host:port...]`,
    );
  }
  return brokers;
}

/** A Kafka this machine reaches, and what is known of it. */
export interface LocalTarget {
  readonly brokers: readonly string[];
  /** The jars the tools run from: the local Kafka's version, else the default one. */
  readonly kafkaVersion: string;
  /** Set when `brokers` are a local MSK twin's IAM listeners. */
  readonly twin?: LocalTwin;
}

/** `bootstrapServer` checked, and matched against the local Kafkas and twins recorded in the state directory. */
export function localTarget(bootstrapServer: string): LocalTarget {
  const brokers = bootstrapBrokers(bootstrapServer);
  const named = (list: string) => list.split(',').some((b) => brokers.includes(b));
  for (const port of listStatePorts()) {
    const cluster = LocalKafkaCluster.attach(port);
    if (!cluster?.isRunning) continue;
    const twin = LocalTwin.attach(port);
    if (twin && named(twin.bootstrapBrokers)) return { brokers, kafkaVersion: cluster.version, twin };
    if (named(cluster.bootstrapBrokers) || named(cluster.internalBrokers)) {
      return { brokers, kafkaVersion: cluster.version };
    }
  }
  return { brokers, kafkaVersion: defaultKafkaVersion() };
}

/**
 * Resolves once one broker accepts a TCP connection; rejects with the last connection error. Kafka's tools would
 * retry an absent broker for a minute.
 */
export async function anyReachable(brokers: readonly string[], timeoutMs = 3000): Promise<void> {
  let last: Error = new Error('no broker given');
  for (const broker of brokers) {
    const at = broker.lastIndexOf(':');
    const host = broker.slice(0, at).replace(/^\[|\]$/g, '');
    const port = Number(broker.slice(at + 1));
    try {
      await new Promise<void>((resolve, reject) => {
        const socket = net.connect({ host, port, timeout: timeoutMs });
        socket.once('connect', () => {
          socket.destroy();
          resolve();
        });
        socket.once('timeout', () => {
          socket.destroy();
          reject(new Error(`connect ETIMEDOUT ${broker}`));
        });
        socket.once('error', reject);
      });
      return;
    } catch (error) {
      last = error as Error;
    }
  }
  throw last;
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
