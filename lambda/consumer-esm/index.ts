import { Logger } from '@aws-lambda-powertools/logger';
import type { MSKEvent, MSKHandler, MSKRecord } from 'aws-lambda';
import { requireEnv } from '../shared/env';
import { describe, InvalidEventError } from '../shared/validation';

/**
 * The consumer as an event source mapping invokes it: Lambda polls the topic as the consumer group, hands over
 * batches keyed `topic-partition`, and commits their offsets when this handler returns. A thrown error makes
 * Lambda retry the whole batch, then send it to the on-failure destination.
 */
const logger = new Logger({ serviceName: 'hello-msk-consumer' });
const topic = requireEnv('TOPIC');

export interface DecodedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly key: string | null;
  readonly value: string | null;
  readonly headers: Record<string, string>;
}

const fromBase64 = (text: string | undefined | null): string | null =>
  text === undefined || text === null ? null : Buffer.from(text, 'base64').toString('utf8');

function decodeRecord(record: MSKRecord, where: string): DecodedRecord {
  if (typeof record !== 'object' || record === null) {
    throw new InvalidEventError(`${where} is ${describe(record)}; expected an MSK record`);
  }
  if (!Number.isInteger(record.partition) || !Number.isInteger(record.offset)) {
    throw new InvalidEventError(`${where} has no whole-number partition and offset`);
  }
  if (record.value !== undefined && record.value !== null && typeof record.value !== 'string') {
    throw new InvalidEventError(`${where}.value is ${describe(record.value)}; expected base64 text`);
  }
  const headers: Record<string, string> = {};
  for (const header of Array.isArray(record.headers) ? record.headers : []) {
    for (const [name, bytes] of Object.entries(header)) headers[name] = Buffer.from(bytes).toString('utf8');
  }
  return {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    timestamp: record.timestamp,
    key: fromBase64(record.key),
    value: fromBase64(record.value),
    headers,
  };
}

/** Checks the whole batch before anything is logged; the message names the first field that does not fit. */
export function decodeEvent(event: unknown): DecodedRecord[] {
  const candidate = event as Partial<MSKEvent> | null;
  if (typeof candidate !== 'object' || candidate === null || candidate.eventSource !== 'aws:kafka') {
    throw new InvalidEventError(`event is ${describe(event)}; expected an MSK event (eventSource "aws:kafka")`);
  }
  if (typeof candidate.records !== 'object' || candidate.records === null || Array.isArray(candidate.records)) {
    throw new InvalidEventError('event.records must map "topic-partition" to arrays of records');
  }
  const decoded: DecodedRecord[] = [];
  for (const [key, records] of Object.entries(candidate.records)) {
    if (!Array.isArray(records)) throw new InvalidEventError(`event.records["${key}"] is not an array`);
    records.forEach((record, i) => decoded.push(decodeRecord(record, `event.records["${key}"][${i}]`)));
  }
  const foreign = decoded.find((r) => r.topic !== topic);
  if (foreign)
    throw new InvalidEventError(`event has a record of topic ${foreign.topic}; this consumer reads ${topic}`);
  return decoded.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

export const handler: MSKHandler = async (event) => {
  const records = decodeEvent(event);
  for (const record of records) {
    // The value itself is the log line's message, as the kafkajs consumer logs it.
    logger.info(record.value ?? '(null)', {
      topic: record.topic,
      partition: record.partition,
      offset: String(record.offset),
      key: record.key,
      messageTimestamp: String(record.timestamp),
      ...(Object.keys(record.headers).length > 0 ? { headers: record.headers } : {}),
    });
  }
  logger.info(`Read ${records.length} message(s) from ${topic}`, { topic, count: records.length });
};
