/**
 * `npm run bench`: the bundled functions on the local MSK twin (TLS + IAM, Node.js 24 Lambda-like runners, the dev
 * cluster's brokers), then the handlers on a plaintext broker beside Kafka's own perf tools, and cdk synth. Prints a
 * cold-start table and one table of every figure, and writes them to bench-results/bench.json.
 * `-- --quick` runs a short version; `-- --cold-start` only the twin's cold starts; `-- --trigger` only the send to
 * log line latency of each consumer mode on its deployed trigger. docs/benchmarks.md holds the
 * figures and what each target means.
 */
import { build } from 'esbuild';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import kafkajsPackage from 'kafkajs/package.json';
import { createKafka } from '../../lambda/shared/kafka';
import {
  dropKafkajsTimeoutWarnings,
  ensureKafkaJars,
  IAM_CONNECTION_RATE_KEY,
  type InvokeResult,
  LambdaRunner,
  type LocalKafkaCluster,
  mskIamClientProperties,
  renamed,
  runJavaTool,
  startKafka,
  THROUGHPUT_JVM_OPTIONS,
  TWIN_ADMIN_ROLE_ARN,
  type TwinApp,
  type TwinAppInstance,
  writeProperties,
} from 'msk-twin';
import { BASE_CONFIG } from '../../lib/config';
import { buildLambdas, bundlePath, esbuildOptions } from '../build-lambdas';
import { startAppTwin, topicsCreateEvent } from '../app-twin';
import { benchTriggerLatency } from './trigger-latency';
import { iamConnectionRate } from 'msk-catalog';

type Producer = typeof import('../../lambda/producer');
type Consumer = typeof import('../../lambda/consumer');

const QUICK = process.argv.includes('--quick');
const COLD_START_ONLY = process.argv.includes('--cold-start');
const TRIGGER_ONLY = process.argv.includes('--trigger');
const ROOT = path.join(__dirname, '..', '..');
/** 0: free ports the OS chooses. */
const PORT = Number(process.env.BENCH_KAFKA_PORT ?? 0);
const RESULTS_DIR = path.join(ROOT, 'bench-results');

interface Row {
  readonly section: string;
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
  readonly target?: string;
  readonly met?: boolean;
}
const rows: Row[] = [];

function record(
  section: string,
  metric: string,
  value: number,
  unit: string,
  target?: { text: string; ok: boolean },
): void {
  rows.push({ section, metric, value: Math.round(value * 100) / 100, unit, target: target?.text, met: target?.ok });
  const status = target ? (target.ok ? 'met' : 'NOT met') : '';
  process.stderr.write(
    `  ${metric}: ${value.toFixed(2)} ${unit}${target ? ` (target ${target.text}: ${status})` : ''}\n`,
  );
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function median(values: number[]): number {
  return percentile(values, 50);
}

function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Keeps the handlers' log lines off the terminal while measuring; calls `onLine` for each one. */
function muteLogs(onLine?: (line: string, at: number) => void): () => void {
  const out = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk: string | Uint8Array) => {
    if (onLine) {
      const at = nowMs();
      for (const line of chunk.toString().split('\n')) if (line) onLine(line, at);
    }
    return true;
  };
  return () => {
    process.stdout.write = out;
  };
}

function loadHandler<T>(name: string, env: Record<string, string>): T {
  Object.assign(process.env, env);
  const file = bundlePath(name);
  delete require.cache[require.resolve(file)];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(file) as T;
}

async function createTopic(admin: Admin, topic: string, partitions = 3): Promise<void> {
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
}

async function benchProducerLatency(brokers: string, admin: Admin): Promise<void> {
  process.stderr.write('\n2. producer latency (warm, one Hello MSK per invocation, acks=all, idempotent)\n');
  await createTopic(admin, 'bench-latency');
  const env = { KAFKA_BROKERS: brokers, KAFKA_AUTH: 'none', TOPIC: 'bench-latency', POWERTOOLS_LOG_LEVEL: 'WARN' };
  const producer = loadHandler<Producer>('producer', env);
  const unmute = muteLogs();
  const warm: number[] = [];
  try {
    for (let i = 0; i < 50; i++) await producer.handler({});
    const n = QUICK ? 300 : 1000;
    for (let i = 0; i < n; i++) {
      const t = nowMs();
      await producer.handler({});
      warm.push(nowMs() - t);
    }
  } finally {
    unmute();
    await producer.close();
  }

  // The public samples' pattern: a new client, connect, send, disconnect on every invocation.
  const perCall: number[] = [];
  for (let i = 0; i < (QUICK ? 30 : 100); i++) {
    const t = nowMs();
    const kafka = createKafka({ brokers: brokers.split(','), auth: 'none' }, 'bench-connect-per-call');
    const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await p.connect();
    await p.send({ topic: 'bench-latency', acks: -1, messages: [{ value: 'Hello MSK' }] });
    await p.disconnect();
    perCall.push(nowMs() - t);
  }
  const p50 = median(warm);
  const p99 = percentile(warm, 99);
  record('producer latency', 'warm invoke p50', p50, 'ms', { text: '<= 2 ms', ok: p50 <= 2 });
  record('producer latency', 'warm invoke p99', p99, 'ms', { text: '<= 10 ms', ok: p99 <= 10 });
  record('producer latency', 'connect-per-invocation p50', median(perCall), 'ms');
  record('producer latency', 'connect-per-invocation p99', percentile(perCall, 99), 'ms');
  const ratio = median(perCall) / p50;
  record('producer latency', 'speed-up at p50 (connect-per-invocation / warm)', ratio, 'x', {
    text: '>= 20x',
    ok: ratio >= 20,
  });
}

/** Values of the acks comparison and of the backlog, as in the plaintext sections. */
const VALUE_BYTES = 100;

/**
 * The app whose roles may do on the bench's `bench-*` topics and groups what they may on their own ones, beside
 * those: each role's statements, then the same statements renamed (policy-variants.ts).
 */
function withBenchNames(app: TwinApp): TwinApp {
  const bench = renamed(app, {
    topics: { [BASE_CONFIG.demoTopic]: 'bench-*' },
    groups: { [BASE_CONFIG.consumerGroup]: 'bench-*' },
  });
  return {
    ...app,
    roles: app.roles.map((role, i) => ({ ...role, statements: [...role.statements, ...bench.roles[i].statements] })),
  };
}

/**
 * The functions as they run on MSK: bundles in Lambda-like containers, signing in over TLS with an MSK IAM token as
 * their own roles, authorized by their IAM policies. The brokers take kafka.m7g's 100 new IAM connections per
 * second, so that connect-per-invocation measures TLS and sign-in, not the quota's wait.
 */
async function benchTwin(): Promise<void> {
  process.stderr.write(
    "\n1. the functions on the local MSK twin (TLS + IAM, Node.js 24 Lambda-like runner, the dev cluster's brokers)\n",
  );
  const app = await startAppTwin({
    port: PORT,
    jvmOptions: THROUGHPUT_JVM_OPTIONS,
    brokerConfig: { [IAM_CONNECTION_RATE_KEY]: String(iamConnectionRate('kafka.m7g.large').perSecond) },
    editApp: withBenchNames,
    // The bench's roles are renamed to its own topics; it creates them itself.
    deploy: false,
  });
  try {
    record('twin start', 'synth of the dev app', app.timings.synthMs, 'ms');
    record(
      'twin start',
      `${app.twin.cluster.brokers.length} brokers with TLS + IAM until the admin role signed in`,
      app.timings.brokersMs,
      'ms',
    );
    record('twin start', 'synth + brokers (policies set before the brokers start)', app.timings.totalMs, 'ms');
    const variant = app;
    await benchColdStarts(app, variant);
    if (COLD_START_ONLY) return;
    const warm = await benchTwinProducer(app, variant);
    await benchTwinConnectPerInvocation(app, warm);
    await benchTwinSlo(app, variant);
    await benchTwinDrain(app, variant);
    await benchAcks(app);
  } finally {
    await app.stop();
  }
}

/** The dev stacks' demo topic: 3 partitions, replication factor 2 (dev's two brokers). */
const DEV_REPLICATION = 2;

async function twinTopic(
  app: TwinAppInstance,
  topic: string,
  replicationFactor = DEV_REPLICATION,
  config: Record<string, string> = {},
): Promise<void> {
  await app.twin.withAdmin(async (admin) => {
    await admin.createTopics({
      topics: [
        {
          topic,
          numPartitions: 3,
          replicationFactor,
          configEntries: Object.entries(config).map(([name, value]) => ({ name, value })),
        },
      ],
      waitForLeaders: false,
    });
    // Every broker must know the topic before clients ask any of them for its metadata.
    await untilAnswered(() => admin.fetchTopicOffsets(topic));
  });
  await sleep(500);
}

/** Retries `fn` while Kafka answers with a retriable error (a new topic's metadata still spreading). */
async function untilAnswered<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= 40 || !(error as { retriable?: boolean }).retriable) throw error;
      await sleep(250);
    }
  }
}

function ok(result: InvokeResult, what: string): InvokeResult & { ok: true } {
  if (!result.ok) throw new Error(`${what}: ${result.error.errorType}: ${result.error.errorMessage}`);
  return result;
}

/** Warm invocations of the producer; returns their durations. */
async function benchTwinProducer(app: TwinAppInstance, variant: TwinAppInstance): Promise<number[]> {
  const topic = 'bench-twin';
  await twinTopic(app, topic);
  const producer = variant.runner('Producer', { environmentOverrides: { TOPIC: topic } });
  for (let i = 0; i < (QUICK ? 20 : 50); i++) await producer.invoke({});
  const warm: number[] = [];
  for (let i = 0; i < (QUICK ? 100 : 1000); i++) warm.push(ok(await producer.invoke({}), 'twin producer').durationMs);
  record('producer on the twin', 'warm invoke p50', median(warm), 'ms');
  record('producer on the twin', 'warm invoke p99', percentile(warm, 99), 'ms');
  return warm;
}

/** The cold-start target: each function within this factor of the minimal kafkajs producer. */
const COLD_START_FACTOR = 1.25;
const coldStartTable: string[] = [];

/** The minimal kafkajs producer (minimal-producer.ts) in a Lambda-like container, as the Producer's role. */
async function minimalProducer(app: TwinAppInstance, topic: string): Promise<LambdaRunner> {
  const codeDir = mkdtempSync(path.join(os.tmpdir(), 'hello-msk-minimal-'));
  await build(esbuildOptions(path.join(__dirname, 'minimal-producer.ts'), path.join(codeDir, 'index.js')));
  const producer = app.function('Producer');
  return new LambdaRunner(
    {
      name: 'minimal-kafkajs-producer',
      codeDir,
      handler: 'index.handler',
      timeoutSeconds: producer.timeoutSeconds,
      memoryMb: producer.memoryMb,
      environment: { KAFKA_BROKERS: app.twin.bootstrapBrokers, TOPIC: topic },
      logGroupName: '/aws/lambda/minimal-kafkajs-producer',
      runtime: producer.runtime,
    },
    {
      credentials: () => app.twin.issueCredentials(producer.roleArn, 3600),
      region: app.twin.region,
      caFile: app.twin.caFile,
    },
  );
}

/**
 * What a cold start costs each Kafka function, beside the minimal kafkajs producer in the same run: init (module
 * load) and the first invocation (TLS, sign-in, its first requests), rounds interleaved so that the machine's load
 * falls on all alike. The target holds init for every function, and init plus first invocation for those whose
 * first invocation is one request like the baseline's send.
 */
async function benchColdStarts(app: TwinAppInstance, variant: TwinAppInstance): Promise<void> {
  const topic = 'bench-cold';
  await twinTopic(app, topic);
  const create = topicsCreateEvent(variant);
  const properties = create.ResourceProperties as Record<string, unknown>;
  const createTopic = (round: number) => ({
    ...create,
    ResourceProperties: { ...properties, TopicName: `bench-cold-${round}` },
  });
  const minimal = await minimalProducer(app, topic);
  // A consumer's cold start in a group whose last member was a killed container waits out that member's session;
  // each round's consumer joins a group of its own, as a first deploy's does.
  const consumer = (round: number) =>
    variant.runner('Consumer', { environmentOverrides: { TOPIC: topic, GROUP_ID: `bench-cold-${round}` } });
  const cases: {
    name: string;
    runner: LambdaRunner | ((round: number) => LambdaRunner);
    event: (round: number) => unknown;
    oneRequest: boolean;
  }[] = [
    { name: 'minimal kafkajs producer', runner: minimal, event: () => ({}), oneRequest: true },
    {
      name: 'Producer',
      runner: variant.runner('Producer', { environmentOverrides: { TOPIC: topic } }),
      event: () => ({}),
      oneRequest: true,
    },
    {
      name: 'Consumer (joins a new group)',
      runner: consumer,
      event: () => ({}),
      oneRequest: false,
    },
    {
      name: 'KafkaAdmin',
      runner: app.runner('KafkaAdmin'),
      event: () => ({ action: 'list-topics' }),
      oneRequest: true,
    },
    {
      name: 'Topics/OnEvent (creates a topic)',
      runner: variant.runner('Topics/OnEvent'),
      event: createTopic,
      oneRequest: false,
    },
    {
      name: 'Topics/IsComplete',
      runner: variant.runner('Topics/IsComplete'),
      event: (round) => ({ ...createTopic(round), PhysicalResourceId: `bench-cold-${round}` }),
      oneRequest: true,
    },
  ];
  const init = cases.map((): number[] => []);
  const first = cases.map((): number[] => []);
  try {
    // Round 0 is not counted: it pays the new brokers' first-time costs (the first producer-id block an idempotent
    // producer asks for, the JIT), which a deployed cluster paid long before.
    for (let round = 0; round <= (QUICK ? 3 : 10); round++) {
      for (const [i, c] of cases.entries()) {
        const runner = typeof c.runner === 'function' ? c.runner(round) : c.runner;
        await runner.coldStart();
        const result = ok(await runner.invoke(c.event(round)), c.name);
        if (typeof c.runner === 'function') await runner.stop();
        if (round === 0) continue;
        init[i].push(result.initDurationMs ?? NaN);
        first[i].push(result.durationMs);
      }
    }
  } finally {
    await minimal.stop();
  }
  const section = 'cold start on the twin (p50)';
  const [baseInit, baseTotal] = [median(init[0]), median(init[0]) + median(first[0])];
  coldStartTable.push(
    `| function | init | first invocation | cold start | init vs minimal | cold start vs minimal |`,
    '|---|---|---|---|---|---|',
  );
  for (const [i, c] of cases.entries()) {
    const [initMs, firstMs] = [median(init[i]), median(first[i])];
    const [initRatio, totalRatio] = [initMs / baseInit, (initMs + firstMs) / baseTotal];
    const target = (ratio: number) => ({ text: `<= ${COLD_START_FACTOR}x minimal`, ok: ratio <= COLD_START_FACTOR });
    const baseline = i === 0;
    record(section, `${c.name}: init`, initMs, 'ms');
    record(section, `${c.name}: first invocation`, firstMs, 'ms');
    if (!baseline) {
      record(section, `${c.name}: init / minimal's`, initRatio, 'x', target(initRatio));
      record(
        section,
        `${c.name}: cold start / minimal's`,
        totalRatio,
        'x',
        c.oneRequest ? target(totalRatio) : undefined,
      );
    }
    const shown = (ratio: number, gated: boolean) =>
      baseline
        ? '1.00x'
        : `${ratio.toFixed(2)}x${gated ? (ratio <= COLD_START_FACTOR ? '' : ' (over)') : ' (no target)'}`;
    coldStartTable.push(
      `| ${c.name} | ${initMs.toFixed(0)} ms | ${firstMs.toFixed(0)} ms | ${(initMs + firstMs).toFixed(0)} ms | ${shown(initRatio, true)} | ${shown(totalRatio, c.oneRequest)} |`,
    );
  }
}

/**
 * The public samples' pattern over TLS + IAM: a new client, connect (TLS handshake, sign-in), send, disconnect on
 * every invocation; in this process, with kafkajs and the signer as the function uses them, against the warm
 * producer's handler duration.
 */
async function benchTwinConnectPerInvocation(app: TwinAppInstance, warm: number[]): Promise<void> {
  const topic = 'bench-twin';
  const credentials = app.twin.issueCredentials(app.function('Producer').roleArn, 3600);
  const perCall: number[] = [];
  for (let i = 0; i < (QUICK ? 10 : 100); i++) {
    const t = nowMs();
    const kafka = new Kafka({
      ...app.twin.clientConfig(credentials, 'bench-connect-per-call'),
      logLevel: logLevel.NOTHING,
    });
    const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await p.connect();
    await p.send({ topic, acks: -1, messages: [{ value: 'Hello MSK' }] });
    await p.disconnect();
    perCall.push(nowMs() - t);
  }
  record('producer on the twin', 'connect-per-invocation p50', median(perCall), 'ms');
  record('producer on the twin', 'connect-per-invocation p99', percentile(perCall, 99), 'ms');
  const ratio = median(perCall) / median(warm);
  record('producer on the twin', 'speed-up at p50 (connect-per-invocation / warm)', ratio, 'x', {
    text: '>= 20x',
    ok: ratio >= 20,
  });
}

/** The handler's log line of a consumed value: when the runner received it. */
function loggedAt(result: InvokeResult, value: string): number | undefined {
  return result.logs.find((l) => l.stream === 'stdout' && l.message.includes(`"message":${JSON.stringify(value)}`))
    ?.time;
}

/**
 * Our producer and a warm consumer, as deployed: from invoking the producer until the consumer, invoked as soon as
 * the producer returns, logs the value; against an SLO of p99 < 200 ms.
 */
async function benchTwinSlo(app: TwinAppInstance, variant: TwinAppInstance): Promise<void> {
  const topic = 'bench-twin-slo';
  await twinTopic(app, topic);
  const producer = variant.runner('Producer', { environmentOverrides: { TOPIC: topic } });
  const consumer = variant.runner('Consumer', { environmentOverrides: { TOPIC: topic, GROUP_ID: 'bench-slo' } });
  ok(await producer.invoke({ message: 'warm-up' }), 'twin producer');
  ok(await consumer.invoke({}), 'twin consumer');
  const delays: number[] = [];
  for (let i = 0; i < (QUICK ? 20 : 100); i++) {
    const value = `slo ${i}`;
    const started = Date.now();
    ok(await producer.invoke({ message: value }), 'twin producer');
    const read = ok(await consumer.invoke({}), 'twin consumer');
    const at = loggedAt(read, value);
    if (at === undefined) throw new Error(`the consumer did not log ${value}`);
    delays.push(at - started);
  }
  const p99 = percentile(delays, 99);
  record(
    'produce to consume on the twin (ours, warm)',
    'producer invoke to consumer log line, p50',
    median(delays),
    'ms',
  );
  record('produce to consume on the twin (ours, warm)', 'producer invoke to consumer log line, p99', p99, 'ms', {
    text: '< 200 ms',
    ok: p99 < 200,
  });
}

/** The consumer handler draining a backlog over TLS + IAM, beside kafka-consumer-perf-test on the same brokers. */
async function benchTwinDrain(app: TwinAppInstance, variant: TwinAppInstance): Promise<void> {
  const backlog = QUICK ? 10000 : 100000;
  const topic = 'bench-twin-drain';
  await twinTopic(app, topic);
  const filler = variant.runner('Producer', {
    environmentOverrides: { TOPIC: topic },
    freezeBetweenInvocations: false,
  });
  for (let sent = 0; sent < backlog; sent += 10000) {
    ok(await filler.invoke({ count: 10000, message: 'y'.repeat(VALUE_BYTES) }), 'twin producer (backlog)');
  }
  const drainer = variant.runner('Consumer', { environmentOverrides: { TOPIC: topic, GROUP_ID: 'bench-drain' } });
  const t = nowMs();
  let read = 0;
  while (read < backlog) {
    const r = ok(await drainer.invoke({ maxMessages: 10000 }), 'twin consumer (drain)');
    const count = (r.payload as { count: number }).count;
    if (count === 0) break;
    read += count;
  }
  const ours = read / ((nowMs() - t) / 1000);
  const result = await runJavaTool({
    kafkaVersion: app.twin.cluster.version,
    mainClass: 'org.apache.kafka.tools.ConsumerPerformance',
    args: [
      '--bootstrap-server',
      app.twin.bootstrapBrokers,
      '--consumer.config',
      writeProperties(path.join(mkdtempSync(path.join(os.tmpdir(), 'hello-msk-bench-')), 'iam.properties'), {
        ...mskIamClientProperties(app.twin.caFile),
      }),
      '--topic',
      topic,
      '--messages',
      String(backlog),
      '--group',
      'bench-perf-test-iam',
    ],
    credentials: app.twin.issueCredentials(TWIN_ADMIN_ROLE_ARN, 3600),
    region: app.twin.region,
    jvmOptions: THROUGHPUT_JVM_OPTIONS,
    timeoutMs: 120_000,
  });
  const dataLine = result.output
    .split('\n')
    .reverse()
    .find((l) => /^\d{4}-\d{2}-\d{2} [\d:.]+, /.test(l));
  if (result.code !== 0 || !dataLine) {
    throw new Error(`kafka-consumer-perf-test over IAM failed: ${result.output.split('\n').slice(-5).join(' ')}`);
  }
  const theirs = Number(dataLine.split(',').map((f) => f.trim())[5]);
  record(
    'consumer on the twin',
    `backlog drain, consumer handler (${VALUE_BYTES} B values, logging each)`,
    ours,
    'msg/s',
  );
  record('consumer on the twin', 'backlog drain, kafka-consumer-perf-test (TLS + IAM, same brokers)', theirs, 'msg/s');
  const ratio = ours / theirs;
  record('consumer on the twin', 'backlog drain, handler / perf-test', ratio, 'x', {
    text: '>= 0.5x',
    ok: ratio >= 0.5,
  });
}

/**
 * Kafka's durability/latency trade-off in numbers: kafkajs with acks 0, 1 and all (-1) on a topic replicated to
 * every broker of the dev cluster (two) with min.insync.replicas 2, the same value size, over TLS +
 * IAM: send latency, throughput, and produce-to-consume latency to a kafkajs consumer that is already running.
 */
async function benchAcks(app: TwinAppInstance): Promise<void> {
  const credentials = app.twin.issueCredentials(TWIN_ADMIN_ROLE_ARN, 3600);
  const config = (id: string) => ({ ...app.twin.clientConfig(credentials, id), logLevel: logLevel.NOTHING });
  const sends = QUICK ? 50 : 500;
  const volume = QUICK ? 2000 : 20000;
  for (const acks of [0, 1, -1]) {
    const label = acks === -1 ? 'all' : String(acks);
    const topic = `bench-acks-${label}`;
    await twinTopic(app, topic, app.twin.cluster.brokers.length, { 'min.insync.replicas': '2' });
    const kafka = new Kafka(config(`bench-acks-${label}`));
    const producer = kafka.producer({ allowAutoTopicCreation: false, maxInFlightRequests: 1 });
    const consumer = kafka.consumer({ groupId: `bench-acks-${label}`, maxWaitTimeInMs: 25 });
    const arrived = new Map<number, number>();
    let joined: () => void = () => undefined;
    const join = new Promise<void>((resolve) => (joined = resolve));
    consumer.on(consumer.events.GROUP_JOIN, () => joined());
    await producer.connect();
    await consumer.connect();
    await untilAnswered(() => consumer.subscribe({ topics: [topic], fromBeginning: false }));
    await consumer.run({
      eachMessage: async ({ message }) => {
        const id = Number(message.key?.toString());
        if (!arrived.has(id)) arrived.set(id, nowMs());
      },
    });
    await join;
    const value = 'v'.repeat(VALUE_BYTES);
    const latency: number[] = [];
    const sentAt = new Map<number, number>();
    try {
      for (let i = -20; i < sends; i++) {
        const t = nowMs();
        await producer.send({ topic, acks, messages: [{ key: String(i), value }] });
        if (i >= 0) {
          latency.push(nowMs() - t);
          sentAt.set(i, t);
        }
      }
      const deadline = Date.now() + 10_000;
      while ([...sentAt.keys()].some((i) => !arrived.has(i)) && Date.now() < deadline) await sleep(50);
      // Throughput after the latency samples have arrived, so that its burst does not delay them.
      const started = nowMs();
      for (let sent = 0; sent < volume; sent += 100) {
        await producer.send({
          topic,
          acks,
          messages: Array.from({ length: 100 }, (_, k) => ({ key: String(-1 - sent - k), value })),
        });
      }
      const throughput = volume / ((nowMs() - started) / 1000);
      const endToEnd = [...sentAt].flatMap(([i, t]) => (arrived.has(i) ? [arrived.get(i)! - t] : []));
      const section = 'acks trade-off on the twin (kafkajs, RF = brokers, min ISR 2)';
      record(section, `acks=${label}: send p50`, median(latency), 'ms');
      record(section, `acks=${label}: send p99`, percentile(latency, 99), 'ms');
      record(section, `acks=${label}: throughput (batches of 100)`, throughput, 'msg/s');
      record(section, `acks=${label}: produce to consume p99`, percentile(endToEnd, 99), 'ms');
      record(
        section,
        `acks=${label}: messages not seen by the consumer within 10 s`,
        sentAt.size - endToEnd.length,
        '',
      );
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs a Kafka tool's main class from the broker's Maven classpath and returns its stdout. */
function runKafkaTool(classpath: string, mainClass: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('java', [...THROUGHPUT_JVM_OPTIONS, '-cp', classpath, mainClass, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(out)
        : reject(new Error(`${mainClass} exited ${code}: ${err.split('\n').slice(-5).join(' ')}`)),
    );
  });
}

async function benchProducerThroughput(brokers: string, admin: Admin, classpath: string): Promise<void> {
  process.stderr.write('\n3. producer throughput (count batches, acks=all, idempotent, no compression)\n');
  const total = QUICK ? 20000 : 100000;
  for (const size of [100, 1000]) {
    const topic = `bench-throughput-${size}`;
    await createTopic(admin, topic);
    const producer = loadHandler<Producer>('producer', {
      KAFKA_BROKERS: brokers,
      KAFKA_AUTH: 'none',
      TOPIC: topic,
      POWERTOOLS_LOG_LEVEL: 'WARN',
    });
    const unmute = muteLogs();
    let ours: number;
    try {
      await producer.handler({ count: 100, message: 'w'.repeat(size) });
      const t = nowMs();
      for (let sent = 0; sent < total; sent += 10000)
        await producer.handler({ count: 10000, message: 'x'.repeat(size) });
      ours = total / ((nowMs() - t) / 1000);
    } finally {
      unmute();
      await producer.close();
    }

    const javaTopic = `bench-perf-test-${size}`;
    await createTopic(admin, javaTopic);
    const output = await runKafkaTool(classpath, 'org.apache.kafka.tools.ProducerPerformance', [
      '--topic',
      javaTopic,
      '--num-records',
      String(total),
      '--record-size',
      String(size),
      '--throughput',
      '-1',
      '--producer-props',
      `bootstrap.servers=${brokers}`,
      'acks=all',
      'enable.idempotence=true',
      'max.in.flight.requests.per.connection=1',
      'compression.type=none',
    ]);
    const summary = output.trim().split('\n').pop() ?? '';
    const m = /([\d.]+) records\/sec/.exec(summary);
    if (!m) throw new Error(`could not read kafka-producer-perf-test output: ${summary}`);
    const theirs = Number(m[1]);
    record('producer throughput', `${size} B values, producer handler`, ours, 'msg/s');
    record('producer throughput', `${size} B values, producer handler`, (ours * size) / 1e6, 'MB/s');
    record('producer throughput', `${size} B values, kafka-producer-perf-test`, theirs, 'msg/s');
    const ratio = ours / theirs;
    record('producer throughput', `${size} B values, handler / perf-test`, ratio * 100, '%', {
      text: '>= 50%',
      ok: ratio >= 0.5,
    });
  }
}

async function benchConsumer(brokers: string, admin: Admin, classpath: string): Promise<void> {
  process.stderr.write('\n4. consumer: producer return to consumer log line (warm), backlog drain\n');
  await createTopic(admin, 'bench-consumer');
  const env = { KAFKA_BROKERS: brokers, KAFKA_AUTH: 'none', TOPIC: 'bench-consumer', POWERTOOLS_LOG_LEVEL: 'INFO' };
  const producer = loadHandler<Producer>('producer', env);
  const consumer = loadHandler<Consumer>('consumer', { ...env, GROUP_ID: 'bench-consumer-group' });
  let seenAt = 0;
  let expected = '';
  const unmute = muteLogs((line, at) => {
    if (seenAt === 0 && expected && line.includes(`"message":"${expected}"`)) seenAt = at;
  });
  const delays: number[] = [];
  const invocations: number[] = [];
  let coldInvocation = 0;
  try {
    await producer.handler({ message: 'warm-up' });
    const t0 = nowMs();
    await consumer.handler({});
    coldInvocation = nowMs() - t0;
    for (let i = 0; i < (QUICK ? 10 : 30); i++) {
      expected = `Hello MSK ${i}`;
      seenAt = 0;
      await producer.handler({ message: expected });
      const returned = nowMs();
      await consumer.handler({});
      invocations.push(nowMs() - returned);
      if (seenAt === 0) throw new Error(`consumer did not log ${expected}`);
      delays.push(seenAt - returned);
    }
  } finally {
    unmute();
  }
  record('consumer', 'first invocation (joins the group)', coldInvocation, 'ms');
  record('consumer', 'warm invocation reading 1 message, p50', median(invocations), 'ms');
  const p50 = median(delays);
  record('consumer', 'producer return to consumer log line, p50', p50, 'ms', { text: '<= 500 ms', ok: p50 <= 500 });
  record('consumer', 'producer return to consumer log line, max', Math.max(...delays), 'ms');

  const backlog = QUICK ? 20000 : 100000;
  const drainTopic = 'bench-drain';
  await createTopic(admin, drainTopic);
  const filler = loadHandler<Producer>('producer', { ...env, TOPIC: drainTopic, POWERTOOLS_LOG_LEVEL: 'WARN' });
  const drainer = loadHandler<Consumer>('consumer', { ...env, TOPIC: drainTopic, GROUP_ID: 'bench-drain-group' });
  const unmute2 = muteLogs();
  let rate: number;
  try {
    for (let sent = 0; sent < backlog; sent += 10000) await filler.handler({ count: 10000, message: 'y'.repeat(100) });
    const t = nowMs();
    let read = 0;
    while (read < backlog) {
      const r = await drainer.handler({ maxMessages: 10000 });
      if (r.count === 0) break;
      read += r.count;
    }
    rate = read / ((nowMs() - t) / 1000);
  } finally {
    unmute2();
    await filler.close();
    await drainer.close();
    await producer.close();
    await consumer.close();
  }
  const output = await runKafkaTool(classpath, 'org.apache.kafka.tools.ConsumerPerformance', [
    '--bootstrap-server',
    brokers,
    '--topic',
    drainTopic,
    '--messages',
    String(backlog),
    '--group',
    'bench-perf-test-group',
  ]);
  const dataLine = output.trim().split('\n').pop() ?? '';
  const fields = dataLine.split(',').map((f) => f.trim());
  // start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, ...
  const theirs = Number(fields[5]);
  record('consumer', 'backlog drain, consumer handler (100 B values, logging each)', rate, 'msg/s');
  record('consumer', 'backlog drain, kafka-consumer-perf-test', theirs, 'msg/s');
  record('consumer', 'backlog drain, handler / perf-test', rate / theirs, 'x', {
    text: '>= 0.5x',
    ok: rate / theirs >= 0.5,
  });
}

function benchSynth(): void {
  process.stderr.write('\n6. cdk synth of the whole app from a cold process\n');
  const times: number[] = [];
  for (let i = 0; i < (QUICK ? 1 : 3); i++) {
    const out = mkdtempSync(path.join(os.tmpdir(), 'hello-msk-synth-'));
    const t = nowMs();
    const r = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'cdk'), ['synth', '--quiet', '-o', out], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    times.push((nowMs() - t) / 1000);
    rmSync(out, { recursive: true, force: true });
    if (r.status !== 0) throw new Error(`cdk synth failed: ${r.stderr}`);
  }
  const s = median(times);
  record('synth', 'cdk synth wall time', s, 's', { text: '<= 10 s', ok: s <= 10 });
}

async function main(): Promise<void> {
  dropKafkajsTimeoutWarnings();
  const started = new Date();
  process.stderr.write(`hello-msk benchmarks${QUICK ? ' (quick)' : ''}\n`);
  await buildLambdas(true);
  let kafkaVersion = 'as on the twin';
  const twinStarted = nowMs();
  if (!TRIGGER_ONLY) await benchTwin();
  if (!COLD_START_ONLY) {
    process.stderr.write("\n2. from a send to the consumer's log line on the deployed trigger, each consumer mode\n");
    await benchTriggerLatency(record, QUICK);
  }
  process.stderr.write(`  (the twin sections took ${((nowMs() - twinStarted) / 1000).toFixed(0)} s)\n`);
  if (!COLD_START_ONLY && !TRIGGER_ONLY) {
    process.stderr.write("\nOn a plaintext broker, the handlers in this process beside Kafka's own perf tools:\n");
    const classpath = await ensureKafkaJars();
    const cluster: LocalKafkaCluster = await startKafka({ brokers: 1, port: PORT, jvmOptions: THROUGHPUT_JVM_OPTIONS });
    kafkaVersion = cluster.version;
    let admin: Admin | undefined;
    try {
      const brokers = cluster.bootstrapBrokers;
      admin = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      await benchProducerLatency(brokers, admin);
      await benchProducerThroughput(brokers, admin, classpath);
      await benchConsumer(brokers, admin, classpath);
    } finally {
      await admin?.disconnect();
      await cluster.stop();
    }
  }
  if (!COLD_START_ONLY && !TRIGGER_ONLY) benchSynth();

  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const meta = {
    date: started.toISOString(),
    quick: QUICK,
    cpu: `${cpu} x ${os.cpus().length}`,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    kafka: kafkaVersion,
    kafkajs: kafkajsPackage.version,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(
    path.join(RESULTS_DIR, 'bench.json'),
    `${JSON.stringify({ ...meta, coldStartTable, rows }, null, 2)}\n`,
  );

  const lines = [
    `hello-msk benchmarks, ${meta.date}, ${meta.cpu}, Node ${meta.node}, Kafka ${meta.kafka}, kafkajs ${meta.kafkajs}`,
    '',
    `Cold start on the twin, p50 (target: each function within ${COLD_START_FACTOR}x of the minimal kafkajs producer)`,
    '',
    ...coldStartTable,
    '',
    '| section | metric | value | target | met |',
    '|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.section} | ${r.metric} | ${r.value} ${r.unit} | ${r.target ?? ''} | ${r.met === undefined ? '' : r.met ? 'yes' : 'no'} |`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
