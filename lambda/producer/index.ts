import type { Context } from 'aws-lambda';
import { CompressionTypes, Partitioners, type Message, type Producer, type RecordMetadata } from 'kafkajs';
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

// Each sent message's partition, recorded by the partitioner so offsets can be reported per message.
const assignedPartition = new WeakMap<Message, number>();
const defaultPartitioner = Partitioners.DefaultPartitioner();

const kafka = createKafka(settings, 'hello-msk-producer', logger);
const producer: Producer = kafka.producer({
  // Idempotence needs acks=all; one request in flight keeps per-partition order through retries.
  idempotent: true,
  maxInFlightRequests: 1,
  allowAutoTopicCreation: false,
  createPartitioner: () => (args) => {
    const partition = defaultPartitioner(args);
    assignedPartition.set(args.message, partition);
    return partition;
  },
});
let connected: Promise<void> | undefined;
producer.on(producer.events.DISCONNECT, () => {
  connected = undefined;
});

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

async function send(messages: Message[], sent: RecordMetadata[][]): Promise<void> {
  // Chunks go one after another, so a failure reports exactly how many messages were acknowledged before it.
  for (const chunk of chunkBySize(messages, maxRecordBytes).slice(sent.length)) {
    sent.push(await producer.send({ topic, messages: chunk, acks: -1, compression: CompressionTypes.None }));
  }
}

/** Sends `Hello MSK` (or the event's message) to TOPIC and returns where each message landed. */
export async function handler(event: unknown, _context?: Context): Promise<ProducerResult> {
  const messages = parseEvent(event);
  const chunks = chunkBySize(messages, maxRecordBytes);
  const sent: RecordMetadata[][] = [];
  try {
    await ensureConnected();
    try {
      await send(messages, sent);
    } catch (error) {
      // A warm container whose idle connection the broker closed: the failed chunk was not sent, so
      // reconnect and go on from it, once.
      if (!isDisconnectedError(error)) throw error;
      logger.warn('Producer connection was closed; reconnecting', { error: (error as Error).message });
      await producer.disconnect().catch(() => undefined);
      connected = undefined;
      await ensureConnected();
      await send(messages, sent);
    }
  } catch (error) {
    logger.error('Send failed', { error: error as Error });
    const acknowledged = chunks.slice(0, sent.length).reduce((n, c) => n + c.length, 0);
    const partial = acknowledged > 0 ? ` after ${acknowledged} of ${messages.length} messages were acknowledged` : '';
    throw new Error(`Could not send to topic ${topic}${partial}: ${describeKafkaFailure(error, settings)}`);
  }

  const result = { topic, count: messages.length, messages: placeMessages(chunks, sent) };
  logger.info(`Sent ${messages.length} message(s) to ${topic}`, { messages: result.messages.slice(0, 10) });
  return result;
}

/** Disconnects (for offline runs and tests; Lambda just freezes the container). */
export async function close(): Promise<void> {
  await producer.disconnect().catch(() => undefined);
  connected = undefined;
}

/** Offsets per message: each partition's base offset in its chunk plus the message's position there. */
function placeMessages(chunks: Message[][], sent: RecordMetadata[][]): SentMessage[] {
  const placed: SentMessage[] = [];
  chunks.forEach((chunk, i) => {
    const next = new Map<number, bigint>();
    for (const m of sent[i] ?? []) next.set(m.partition, BigInt(m.baseOffset ?? m.offset ?? '0'));
    for (const message of chunk) {
      if (placed.length >= MAX_REPORTED) return;
      const partition = assignedPartition.get(message) ?? sent[i]?.[0]?.partition ?? 0;
      const offset = next.get(partition) ?? 0n;
      next.set(partition, offset + 1n);
      placed.push({ partition, offset: offset.toString() });
    }
  });
  return placed;
}
