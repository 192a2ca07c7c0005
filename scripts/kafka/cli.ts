/**
 * Local Apache Kafka for the demo and the tests.
 *
 *   tsx scripts/kafka/cli.ts start [--brokers 1|3] [--port 9092 | --port 0] [--version 3.9.2] [--log-dir DIR]
 *                                  [--security plaintext|iam]
 *   tsx scripts/kafka/cli.ts stop [--port 9092 | --all]   (no option: every Kafka that `start` left running)
 *   tsx scripts/kafka/cli.ts status
 *   tsx scripts/kafka/cli.ts broker <stop|kill|pause|resume|start> <id> [--port 9092]
 *   tsx scripts/kafka/cli.ts fetch [--version 3.9.2,4.0.2,4.1.2]   (download the jars only, e.g. in CI)
 *
 * `start` uses 9092 like Kafka's own quickstart; `--port 0` takes any free ports instead. `--security iam` starts
 * the local MSK twin (TLS + IAM sign-in + IAM policy evaluation, see twin.ts) and prints its IAM listeners.
 * `start` leaves the brokers running in the background and prints the bootstrap string on stdout
 * (`export KAFKA_BROKERS=$(npx tsx scripts/kafka/cli.ts start)`); everything else goes to stderr.
 * Kafka's command-line tools (topics, produce, consume, groups) are dispatched to scripts/kafka/tools/.
 */
import * as path from 'path';
import {
  clusterStatus,
  DEFAULT_PORT,
  defaultKafkaVersion,
  dropKafkajsTimeoutWarnings,
  ensureKafkaJars,
  formatStatus,
  isOurProcess,
  kafkaCacheDir,
  listStatePorts,
  LocalKafkaCluster,
  LocalTwin,
  PortInUseError,
  startKafka,
  type StartKafkaOptions,
  startTwin,
  stopTargets,
} from 'msk-twin';
import { parseArgs } from 'util';
import { main as runTool, TOOL_NAMES, unknownTool } from './tools';

const USAGE = `usage:
  cli.ts start [--brokers 1|3] [--port N (0: any free ports)] [--version V] [--log-dir DIR] [--security plaintext|iam]
  cli.ts stop [--port N | --all]
  cli.ts topics|produce|consume|groups ...   (Kafka's first tools; cli.ts topics --help)
  cli.ts status
  cli.ts broker <stop|kill|pause|resume|start> <id> [--port N]
  cli.ts fetch [--version V[,V...]]`;

const BROKER_ACTIONS = ['stop', 'kill', 'pause', 'resume', 'start'] as const;
type BrokerAction = (typeof BROKER_ACTIONS)[number];

function info(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** The README's command to stop the Kafka on `port`. */
function stopCommand(port: number): string {
  return port === DEFAULT_PORT ? 'npm run kafka:stop' : `npm run kafka:stop -- --port ${port}`;
}

function intOption(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed)) throw new Error(`--${name} must be an integer, got "${value}"`);
  return parsed;
}

function liveBrokers(cluster: LocalKafkaCluster): string {
  return cluster.brokers
    .map((b) => {
      const alive = b.pid !== null && isOurProcess(b.pid, cluster.dir);
      const status = !alive ? 'down' : b.paused ? 'paused' : 'running';
      return `broker ${b.id} 127.0.0.1:${b.port} ${status}${alive ? ` (pid ${b.pid})` : ''}`;
    })
    .join('\n  ');
}

async function start(values: Record<string, string | boolean | undefined>): Promise<void> {
  const brokers = intOption(values.brokers as string | undefined, 'brokers', 1);
  if (brokers !== 1 && brokers !== 3) throw new Error(`--brokers must be 1 or 3, got ${brokers}`);
  const port = intOption(values.port as string | undefined, 'port', DEFAULT_PORT);
  const version = (values.version as string | undefined) ?? defaultKafkaVersion();
  const security = (values.security as string | undefined) ?? 'plaintext';
  if (security !== 'plaintext' && security !== 'iam') {
    throw new Error(`--security must be plaintext or iam, got "${security}"`);
  }

  const existing = LocalKafkaCluster.attach(port);
  if (existing?.isRunning) {
    if (existing.version !== version || existing.brokers.length !== brokers) {
      throw new Error(
        `A local Kafka ${existing.version} with ${existing.brokers.length} broker(s) is already running on port ${port}; stop it first: ${stopCommand(port)}`,
      );
    }
    info(`Kafka ${existing.version} is already running on port ${port}:\n  ${liveBrokers(existing)}`);
    process.stdout.write(`${existing.bootstrapBrokers}\n`);
    return;
  }

  info(
    `Starting Apache Kafka ${version} (KRaft, ${brokers} broker${brokers === 1 ? '' : 's'}) on ${port === 0 ? 'free ports' : `port ${port}`}...`,
  );
  const options: StartKafkaOptions = {
    brokers,
    port,
    version,
    logDir: values['log-dir'] as string | undefined,
    detached: true,
    log: info,
  };
  const twin = security === 'iam' ? await startTwin(options).catch(portTaken) : undefined;
  const cluster = twin?.cluster ?? (await startKafka(options).catch(portTaken));
  info(
    `Kafka ${cluster.version} ready in ${((twin ?? cluster).startupMs / 1000).toFixed(1)} s (start-to-ready)\n  ${liveBrokers(cluster)}\n` +
      `  logs: ${cluster.brokers.map((b) => b.logFile).join(', ')}\n  stop with: ${stopCommand(port)}`,
  );
  if (twin) info(twinSummary(twin));
  process.stdout.write(`${cluster.bootstrapBrokers}\n`);

  function portTaken(error: unknown): never {
    if (!(error instanceof PortInUseError)) throw error;
    throw new Error(
      `Port ${error.port} on 127.0.0.1 is already in use, so Kafka cannot start on port ${port}` +
        ` (${brokers} broker(s) need ${error.ports[0]}-${error.ports[error.ports.length - 1]}). ` +
        'Start it on other ports with: npm run kafka:start -- --port N (or --port 0 for any free ports); ' +
        'local Kafkas started from this repo: npm run kafka:status',
    );
  }
}

/** How clients reach a twin: its listeners, its CA, and how to sign in. */
function twinSummary(twin: LocalTwin): string {
  return [
    `  local MSK twin: IAM listener (TLS + SASL/OAUTHBEARER) ${twin.bootstrapBrokers}, region ${twin.region}`,
    `  CA certificate: ${twin.caFile} (NODE_EXTRA_CA_CERTS for Node.js; ssl.truststore.type=PEM for Java clients)`,
    `  credential registry: ${twin.registryDir}; plaintext listener (no sign-in, super user): ${twin.plaintextBrokers}`,
  ].join('\n');
}

async function stop(values: Record<string, string | boolean | undefined>): Promise<void> {
  const recorded = listStatePorts().map((port) => ({
    port,
    detached: LocalKafkaCluster.attach(port)?.detached ?? false,
  }));
  const ports = stopTargets(recorded, {
    port: values.port === undefined ? undefined : intOption(values.port as string, 'port', DEFAULT_PORT),
    all: values.all === true,
  });
  if (ports.length === 0) {
    info(
      recorded.length === 0
        ? 'No local Kafka is recorded in .kafka/'
        : `No local Kafka started by npm run kafka:start is running; others are recorded on port ${recorded.map((c) => c.port).join(', ')} (stop them with --port N or --all)`,
    );
  }
  for (const port of ports) {
    const cluster = LocalKafkaCluster.attach(port);
    if (!cluster) {
      info(`No local Kafka is recorded on port ${port}`);
      continue;
    }
    const started = Date.now();
    await cluster.stop();
    info(
      `Stopped Kafka ${cluster.version} on port ${port} in ${((Date.now() - started) / 1000).toFixed(1)} s; removed ${cluster.dir}`,
    );
  }
}

async function status(): Promise<void> {
  const ports = listStatePorts();
  if (ports.length === 0) {
    info('No local Kafka is recorded in .kafka/');
    return;
  }
  for (const port of ports) {
    const cluster = LocalKafkaCluster.attach(port);
    if (!cluster) continue;
    const twin = LocalTwin.attach(port);
    process.stdout.write(
      `${formatStatus(await clusterStatus(cluster)).join('\n')}\n` + (twin ? `${twinSummary(twin)}\n` : ''),
    );
  }
}

async function broker(positionals: string[], values: Record<string, string | boolean | undefined>): Promise<void> {
  const [action, idText] = positionals;
  if (!BROKER_ACTIONS.includes(action as BrokerAction) || idText === undefined) throw new Error(USAGE);
  const id = intOption(idText, 'id', 0);
  const port = intOption(values.port as string | undefined, 'port', DEFAULT_PORT);
  const cluster = LocalKafkaCluster.attach(port);
  if (!cluster) throw new Error(`No local Kafka is recorded on port ${port}`);
  const started = Date.now();
  await cluster[action as BrokerAction](id);
  info(`broker ${id}: ${action} done in ${((Date.now() - started) / 1000).toFixed(1)} s\n  ${liveBrokers(cluster)}`);
}

async function fetchJars(values: Record<string, string | boolean | undefined>): Promise<void> {
  const versions = ((values.version as string | undefined) ?? defaultKafkaVersion()).split(',').map((v) => v.trim());
  for (const version of versions) {
    const started = Date.now();
    const jars = (await ensureKafkaJars(version, info)).split(path.delimiter).length;
    info(
      `Kafka ${version}: ${jars} jars ready in ${((Date.now() - started) / 1000).toFixed(1)} s (classpath in ${kafkaCacheDir(version)})`,
    );
  }
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      brokers: { type: 'string' },
      port: { type: 'string' },
      version: { type: 'string' },
      'log-dir': { type: 'string' },
      security: { type: 'string' },
      all: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || command === undefined) {
    info(USAGE);
    return;
  }
  switch (command) {
    case 'start':
      return start(values);
    case 'stop':
      return stop(values);
    case 'status':
      return status();
    case 'broker':
      return broker(rest, values);
    case 'fetch':
      return fetchJars(values);
    default:
      throw new Error(`unknown command "${command}"\n${USAGE}`);
  }
}

const COMMANDS = ['start', 'stop', 'status', 'broker', 'fetch'];

// The readiness checks use kafkajs, and npm runs this on Node.js 24, which warns on kafkajs' timer.
dropKafkajsTimeoutWarnings();
const argv = process.argv.slice(2);
const [first = ''] = argv;
const run = TOOL_NAMES.includes(first)
  ? runTool(argv)
  : first && !first.startsWith('-') && !COMMANDS.includes(first)
    ? Promise.resolve(info(unknownTool(first, [...TOOL_NAMES, ...COMMANDS]))).then(() => 1)
    : main(argv).then(() => 0);
run.then(
  // kafkajs can leave timers behind; the brokers of `start` are detached and do not depend on this process.
  (code) => process.exit(code),
  (error: unknown) => {
    info(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
