import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import type { Consumer, EachBatchPayload } from 'kafkajs';
import { authorizationFailure, type NeededActions } from '../shared/authorization';
import { intEnv, readKafkaSettings, requireEnv } from '../shared/env';
import {
  connectOnce,
  createKafka,
  describeKafkaFailure,
  isDisconnectedError,
  retryTooManyConnects,
} from '../shared/kafka';
import { asEventObject, optionalBoolean, optionalInt } from '../shared/validation';

/** What the consumer accepts; every field is optional. */
export interface ConsumerEvent {
  /** Replay the topic from offset 0, like the console consumer's --from-beginning. @default false */
  readonly fromBeginning?: boolean;
  /** Stop after this many messages (1 to MAX_MESSAGES). @default 100, or no limit when listening */
  readonly maxMessages?: number;
  /**
   * Keep reading and logging new messages until the invocation's time is nearly up, as the schedule runs it.
   * @default false
   */
  readonly listen?: boolean;
}

export interface ReadMessage {
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly value: string | null;
}

export interface ConsumerResult {
  readonly topic: string;
  readonly groupId: string;
  /** Messages logged (and committed) by this invocation. */
  readonly count: number;
  /** True when everything up to the high watermarks seen at the start was read. */
  readonly caughtUp: boolean;
  /** Why the invocation stopped reading. */
  readonly stoppedBecause: 'caught-up' | 'max-messages' | 'time';
  /** The first messages read (capped at MAX_REPORTED). */
  readonly messages: ReadMessage[];
}

export const DEFAULT_MAX_MESSAGES = 100;
export const MAX_MESSAGES = 10000;
const MAX_REPORTED = 50;
const EVENT_FIELDS = ['fromBeginning', 'maxMessages', 'listen'] as const;
/** Time kept free before the function's timeout to commit, pause and return. */
const DEADLINE_MARGIN_MS = 3000;
/** Used when there is no Lambda context (offline runs). */
const DEFAULT_BUDGET_MS = 30000;
/** The longest a reading (not listening) invocation reads, whatever the function's timeout. */
const READ_BUDGET_MS = 57000;

/** Waits before asking the group coordinator again: 3.75 s in all. */
const COORDINATOR_BACKOFF_MS = [250, 500, 1000, 2000];

// Module scope: the consumer joins its group once per container and stays a member between warm
// invocations (paused while idle), so only a cold start pays the group join and the broker's initial
// rebalance delay. The session timeout must outlast the gap between invocations (the schedule's rate).
const logger = new Logger({ serviceName: 'hello-msk-consumer' });
const settings = readKafkaSettings();
const topic = requireEnv('TOPIC');
const groupId = requireEnv('GROUP_ID');
const sessionTimeout = intEnv('CONSUMER_SESSION_TIMEOUT_MS', 300000);

const kafka = createKafka(settings, 'hello-msk-consumer', logger);
const admin = kafka.admin();
/** Watermarks and committed offsets come from the admin client, connected once per container. */
const adminReady = connectOnce(
  () => admin.connect(),
  (listener) => admin.on(admin.events.DISCONNECT, listener),
);
let assignment: number[] | undefined;
/** The join that ensureRunning waits for, until GROUP_JOIN or CRASH settles it. */
let pendingJoin: { resolve: () => void; reject: (error: Error) => void } | undefined;
/** A crash kafkajs does not recover from by itself: the next invocation starts a new consumer. */
let crashed: Error | undefined;
let consumer = newConsumer();

function newConsumer(): Consumer {
  const created = kafka.consumer({
    groupId,
    allowAutoTopicCreation: false,
    sessionTimeout,
    // A new container waits at most this long for a frozen former member to be dropped from the group.
    rebalanceTimeout: 10000,
    heartbeatInterval: 3000,
    // Fetches return as soon as data arrives, or after this wait; it also paces the fetch loop after a resume,
    // so a short wait keeps the time from a new message to its log line low.
    maxWaitTimeInMs: 25,
    retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 2000 },
  });
  created.on(created.events.GROUP_JOIN, (e) => {
    if (created !== consumer) return;
    assignment = e.payload.memberAssignment[topic] ?? [];
    logger.debug('Joined group', { groupId, assignment, durationMs: e.payload.duration });
    pendingJoin?.resolve();
    pendingJoin = undefined;
  });
  created.on(created.events.CRASH, (e) => {
    if (created !== consumer) return;
    const { error, restart } = e.payload;
    if (pendingJoin) {
      // A join refused for good (e.g. GROUP_AUTHORIZATION_FAILED) would otherwise leave the invocation waiting.
      pendingJoin.reject(error);
      pendingJoin = undefined;
      crashed = error;
    } else if (restart) {
      // kafkajs has left the group and joins it again by itself; starting over here would race with that.
      logger.warn('Consumer crashed; kafkajs is restarting it', { error: error.message });
    } else {
      crashed = error;
    }
  });
  return created;
}

/**
 * What each step needs, for naming a refused one (MSK's IAM actions): the offsets check describes the topic
 * (ListOffsets) and the group (OffsetFetch); reading joins the group, fetches and commits.
 */
const DESCRIBE_NEEDS: NeededActions = {
  topic: { action: 'DescribeTopic', name: topic },
  group: { action: 'DescribeGroup', name: groupId },
};
const READ_NEEDS: NeededActions = {
  topic: { action: 'ReadData', name: topic },
  group: { action: 'AlterGroup', name: groupId },
};
let needs: NeededActions = DESCRIBE_NEEDS;

/** One invocation's reading state; batches fetched between invocations are left for the next one. */
interface Collector {
  /** Next offset to commit per partition. */
  readonly position: Map<number, bigint>;
  /** Next offset to log per partition: kafkajs fetches a batch again after a failed commit or a rejoin. */
  readonly logged: Map<number, bigint>;
  /** High watermark per partition at the start of the invocation. */
  readonly target: Map<number, bigint>;
  /** Read past the targets until the time is up. */
  readonly listen: boolean;
  readonly maxMessages: number;
  readonly messages: ReadMessage[];
  count: number;
  done: boolean;
  finish: (reason: ConsumerResult['stoppedBecause']) => void;
}
let collector: Collector | undefined;
let running: Promise<void> | undefined;

/** Checks the event before anything is read or committed. */
export function parseEvent(event: unknown): Required<ConsumerEvent> {
  const record = asEventObject(event, EVENT_FIELDS);
  const listen = optionalBoolean(record, 'listen') ?? false;
  return {
    fromBeginning: optionalBoolean(record, 'fromBeginning') ?? false,
    maxMessages:
      optionalInt(record, 'maxMessages', 1, MAX_MESSAGES) ?? (listen ? Number.MAX_SAFE_INTEGER : DEFAULT_MAX_MESSAGES),
    listen,
  };
}

async function eachBatch(payload: EachBatchPayload): Promise<void> {
  const { batch } = payload;
  const c = collector;
  if (!c || c.done) return; // not resolved: fetched again by the next invocation
  const partition = batch.partition;
  const target = c.target.get(partition);
  if (target === undefined) return;
  // Membership first: a coordinator that hung and came back answers NOT_COORDINATOR, and kafkajs finds the new
  // one only when a heartbeat tells it to rejoin; its commits would keep asking the old one and fail.
  await payload.heartbeat();
  let last: bigint | undefined;
  for (const message of batch.messages) {
    if (!payload.isRunning() || payload.isStale() || c.done) break;
    const offset = BigInt(message.offset);
    if ((!c.listen && offset >= target) || c.count >= c.maxMessages) break;
    if (offset >= (c.logged.get(partition) ?? 0n)) {
      const value = message.value?.toString('utf8') ?? null;
      const key = message.key?.toString('utf8') ?? null;
      // The value itself is the log line's message, so the CloudWatch console shows it at a glance.
      logger.info(value ?? '(null)', {
        topic,
        partition,
        offset: message.offset,
        key,
        messageTimestamp: message.timestamp,
      });
      if (c.messages.length < MAX_REPORTED) c.messages.push({ partition, offset: message.offset, key, value });
      c.count += 1;
      c.logged.set(partition, offset + 1n);
    }
    last = offset;
    payload.resolveOffset(message.offset);
  }
  if (last !== undefined) {
    // Commit only what was logged: at least once, never skipping a message.
    await consumer.commitOffsets([{ topic, partition, offset: (last + 1n).toString() }]);
    c.position.set(partition, last + 1n);
    await payload.heartbeat();
  }
  if (c.count >= c.maxMessages) c.finish('max-messages');
  else if (!c.listen && isCaughtUp(c)) c.finish('caught-up');
}

function isCaughtUp(c: Collector): boolean {
  for (const [partition, target] of c.target) {
    if ((c.position.get(partition) ?? 0n) < target) return false;
  }
  return true;
}

/** Connects, joins the group and starts the fetch loop, once per container. */
async function ensureRunning(): Promise<void> {
  if (crashed) {
    logger.warn('Consumer had crashed; starting a new one', { error: crashed.message });
    crashed = undefined;
    running = undefined;
    assignment = undefined;
    // A new client rather than a reconnect: kafkajs reuses a broker's connection object, and the end of a socket
    // it has just closed then closes the new one ("Closed connection", "write after end").
    const old = consumer;
    consumer = newConsumer();
    void old.disconnect().catch(() => undefined);
  }
  running ??= (async () => {
    const join = new Promise<void>((resolve, reject) => {
      pendingJoin = { resolve, reject };
    });
    // A crash can reject the join while connect or subscribe is still under way; their own error is thrown then.
    join.catch(() => undefined);
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch });
    await join;
  })().catch((error: unknown) => {
    running = undefined;
    pendingJoin = undefined;
    throw error;
  });
  await running;
}

/**
 * Reads what is in TOPIC when the invocation starts (up to the high watermarks seen then), or with `listen` all
 * that arrives until the time is nearly up; logs each message's value, commits what it logged, and returns what
 * it read.
 */
export async function handler(event: unknown, context?: Context): Promise<ConsumerResult> {
  const { fromBeginning, maxMessages, listen } = parseEvent(event);
  const remaining = context ? context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS : DEFAULT_BUDGET_MS;
  const budget = listen ? remaining : Math.min(remaining, READ_BUDGET_MS);
  try {
    return await consume(fromBeginning, maxMessages, budget, listen);
  } catch (error) {
    logger.error('Consume failed', { error: error as Error });
    const denied = authorizationFailure(error, needs);
    if (denied) throw denied;
    throw new Error(`Could not consume topic ${topic} as group ${groupId}: ${describeKafkaFailure(error, settings)}`);
  }
}

/**
 * The group's committed offsets. kafkajs' admin.fetchOffsets asks the group coordinator once, without the
 * retries of its other calls, so it fails with NOT_COORDINATOR or COORDINATOR_LOAD_IN_PROGRESS while the
 * coordinator moves (a broker restarting) or the offsets topic is created; both clear within moments.
 */
async function committedOffsets(): Promise<Awaited<ReturnType<typeof admin.fetchOffsets>>> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await admin.fetchOffsets({ groupId, topics: [topic] });
    } catch (error) {
      const wait = COORDINATOR_BACKOFF_MS[attempt];
      if (wait === undefined || !(error as { retriable?: boolean }).retriable) throw error;
      logger.warn('Group coordinator not ready; asking again', { error: (error as Error).message, waitMs: wait });
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

/** kafkajs' error types for a partition whose leader moved or is being elected. */
const LEADER_MOVED = [
  'NOT_LEADER_FOR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
];

/**
 * The topic's low and high watermarks. kafkajs' admin.fetchTopicOffsets gives up at once on any error but
 * UNKNOWN_TOPIC_OR_PARTITION, and keeps the partition leaders it knew: a connection the broker closed while the
 * container was frozen (a restart) is asked again once, and a leader that moved meanwhile (NOT_LEADER_OR_FOLLOWER)
 * after a reconnect, which drops the admin's metadata, with COORDINATOR_BACKOFF_MS between tries. A broker that does
 * not answer at all is not asked again: the invocation fails within its timeouts.
 */
async function topicOffsets(): Promise<Awaited<ReturnType<typeof admin.fetchTopicOffsets>>> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await admin.fetchTopicOffsets(topic);
    } catch (error) {
      const type = (error as { type?: string }).type;
      if (attempt === 0 && isDisconnectedError(error)) {
        logger.warn('Admin connection was closed; asking again', { error: (error as Error).message });
        continue;
      }
      const wait = COORDINATOR_BACKOFF_MS[attempt];
      if (wait === undefined || type === undefined || !LEADER_MOVED.includes(type)) throw error;
      logger.warn('Partition leaders moved; asking again with new metadata', {
        error: (error as Error).message,
        waitMs: wait,
      });
      await admin.disconnect().catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, wait));
      await adminReady();
    }
  }
}

async function consume(
  fromBeginning: boolean,
  maxMessages: number,
  budgetMs: number,
  listen: boolean,
): Promise<ConsumerResult> {
  // The budget counts from the start of the invocation, the group join included.
  const deadline = Date.now() + budgetMs;
  needs = DESCRIBE_NEEDS;
  await adminReady();
  // One after the other: kafkajs' admin finds the group coordinator in its broker pool, which stays empty until its
  // first metadata answer, and a lookup before that waits out a whole retry back-off (1 s) on every cold start.
  const watermarks = await topicOffsets();
  const committed = await committedOffsets();
  const committedBy = new Map(
    (committed[0]?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)] as [number, bigint]),
  );
  const start = new Map<number, bigint>();
  const target = new Map<number, bigint>();
  for (const w of watermarks) {
    const low = BigInt(w.low);
    const saved = committedBy.get(w.partition) ?? -1n;
    start.set(w.partition, fromBeginning || saved < 0n ? low : saved);
    target.set(w.partition, BigInt(w.high));
  }

  const nothingNew = [...target].every(([p, high]) => (start.get(p) ?? 0n) >= high);
  if (nothingNew && !listen) {
    // Nothing to read: answer without touching the group.
    logger.debug('Nothing new', { topic, groupId });
    return { topic, groupId, count: 0, caughtUp: true, stoppedBecause: 'caught-up', messages: [] };
  }

  needs = READ_NEEDS;
  const joinStarted = Date.now();
  // A join refused over MSK's connection rate ("Too many connects") is tried again with a new client.
  await retryTooManyConnects(ensureRunning);
  const joinMs = Date.now() - joinStarted;
  const mine = new Set(assignment ?? []);
  for (const p of [...target.keys()]) {
    if (!mine.has(p)) {
      target.delete(p);
      start.delete(p);
    }
  }

  const result = await new Promise<ConsumerResult>((resolve) => {
    const c: Collector = {
      position: new Map(start),
      logged: new Map(start),
      target,
      listen,
      maxMessages,
      messages: [],
      count: 0,
      done: false,
      finish: (reason) => {
        if (c.done) return;
        c.done = true;
        clearTimeout(timer);
        resolve({
          topic,
          groupId,
          count: c.count,
          caughtUp: isCaughtUp(c),
          stoppedBecause: reason,
          messages: c.messages,
        });
      },
    };
    const timer = setTimeout(() => c.finish('time'), Math.max(1000, deadline - Date.now()));
    collector = c;
    // Every invocation starts from the committed offsets (or 0 with fromBeginning), whatever was fetched before.
    for (const [partition, offset] of start) consumer.seek({ topic, partition, offset: offset.toString() });
    consumer.resume([{ topic }]);
    if (!listen && isCaughtUp(c)) c.finish('caught-up');
  });
  consumer.pause([{ topic }]);
  collector = undefined;
  logger.info(`Read ${result.count} message(s) from ${topic}`, {
    groupId,
    stoppedBecause: result.stoppedBecause,
    joinMs,
  });
  return result;
}

/** Leaves the group and closes connections (for offline runs and tests; Lambda just freezes the container). */
export async function close(): Promise<void> {
  collector?.finish('time');
  await consumer.disconnect().catch(() => undefined);
  await admin.disconnect().catch(() => undefined);
  running = undefined;
}
