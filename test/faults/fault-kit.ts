/**
 * Shared parts of the fault tests: a three-broker cluster per file, a stream of producer invocations, a full
 * read with the consumer handler, and the oracle that compares what the producer acknowledged with what the
 * consumer logged.
 *
 * The oracle, as in Kafka's own replication tests: every acknowledged message is consumed. An invocation of
 * the producer handler sends `count` copies of one value; the value names the run, the logical batch and the
 * attempt (`kill-000042-a1`), and the invocation returns the partition and offset of every message (up to
 * 100 per invocation), so each acknowledged message is identified by its batch, attempt, partition and
 * offset. "Acknowledged" means returned by a successful invocation. A failed invocation is retried by the
 * stream with the next attempt number, as a Lambda caller would; whatever the failed attempt wrote before
 * failing stays in the topic, so those copies are counted apart (retry duplicates) and bounded: at least
 * the messages its error reported as acknowledged, at most its whole batch. A successful invocation must
 * have written each of its messages exactly once.
 */
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { eventually, within } from '../integration/kafka-helpers';
import { startKafka, type LocalKafkaCluster } from 'msk-twin';
import { captureLogs, ensureBundles, loadBundle, type ConsumerModule, type ProducerModule } from '../lambda/bundles';

/**
 * The tests' own admin client: it rides out leader changes (kafkajs under jest otherwise gives up after a few
 * hundred ms) and does not wait 30 s for a paused broker to answer.
 */
export async function faultAdmin(brokers: string): Promise<Admin> {
  const admin = new Kafka({
    clientId: 'hello-msk-faults',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    requestTimeout: 5000,
    retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 3000 },
  }).admin();
  await admin.connect();
  return admin;
}

/** Brokers drop a follower from the ISR after 5 s without catching up (default 30 s, 10 s in local-kafka). */
export const FAULT_BROKER_CONFIG = { 'replica.lag.time.max.ms': '5000' } as const;

/**
 * The three-broker cluster of one fault test file (or describe block), on free ports, of Kafka `version`
 * (default: the twin's): started before the file's tests (with the
 * handler bundles built) and stopped after them, also when they failed.
 */
export function useFaultCluster(options: { version?: string } = {}): {
  running: () => LocalKafkaCluster;
  connected: () => Admin;
} {
  let cluster: LocalKafkaCluster | undefined;
  let admin: Admin | undefined;
  beforeAll(async () => {
    await ensureBundles();
    cluster = await startKafka({
      brokers: 3,
      version: options.version,
      brokerConfig: FAULT_BROKER_CONFIG,
      stopTimeoutMs: 10_000,
    });
    admin = await faultAdmin(cluster.bootstrapBrokers);
  }, 120_000);
  afterAll(async () => {
    await admin?.disconnect().catch(() => undefined);
    await cluster?.stop();
  }, 60_000);
  return {
    running: () => {
      if (!cluster) throw new Error('the three-broker cluster did not start');
      return cluster;
    },
    connected: () => {
      if (!admin) throw new Error('the admin client did not connect');
      return admin;
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function handlerEnv(brokers: string, topic: string, extra: Record<string, string> = {}): Record<string, string> {
  return { KAFKA_BROKERS: brokers, KAFKA_AUTH: 'none', TOPIC: topic, POWERTOOLS_LOG_LEVEL: 'SILENT', ...extra };
}

export interface PartitionState {
  readonly partition: number;
  readonly leader: number;
  readonly isr: number[];
}

export async function partitionStates(admin: Admin, topic: string): Promise<PartitionState[]> {
  const { topics } = await within(15_000, 'a metadata request', admin.fetchTopicMetadata({ topics: [topic] }));
  return topics[0].partitions
    .map((p) => ({ partition: p.partitionId, leader: p.leader, isr: [...p.isr].sort() }))
    .sort((a, b) => a.partition - b.partition);
}

/** Waits until every partition has a leader and all `brokers` in its ISR. */
export async function waitIsrFull(admin: Admin, topic: string, brokers = 3, timeoutMs = 45_000): Promise<void> {
  await eventually(`every partition of ${topic} with ${brokers} in-sync replicas`, timeoutMs, async () => {
    const states = await partitionStates(admin, topic);
    return states.every((s) => s.leader >= 0 && s.isr.length === brokers) ? true : undefined;
  });
}

/**
 * Three partitions with RF 3 and min.insync.replicas 2: an acks=all write survives the loss of any one
 * broker. `replicas` places them (the first replica of each list is its preferred leader).
 */
export async function createReplicatedTopic(admin: Admin, topic: string, replicas?: number[][]): Promise<void> {
  const placement = replicas
    ? { replicaAssignment: replicas.map((r, partition) => ({ partition, replicas: r })) }
    : { numPartitions: 3, replicationFactor: 3 };
  // Not waitForLeaders: kafkajs gives up on UNKNOWN_TOPIC_OR_PARTITION from a broker that has not caught up.
  await admin.createTopics({
    waitForLeaders: false,
    topics: [{ topic, ...placement, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }],
  });
  await waitIsrFull(admin, topic);
}

// ------------------------------------------------------------------------------------------------ stream

export interface Attempt {
  readonly batch: number;
  readonly attempt: number;
  readonly ok: boolean;
  readonly ms: number;
  /** Messages the failed invocation's error reported as acknowledged ("after N of M"). */
  readonly reportedAcknowledged: number;
  readonly error?: string;
}

export interface Acknowledged {
  readonly value: string;
  readonly partition: number;
  readonly offset: string;
}

export interface StreamResult {
  readonly prefix: string;
  readonly count: number;
  readonly attempts: Attempt[];
  readonly acknowledged: Acknowledged[];
}

export interface StreamOptions {
  /** Names the run in every value. */
  readonly prefix: string;
  /** Copies per invocation; at most 100 so that every message's offset is reported. */
  readonly count: number;
  /** Keep going after stop() until this many messages were acknowledged. */
  readonly minAcknowledged: number;
  /** Pace while faults are injected, so that the run ends near minAcknowledged. */
  readonly messagesPerSecond: number;
  /** Fail the stream (and the test) after this long without a successful invocation. */
  readonly stallLimitMs?: number;
}

export interface Stream {
  /** Acknowledged messages so far. */
  acknowledgedCount(): number;
  /** Stops pacing, runs until minAcknowledged, and returns what happened. */
  stop(): Promise<StreamResult>;
  /** Ends the stream after the invocation under way, whatever it acknowledged (when a test fails). */
  abort(): Promise<StreamResult>;
}

export function valueOf(prefix: string, batch: number, attempt: number): string {
  return `${prefix}-${String(batch).padStart(6, '0')}-a${attempt}`;
}

export function parseValue(value: string | null): { prefix: string; batch: number; attempt: number } | undefined {
  const m = /^(.+)-(\d{6})-a(\d+)$/.exec(value ?? '');
  return m ? { prefix: m[1], batch: Number(m[2]), attempt: Number(m[3]) } : undefined;
}

/**
 * A loop of producer invocations, one at a time, each retried until it succeeds, like a caller that retries a
 * failed Lambda invocation.
 */
export function startStream(producer: ProducerModule, options: StreamOptions): Stream {
  const attempts: Attempt[] = [];
  const acknowledged: Acknowledged[] = [];
  const started = Date.now();
  let stopping = false;
  let aborted = false;
  let lastSuccess = Date.now();

  const loop = (async () => {
    for (let batch = 0; !aborted && (!stopping || acknowledged.length < options.minAcknowledged); batch++) {
      for (let attempt = 1; !aborted; attempt++) {
        const value = valueOf(options.prefix, batch, attempt);
        const t = Date.now();
        try {
          const result = await producer.handler({ message: value, count: options.count });
          attempts.push({ batch, attempt, ok: true, ms: Date.now() - t, reportedAcknowledged: result.count });
          for (const m of result.messages) acknowledged.push({ value, partition: m.partition, offset: m.offset });
          lastSuccess = Date.now();
          break;
        } catch (error) {
          const message = (error as Error).message;
          const partial = /after (\d+) of \d+ messages were acknowledged/.exec(message);
          attempts.push({
            batch,
            attempt,
            ok: false,
            ms: Date.now() - t,
            reportedAcknowledged: partial ? Number(partial[1]) : 0,
            error: message,
          });
          if (Date.now() - lastSuccess > (options.stallLimitMs ?? 60_000)) {
            throw new Error(`the stream made no progress for ${options.stallLimitMs ?? 60_000} ms: ${message}`);
          }
          await sleep(200);
        }
      }
      if (!stopping) {
        const due = started + (acknowledged.length / options.messagesPerSecond) * 1000;
        if (due > Date.now()) await sleep(due - Date.now());
      }
    }
  })();
  // Surfaces in stop(); keeps an early failure from being an unhandled rejection meanwhile.
  loop.catch(() => undefined);

  return {
    acknowledgedCount: () => acknowledged.length,
    stop: async () => {
      stopping = true;
      await loop;
      return { prefix: options.prefix, count: options.count, attempts, acknowledged };
    },
    abort: async () => {
      aborted = true;
      await loop.catch(() => undefined);
      return { prefix: options.prefix, count: options.count, attempts, acknowledged };
    },
  };
}

// ------------------------------------------------------------------------------------------------ consumer

export interface Logged {
  readonly partition: number;
  readonly offset: string;
  readonly value: string;
}

/** The consumer's log lines that carry a message: the value is the line's `message`. */
export function messageLines(lines: Record<string, unknown>[], topic: string): Logged[] {
  return lines
    .filter((l) => l.topic === topic && typeof l.partition === 'number' && typeof l.offset === 'string')
    .map((l) => ({ partition: l.partition as number, offset: l.offset as string, value: String(l.message) }));
}

export async function highWatermarkTotal(admin: Admin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((n, p) => n + Number(p.high), 0);
}

/**
 * Reads the whole topic with the consumer handler in a new group (a cold container), invocation after
 * invocation, and returns every message it logged.
 */
export async function consumeAll(brokers: string, topic: string, group: string): Promise<Logged[]> {
  const consumer = loadBundle<ConsumerModule>(
    'consumer',
    handlerEnv(brokers, topic, { GROUP_ID: group, POWERTOOLS_LOG_LEVEL: 'INFO' }),
  );
  const logged: Logged[] = [];
  try {
    for (let invocation = 0; invocation < 100; invocation++) {
      const { result, lines } = await within(
        60_000,
        'a consumer invocation',
        captureLogs(() => consumer.handler({ maxMessages: 10000 })),
      );
      logged.push(...messageLines(lines, topic));
      if (result.count === 0 && result.caughtUp) return logged;
    }
    throw new Error('the consumer did not catch up within 100 invocations');
  } finally {
    await consumer.close();
  }
}

// ------------------------------------------------------------------------------------------------ oracle

export interface Verdict {
  /** Messages the stream asked the producer to send, failed attempts included. */
  readonly sent: number;
  readonly acknowledged: number;
  /** Distinct positions the consumer logged. */
  readonly consumed: number;
  /** Acknowledged messages with nothing logged at their reported position. */
  readonly missing: number;
  /** Acknowledged messages whose reported position holds another value. */
  readonly misplaced: number;
  /** Copies beyond the first of a logical batch's messages: retry duplicates plus the rest. */
  readonly duplicated: number;
  /** Copies written by failed attempts whose batch was then sent again. */
  readonly retryDuplicates: number;
  /** Copies of a successful attempt's messages beyond `count` (an idempotence failure). */
  readonly duplicatedBySuccessfulInvocations: number;
  readonly failedAttempts: number;
  /** Failed attempts that wrote fewer than the messages their error reported as acknowledged, or more than their batch. */
  readonly retryDuplicatesOutOfBounds: string[];
  /** Positions where a partition goes back to an earlier batch. */
  readonly orderViolations: string[];
  /** Logged values that no attempt of this run sent. */
  readonly foreign: number;
  /** Positions the consumer logged more than once. */
  readonly consumerRereads: number;
}

export function verify(stream: StreamResult, logged: Logged[]): Verdict {
  const at = new Map<string, string>();
  let consumerRereads = 0;
  for (const l of logged) {
    const key = `${l.partition}:${l.offset}`;
    if (at.has(key)) consumerRereads++;
    at.set(key, l.value);
  }
  let missing = 0;
  let misplaced = 0;
  for (const a of stream.acknowledged) {
    const value = at.get(`${a.partition}:${a.offset}`);
    if (value === undefined) missing++;
    else if (value !== a.value) misplaced++;
  }

  const copies = new Map<string, number>();
  let foreign = 0;
  for (const value of at.values()) {
    if (parseValue(value)?.prefix !== stream.prefix) foreign++;
    copies.set(value, (copies.get(value) ?? 0) + 1);
  }
  let retryDuplicates = 0;
  let duplicatedBySuccessfulInvocations = 0;
  const retryDuplicatesOutOfBounds: string[] = [];
  for (const a of stream.attempts) {
    const value = valueOf(stream.prefix, a.batch, a.attempt);
    const n = copies.get(value) ?? 0;
    if (a.ok) {
      duplicatedBySuccessfulInvocations += Math.max(0, n - stream.count);
    } else {
      retryDuplicates += n;
      if (n < a.reportedAcknowledged || n > stream.count) {
        retryDuplicatesOutOfBounds.push(`${value}: ${n} written, ${a.reportedAcknowledged} reported`);
      }
    }
  }

  const orderViolations: string[] = [];
  const byPartition = new Map<number, { offset: bigint; rank: number }[]>();
  for (const [key, value] of at) {
    const [partition, offset] = key.split(':');
    const parsed = parseValue(value);
    if (!parsed) continue;
    const list = byPartition.get(Number(partition)) ?? [];
    list.push({ offset: BigInt(offset), rank: parsed.batch * 1000 + parsed.attempt });
    byPartition.set(Number(partition), list);
  }
  for (const [partition, list] of byPartition) {
    list.sort((a, b) => (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
    for (let i = 1; i < list.length; i++) {
      if (list[i].rank < list[i - 1].rank) orderViolations.push(`partition ${partition} offset ${list[i].offset}`);
    }
  }

  return {
    sent: stream.attempts.length * stream.count,
    acknowledged: stream.acknowledged.length,
    consumed: at.size,
    missing,
    misplaced,
    duplicated: retryDuplicates + duplicatedBySuccessfulInvocations,
    retryDuplicates,
    duplicatedBySuccessfulInvocations,
    failedAttempts: stream.attempts.filter((a) => !a.ok).length,
    retryDuplicatesOutOfBounds,
    orderViolations: orderViolations.slice(0, 20),
    foreign,
    consumerRereads,
  };
}

/** Prints a test's counts and timeline, so that a failing assertion explains itself. */
export function report(title: string, counts: object, timeline: string[] = []): void {
  const lines = Object.entries(counts)
    .filter(([, value]) => !(Array.isArray(value) && value.length === 0))
    .map(
      ([key, value]) =>
        `  ${key}: ${JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`,
    );
  const events = timeline.map((t) => `  | ${t}`);
  process.stdout.write(`\n[faults] ${title}\n${[...lines, ...events].join('\n')}\n`);
}

/** What a fault schedule did, for the report: "t+12.3s killed broker 2 (leader of partition 0)". */
export class Timeline {
  readonly entries: string[] = [];
  private readonly started = Date.now();

  note(what: string): void {
    this.entries.push(`t+${((Date.now() - this.started) / 1000).toFixed(1)}s ${what}`);
  }
}
