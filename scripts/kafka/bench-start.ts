/**
 * Measures local Kafka start-to-ready time (startKafka() call until every broker answers DescribeCluster)
 * with the jars already cached, and the time stop() takes. With `--security iam`, the local MSK twin's
 * (startTwin() call until the admin role has signed in over TLS + IAM); `--security plaintext,iam` takes turns.
 *
 *   tsx scripts/kafka/bench-start.ts [--runs 5] [--brokers 1,3] [--version 3.9.2] [--port 0]
 *                                    [--no-cds] [--jvm fast|throughput] [--security plaintext,iam]
 */
import * as os from 'os';
import { parseArgs } from 'util';
import {
  defaultKafkaVersion,
  dropKafkajsTimeoutWarnings,
  ensureKafkaJars,
  ensureValidatorJar,
  FAST_START_JVM_OPTIONS,
  startKafka,
  startTwin,
  THROUGHPUT_JVM_OPTIONS,
} from 'msk-twin';

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

type Security = 'plaintext' | 'iam';

async function main(): Promise<void> {
  // Its readiness checks use kafkajs, and npm runs it on Node.js 24, which warns on kafkajs' timer.
  dropKafkajsTimeoutWarnings();
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '5' },
      brokers: { type: 'string', default: '1,3' },
      version: { type: 'string', default: defaultKafkaVersion() },
      port: { type: 'string', default: '0' },
      'no-cds': { type: 'boolean', default: false },
      jvm: { type: 'string', default: 'fast' },
      security: { type: 'string', default: 'plaintext' },
    },
  });
  const runs = Number(values.runs);
  const port = Number(values.port);
  const counts = values.brokers.split(',').map(Number);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${values.runs}`);
  if (!counts.every((n): n is 1 | 3 => n === 1 || n === 3))
    throw new Error(`--brokers must list 1 and/or 3, got ${values.brokers}`);
  if (values.jvm !== 'fast' && values.jvm !== 'throughput')
    throw new Error(`--jvm must be fast or throughput, got ${values.jvm}`);
  const jvmOptions = values.jvm === 'fast' ? FAST_START_JVM_OPTIONS : THROUGHPUT_JVM_OPTIONS;
  const cds = !values['no-cds'];
  const securities = values.security.split(',').map((value) => value.trim());
  if (!securities.every((value): value is Security => value === 'plaintext' || value === 'iam'))
    throw new Error(`--security must list plaintext and/or iam, got ${values.security}`);

  await ensureKafkaJars(values.version, (message) => console.error(message));
  if (securities.includes('iam')) await ensureValidatorJar((message) => console.error(message));
  const start = async (brokers: 1 | 3, security: Security) => {
    const options = { brokers, port, version: values.version, jvmOptions, cds };
    if (security === 'plaintext') {
      const cluster = await startKafka(options);
      return { startupMs: cluster.startupMs, stop: () => cluster.stop() };
    }
    const twin = await startTwin(options);
    return { startupMs: twin.startupMs, stop: () => twin.stop() };
  };
  console.log(
    `Apache Kafka ${values.version}, KRaft; JVM ${jvmOptions.join(' ')}; class-data sharing ${cds ? 'on' : 'off'}; ${runs} runs each` +
      `${securities.length > 1 ? `, ${securities.join(' and ')} taking turns` : ''}; ${process.platform} ${os.cpus().length} CPUs`,
  );

  for (const brokers of counts) {
    const starts = new Map<Security, number[]>(securities.map((security) => [security, []]));
    const stops = new Map<Security, number[]>(securities.map((security) => [security, []]));
    // Not counted: warms the OS page cache and, on the first run ever, writes the class-data-sharing archive.
    for (const security of securities) await (await start(brokers, security)).stop();
    // Taking turns, so that both see the same machine when other work comes and goes.
    for (let run = 0; run < runs; run++) {
      for (const security of securities) {
        const cluster = await start(brokers, security);
        starts.get(security)?.push(cluster.startupMs);
        const stopping = Date.now();
        await cluster.stop();
        stops.get(security)?.push(Date.now() - stopping);
      }
    }
    for (const security of securities) {
      const up = starts.get(security) ?? [];
      const down = stops.get(security) ?? [];
      const label = security === 'iam' ? 'MSK twin (TLS + IAM sign-in + IAM authorizer)' : 'plaintext';
      console.log(
        `${brokers} broker${brokers === 1 ? ' ' : 's'}, ${label}: start-to-ready median ${seconds(median(up))} ` +
          `(min ${seconds(Math.min(...up))}, max ${seconds(Math.max(...up))}); stop median ${seconds(median(down))}` +
          `  [runs: ${up.map(seconds).join(', ')}]`,
      );
    }
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
