/**
 * `npm run demo`: the whole hello-msk path offline, on a real local Apache Kafka, with the same bundled
 * producer and consumer handlers that `cdk deploy` ships. It follows Kafka's classic first steps:
 * create a topic, list topics, produce, see the brokers store it, consume from the beginning, list groups.
 *
 * Uses the broker named by KAFKA_BROKERS when set; otherwise starts one on DEMO_KAFKA_PORT, or on 9092 (any
 * free port when 9092 is taken), and stops it at the end. DEMO_TOPIC changes the topic (default: the stacks'
 * demoTopic, test-topic); the consumer group is the stacks' consumerGroup, as deployed.
 */
import { Kafka, logLevel } from 'kafkajs';
import { BASE_CONFIG } from '../lib/config';
import { ignoreNegativeTimeoutWarnings } from '../lambda/shared/kafka';
import { buildLambdas, bundlePath } from './build-lambdas';
import { PortInUseError, useOrStartKafka, type KafkaEndpoint } from './kafka/local-kafka';
import { explainStartupWarnings } from './startup-warnings';

type Producer = typeof import('../lambda/producer');
type Consumer = typeof import('../lambda/consumer');

const TOPIC = process.env.DEMO_TOPIC?.trim() || BASE_CONFIG.demoTopic;
const GROUP = BASE_CONFIG.consumerGroup;
const MESSAGE = process.argv.slice(2).join(' ') || 'Hello MSK';

/** DEMO_KAFKA_PORT, checked before anything starts; a bad value is named in the one-line error. */
function demoPort(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.DEMO_KAFKA_PORT?.trim();
  if (!raw) return 9092;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port < 1024 || port > 65533) {
    throw new Error(`DEMO_KAFKA_PORT ${JSON.stringify(raw)} is not valid; expected a port number from 1024 to 65533`);
  }
  return port;
}

let stepNumber = 0;
async function step<T>(title: string, fn: () => Promise<T>): Promise<T> {
  stepNumber += 1;
  const started = process.hrtime.bigint();
  process.stdout.write(`\n${stepNumber}. ${title}\n`);
  const result = await fn();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  process.stdout.write(`   (${ms.toFixed(0)} ms)\n`);
  return result;
}

function say(line: string): void {
  process.stdout.write(`   ${line}\n`);
}

/** Loads a bundled handler the way a Lambda container does: environment first, then the module. */
function loadHandler<T>(name: string, env: Record<string, string>): T {
  Object.assign(process.env, env);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(bundlePath(name)) as T;
}

/**
 * Runs `fn` while collecting the JSON log lines the handler writes to stdout and stderr (what CloudWatch
 * Logs would receive).
 */
async function collectLogs<T>(fn: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = [];
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const collect = ((chunk: string | Uint8Array) => {
    lines.push(
      ...chunk
        .toString()
        .split('\n')
        .filter((l) => l.trim() !== ''),
    );
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = collect;
  process.stderr.write = collect;
  try {
    return { result: await fn(), lines };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

async function main(): Promise<string> {
  // Its own admin client as well as the handlers' (npm runs the demo on Node.js 24, which warns on kafkajs' timer).
  ignoreNegativeTimeoutWarnings();
  let kafka: KafkaEndpoint | undefined;
  let producer: Producer | undefined;
  let consumer: Consumer | undefined;
  const port = demoPort();
  try {
    kafka = await step('Start Apache Kafka (KRaft) on loopback', async () => {
      const chosen = Boolean(process.env.DEMO_KAFKA_PORT?.trim());
      const start = (p: number) => useOrStartKafka({ brokers: 1, port: p, log: (m) => say(m) });
      const endpoint = await start(port).catch((error: unknown) => {
        if (chosen || !(error instanceof PortInUseError)) throw error;
        say(`port ${port} is taken, so the demo's broker takes a free port (DEMO_KAFKA_PORT=N to choose one)`);
        return start(0);
      });
      say(`${endpoint.started ? 'started' : 'using'} broker ${endpoint.bootstrapBrokers}`);
      return endpoint;
    });
    const brokers = kafka.bootstrapBrokers;
    const admin = new Kafka({
      clientId: 'hello-msk-demo',
      brokers: brokers.split(','),
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    try {
      await step(`Create topic ${TOPIC} (kafka-topics --create)`, async () => {
        const created = await admin.createTopics({
          topics: [{ topic: TOPIC, numPartitions: 3 }],
          waitForLeaders: true,
        });
        say(created ? `created ${TOPIC} with 3 partitions` : `${TOPIC} already exists`);
      });

      await step('List topics (kafka-topics --list)', async () => {
        for (const t of (await admin.listTopics()).filter((name) => !name.startsWith('__')).sort()) say(t);
      });

      await step('Bundle the Lambda handlers exactly as cdk deploy does', async () => {
        const sizes = await buildLambdas(true);
        for (const [name, bytes] of Object.entries(sizes)) say(`${name.padEnd(16)} ${(bytes / 1024).toFixed(1)} KiB`);
      });

      const env = { KAFKA_BROKERS: brokers, KAFKA_AUTH: 'none', TOPIC, GROUP_ID: GROUP, POWERTOOLS_LOG_LEVEL: 'INFO' };
      producer = loadHandler<Producer>('producer', env);
      consumer = loadHandler<Consumer>('consumer', env);

      const sent = await step(`Invoke the producer handler with ${JSON.stringify({ message: MESSAGE })}`, async () => {
        const { result, lines } = await collectLogs(() => producer!.handler({ message: MESSAGE }));
        say('what the producer logged:');
        for (const line of explainStartupWarnings(lines)) say(`  ${line}`);
        say(`returned ${JSON.stringify(result)}`);
        return result;
      });

      await step('The brokers store it (log end offsets per partition)', async () => {
        const offsets = (await admin.fetchTopicOffsets(TOPIC)).sort((a, b) => a.partition - b.partition);
        for (const p of offsets) {
          const stored = Number(p.high) - Number(p.low);
          const marker = sent.messages.some((m) => m.partition === p.partition) ? '  <- your message' : '';
          say(`partition ${p.partition}: ${stored} message(s), offsets ${p.low} to ${p.high} (exclusive)${marker}`);
        }
      });

      const read = await step(
        'Invoke the consumer handler with {"fromBeginning":true} (--from-beginning)',
        async () => {
          const { result, lines } = await collectLogs(() => consumer!.handler({ fromBeginning: true }));
          say(`returned count=${result.count}, caughtUp=${result.caughtUp}`);
          say('what the consumer logged (CloudWatch Logs shows these lines):');
          for (const line of explainStartupWarnings(lines)) say(`  ${line}`);
          return { result, lines };
        },
      );

      await step('List consumer groups (kafka-consumer-groups --list)', async () => {
        const { groups } = await admin.listGroups();
        for (const g of groups.filter((x) => x.groupId === GROUP)) say(`${g.groupId} (${g.protocolType})`);
      });

      const helloLine = read.lines.filter((l) => l.includes(`"message":${JSON.stringify(MESSAGE)}`)).pop();
      if (!helloLine) throw new Error(`The consumer did not log ${JSON.stringify(MESSAGE)}`);
      return helloLine;
    } finally {
      await admin.disconnect();
    }
  } finally {
    await producer?.close();
    await consumer?.close();
    if (kafka?.started) {
      process.stdout.write('\nStopping the local broker\n');
      await kafka.stop();
    }
  }
}

main().then(
  (helloLine) => {
    process.stdout.write(`\nThe consumer logged:\n${helloLine}\n`);
    process.exit(0);
  },
  (error: unknown) => {
    process.stderr.write(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
