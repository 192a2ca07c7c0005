import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { CompressionTypes, Partitioners, type Message, type PartitionMetadata, type Producer } from 'kafkajs';
import { authorizationFailure } from '../shared/authorization';
import { intEnv, readKafkaSettings, requireEnv } from '../shared/env';
import {
  connectOnce,
  createKafka,
  describeKafkaFailure,
  isDisconnectedError,
  isTooManyConnects,
  retryTooManyConnects,
} from '../shared/kafka';
import { asEventObject, describe, InvalidEventError, optionalInt, optionalString } from '../shared/validation';

/** What the producer accepts; every field is optional. */
export interface ProducerEvent {
  /** Message value. @default 'Hello MSK' */
  readonly message?: string;
  /** Message key; messages with the same key go to the same partition, in order. */
  readonly key?: string;
  /** Message headers, string values. */
  readonly headers?: Record<string, string>;
  /** How many copies to send in one batch (1 to MAX_COUNT). @default 1 */
  readonly count?: number;
}

export interface SentMessage {
  readonly partition: number;
  readonly offset: string;
}

export interface ProducerResult {
  readonly topic: string;
  readonly count: number;
  /**
   * Where each message landed, one entry per message in the order sent: at MAX_COUNT about 400 KB of JSON,
   * well inside Lambda's 6 MB synchronous response.
   */
  readonly messages: SentMessage[];
}

export const DEFAULT_MESSAGE = 'Hello MSK';
export const MAX_COUNT = 10000;
const EVENT_FIELDS = ['message', 'key', 'headers', 'count'] as const;
/** Record batch and per-record overhead kept free below the topic's max.message.bytes. */
const BATCH_OVERHEAD_BYTES = 512;

// Module scope: created once per container and reused by warm invocations.
const logger = new Logger({ serviceName: 'hello-msk-producer' });
const settings = readKafkaSettings();
const topic = requireEnv('TOPIC');
/** The topic's max.message.bytes; the stack sets it from the topic's configuration. */
const maxMessageBytes = intEnv('MAX_MESSAGE_BYTES', 1048588);
const maxRecordBytes = maxMessageBytes - BATCH_OVERHEAD_BYTES;

const kafka = createKafka(settings, 'hello-msk-producer', logger);
/** Chooses each message's partition as kafkajs would: by key hash, else round robin over partitions with a leader. */
const defaultPartitioner = Partitioners.DefaultPartitioner();
/** The partition of a message sent without one; kafkajs asks again on every retry and must get the same answer. */
const chosenPartition = new WeakMap<Message, number>();

/** The topic's partitions, as the current session's kafkajs metadata showed them at its last send. */
let knownPartitions: PartitionMetadata[] | undefined;

/** One idempotent producer (one producer id) and its connection, made once and reused by warm invocations. */
interface Session {
  readonly producer: Producer;
  readonly connected: () => Promise<void>;
}

let session: Session = newSession();

/** A new producer session; one that failed a send is replaced, see startNewSession. */
function newSession(): Session {
  const producer = kafka.producer({
    // Idempotence needs acks=all; one request in flight keeps per-partition order through retries.
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    // Keeps the metadata kafkajs sends with, so that the handler can choose the partitions itself.
    createPartitioner: () => (args) => {
      knownPartitions = args.partitionMetadata;
      const partition = args.message.partition ?? chosenPartition.get(args.message) ?? defaultPartitioner(args);
      chosenPartition.set(args.message, partition);
      return partition;
    },
  });
  return {
    producer,
    connected: connectOnce(
      () => producer.connect(),
      (listener) => producer.on(producer.events.DISCONNECT, listener),
    ),
  };
}

/** Checks the event and builds the messages; throws before anything is sent. */
export function parseEvent(event: unknown): Message[] {
  const record = asEventObject(event, EVENT_FIELDS);
  const value = optionalString(record, 'message') ?? DEFAULT_MESSAGE;
  const key = optionalString(record, 'key');
  const count = optionalInt(record, 'count', 1, MAX_COUNT) ?? 1;
  const headers = record.headers;
  if (headers !== undefined) {
    if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
      throw new InvalidEventError(`event field headers is ${describe(headers)}; allowed: an object of string values`);
    }
    for (const [name, v] of Object.entries(headers)) {
      if (typeof v !== 'string') {
        throw new InvalidEventError(`event field headers.${name} is ${describe(v)}; allowed: a string`);
      }
    }
  }
  const headerMap = headers as Record<string, string> | undefined;
  const size =
    Buffer.byteLength(value) +
    (key ? Buffer.byteLength(key) : 0) +
    Object.entries(headerMap ?? {}).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
  if (size > maxRecordBytes) {
    throw new InvalidEventError(
      `event message is ${size} bytes with key and headers; allowed: at most ${maxRecordBytes} (the topic's max.message.bytes ${maxMessageBytes} less batch overhead)`,
    );
  }
  return Array.from({ length: count }, () => ({ value, key, headers: headerMap }));
}

/**
 * After a failed send, kafkajs rewinds the partition's sequence number although the broker may have written
 * the batch. The next batch on that partition would then reuse the sequence numbers: the broker takes a batch
 * of the same size for a duplicate and drops it while acknowledging it, and refuses any other size with
 * OUT_OF_ORDER_SEQUENCE_NUMBER on every later send. A new producer id starts its sequences afresh.
 */
function startNewSession(): void {
  const failed = session.producer;
  session = newSession();
  knownPartitions = undefined;
  // Not awaited: a session stuck on a silent broker can take a request timeout to let go.
  void failed.disconnect().catch(() => undefined);
}

/** Per-record framing in a v2 record batch (length, attributes, deltas, header count), rounded up. */
const RECORD_OVERHEAD_BYTES = 70;

function recordBytes(m: Message): number {
  const headers = Object.entries((m.headers ?? {}) as Record<string, string>);
  return (
    RECORD_OVERHEAD_BYTES +
    Buffer.byteLength(m.value as string) +
    (m.key ? Buffer.byteLength(m.key) : 0) +
    headers.reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0)
  );
}

/**
 * kafkajs puts all of one send's messages for a partition into one record batch, which the broker refuses
 * when it is larger than max.message.bytes; so large `count`s go out in chunks that each fit.
 */
export function chunkBySize(messages: Message[], limit: number): Message[][] {
  const chunks: Message[][] = [];
  let current: Message[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = recordBytes(m);
    if (current.length > 0 && bytes + size > limit) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** The messages bound for one partition, sent in size-limited chunks, one after another. */
interface PartitionBatch {
  /** Unknown until acknowledged for the first message of a new session, which kafkajs places. */
  partition?: number;
  /** Each message's position in the event's batch, in the order sent. */
  readonly positions: number[];
  readonly chunks: Message[][];
  /** Base offset of each acknowledged chunk, in order. */
  readonly baseOffsets: bigint[];
}

/** One event's messages on their way: batches per partition, and how many messages are in a batch yet. */
interface Delivery {
  readonly messages: Message[];
  readonly batches: PartitionBatch[];
  planned: number;
}

/**
 * Groups the messages from `from` on by partition, choosing the partitions up front. kafkajs chooses them
 * again on every internal retry, which moves round-robin messages to other partitions: it then skipped the
 * brokers that had already answered, and so acknowledged messages it never sent, sent others twice and
 * reported wrong offsets.
 */
function planBatches(messages: Message[], from: number, partitionMetadata: PartitionMetadata[]): PartitionBatch[] {
  const groups = new Map<number, { positions: number[]; messages: Message[] }>();
  for (let position = from; position < messages.length; position++) {
    const message = messages[position];
    const partition = defaultPartitioner({ topic, partitionMetadata, message });
    const group = groups.get(partition) ?? { positions: [], messages: [] };
    group.positions.push(position);
    group.messages.push({ ...message, partition });
    groups.set(partition, group);
  }
  return [...groups].map(([partition, group]) => ({
    partition,
    positions: group.positions,
    chunks: chunkBySize(group.messages, maxRecordBytes),
    baseOffsets: [],
  }));
}

/**
 * One send per partition, so that a send and its retries address one leader: with several partitions in one
 * send, kafkajs retries only the brokers that failed, and drops a partition whose leader moved to a broker
 * that had already answered. A failed chunk is sent again unchanged, with the sequence numbers of its first
 * attempt, so the broker discards it if the first attempt was written after all.
 */
async function sendPartition(batch: PartitionBatch): Promise<void> {
  for (const chunk of batch.chunks.slice(batch.baseOffsets.length)) {
    const acks = await session.producer.send({ topic, messages: chunk, acks: -1, compression: CompressionTypes.None });
    const ack = batch.partition === undefined ? acks[0] : acks.find((m) => m.partition === batch.partition);
    if (!ack) throw new Error(`partition ${batch.partition ?? '(any)'} was not acknowledged`);
    batch.partition = ack.partition;
    batch.baseOffsets.push(BigInt(ack.baseOffset ?? ack.offset ?? '0'));
  }
}

/** Sends every chunk not acknowledged yet, partitions in parallel; returns the errors of those that failed. */
async function deliver(delivery: Delivery): Promise<unknown[]> {
  const { messages, batches } = delivery;
  if (delivery.planned === 0 && !knownPartitions) {
    // A new session has not seen the topic's partitions: the first message goes alone, and its send loads them.
    batches.push({ positions: [0], chunks: [[messages[0]]], baseOffsets: [] });
    delivery.planned = 1;
  }
  for (;;) {
    if (delivery.planned < messages.length && knownPartitions) {
      batches.push(...planBatches(messages, delivery.planned, knownPartitions));
      delivery.planned = messages.length;
    }
    const results = await Promise.allSettled(batches.map(sendPartition));
    const failures = results
      .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      .map((r): unknown => r.reason);
    if (failures.length > 0 || delivery.planned === messages.length) return failures;
    if (!knownPartitions) return [new Error(`kafkajs sent to ${topic} without its partition metadata`)];
  }
}

function acknowledgedCount(batches: PartitionBatch[]): number {
  return batches.reduce((n, b) => n + b.chunks.slice(0, b.baseOffsets.length).reduce((m, c) => m + c.length, 0), 0);
}

/** Time kept free before the function's timeout to give up cleanly and report. */
const DEADLINE_MARGIN_MS = 2000;

/** Fails with a clear message when `work` does not finish before the invocation's deadline. */
async function beforeDeadline<T>(work: Promise<T>, context: Context | undefined): Promise<T> {
  if (!context) return work;
  const budget = context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no acknowledgement within ${(budget / 1000).toFixed(1)} s (a broker is not answering)`)),
      Math.max(0, budget),
    );
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Sends `Hello MSK` (or the event's message) to TOPIC and returns where each message landed. */
export async function handler(event: unknown, context?: Context): Promise<ProducerResult> {
  const messages = parseEvent(event);
  const delivery: Delivery = { messages, batches: [], planned: 0 };
  try {
    await beforeDeadline(send(delivery), context);
  } catch (error) {
    logger.error('Send failed', { error: error as Error });
    // Whatever is still in flight belongs to the old session and can no longer be reported as sent.
    startNewSession();
    const denied = authorizationFailure(error, {
      topic: { action: 'WriteData', name: topic },
      // The idempotent producer's InitProducerId.
      cluster: { action: 'WriteDataIdempotently' },
    });
    if (denied) throw denied;
    const acknowledged = acknowledgedCount(delivery.batches);
    const partial = acknowledged > 0 ? ` after ${acknowledged} of ${messages.length} messages were acknowledged` : '';
    throw new Error(`Could not send to topic ${topic}${partial}: ${describeKafkaFailure(error, settings)}`);
  }

  const result = { topic, count: messages.length, messages: placeMessages(delivery.batches, messages.length) };
  logger.info(`Sent ${messages.length} message(s) to ${topic}`, { messages: result.messages.slice(0, 10) });
  return result;
}

async function send(delivery: Delivery): Promise<void> {
  await session.connected();
  let failures = await deliver(delivery);
  // A warm container whose idle connection the broker closed: reconnect (same producer id) and send the
  // unacknowledged chunks again, once.
  if (failures.some(isDisconnectedError)) {
    logger.warn('Producer connection was closed; reconnecting', { error: (failures[0] as Error).message });
    await session.producer.disconnect().catch(() => undefined);
    await session.connected();
    failures = await deliver(delivery);
  }
  // A partition leader's broker refused the new connection over MSK's rate: send what is left after a back-off.
  if (failures.some(isTooManyConnects)) {
    failures = await retryTooManyConnects(
      async () => {
        const left = await deliver(delivery);
        if (left.some(isTooManyConnects)) throw left.find(isTooManyConnects);
        return left;
      },
      (delayMs) => logger.warn(`A broker refused a new connection (Too many connects); retrying in ${delayMs} ms`),
    );
  }
  if (failures.length > 0) throw failures[0];
}

/** Disconnects (for offline runs and tests; Lambda just freezes the container). */
export async function close(): Promise<void> {
  await session.producer.disconnect().catch(() => undefined);
}

/** Offsets per message, in the order of the event's batch: each chunk's base offset plus the position in it. */
function placeMessages(batches: PartitionBatch[], count: number): SentMessage[] {
  const placed: SentMessage[] = new Array<SentMessage>(count);
  for (const batch of batches) {
    let i = 0;
    batch.chunks.forEach((chunk, c) => {
      chunk.forEach((_, k) => {
        placed[batch.positions[i++]] = {
          partition: batch.partition ?? 0,
          offset: (batch.baseOffsets[c] + BigInt(k)).toString(),
        };
      });
    });
  }
  return placed;
}
