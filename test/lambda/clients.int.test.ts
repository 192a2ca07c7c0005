/**
 * The bundled producer and consumer handlers (what would be deployed) on the local MSK twin: each runs in a
 * Lambda-like container on Node.js 24 as its own role, signs in over TLS + IAM and is authorized by the ACLs of
 * its role's policies from the synthesized dev app, renamed to each test's own topic and group. Set-up and checks
 * (creating topics, reading offsets and headers) use the twin's plaintext listener, the raw access for tests.
 *
 * The failure tests at the end keep the handler in this process on plaintext: they point it at ports where no
 * broker or a silent one listens, or restart a broker of their own under it, which needs raw control of the
 * broker and of the handler's clock rather than sign-in.
 */
import type { Context } from 'aws-lambda';
import type { Admin } from 'kafkajs';
import * as net from 'node:net';
import type { ConsumerResult } from '../../lambda/consumer';
import type { ProducerResult } from '../../lambda/producer';
import { BASE_CONFIG } from '../../lib/config';
import {
  type LambdaRunner,
  type LocalKafkaCluster,
  type LogLine,
  renamed,
  startKafka,
  type TwinAppInstance,
} from 'msk-twin';
import { kafkaClient, testBrokers, uniqueName } from '../integration/kafka-helpers';
import { useTwinApp } from '../integration/twin-helpers';
import { captureLogs, loadBundle, untilQuiet, type ProducerModule } from './bundles';

jest.setTimeout(60000);

const brokers = (): string => testBrokers();
const shared = useTwinApp();
let admin: Admin;

beforeAll(async () => {
  admin = kafkaClient(brokers()).admin();
  await admin.connect();
});
afterAll(async () => {
  await admin.disconnect();
});

async function createTopic(partitions = 3): Promise<string> {
  const topic = uniqueName('clients');
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  return topic;
}

async function highWatermarks(topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((n, p) => n + Number(p.high), 0);
}

function env(topic: string, extra: Record<string, string> = {}): Record<string, string> {
  return { KAFKA_BROKERS: brokers(), KAFKA_AUTH: 'none', TOPIC: topic, POWERTOOLS_LOG_LEVEL: 'INFO', ...extra };
}

/** A function on the twin, called like its handler: the payload, or the Lambda error's message thrown. */
interface TwinFunction<R> {
  handler(event: unknown): Promise<R>;
}

/** The handler log lines (parsed JSON) of the invocations since the last logsOf. */
let invocationLines: Record<string, unknown>[] = [];

function onTwin<R>(runner: LambdaRunner): TwinFunction<R> {
  return {
    async handler(event) {
      const result = await runner.invoke(event);
      for (const line of result.logs) {
        if (line.stream !== 'platform' && line.message.startsWith('{"level"')) {
          invocationLines.push(JSON.parse(line.message) as Record<string, unknown>);
        }
      }
      if (!result.ok) throw Object.assign(new Error(result.error.errorMessage), { name: result.error.errorType });
      return result.payload as R;
    },
  };
}

/** Runs `fn` and returns its result with the handler log lines of its invocations. */
async function logsOf<T>(fn: () => Promise<T>): Promise<{ result: T; lines: Record<string, unknown>[] }> {
  invocationLines = [];
  const result = await fn();
  return { result, lines: invocationLines };
}

/** The dev app's policies for the topic and group of a test: its own names, the same actions. */
function appFor(topic: string, group: string): Promise<TwinAppInstance> {
  return shared().variant((app) =>
    renamed(app, {
      topics: { [BASE_CONFIG.demoTopic]: topic },
      groups: { [BASE_CONFIG.consumerGroup]: group },
    }),
  );
}

/** A producer and a consumer container for one topic, stopped after each test. */
async function withClients<T>(
  topic: string,
  fn: (producer: TwinFunction<ProducerResult>, consumer: TwinFunction<ConsumerResult>) => Promise<T>,
  group = uniqueName('group'),
): Promise<T> {
  const app = await appFor(topic, group);
  try {
    const producer = onTwin<ProducerResult>(app.runner('Producer', { environmentOverrides: { TOPIC: topic } }));
    const consumer = onTwin<ConsumerResult>(
      app.runner('Consumer', { environmentOverrides: { TOPIC: topic, GROUP_ID: group } }),
    );
    return await fn(producer, consumer);
  } finally {
    await app.stop();
  }
}

describe('producer and consumer round trip', () => {
  test('one Hello MSK goes through: the producer reports where it landed, the consumer logs the value itself', async () => {
    const topic = await createTopic();
    await withClients(topic, async (producer, consumer) => {
      const { result: sent } = await logsOf(() => producer.handler({}));
      expect(sent).toEqual({ topic, count: 1, messages: [{ partition: expect.any(Number), offset: '0' }] });

      const { result: read, lines } = await logsOf(() => consumer.handler({}));
      expect(read).toMatchObject({ topic, count: 1, caughtUp: true, stoppedBecause: 'caught-up' });
      expect(read.messages).toEqual([
        { partition: sent.messages[0].partition, offset: '0', key: null, value: 'Hello MSK' },
      ]);
      const messageLine = lines.find((l) => l.message === 'Hello MSK');
      expect(messageLine).toMatchObject({ level: 'INFO', topic, partition: sent.messages[0].partition, offset: '0' });
    });
  });

  test('count > 1 sends a batch and reports every offset; the consumer reads them all', async () => {
    const topic = await createTopic();
    await withClients(topic, async (producer, consumer) => {
      const { result: sent } = await logsOf(() => producer.handler({ message: 'batch', count: 25 }));
      expect(sent.count).toBe(25);
      expect(sent.messages).toHaveLength(25);
      // Offsets within each partition are consecutive from 0, in the order sent.
      const byPartition = new Map<number, string[]>();
      for (const m of sent.messages) byPartition.set(m.partition, [...(byPartition.get(m.partition) ?? []), m.offset]);
      for (const offsets of byPartition.values()) expect(offsets).toEqual(offsets.map((_, i) => String(i)));
      expect(await highWatermarks(topic)).toBe(25);

      const { result: read } = await logsOf(() => consumer.handler({}));
      expect(read.count).toBe(25);
      expect(new Set(read.messages.map((m) => `${m.partition}:${m.offset}`))).toEqual(
        new Set(sent.messages.map((m) => `${m.partition}:${m.offset}`)),
      );
    });
  });

  test('a batch larger than max.message.bytes goes out in chunks that each fit, and every position is reported', async () => {
    const topic = await createTopic();
    await withClients(topic, async (producer) => {
      // 10000 x 1 KB is about 10 MB, ten times the default max.message.bytes of one record batch.
      const { result } = await logsOf(() => producer.handler({ message: 'x'.repeat(1000), count: 10000 }));
      expect(result.count).toBe(10000);
      expect(result.messages).toHaveLength(10000);
      // Every acknowledged record appears exactly once: per partition, the offsets 0 .. high watermark - 1.
      const reported = new Map<number, number[]>();
      for (const m of result.messages)
        reported.set(m.partition, [...(reported.get(m.partition) ?? []), Number(m.offset)]);
      for (const { partition, high } of await admin.fetchTopicOffsets(topic)) {
        const offsets = (reported.get(partition) ?? []).sort((a, b) => a - b);
        expect(offsets).toEqual(Array.from({ length: Number(high) }, (_, i) => i));
      }
      expect(await highWatermarks(topic)).toBe(10000);
      // What Lambda would return: well inside its 6 MB limit for a synchronous response.
      expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThan(1024 * 1024);
    });
  });

  test('key and headers are preserved, and one key keeps one partition', async () => {
    const topic = await createTopic();
    await withClients(topic, async (producer, consumer) => {
      const { result: sent } = await logsOf(() =>
        producer.handler({ message: 'keyed', key: 'customer-42', headers: { source: 'test', trace: 'abc' }, count: 3 }),
      );
      expect(new Set(sent.messages.map((m) => m.partition)).size).toBe(1);

      const { result: read } = await logsOf(() => consumer.handler({}));
      expect(read.messages.map((m) => [m.key, m.value])).toEqual([
        ['customer-42', 'keyed'],
        ['customer-42', 'keyed'],
        ['customer-42', 'keyed'],
      ]);

      // Headers, read back by an independent kafkajs consumer.
      const reader = kafkaClient(brokers()).consumer({ groupId: uniqueName('reader') });
      await reader.connect();
      await reader.subscribe({ topics: [topic], fromBeginning: true });
      const headers = await new Promise<Record<string, string>>((resolve) => {
        void reader.run({
          eachMessage: async ({ message }) => {
            resolve(Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])));
          },
        });
      });
      await reader.disconnect();
      expect(headers).toEqual({ source: 'test', trace: 'abc' });
    });
  });

  test('a second consumer invocation reads only what is new, and fromBeginning replays everything', async () => {
    const topic = await createTopic();
    await withClients(topic, async (producer, consumer) => {
      await logsOf(() => producer.handler({ message: 'first', count: 2 }));
      const first = (await logsOf(() => consumer.handler({}))).result;
      expect(first.count).toBe(2);

      const idle = (await logsOf(() => consumer.handler({}))).result;
      expect(idle).toMatchObject({ count: 0, caughtUp: true });

      await logsOf(() => producer.handler({ message: 'second' }));
      const second = (await logsOf(() => consumer.handler({}))).result;
      expect(second.count).toBe(1);
      expect(second.messages[0].value).toBe('second');

      const replay = (await logsOf(() => consumer.handler({ fromBeginning: true }))).result;
      expect(replay.count).toBe(3);
      expect(replay.messages.map((m) => m.value).sort()).toEqual(['first', 'first', 'second']);
    });
  });

  test('maxMessages stops early and the next invocation continues where it stopped', async () => {
    const topic = await createTopic(1);
    await withClients(topic, async (producer, consumer) => {
      await logsOf(() => producer.handler({ message: 'm', count: 10 }));
      const part = (await logsOf(() => consumer.handler({ maxMessages: 4 }))).result;
      expect(part).toMatchObject({ count: 4, caughtUp: false, stoppedBecause: 'max-messages' });
      expect(part.messages.map((m) => m.offset)).toEqual(['0', '1', '2', '3']);
      const rest = (await logsOf(() => consumer.handler({}))).result;
      expect(rest.messages.map((m) => m.offset)).toEqual(['4', '5', '6', '7', '8', '9']);
    });
  });

  test('a new container in the same group starts from the committed offsets', async () => {
    const topic = await createTopic();
    const group = uniqueName('group');
    await withClients(
      topic,
      async (producer, consumer) => {
        await logsOf(() => producer.handler({ count: 3 }));
        expect((await logsOf(() => consumer.handler({}))).result.count).toBe(3);
        await logsOf(() => producer.handler({ message: 'after' }));
      },
      group,
    );
    const app = await appFor(topic, group);
    try {
      const fresh = onTwin<ConsumerResult>(
        app.runner('Consumer', { environmentOverrides: { TOPIC: topic, GROUP_ID: group } }),
      );
      const read = (await logsOf(() => fresh.handler({}))).result;
      expect(read.messages.map((m) => m.value)).toEqual(['after']);
    } finally {
      await app.stop();
    }
  });
});

describe('listening, as the schedule runs the consumer', () => {
  test('{"listen":true} logs each message within a second of its send until the time is nearly up', async () => {
    const topic = await createTopic();
    const group = uniqueName('group');
    const app = await appFor(topic, group);
    try {
      const producer = onTwin<ProducerResult>(app.runner('Producer', { environmentOverrides: { TOPIC: topic } }));
      const lines: LogLine[] = [];
      const consumer = app.runner('Consumer', {
        environmentOverrides: { TOPIC: topic, GROUP_ID: group },
        // A schedule period of 15 s instead of the stack's 15 minutes; the run ends 3 s before its timeout.
        timeoutSeconds: 15,
        onLog: (line) => lines.push(line),
      });
      const loggedAt = async (value: string): Promise<number> => {
        for (let i = 0; i < 200; i++) {
          const line = lines.find((l) => l.stream === 'stdout' && l.message.includes(`"message":"${value}"`));
          if (line) return line.time;
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        throw new Error(`the listening consumer did not log ${value}`);
      };
      const started = Date.now();
      const listening = consumer.invoke({ listen: true });
      await producer.handler({ message: 'first' });
      await loggedAt('first');
      const delays: number[] = [];
      for (let i = 0; i < 5; i++) {
        const value = `listened ${i}`;
        const sent = Date.now();
        await producer.handler({ message: value });
        delays.push((await loggedAt(value)) - sent);
      }
      const result = await listening;
      expect(result.ok).toBe(true);
      expect(result.ok && result.payload).toMatchObject({ count: 6, stoppedBecause: 'time' });
      expect(Date.now() - started).toBeGreaterThan(11_000);
      for (const delay of delays) expect(delay).toBeLessThan(1000);
    } finally {
      await app.stop();
    }
  });
});

describe('bad events fail before anything is sent or committed', () => {
  let topic: string;
  let app: TwinAppInstance;
  let producer: TwinFunction<ProducerResult>;
  let consumer: TwinFunction<ConsumerResult>;
  const group = uniqueName('group');

  beforeAll(async () => {
    topic = await createTopic();
    app = await appFor(topic, group);
    producer = onTwin(app.runner('Producer', { environmentOverrides: { TOPIC: topic, MAX_MESSAGE_BYTES: '2048' } }));
    consumer = onTwin(app.runner('Consumer', { environmentOverrides: { TOPIC: topic, GROUP_ID: group } }));
  });
  afterAll(async () => {
    await app?.stop();
  });

  test.each([
    [
      'a string event',
      'Hello',
      'event must be a JSON object with fields message, key, headers, count; got the string "Hello"',
    ],
    ['an array event', [1], 'event must be a JSON object with fields message, key, headers, count; got an array'],
    ['an unknown field', { msg: 'hi' }, 'event field msg is not known; allowed fields: message, key, headers, count'],
    ['a number message', { message: 42 }, 'event field message is number 42; allowed: a string'],
    ['a null key', { key: null }, 'event field key is null; allowed: a string'],
    [
      'headers that are a string',
      { headers: 'a=b' },
      'event field headers is the string "a=b"; allowed: an object of string values',
    ],
    [
      'a header that is a number',
      { headers: { retries: 3 } },
      'event field headers.retries is number 3; allowed: a string',
    ],
    ['count 0', { count: 0 }, 'event field count is number 0; allowed: a whole number from 1 to 10000'],
    ['count 10001', { count: 10001 }, 'event field count is number 10001; allowed: a whole number from 1 to 10000'],
    ['a fractional count', { count: 1.5 }, 'event field count is number 1.5; allowed: a whole number from 1 to 10000'],
    [
      'a count given as a string',
      { count: '2' },
      'event field count is the string "2"; allowed: a whole number from 1 to 10000',
    ],
    [
      'a message larger than the topic allows',
      { message: 'x'.repeat(2000) },
      "event message is 2000 bytes with key and headers; allowed: at most 1536 (the topic's max.message.bytes 2048 less batch overhead)",
    ],
  ])('producer rejects %s', async (_name, event, message) => {
    const before = await highWatermarks(topic);
    await expect(producer.handler(event)).rejects.toThrow(new Error(message));
    expect(await highWatermarks(topic)).toBe(before);
  });

  test.each([
    [
      'a string event',
      'all',
      'event must be a JSON object with fields fromBeginning, maxMessages, listen; got the string "all"',
    ],
    [
      'an unknown field',
      { from: 0 },
      'event field from is not known; allowed fields: fromBeginning, maxMessages, listen',
    ],
    [
      'fromBeginning as a string',
      { fromBeginning: 'true' },
      'event field fromBeginning is the string "true"; allowed: true or false',
    ],
    [
      'maxMessages 0',
      { maxMessages: 0 },
      'event field maxMessages is number 0; allowed: a whole number from 1 to 10000',
    ],
    [
      'maxMessages too large',
      { maxMessages: 1e6 },
      'event field maxMessages is number 1000000; allowed: a whole number from 1 to 10000',
    ],
  ])('consumer rejects %s', async (_name, event, message) => {
    await logsOf(() => producer.handler({ message: 'waiting' }));
    await expect(consumer.handler(event)).rejects.toThrow(new Error(message));
    const committed = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    expect(committed[0].partitions.every((p) => p.offset === '-1')).toBe(true);
  });
});

describe('failures', () => {
  test('a producer whose broker is unreachable fails in seconds with a clear error, not at the Lambda timeout', async () => {
    const producer = loadBundle<ProducerModule>('producer', env('any', { KAFKA_BROKERS: '127.0.0.1:1' }));
    const started = Date.now();
    try {
      await expect(captureLogs(() => producer.handler({}))).rejects.toThrow(
        /^Could not send to topic any: Kafka at 127\.0\.0\.1:1 \(auth none\) failed: .*(ECONNREFUSED|Connection error)/,
      );
      expect(Date.now() - started).toBeLessThan(15000);
    } finally {
      await producer.close();
    }
  });

  test('a producer facing a broker that never answers gives up before the function timeout, with a clear error', async () => {
    // Accepts connections and never answers: what a hung (not dead) broker looks like to a client.
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    const producer = loadBundle<ProducerModule>('producer', env('any', { KAFKA_BROKERS: `127.0.0.1:${port}` }));
    const context = { getRemainingTimeInMillis: () => 5000 } as unknown as Context;
    const started = Date.now();
    try {
      const outcome = await captureLogs(() =>
        producer.handler({}, context).then(
          () => undefined,
          (error: Error) => error,
        ),
      );
      expect(outcome.result?.message).toBe(
        'Could not send to topic any: Kafka at 127.0.0.1:' +
          port +
          ' (auth none) failed: no acknowledgement within 3.0 s (a broker is not answering)',
      );
      expect(Date.now() - started).toBeLessThan(4500);
      expect(outcome.lines).toContainEqual(expect.objectContaining({ level: 'ERROR', message: 'Send failed' }));
    } finally {
      // The abandoned producer session keeps reconnecting for a moment once the broker is gone; its warnings
      // belong to this test, not to the test run's output.
      await captureLogs(async (lines) => {
        await producer.close();
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => silent.close(resolve));
        await untilQuiet(lines);
      });
    }
  });

  test('a warm producer survives a broker restart between invocations', async () => {
    const cluster: LocalKafkaCluster = await startKafka({ brokers: 1 });
    try {
      const restartAdmin = kafkaClient(cluster.bootstrapBrokers).admin();
      await restartAdmin.connect();
      await restartAdmin.createTopics({ topics: [{ topic: 'restart', numPartitions: 1 }], waitForLeaders: true });
      await restartAdmin.disconnect();
      const producer = loadBundle<ProducerModule>('producer', {
        ...env('restart'),
        KAFKA_BROKERS: cluster.bootstrapBrokers,
      });
      try {
        const first = (await captureLogs(() => producer.handler({ message: 'before' }))).result;
        expect(first.messages[0].offset).toBe('0');
        const { result: second, lines } = await captureLogs(async () => {
          await cluster.stop(1);
          await cluster.start(1);
          return producer.handler({ message: 'after' });
        });
        expect(second.messages[0].offset).toBe('1');
        // The restart may show as warnings about the lost connection, never as an error.
        expect(lines.filter((line) => line.level === 'ERROR')).toEqual([]);
      } finally {
        await producer.close();
      }
    } finally {
      await cluster.stop();
    }
  });
});
