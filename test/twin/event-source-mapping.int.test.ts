/**
 * The event-source-mapping consumer (`-c consumer=event-source-mapping`) on the shared twin: the mapping of the
 * synthesized template polls as the consumer function's role and invokes the bundled handler with MSK's event
 * shape, after the bundled producer sent through the brokers.
 */
import {
  describeTwinApp,
  EventSourceMappingPoller,
  eventSourceMappingsOf,
  startEventSourceMappings,
  type TwinAppInstance,
  twinAppOn,
  withoutActions,
} from 'msk-twin';
import { synthesizeApp } from '../../scripts/app-twin';
import { useTwin } from '../integration/twin-helpers';
import { ensureBundles } from '../lambda/bundles';

jest.setTimeout(120_000);

// Names of this file's own, so that the shared twin's grants of other tests do not meet these.
const TOPIC = 'esm-test-topic';
const GROUP = 'esm-test-consumer';
const twin = useTwin();
let app: TwinAppInstance;
const pollers: EventSourceMappingPoller[] = [];

beforeAll(async () => {
  await ensureBundles();
  const synthesized = await synthesizeApp({
    context: {
      consumer: 'event-source-mapping',
      demoTopic: TOPIC,
      consumerGroup: GROUP,
      topics: [{ name: TOPIC, partitions: 2, config: {} }],
    },
  });
  app = await twinAppOn(twin(), describeTwinApp(synthesized.assembly));
  await twin().withAdmin((admin) =>
    admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 2 }], waitForLeaders: true }),
  );
}, 240_000);

afterEach(async () => {
  await Promise.all(pollers.splice(0).map((p) => p.stop()));
});

afterAll(async () => {
  await app?.stop();
});

/** Resolves with the first handler log line of the consumer that satisfies `match`. */
function logLine(poller: EventSourceMappingPoller, match: (line: Record<string, unknown>) => boolean) {
  return new Promise<Record<string, unknown>>((resolve) => {
    const check = () => {
      for (const { result } of poller.invocations) {
        for (const line of result.logs) {
          if (line.stream === 'platform' || !line.message.startsWith('{')) continue;
          const parsed = JSON.parse(line.message) as Record<string, unknown>;
          if (match(parsed)) return resolve(parsed);
        }
      }
      setTimeout(check, 20);
    };
    check();
  });
}

async function committed(): Promise<number> {
  return twin().withAdmin(async (admin) => {
    const [{ partitions }] = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
    return partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
  });
}

async function stored(): Promise<number> {
  return twin().withAdmin(async (admin) =>
    (await admin.fetchTopicOffsets(TOPIC)).reduce((n, p) => n + Number(p.high), 0),
  );
}

test('the template has one mapping: the consumer, its topic and group, no batching window, an on-failure queue', () => {
  const [mapping, ...others] = eventSourceMappingsOf(app.app);
  expect(others).toEqual([]);
  expect(mapping).toMatchObject({
    function: { path: 'Consumer' },
    topics: [TOPIC],
    consumerGroupId: GROUP,
    startingPosition: 'LATEST',
    batchSize: 100,
    maximumBatchingWindowMs: 0,
    maximumRetryAttempts: 10,
    onFailure: expect.stringMatching(/^ConsumerFailures/),
    enabled: true,
  });
});

test('polls as the consumer role, hands the producer’s message over in MSK’s shape and commits after success', async () => {
  pollers.push(...(await startEventSourceMappings(app)));
  const [poller] = pollers;
  const message = `Hello MSK ${Date.now()}`;
  const sent = await app.runner('Producer').invoke({ message, headers: { origin: 'test' } });
  expect(sent.ok).toBe(true);

  const line = await logLine(poller, (l) => l.message === message);
  expect(line).toMatchObject({
    level: 'INFO',
    topic: TOPIC,
    headers: { origin: 'test' },
    service: 'hello-msk-consumer',
  });
  const { event } = poller.invocations.find((i) => JSON.stringify(i.result.logs).includes(message))!;
  const [key] = Object.keys(event.records);
  const [record] = event.records[key];
  expect(event).toMatchObject({ eventSource: 'aws:kafka', eventSourceArn: app.app.cluster.arn });
  expect(key).toBe(`${TOPIC}-${record.partition}`);
  expect(Buffer.from(record.value, 'base64').toString()).toBe(message);
  expect(record.headers).toEqual([{ origin: [...Buffer.from('test')] }]);
  for (let i = 0; i < 100 && (await committed()) < (await stored()); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(await committed()).toBe(await stored());
  expect(poller.failures).toEqual([]);
});

test('a batch the function fails is retried 10 times, then goes to the on-failure destination and is passed', async () => {
  const [mapping] = eventSourceMappingsOf(app.app);
  // Every batch fails: the handler refuses records of a topic other than its own.
  const failing = app.runner('Consumer', { environmentOverrides: { TOPIC: 'another-topic' } });
  const poller = new EventSourceMappingPoller(mapping, app, failing, { retryDelayMs: 10 });
  pollers.push(poller);
  await poller.start();
  const before = await stored();
  expect(await app.runner('Producer').invoke({ message: 'not for this consumer' })).toMatchObject({ ok: true });

  for (let i = 0; i < 400 && poller.failures.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
  const [failure] = poller.failures;
  expect(failure).toMatchObject({
    destination: expect.stringMatching(/^ConsumerFailures/),
    topic: TOPIC,
    attempts: 11,
    error: expect.stringContaining('InvalidEventError: event has a record of topic esm-test-topic'),
  });
  expect(poller.invocations.filter((i) => !i.result.ok)).toHaveLength(11);
  for (let i = 0; i < 100 && (await committed()) < before + 1; i++) await new Promise((r) => setTimeout(r, 50));
  expect(await committed()).toBe(await stored());
});

test('a consumer role without ReadData: the mapping is refused by the brokers, as Lambda’s poller would be', async () => {
  const role = app.function('Consumer').roleArn;
  const variant = await app.variant((a) => withoutActions(a, role, ['kafka-cluster:ReadData']));
  try {
    const [mapping] = eventSourceMappingsOf(variant.app);
    const poller = new EventSourceMappingPoller(mapping, variant, variant.runner('Consumer'));
    pollers.push(poller);
    await poller.start().catch(() => undefined);
    for (let i = 0; i < 200 && !poller.crashed; i++) await new Promise((r) => setTimeout(r, 50));
    expect(poller.crashed?.message).toMatch(/not authorized/i);
    expect(poller.invocations).toEqual([]);
  } finally {
    await variant.stop();
  }
});
