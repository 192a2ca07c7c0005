/**
 * The bundled producer and consumer in Lambda-like containers on Node.js 24, with the environment of the
 * synthesized dev template, against the shared local broker. That broker is plaintext, so KAFKA_AUTH is set to
 * `none` here (the IAM listener of the twin is checked elsewhere); each test also gets its own topic and group,
 * as every test on the shared broker does.
 */
import type { Admin } from 'kafkajs';
import * as net from 'node:net';
import {
  describeTwinApp,
  findFunction,
  functionSpec,
  type LambdaFunctionSpec,
  LambdaRunner,
  type LambdaRunnerOptions,
  type TwinApp,
} from 'msk-twin';
import { synthesizeApp, type SynthesizedApp } from '../../scripts/app-twin';
import { kafkaClient, testBrokers, uniqueName } from '../integration/kafka-helpers';
import { ensureBundles } from '../lambda/bundles';

jest.setTimeout(120_000);

const CREDENTIALS = {
  accessKeyId: 'twin-test-key',
  secretAccessKey: 'twin-test-secret',
  sessionToken: 'twin-test-token',
};

let dev: SynthesizedApp;
let app: TwinApp;
let admin: Admin;
const runners: LambdaRunner[] = [];

beforeAll(async () => {
  await ensureBundles();
  dev = await synthesizeApp();
  app = describeTwinApp(dev.assembly);
  admin = kafkaClient(testBrokers()).admin();
  await admin.connect();
}, 240_000);

afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop()));
});

afterAll(async () => {
  await admin?.disconnect();
});

/** The function's spec from the dev template, its bootstrap brokers resolved to the shared test broker. */
function specOf(name: 'Producer' | 'Consumer'): LambdaFunctionSpec {
  const fn = findFunction(app.functions, name);
  return functionSpec(app, fn, { bootstrapBrokers: testBrokers() });
}

function container(
  spec: LambdaFunctionSpec,
  overrides: Record<string, string>,
  options: Partial<LambdaRunnerOptions> = {},
): LambdaRunner {
  const runner = new LambdaRunner(spec, {
    credentials: () => CREDENTIALS,
    environmentOverrides: { KAFKA_AUTH: 'none', ...overrides },
    ...options,
  });
  runners.push(runner);
  return runner;
}

async function createTopic(): Promise<string> {
  const topic = uniqueName('runner');
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
  return topic;
}

function ok<T>(result: Awaited<ReturnType<LambdaRunner['invoke']>>): T {
  if (!result.ok) throw new Error(`invocation failed: ${result.error.errorType}: ${result.error.errorMessage}`);
  return result.payload as T;
}

type Sent = { topic: string; count: number; messages: { partition: number; offset: string }[] };
type Read = { topic: string; count: number; messages: { value: string | null }[] };

/** A broker that accepts connections and never answers, as a hung host does. */
async function silentBroker(): Promise<{ address: string; close: () => Promise<void> }> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        sockets.forEach((s) => s.destroy());
        server.close(() => resolve());
      }),
  };
}

test("the functions' environment comes from the synthesized template, the bootstrap brokers resolved to the twin", () => {
  expect(specOf('Producer')).toMatchObject({
    handler: 'index.handler',
    timeoutSeconds: 60,
    memoryMb: 256,
    environment: {
      NODE_OPTIONS: '--enable-source-maps',
      KAFKA_BROKERS: testBrokers(),
      KAFKA_AUTH: 'iam',
      TOPIC: 'test-topic',
      MAX_MESSAGE_BYTES: '1048588',
    },
  });
  expect(specOf('Consumer').environment).toMatchObject({
    GROUP_ID: 'hello-msk-consumer',
    KAFKA_BROKERS: testBrokers(),
  });
});

test('Hello MSK goes from the bundled producer to the bundled consumer on Node.js 24, the value in its log line', async () => {
  const topic = await createTopic();
  const producer = container(specOf('Producer'), { TOPIC: topic });
  const consumer = container(specOf('Consumer'), { TOPIC: topic, GROUP_ID: uniqueName('group') });

  const sent = await producer.invoke({ message: 'Hello MSK' });
  expect(sent.coldStart).toBe(true);
  expect(ok<Sent>(sent)).toEqual({ topic, count: 1, messages: [{ partition: expect.any(Number), offset: '0' }] });

  const read = await consumer.invoke({});
  expect(ok<Read>(read)).toMatchObject({ topic, count: 1, messages: [{ value: 'Hello MSK' }] });
  const line = read.logs.find((l) => l.stream === 'stdout' && l.message.includes('"message":"Hello MSK"'));
  expect(line?.requestId).toBe(read.requestId);
  expect(JSON.parse(line?.message ?? '{}')).toMatchObject({ level: 'INFO', message: 'Hello MSK', topic });
});

test('a warm container reuses its connection: same process, no init, faster', async () => {
  const topic = await createTopic();
  const producer = container(specOf('Producer'), { TOPIC: topic });
  const cold = await producer.invoke({});
  const pid = producer.pid;
  const warm = await producer.invoke({});
  expect(ok<Sent>(warm).messages).toHaveLength(1);
  expect([cold.coldStart, warm.coldStart]).toEqual([true, false]);
  expect(producer.pid).toBe(pid);
  expect(warm.durationMs).toBeLessThan(cold.durationMs);
});

test('a consumer frozen between invocations thaws, stays in its group and reads what arrived meanwhile', async () => {
  const topic = await createTopic();
  const producer = container(specOf('Producer'), { TOPIC: topic });
  const consumer = container(specOf('Consumer'), { TOPIC: topic, GROUP_ID: uniqueName('group') });
  expect(ok<Read>(await consumer.invoke({})).count).toBe(0);
  expect(consumer.frozen).toBe(true);

  ok<Sent>(await producer.invoke({ message: 'while frozen', count: 3 }));
  // Longer than the consumer's 3 s heartbeat interval: a heartbeat is due while it cannot send one.
  await new Promise((resolve) => setTimeout(resolve, 4000));
  const read = await consumer.invoke({});
  expect(read.coldStart).toBe(false);
  expect(ok<Read>(read)).toMatchObject({ count: 3 });
  expect(ok<Read>(read).messages.map((m) => m.value)).toEqual(['while frozen', 'while frozen', 'while frozen']);
});

test("the function's timeout ends a handler stuck on a broker that never answers; the next invocation starts cold", async () => {
  // The producer and consumer stop themselves before their timeout; the topic-bootstrap waiter does not.
  const isComplete = findFunction(app.functions, 'Topics/IsComplete');
  const broker = await silentBroker();
  try {
    const waiter = container(
      { ...functionSpec(app, isComplete, { bootstrapBrokers: broker.address }), timeoutSeconds: 2 },
      {},
    );
    const event = {
      RequestType: 'Create',
      ResourceProperties: {
        ServiceToken: 'x',
        ClusterArn: app.cluster.arn,
        TopicName: 'stuck',
        PartitionCount: '1',
        ReplicationFactor: '1',
      },
    };
    const result = await waiter.invoke(event);
    expect(result).toMatchObject({ ok: false, error: { errorType: 'Sandbox.Timedout' } });
    if (result.ok) return;
    expect(result.error.errorMessage).toMatch(/Task timed out after 2\.00 seconds$/);
    expect(result.durationMs).toBeLessThan(5000);
    expect(waiter.pid).toBeUndefined();
    expect((await waiter.invoke({ RequestType: 'Delete' })).coldStart).toBe(true);
  } finally {
    await broker.close();
  }
});

test('a bad event fails like a Lambda handler error, naming the field; nothing is sent', async () => {
  const topic = await createTopic();
  const producer = container(specOf('Producer'), { TOPIC: topic });
  const result = await producer.invoke({ count: 0 });
  expect(result).toMatchObject({
    ok: false,
    error: {
      errorType: 'InvalidEventError',
      errorMessage: 'event field count is number 0; allowed: a whole number from 1 to 10000',
    },
  });
  const offsets = await admin.fetchTopicOffsets(topic);
  expect(offsets.every((p) => p.high === '0')).toBe(true);
});

test('a variable the stack does not set breaks the run as it would in Lambda', async () => {
  const spec = specOf('Producer');
  const { TOPIC: _dropped, ...environment } = spec.environment;
  const producer = container({ ...spec, environment }, {});
  const result = await producer.invoke({});
  expect(result).toMatchObject({
    ok: false,
    coldStart: true,
    error: { errorType: 'EnvironmentError', errorMessage: 'Environment variable TOPIC is not set' },
  });
});
