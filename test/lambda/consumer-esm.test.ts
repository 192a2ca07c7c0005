/**
 * The event-source-mapping consumer's handler with MSK events as Lambda delivers them: each value logged as the
 * line's message, and a batch that is not an MSK event of its topic refused whole before anything is logged.
 */
import type { Context, MSKEvent } from 'aws-lambda';

process.env.TOPIC = 'orders';
process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler, decodeEvent } = require('../../lambda/consumer-esm') as typeof import('../../lambda/consumer-esm');

const b64 = (text: string) => Buffer.from(text).toString('base64');

function event(records: MSKEvent['records']): MSKEvent {
  return {
    eventSource: 'aws:kafka',
    eventSourceArn: 'arn:aws:kafka:eu-west-1:111122223333:cluster/c/uuid-1',
    bootstrapServers: 'b-1.c.kafka.eu-west-1.amazonaws.com:9098',
    records,
  };
}

const record = (partition: number, offset: number, value: string | null, key: string | null = null) => ({
  topic: 'orders',
  partition,
  offset,
  timestamp: 1700000000000 + offset,
  timestampType: 'CREATE_TIME' as const,
  key: key === null ? (null as unknown as string) : b64(key),
  value: value === null ? (null as unknown as string) : b64(value),
  headers: [{ origin: [...Buffer.from('test')] }],
});

let lines: Record<string, unknown>[];
beforeEach(() => {
  lines = [];
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    for (const line of chunk.toString().split('\n').filter(Boolean))
      lines.push(JSON.parse(line) as Record<string, unknown>);
    return true;
  });
});
afterEach(() => jest.restoreAllMocks());

test('logs every value as its line’s message, partition by partition in offset order, then a count', async () => {
  await handler(
    event({ 'orders-1': [record(1, 7, 'b', 'k')], 'orders-0': [record(0, 4, 'Hello MSK'), record(0, 3, 'a')] }),
    {} as Context,
    () => undefined,
  );
  expect(lines.map((l) => [l.message, l.partition, l.offset])).toEqual([
    ['a', 0, '3'],
    ['Hello MSK', 0, '4'],
    ['b', 1, '7'],
    ['Read 3 message(s) from orders', undefined, undefined],
  ]);
  expect(lines[2]).toMatchObject({ key: 'k', headers: { origin: 'test' }, topic: 'orders', level: 'INFO' });
});

test.each<[string, unknown, RegExp]>([
  ['a scheduled event', {}, /expected an MSK event \(eventSource "aws:kafka"\)/],
  ['records that are not a map', { ...event({}), records: [] }, /event.records must map "topic-partition"/],
  [
    'a record without an offset',
    event({ 'orders-0': [{ ...record(0, 1, 'x'), offset: 'x' as unknown as number }] }),
    /event.records\["orders-0"\]\[0\] has no whole-number partition and offset/,
  ],
  [
    'a record of another topic',
    event({ 'payments-0': [{ ...record(0, 1, 'x'), topic: 'payments' }] }),
    /record of topic payments; this consumer reads orders/,
  ],
])('%s fails whole with one line and logs nothing', async (_name, given, message) => {
  expect(() => decodeEvent(given)).toThrow(message);
  await expect(handler(given as MSKEvent, {} as Context, () => undefined)).rejects.toThrow(message);
  expect(lines).toEqual([]);
});
