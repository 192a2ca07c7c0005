import type { Context } from 'aws-lambda';
import { CompressionTypes, Partitioners, type Message, type PartitionMetadata, type Producer } from 'kafkajs';
import { intEnv, readKafkaSettings, requireEnv } from '../shared/env';
import { createKafka, describeKafkaFailure, isDisconnectedError } from '../shared/kafka';
import { createLogger } from '../shared/logger';
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
  /** Where each message landed, in the order sent (capped at MAX_REPORTED). */
  readonly messages: SentMessage[];
}

export const DEFAULT_MESSAGE = 'Hello MSK';
export const MAX_COUNT = 10000;
const MAX_REPORTED = 100;
const EVENT_FIELDS = ['message', 'key', 'headers', 'count'] as const;
/** Record batch and per-record overhead kept free below the topic's max.message.bytes. */
const BATCH_OVERHEAD_BYTES = 512;

// Module scope: created once per container and reused by warm invocations.
const logger = createLogger('hello-msk-producer');
const settings = readKafkaSettings();
const topic = requireEnv('TOPIC');
/** The topic's max.message.bytes; the stack sets it from the topic's configuration. */
const maxMessageBytes = intEnv('MAX_MESSAGE_BYTES', 1048588);
const maxRecordBytes = maxMessageBytes - BATCH_OVERHEAD_BYTES;

const kafka = createKafka(settings, 'hello-msk-producer', logger);
/** Reads the topic's partitions when this producer session has not seen them yet (a cold start). */
const admin = kafka.admin();
/** Chooses each message's partition as kafkajs would: by key hash, else round robin over partitions with a leader. */
const defaultPartitioner = Partitioners.DefaultPartitioner();

/** The topic's partitions, as the current session's kafkajs metadata last showed them. */
let knownPartitions: PartitionMetadata[] | undefined;
let connected: Promise<void> | undefined;
let producer: Producer = newProducer();

/**
 * One idempotent producer session (one producer id). A session that failed a send is replaced, see
 * startNewSession.
 */
function newProducer(): Producer {
  const created = kafka.producer({
    // Idempotence needs acks=all; one request in flight keeps per-partition order through retries.
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    // Every message arrives with its partition already chosen; this only keeps the metadata kafkajs used.
    createPartitioner: () => (args) => {
      knownPartitions = args.partitionMetadata;
      return args.message.partition ?? defaultPartitioner(args);
    },
  });
  created.on(created.events.DISCONNECT, () => {
    if (producer === created) connected = undefined;
  });
  return created;
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

async function ensureConnected(): Promise<void> {
  connected ??= producer.connect().catch((error: unknown) => {
    connected = undefined;
    throw error;
  });
  await connected;
}

/**
 * After a failed send, kafkajs rewinds the partition's sequence number although the broker may have written
 * the batch. The next batch on that partition would then reuse the sequence numbers: the broker takes a batch
 * of the same size for a duplicate and drops it while acknowledging it, and refuses any other size with
 * OUT_OF_ORDER_SEQUENCE_NUMBER on every later send. A new producer id starts its sequences afresh.
 */
async function startNewSession(): Promise<void> {
  const failed = producer;
  producer = newProducer();
  connected = undefined;
  knownPartitions = undefined;
  await failed.disconnect().catch(() => undefined);
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
  readonly partition: number;
  /** Each message's position in the event's batch, in the order sent. */
  readonly positions: number[];
  readonly chunks: Message[][];
  /** Base offset of each acknowledged chunk, in order. */
  readonly baseOffsets: bigint[];
}

async function topicPartitions(): Promise<PartitionMetadata[]> {
  if (knownPartitions) return knownPartitions;
  await admin.connect();
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] }).catch((error: unknown) => {
    // kafkajs dereferences a null answer when no broker could serve the metadata request.
    throw error instanceof TypeError ? new Error(`no broker answered a metadata request for ${topic}`) : error;
  });
  const partitions = metadata.topics.find((t) => t.name === topic)?.partitions ?? [];
  if (partitions.length === 0) throw new Error(`no partitions of ${topic} in the cluster metadata`);
  return partitions;
}

/**
 * Groups the messages by partition, choosing the partitions up front. kafkajs chooses them again on every
 * internal retry, which moves round-robin messages to other partitions: it then skips the brokers that had
 * already answered, and so acknowledged messages it never sent, sent others twice and reported wrong offsets.
 */
async function planBatches(messages: Message[]): Promise<PartitionBatch[]> {
  const partitionMetadata = await topicPartitions();
  const groups = new Map<number, { positions: number[]; messages: Message[] }>();
  messages.forEach((message, position) => {
    const partition = defaultPartitioner({ topic, partitionMetadata, message });
    const group = groups.get(partition) ?? { positions: [], messages: [] };
    group.positions.push(position);
    group.messages.push({ ...message, partition });
    groups.set(partition, group);
  });
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
    const acks = await producer.send({ topic, messages: chunk, acks: -1, compression: CompressionTypes.None });
    const ack = acks.find((m) => m.partition === batch.partition);
    if (!ack) throw new Error(`partition ${batch.partition} was not acknowledged`);
    batch.baseOffsets.push(BigInt(ack.baseOffset ?? ack.offset ?? '0'));
  }
}

/** Sends every partition's remaining chunks in parallel; returns the errors of the partitions that failed. */
async function sendAll(batches: PartitionBatch[]): Promise<unknown[]> {
  const results = await Promise.allSettled(batches.map(sendPartition));
  return results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r): unknown => r.reason);
}

function acknowledgedCount(batches: PartitionBatch[]): number {
  return batches.reduce((n, b) => n + b.chunks.slice(0, b.baseOffsets.length).reduce((m, c) => m + c.length, 0), 0);
}

/** Sends `Hello MSK` (or the event's message) to TOPIC and returns where each message landed. */
export async function handler(event: unknown, _context?: Context): Promise<ProducerResult> {
  const messages = parseEvent(event);
  let batches: PartitionBatch[] = [];
  try {
    await ensureConnected();
    batches = await planBatches(messages);
    let failures = await sendAll(batches);
    // A warm container whose idle connection the broker closed: reconnect (same producer id) and send the
    // unacknowledged chunks again, once.
    if (failures.some(isDisconnectedError)) {
      logger.warn('Producer connection was closed; reconnecting', { error: (failures[0] as Error).message });
      await producer.disconnect().catch(() => undefined);
      connected = undefined;
      await ensureConnected();
      failures = await sendAll(batches);
    }
    if (failures.length > 0) throw failures[0];
  } catch (error) {
    logger.error('Send failed', { error: error as Error });
    await startNewSession();
    const acknowledged = acknowledgedCount(batches);
    const partial = acknowledged > 0 ? ` after ${acknowledged} of ${messages.length} messages were acknowledged` : '';
    throw new Error(`Could not send to topic ${topic}${partial}: ${describeKafkaFailure(error, settings)}`);
  }

  const result = { topic, count: messages.length, messages: placeMessages(batches, messages.length) };
  logger.info(`Sent ${messages.length} message(s) to ${topic}`, { messages: result.messages.slice(0, 10) });
  return result;
}

/** Disconnects (for offline runs and tests; Lambda just freezes the container). */
export async function close(): Promise<void> {
  await producer.disconnect().catch(() => undefined);
  await admin.disconnect().catch(() => undefined);
  connected = undefined;
}

/** Offsets per message, in the order of the event's batch: each chunk's base offset plus the position in it. */
function placeMessages(batches: PartitionBatch[], count: number): SentMessage[] {
  const placed: SentMessage[] = new Array<SentMessage>(Math.min(count, MAX_REPORTED));
  for (const batch of batches) {
    let i = 0;
    batch.chunks.forEach((chunk, c) => {
      chunk.forEach((_, k) => {
        const position = batch.positions[i++];
        if (position < MAX_REPORTED) {
          placed[position] = { partition: batch.partition, offset: (batch.baseOffsets[c] + BigInt(k)).toString() };
        }
      });
    });
  }
  return placed;
}
