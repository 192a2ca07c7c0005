/**
 * Measures local Kafka start-to-ready time (startKafka() call until every broker answers DescribeCluster)
 * with the jars already cached, and the time stop() takes. With `--security iam`, the local MSK twin's
 * (startTwin() call until the admin role has signed in over TLS + IAM).
 *
 *   tsx scripts/kafka/bench-start.ts [--runs 5] [--brokers 1,3] [--version 3.9.2] [--port 0]
 *                                    [--no-cds] [--jvm fast|throughput] [--security plaintext|iam]
 */
import * as os from 'os';
import { parseArgs } from 'util';
import {
  FAST_START_JVM_OPTIONS,
  THROUGHPUT_JVM_OPTIONS,
  defaultKafkaVersion,
  ensureKafkaJars,
  startKafka,
} from './local-kafka';
import { ensureValidatorJar } from './iam/validator';
import { startTwin } from './twin';

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

async function main(): Promise<void> {
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
  if (values.security !== 'plaintext' && values.security !== 'iam')
    throw new Error(`--security must be plaintext or iam, got ${values.security}`);
  const twin = values.security === 'iam';

  await ensureKafkaJars(values.version, (message) => console.error(message));
  if (twin) await ensureValidatorJar((message) => console.error(message));
  const start = async (brokers: 1 | 3) => {
    const options = { brokers, port, version: values.version, jvmOptions, cds };
    if (!twin) {
      const cluster = await startKafka(options);
      return { startupMs: cluster.startupMs, stop: () => cluster.stop() };
    }
    const local = await startTwin(options);
    return { startupMs: local.startupMs, stop: () => local.stop() };
  };
  console.log(
    `${twin ? 'Local MSK twin (TLS + IAM sign-in + ACLs) on ' : ''}Apache Kafka ${values.version}, KRaft; JVM ${jvmOptions.join(' ')}; class-data sharing ${cds ? 'on' : 'off'}; ${runs} runs each; ${process.platform} ${os.cpus().length} CPUs`,
  );

  for (const brokers of counts) {
    // Not counted: warms the OS page cache and, on the first run ever, writes the class-data-sharing archive.
    await (await start(brokers)).stop();
    const starts: number[] = [];
    const stops: number[] = [];
    for (let run = 0; run < runs; run++) {
      const cluster = await start(brokers);
      starts.push(cluster.startupMs);
      const stopping = Date.now();
      await cluster.stop();
      stops.push(Date.now() - stopping);
    }
    console.log(
      `${brokers} broker${brokers === 1 ? ' ' : 's'}: start-to-ready median ${seconds(median(starts))} ` +
        `(min ${seconds(Math.min(...starts))}, max ${seconds(Math.max(...starts))}); stop median ${seconds(median(stops))}` +
        `  [runs: ${starts.map(seconds).join(', ')}]`,
    );
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
