/**
 * A real local Apache Kafka (KRaft, combined broker+controller nodes) for the demo, the integration tests
 * and the benchmarks. The broker jars come from Maven Central (pom.xml beside this file), cached per version.
 *
 * Every cluster lives in a fresh temp dir and records the PIDs it starts in `<repo>/.kafka/state-<port>.json`,
 * so another process (the CLI's `stop`) can end exactly those processes: a PID is signalled only while its
 * command line still contains the cluster's temp dir.
 */
import { spawn, spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Kafka, logLevel } from 'kafkajs';
import { MavenProgress, runMaven } from './maven-progress';
import { freePorts, isBindFailure, portFree } from './ports';

/** The Kafka version started when none is given (override with env LOCAL_KAFKA_VERSION); keep it equal to the MSK default. */
export const DEFAULT_KAFKA_VERSION = '3.9.2';
export const DEFAULT_PORT = 9092;
/** Where running brokers are recorded (ports, PIDs, directories): MSK_TWIN_STATE_DIR, else `.kafka` in the working directory. */
export const STATE_DIR = path.resolve(process.env.MSK_TWIN_STATE_DIR || '.kafka');

/** Small heap; three brokers must fit beside jest on a 2-core CI runner. */
export const DEFAULT_HEAP_OPTIONS: readonly string[] = ['-Xmx384m', '-Xms128m'];
/** Measured on 2 cores: start-to-ready about 20% shorter than with G1 and C2, which cost more than they save here. */
export const FAST_START_JVM_OPTIONS: readonly string[] = [
  ...DEFAULT_HEAP_OPTIONS,
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
];
/** What Kafka's own start scripts use; for benchmarks, where peak throughput matters more than start time. */
export const THROUGHPUT_JVM_OPTIONS: readonly string[] = [
  ...DEFAULT_HEAP_OPTIONS,
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:InitiatingHeapOccupancyPercent=35',
  '-XX:+ExplicitGCInvokesConcurrent',
];

const JAVA_MISSING = 'Java 17+ is required to run the local Kafka broker: apt-get install openjdk-17-jre-headless';
const MAVEN_MISSING = 'Maven is required to download the Kafka broker jars from Maven Central: apt-get install maven';
const POM = path.join(__dirname, 'pom.xml');
const TEMP_PREFIX = 'hello-msk-kafka-';
const ANSI_ESCAPES = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
const STATE_KIND = 'hello-msk-local-kafka';
/** Starts on freshly chosen free ports before giving up, when another process takes one of them first. */
const BIND_ATTEMPTS = 3;

/** Nodes of a local cluster: 1 to MAX_LOCAL_BROKERS. */
export type BrokerCount = number;
/** Most nodes a local cluster runs: each is a JVM on one small machine. */
export const MAX_LOCAL_BROKERS = 6;

/**
 * The nodes that also run a KRaft controller: the first three, or the first alone below three nodes (two voters
 * would lose their quorum with either). The others are brokers only, as MSK's brokers are beside its controllers.
 */
export function controllerIds(brokers: number): number[] {
  return Array.from({ length: brokers >= 3 ? 3 : 1 }, (_, i) => i + 1);
}

/** A fixed port that a cluster needs is taken (by anything: another Kafka, another program). */
export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    readonly firstPort: number,
    readonly ports: readonly number[],
  ) {
    super(
      `Port ${port} on 127.0.0.1 is already in use (Kafka on port ${firstPort} needs ${ports[0]}-${ports[ports.length - 1]}); ` +
        'local Kafkas started from this repo: npm run kafka:status',
    );
    this.name = 'PortInUseError';
  }
}
export type Logger = (message: string) => void;

/** The plaintext listener every broker keeps for broker-to-broker traffic (and for raw access when clients sign in). */
export const INTERNAL_LISTENER = 'INTERNAL';

/**
 * A client listener that needs TLS and sign-in (the local MSK twin's IAM listener), defined by the caller. With one,
 * each broker listens on three ports: this listener (the bootstrap brokers), a plaintext INTERNAL listener
 * (broker-to-broker traffic and `internalBrokers`), and its KRaft controller.
 */
export interface SecureListener {
  /** Listener name, e.g. IAM (upper case; server properties name it `listener.name.iam.`). */
  readonly name: string;
  readonly protocol: ListenerProtocol;
  /** server.properties entries for every broker: the listener's TLS and SASL settings, the authorizer. */
  readonly brokerConfig: Readonly<Record<string, string>>;
  /** Jars added to the broker classpath (e.g. a SASL callback handler). */
  readonly classpath: readonly string[];
  /** Directories the caller made for this cluster (certificates, credentials): removed when the cluster stops. */
  readonly ownedDirs: readonly string[];
  /**
   * More client listeners, each on a port of its own per broker (after the controllers' ports); their settings go
   * in `brokerConfig`. @default none
   */
  readonly more?: readonly { readonly name: string; readonly protocol: ListenerProtocol }[];
}

export type ListenerProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_SSL';

export interface StartKafkaOptions {
  /** Number of nodes, each a combined broker and KRaft controller. @default 1 */
  readonly brokers?: BrokerCount;
  /**
   * Client port of broker 1; broker `id` listens on `port + id - 1` and its controller on `port + brokers + id - 1`
   * (with a secureListener: its internal listener there, its controller on `port + 2 * brokers + id - 1`, and the
   * j-th of `secureListener.more` on `port + (3 + j) * brokers + id - 1`).
   * 0 lets the OS choose a free port for every listener (read them from `bootstrapBrokers` and `brokers`).
   * @default 0
   */
  readonly port?: number;
  /** Apache Kafka version, as published on Maven Central. @default env LOCAL_KAFKA_VERSION or DEFAULT_KAFKA_VERSION */
  readonly version?: string;
  /** Directory that receives the broker logs and keeps them after stop (CI artifacts). @default inside the temp dir, removed on stop */
  readonly logDir?: string;
  /** JVM options, heap included. @default FAST_START_JVM_OPTIONS */
  readonly jvmOptions?: readonly string[];
  /** Reuse (and on first clean stop create) a class-data-sharing archive of the broker classes: start-to-ready ~30% shorter. @default true */
  readonly cds?: boolean;
  /** Extra or overriding `server.properties` entries, applied to every broker (after secureListener's). @default none */
  readonly brokerConfig?: Readonly<Record<string, string>>;
  /** A TLS/SASL client listener in place of the plaintext one (see SecureListener). @default plaintext clients */
  readonly secureListener?: SecureListener;
  /** How long to wait for all brokers to answer a metadata request. @default 60000 */
  readonly readyTimeoutMs?: number;
  /** How long a stopping broker gets after SIGTERM before SIGKILL. @default 15000 */
  readonly stopTimeoutMs?: number;
  /** Leave the brokers running after this process exits (the CLI's `start`). @default false */
  readonly detached?: boolean;
  /** Progress messages (Maven download, orphan clean-up). @default silent */
  readonly log?: Logger;
}

export interface BrokerInfo {
  readonly id: number;
  /** The client port: the secure listener's when there is one, else the plaintext one. */
  readonly port: number;
  /** The plaintext port (the same as `port` without a secure listener). */
  readonly internalPort: number;
  readonly controllerPort: number;
  /** null while the broker is stopped or killed. */
  readonly pid: number | null;
  readonly paused: boolean;
  /** The broker's log4j output. */
  readonly logFile: string;
}

/** A Kafka to connect to: one this code started, or an existing one named by KAFKA_BROKERS. */
export interface KafkaEndpoint {
  /** Comma-separated host:port list, e.g. "127.0.0.1:9092". */
  readonly bootstrapBrokers: string;
  /** true for brokers this code started (`stop()` ends them); false for an existing broker named by KAFKA_BROKERS. */
  readonly started: boolean;
  stop(): Promise<void>;
}

interface BrokerState {
  id: number;
  port: number;
  internalPort: number;
  controllerPort: number;
  /** Ports of the further client listeners, by name. */
  morePorts?: Record<string, number>;
  pid: number | null;
  paused: boolean;
  brokerDir: string;
  configFile: string;
  logFile: string;
  stdoutFile: string;
  /** Where this broker's JVM writes a CDS archive on a clean exit, until it is copied into the cache. */
  cdsDump: string | null;
}

interface ClusterState {
  kind: typeof STATE_KIND;
  version: string;
  port: number;
  dir: string;
  logDir: string | null;
  clusterId: string;
  bootstrapBrokers: string;
  /** The plaintext listeners' host:port list (the same as bootstrapBrokers without a secure listener). */
  internalBrokers: string;
  /** The secure listener's name and protocol, or null for plaintext clients. */
  secureListener: { name: string; protocol: string } | null;
  /** The secure listener's further client listeners, with their host:port lists. */
  moreListeners?: { name: string; protocol: string; brokers: string }[];
  /** Directories removed with the cluster, besides `dir`. */
  ownedDirs: string[];
  detached: boolean;
  /** The process whose exit ends the cluster; null when detached. */
  ownerPid: number | null;
  startedAt: string;
  java: string;
  jvmOptions: string[];
  classpath: string;
  logConfigFile: string;
  cdsArchive: string | null;
  stopTimeoutMs: number;
  brokers: BrokerState[];
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function defaultKafkaVersion(): string {
  return process.env.LOCAL_KAFKA_VERSION || DEFAULT_KAFKA_VERSION;
}

function majorOf(version: string): number {
  return Number(version.split('.')[0]);
}

function assertVersion(version: string): void {
  if (!/^\d+\.\d+\.\d+$/.test(version)) {
    throw new Error(`Kafka version "${version}" is not a release number like 3.9.2`);
  }
}

/** ~/.cache/msk-twin: what Maven runs produce (classpaths, archives, built jars), per user, outside the project. */
export function cacheRoot(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'msk-twin');
}

/** ~/.cache/msk-twin/kafka-<version>: the classpath and CDS archive (the jars themselves stay in ~/.m2). */
export function kafkaCacheDir(version: string): string {
  return path.join(cacheRoot(), `kafka-${version}`);
}

interface JavaInfo {
  readonly bin: string;
  readonly major: number;
  readonly versionText: string;
}

let javaInfo: JavaInfo | undefined;

/** Finds Java 17+ (JAVA_HOME first, then PATH) or throws a one-line error saying what to install. */
export function requireJava(): JavaInfo {
  if (javaInfo) return javaInfo;
  const bin = process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
  const result = spawnSync(bin, ['-version'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) throw new Error(JAVA_MISSING);
  const versionText = `${result.stderr}${result.stdout}`.trim();
  const match = /version "(\d+)(?:\.(\d+))?/.exec(versionText);
  const major = match ? (match[1] === '1' ? Number(match[2]) : Number(match[1])) : 0;
  if (major < 17) throw new Error(`${JAVA_MISSING} (found: ${versionText.split('\n')[0]})`);
  javaInfo = { bin, major, versionText };
  return javaInfo;
}

export function requireMaven(): void {
  const result = spawnSync('mvn', ['-v'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) throw new Error(MAVEN_MISSING);
}

/** The first [ERROR] line of a failed Maven run, without colours, for a one-line message. */
export function mavenFailure(output: string): string {
  const clean = output.replace(ANSI_ESCAPES, '');
  const firstError = clean.split('\n').find((line) => line.includes('[ERROR]')) ?? clean.trim();
  return firstError.replace('[ERROR] ', '').slice(0, 400);
}

/** A classpath file written by `mvn dependency:build-classpath`, if every jar it names is still there. */
export function readCachedClasspath(file: string): string | undefined {
  if (!fs.existsSync(file)) return undefined;
  const classpath = fs.readFileSync(file, 'utf8').trim();
  const jars = classpath.split(path.delimiter);
  // A CI cache may keep ~/.cache but not ~/.m2: only trust the file when every jar is still there.
  return jars.length > 0 && jars.every((jar) => fs.existsSync(jar)) ? classpath : undefined;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A mkdir lock, so parallel jest workers do not run Maven into the same ~/.m2 at once. */
export async function withLock<T>(lockDir: string, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      fs.writeFileSync(path.join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileOr(path.join(lockDir, 'pid'), ''));
      if (owner > 0 && !pidAlive(owner)) {
        fs.rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`Timed out waiting for the lock ${lockDir} (held by pid ${owner})`);
      await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}

function readFileOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

export interface RunResult {
  readonly code: number | null;
  readonly output: string;
}

/** Runs a command to its end, collecting stdout and stderr together. */
export function run(command: string, args: readonly string[], cwd?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/**
 * What Maven downloads for the jars of a Kafka major into an empty local repository, its plugins included
 * (measured for 3.9.2, 4.0.2 and 4.1.2: docs/twin.md).
 */
export function kafkaDownloadMb(version: string): number {
  return majorOf(version) >= 4 ? 65 : 68;
}

/**
 * Returns the classpath of Kafka `version` (broker, StorageTool, perf tools, logging backend).
 * Runs Maven on first use per version, then reads the cached classpath file.
 */
export async function ensureKafkaJars(version: string = defaultKafkaVersion(), log?: Logger): Promise<string> {
  assertVersion(version);
  requireJava();
  const cacheDir = kafkaCacheDir(version);
  return resolveMavenClasspath({
    pom: POM,
    cacheDir,
    what: `Apache Kafka ${version}`,
    properties: { 'kafka.version': version, 'kafka.logging': majorOf(version) >= 4 ? 'log4j2' : 'reload4j' },
    fetching: `Fetching Apache Kafka ${version} jars from Maven Central`,
    aboutMb: kafkaDownloadMb(version),
    log,
  });
}

export interface MavenClasspath {
  /** The pom whose dependencies make the classpath. */
  readonly pom: string;
  /** Where the classpath file and its lock live. */
  readonly cacheDir: string;
  /** What is resolved, for the error: "Maven could not resolve <what>: …". */
  readonly what: string;
  /** `-D` properties for the pom. */
  readonly properties?: Readonly<Record<string, string>>;
  /** The line logged when Maven starts downloading (nothing is logged when everything is in ~/.m2 already). */
  readonly fetching: string;
  /** What Maven downloads into an empty local repository, in MB. @default not said */
  readonly aboutMb?: number;
  /** Download progress: what, how big, bytes so far, done. @default silent */
  readonly log?: Logger;
}

/**
 * The classpath of a pom's dependencies, from `<cacheDir>/classpath.txt` while every jar it names is there, else
 * resolved by Maven once: under a lock, so that concurrent callers (jest workers) download once, and written
 * through a temporary file, so that a failed run leaves no half classpath behind.
 */
export async function resolveMavenClasspath(spec: MavenClasspath): Promise<string> {
  const classpathFile = path.join(spec.cacheDir, 'classpath.txt');
  const cached = readCachedClasspath(classpathFile);
  if (cached) return cached;
  requireJava();
  requireMaven();
  fs.mkdirSync(spec.cacheDir, { recursive: true });
  return withLock(path.join(spec.cacheDir, '.lock'), async () => {
    const again = readCachedClasspath(classpathFile);
    if (again) return again;
    const tmpFile = `${classpathFile}.${process.pid}.tmp`;
    const properties = Object.entries(spec.properties ?? {}).map(([key, value]) => `-D${key}=${value}`);
    const progress = new MavenProgress(spec.log, { fetching: spec.fetching, aboutMb: spec.aboutMb });
    const result = await runMaven(
      ['-f', spec.pom, 'dependency:build-classpath', ...properties, `-Dmdep.outputFile=${tmpFile}`],
      progress,
    );
    if (result.code !== 0 || !fs.existsSync(tmpFile)) {
      fs.rmSync(tmpFile, { force: true });
      throw new Error(`Maven could not resolve ${spec.what}: ${mavenFailure(result.output)}`);
    }
    fs.renameSync(tmpFile, classpathFile);
    return fs.readFileSync(classpathFile, 'utf8').trim();
  });
}

/** The command line of a process, or null if it is gone (or a zombie). */
export function processCommandLine(pid: number): string | null {
  if (process.platform === 'linux') {
    const raw = readFileOr(`/proc/${pid}/cmdline`, '');
    return raw ? raw.split('\0').join(' ').trim() : null;
  }
  const result = spawnSync('ps', ['-p', String(pid), '-o', 'command='], { encoding: 'utf8' });
  return result.status === 0 && result.stdout.trim() ? result.stdout.trim() : null;
}

/** true while `pid` is still a process whose command line names `dir`: the only PIDs this code ever signals. */
export function isOurProcess(pid: number, dir: string): boolean {
  return processCommandLine(pid)?.includes(dir) ?? false;
}

/** PIDs of live processes whose command line contains `dir` (Linux only; used by tests to prove clean-up). */
export function pidsUsing(dir: string): number[] {
  if (process.platform !== 'linux') return [];
  return fs
    .readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => pid !== process.pid && isOurProcess(pid, dir));
}

function signal(pid: number, dir: string, name: NodeJS.Signals): boolean {
  if (!isOurProcess(pid, dir)) return false;
  try {
    process.kill(pid, name);
    return true;
  } catch {
    return false;
  }
}

/**
 * A dying JVM's leader thread can exit (emptying its cmdline) while other threads still hold its sockets:
 * on Linux, a zombie leader with threads left is still exiting.
 */
function stillExiting(pid: number): boolean {
  if (process.platform !== 'linux') return false;
  if (!/^State:\s+Z/m.test(readFileOr(`/proc/${pid}/status`, ''))) return false;
  try {
    return fs.readdirSync(`/proc/${pid}/task`).length > 1;
  } catch {
    return false;
  }
}

async function waitGone(pid: number, dir: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isOurProcess(pid, dir) || stillExiting(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

export function tailFile(file: string, lines: number): string {
  return readFileOr(file, '').trimEnd().split('\n').slice(-lines).join('\n');
}

/** A Kafka cluster id: 16 random bytes in base64url; like Kafka's Uuid.randomUuid, never starting with '-'. */
function newClusterId(): string {
  for (;;) {
    const id = crypto.randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

export interface WaitForKafkaOptions {
  /** Ready when at least this many brokers are registered and unfenced. @default 1 */
  readonly brokers?: number;
  /** Ready only when these node ids are all registered. @default any */
  readonly brokerIds?: readonly number[];
  /** Reject a broker of another cluster answering on our port. @default any */
  readonly clusterId?: string;
  /** @default 60000 */
  readonly timeoutMs?: number;
  /** Called between attempts; a returned message aborts the wait (e.g. the broker process exited). */
  readonly abort?: () => string | undefined;
}

export interface ClusterDescription {
  readonly clusterId: string;
  readonly brokerIds: number[];
  readonly controllerId: number | null;
  readonly waitedMs: number;
}

/** Waits until Kafka answers a real metadata request (DescribeCluster via kafkajs) showing the expected brokers. */
export async function waitForKafka(
  bootstrapBrokers: string,
  options: WaitForKafkaOptions = {},
): Promise<ClusterDescription> {
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? 60_000;
  const wanted = options.brokers ?? 1;
  let last = 'no answer yet';
  for (;;) {
    const abort = options.abort?.();
    if (abort) throw new Error(abort);
    const admin = new Kafka({
      clientId: 'hello-msk-readiness',
      brokers: bootstrapBrokers.split(','),
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1000,
      requestTimeout: 3000,
      retry: { retries: 0 },
    }).admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      const ids = cluster.brokers.map((broker) => broker.nodeId).sort((a, b) => a - b);
      if (options.clusterId && cluster.clusterId !== options.clusterId) {
        last = `a broker of another cluster (${cluster.clusterId}) answered`;
      } else if (ids.length >= wanted && (options.brokerIds ?? []).every((id) => ids.includes(id))) {
        return {
          clusterId: cluster.clusterId,
          brokerIds: ids,
          controllerId: cluster.controller,
          waitedMs: Date.now() - started,
        };
      } else {
        last = `brokers registered: [${ids.join(', ')}]`;
      }
    } catch (error) {
      last = (error as Error).message;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    if (Date.now() - started > timeoutMs) {
      throw new Error(`Kafka at ${bootstrapBrokers} was not ready after ${timeoutMs / 1000} s (${last})`);
    }
    await sleep(100);
  }
}

/** `<repo>/.kafka/state-<port>.json`: the PIDs and temp dir of the cluster started on `port`. */
export function statePath(port: number): string {
  return path.join(STATE_DIR, `state-${port}.json`);
}

function writeState(state: ClusterState): void {
  fs.mkdirSync(STATE_DIR, { recursive: true });
  const file = statePath(state.port);
  fs.writeFileSync(`${file}.${process.pid}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  fs.renameSync(`${file}.${process.pid}.tmp`, file);
}

function readState(port: number): ClusterState | undefined {
  const text = readFileOr(statePath(port), '');
  if (!text) return undefined;
  const parsed = JSON.parse(text) as Partial<ClusterState>;
  return parsed.kind === STATE_KIND ? (parsed as ClusterState) : undefined;
}

/** Ports of every cluster that has a state file in <repo>/.kafka. */
export function listStatePorts(): number[] {
  if (!fs.existsSync(STATE_DIR)) return [];
  return fs
    .readdirSync(STATE_DIR)
    .map((name) => /^state-(\d+)\.json$/.exec(name))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => Number(match[1]))
    .sort((a, b) => a - b);
}

/** A broker's id and ports: the client listener's, INTERNAL's, the controller's and any more listeners'. */
interface BrokerPorts {
  id: number;
  port: number;
  internalPort: number;
  controllerPort: number;
  morePorts?: Record<string, number>;
}

function listenerProperties(
  broker: BrokerPorts,
  secure: SecureListener | undefined,
  controller: boolean,
): Record<string, string> {
  const controllerListener = controller ? `,CONTROLLER://127.0.0.1:${broker.controllerPort}` : '';
  if (!secure) {
    return {
      listeners: `PLAINTEXT://127.0.0.1:${broker.port}${controllerListener}`,
      'advertised.listeners': `PLAINTEXT://127.0.0.1:${broker.port}`,
      'inter.broker.listener.name': 'PLAINTEXT',
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    };
  }
  const clients = [
    `${secure.name}://127.0.0.1:${broker.port}`,
    ...(secure.more ?? []).map((l) => `${l.name}://127.0.0.1:${broker.morePorts?.[l.name]}`),
  ];
  const internal = `${INTERNAL_LISTENER}://127.0.0.1:${broker.internalPort}`;
  const protocols = [secure, ...(secure.more ?? [])].map((l) => `${l.name}:${l.protocol}`);
  return {
    listeners: `${clients.join(',')},${internal}${controllerListener}`,
    'advertised.listeners': `${clients.join(',')},${internal}`,
    'inter.broker.listener.name': INTERNAL_LISTENER,
    'listener.security.protocol.map': `${protocols.join(',')},${INTERNAL_LISTENER}:PLAINTEXT,CONTROLLER:PLAINTEXT`,
  };
}

function serverProperties(
  broker: BrokerPorts & { dataDir: string },
  all: ReadonlyArray<{ id: number; controllerPort: number }>,
  version: string,
  secure: SecureListener | undefined,
  extra: Readonly<Record<string, string>>,
): string {
  const n = all.length;
  const rf = String(Math.min(3, n));
  const minIsr = n >= 3 ? '2' : '1';
  const voters = controllerIds(n);
  const controller = voters.includes(broker.id);
  const props: Record<string, string> = {
    'process.roles': controller ? 'broker,controller' : 'broker',
    'node.id': String(broker.id),
    'controller.quorum.voters': all
      .filter((b) => voters.includes(b.id))
      .map((b) => `${b.id}@127.0.0.1:${b.controllerPort}`)
      .join(','),
    ...listenerProperties(broker, secure, controller),
    'controller.listener.names': 'CONTROLLER',
    'log.dirs': broker.dataDir,
    // Test-friendly: no 3 s wait before a new group's first rebalance, and no topics created by accident.
    'group.initial.rebalance.delay.ms': '0',
    'auto.create.topics.enable': 'false',
    'num.partitions': '1',
    'default.replication.factor': rf,
    'min.insync.replicas': minIsr,
    'offsets.topic.replication.factor': rf,
    // One partition each: the internal topics appear in well under a second instead of creating 50 partitions.
    'offsets.topic.num.partitions': '1',
    'transaction.state.log.replication.factor': rf,
    'transaction.state.log.min.isr': minIsr,
    'transaction.state.log.num.partitions': '1',
    'unclean.leader.election.enable': 'false',
    // A killed broker is fenced (and leaves the ISR) after 6 s instead of 9 s.
    'broker.heartbeat.interval.ms': '1000',
    'broker.session.timeout.ms': '6000',
    'replica.lag.time.max.ms': '10000',
    'num.network.threads': '2',
    'num.io.threads': '4',
    'log.retention.check.interval.ms': '60000',
  };
  if (majorOf(version) >= 4) {
    props['share.coordinator.state.topic.replication.factor'] = rf;
    props['share.coordinator.state.topic.min.isr'] = minIsr;
  }
  Object.assign(props, secure?.brokerConfig ?? {}, extra);
  return `${Object.entries(props)
    .map(([key, value]) => `${key}=${value}`)
    .join('\n')}\n`;
}

function logConfig(version: string): { fileName: string; text: string } {
  if (majorOf(version) >= 4) {
    return {
      fileName: 'log4j2.properties',
      text: [
        'status = warn',
        'appender.file.type = File',
        'appender.file.name = file',
        'appender.file.fileName = ${sys:kafka.log.file}',
        'appender.file.append = true',
        'appender.file.layout.type = PatternLayout',
        'appender.file.layout.pattern = [%d] %p %m (%c)%n',
        'rootLogger.level = INFO',
        'rootLogger.appenderRef.file.ref = file',
        'logger.request.name = kafka.request.logger',
        'logger.request.level = WARN',
        '',
      ].join('\n'),
    };
  }
  return {
    fileName: 'log4j.properties',
    text: [
      'log4j.rootLogger=INFO, file',
      'log4j.appender.file=org.apache.log4j.FileAppender',
      'log4j.appender.file.File=${kafka.log.file}',
      'log4j.appender.file.Append=true',
      'log4j.appender.file.layout=org.apache.log4j.PatternLayout',
      'log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n',
      'log4j.logger.kafka.request.logger=WARN',
      '',
    ].join('\n'),
  };
}

function logArgs(state: ClusterState, logFile: string): string[] {
  const config =
    majorOf(state.version) >= 4
      ? `-Dlog4j2.configurationFile=${state.logConfigFile}`
      : `-Dlog4j.configuration=file:${state.logConfigFile}`;
  return [config, `-Dkafka.log.file=${logFile}`, '-Djava.awt.headless=true'];
}

function cdsArchivePath(version: string, classpath: string, java: JavaInfo): string {
  const key = crypto.createHash('sha256').update(`${java.versionText}\n${classpath}`).digest('hex').slice(0, 12);
  return path.join(kafkaCacheDir(version), `broker-${key}.jsa`);
}

function cdsArgs(state: ClusterState, broker: BrokerState | undefined): string[] {
  if (!state.cdsArchive) return [];
  if (fs.existsSync(state.cdsArchive))
    return [`-XX:SharedArchiveFile=${state.cdsArchive}`, '-Xlog:cds=off', '-Xlog:cds+dynamic=off'];
  if (broker && broker.id === 1) {
    broker.cdsDump = path.join(broker.brokerDir, 'classes.jsa');
    return [`-XX:ArchiveClassesAtExit=${broker.cdsDump}`, '-Xlog:cds=off', '-Xlog:cds+dynamic=off'];
  }
  return [];
}

/** Formats one broker's log dir for KRaft (kafka-storage.sh format). */
async function formatStorage(state: ClusterState, broker: BrokerState): Promise<void> {
  const result = await run(
    state.java,
    [
      ...state.jvmOptions,
      ...cdsArgs(state, undefined),
      ...logArgs(state, path.join(broker.brokerDir, 'format.log')),
      '-cp',
      state.classpath,
      'kafka.tools.StorageTool',
      'format',
      `--cluster-id=${state.clusterId}`,
      `--config=${broker.configFile}`,
    ],
    broker.brokerDir,
  );
  if (result.code !== 0) {
    const reason = result.output.split('\n').find((line) => /^\S*(Exception|Error)\b/.test(line));
    throw new Error(
      `Formatting the KRaft log dir of broker ${broker.id} failed (exit ${result.code}): ${reason ?? result.output.trim().slice(-600)}`,
    );
  }
}

function spawnBroker(state: ClusterState, broker: BrokerState): number {
  const out = fs.openSync(broker.stdoutFile, 'a');
  try {
    const child = spawn(
      state.java,
      [
        ...state.jvmOptions,
        ...cdsArgs(state, broker),
        ...logArgs(state, broker.logFile),
        '-cp',
        state.classpath,
        'kafka.Kafka',
        broker.configFile,
      ],
      { cwd: broker.brokerDir, detached: state.detached, stdio: ['ignore', out, out] },
    );
    // Errors surface through the readiness check (the process is gone); without a listener they would crash node.
    child.on('error', () => undefined);
    child.unref();
    if (child.pid === undefined) throw new Error(`Could not start broker ${broker.id} with ${state.java}`);
    broker.pid = child.pid;
    broker.paused = false;
    return child.pid;
  } finally {
    fs.closeSync(out);
  }
}

/** Brokers that exited during startup, for the readiness check; names a port a broker could not bind. */
function deadBrokerMessage(state: ClusterState, ids: readonly number[]): string | undefined {
  const dead = state.brokers.filter((b) => ids.includes(b.id) && (b.pid === null || !isOurProcess(b.pid, state.dir)));
  if (dead.length === 0) return undefined;
  const bindFailure = dead
    .flatMap((b) => `${readFileOr(b.logFile, '')}\n${readFileOr(b.stdoutFile, '')}`.split('\n'))
    .find((line) => isBindFailure(line));
  const reason = bindFailure ? ` (${bindFailure.replace(/^.*?(Socket server failed)/, '$1').trim()})` : '';
  return `Kafka ${state.version} broker ${dead.map((b) => b.id).join(', ')} exited during startup${reason}`;
}

function logTails(state: ClusterState, ids: readonly number[], lines = 25): string {
  return state.brokers
    .filter((b) => ids.includes(b.id))
    .map((b) => {
      const stdout = tailFile(b.stdoutFile, 10);
      return [
        `--- broker ${b.id} log (${b.logFile}), last ${lines} lines:`,
        tailFile(b.logFile, lines),
        ...(stdout ? [`--- broker ${b.id} stdout:`, stdout] : []),
      ].join('\n');
    })
    .join('\n');
}

export class LocalKafkaCluster implements KafkaEndpoint {
  readonly started = true;
  private stopped = false;
  private startupTime = 0;
  private readonly onExit = (): void => this.killNow();

  /** @param owner true for the process that launched the brokers without `detached`: its exit ends them. */
  private constructor(
    private readonly state: ClusterState,
    private readonly owner: boolean,
  ) {}

  /** Attaches to a cluster started by another process (e.g. the CLI), from its state file. */
  static attach(port: number = DEFAULT_PORT): LocalKafkaCluster | undefined {
    const state = readState(port);
    return state ? new LocalKafkaCluster(state, false) : undefined;
  }

  /** @internal use startKafka() */
  static async launch(options: StartKafkaOptions): Promise<LocalKafkaCluster> {
    const n = options.brokers ?? 1;
    const version = options.version ?? defaultKafkaVersion();
    if (!Number.isInteger(n) || n < 1 || n > MAX_LOCAL_BROKERS) {
      throw new Error(`brokers must be a whole number from 1 to ${MAX_LOCAL_BROKERS}, got ${String(n)}`);
    }
    assertVersion(version);
    const fixed = options.port !== undefined && options.port !== 0;
    const perBroker = options.secureListener ? 3 + (options.secureListener.more?.length ?? 0) : 2;
    if (!fixed) {
      // Free ports can be taken by another process between the choice and the broker's bind: choose again.
      for (let attempt = 1; ; attempt++) {
        const ports = await freePorts(perBroker * n);
        try {
          await reclaimStale(ports[0], options.log);
          return await LocalKafkaCluster.launchOn(ports, options);
        } catch (error) {
          if (attempt >= BIND_ATTEMPTS || !isBindFailure((error as Error).message)) throw error;
          options.log?.(`A chosen port was taken before the broker could bind it; choosing new ports`);
        }
      }
    }
    const port = options.port;
    if (!Number.isInteger(port) || port < 1024 || port + perBroker * n > 65535) {
      throw new Error(
        `port must be 0 (any free port) or an integer from 1024 to ${65535 - perBroker * n}, got ${port}`,
      );
    }
    await reclaimStale(port, options.log);
    const ports = Array.from({ length: perBroker * n }, (_, i) => port + i);
    for (const p of ports) {
      if (!(await portFree(p))) throw new PortInUseError(p, port, ports);
    }
    return LocalKafkaCluster.launchOn(ports, options);
  }

  /** Starts `brokers` nodes: client ports first (one per broker), then internal ports (if any), then controllers. */
  private static async launchOn(ports: readonly number[], options: StartKafkaOptions): Promise<LocalKafkaCluster> {
    const started = Date.now();
    const n = options.brokers ?? 1;
    const version = options.version ?? defaultKafkaVersion();
    const port = ports[0];
    const resolving = Date.now();
    const classpath = await ensureKafkaJars(version, options.log);
    const resolveMs = Date.now() - resolving;
    const java = requireJava();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${TEMP_PREFIX}${port}-`));
    const logDir = options.logDir ? path.resolve(options.logDir) : null;
    if (logDir) fs.mkdirSync(logDir, { recursive: true });
    const logConf = logConfig(version);
    fs.writeFileSync(path.join(dir, logConf.fileName), logConf.text);

    const secure = options.secureListener;
    const nodes = Array.from({ length: n }, (_, i) => ({
      id: i + 1,
      port: ports[i],
      internalPort: secure ? ports[n + i] : ports[i],
      controllerPort: secure ? ports[2 * n + i] : ports[n + i],
      morePorts: Object.fromEntries((secure?.more ?? []).map((l, j) => [l.name, ports[(3 + j) * n + i]])),
    }));
    const brokers: BrokerState[] = nodes.map((node) => {
      const brokerDir = path.join(dir, `broker-${node.id}`);
      fs.mkdirSync(brokerDir);
      const configFile = path.join(brokerDir, 'server.properties');
      const dataDir = path.join(brokerDir, 'data');
      fs.writeFileSync(
        configFile,
        serverProperties({ ...node, dataDir }, nodes, version, secure, options.brokerConfig ?? {}),
      );
      return {
        ...node,
        pid: null,
        paused: false,
        brokerDir,
        configFile,
        logFile: logDir ? path.join(logDir, `kafka-${node.port}.log`) : path.join(brokerDir, 'server.log'),
        stdoutFile: logDir ? path.join(logDir, `kafka-${node.port}.stdout.log`) : path.join(brokerDir, 'stdout.log'),
        cdsDump: null,
      };
    });
    const state: ClusterState = {
      kind: STATE_KIND,
      version,
      port,
      dir,
      logDir,
      clusterId: newClusterId(),
      bootstrapBrokers: nodes.map((node) => `127.0.0.1:${node.port}`).join(','),
      internalBrokers: nodes.map((node) => `127.0.0.1:${node.internalPort}`).join(','),
      secureListener: secure ? { name: secure.name, protocol: secure.protocol } : null,
      moreListeners: (secure?.more ?? []).map((l) => ({
        name: l.name,
        protocol: l.protocol,
        brokers: nodes.map((node) => `127.0.0.1:${node.morePorts[l.name]}`).join(','),
      })),
      ownedDirs: [...(secure?.ownedDirs ?? [])],
      detached: options.detached ?? false,
      ownerPid: options.detached ? null : process.pid,
      startedAt: new Date().toISOString(),
      java: java.bin,
      jvmOptions: [...(options.jvmOptions ?? FAST_START_JVM_OPTIONS)],
      classpath: [classpath, ...(secure?.classpath ?? [])].join(path.delimiter),
      logConfigFile: path.join(dir, logConf.fileName),
      cdsArchive:
        options.cds === false
          ? null
          : cdsArchivePath(version, [classpath, ...(secure?.classpath ?? [])].join(path.delimiter), java),
      stopTimeoutMs: options.stopTimeoutMs ?? 15_000,
      brokers,
    };
    writeState(state);
    const cluster = new LocalKafkaCluster(state, !state.detached);
    if (cluster.owner) process.on('exit', cluster.onExit);
    try {
      // allSettled: clean-up must not race the other brokers' StorageTool JVMs still writing into the dir.
      const formatted = await Promise.allSettled(brokers.map((broker) => formatStorage(state, broker)));
      const failed = formatted.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (failed) throw failed.reason;
      for (const broker of brokers) spawnBroker(state, broker);
      writeState(state);
      await cluster.waitReady(
        brokers.map((b) => b.id),
        options.readyTimeoutMs ?? 60_000,
      );
    } catch (error) {
      await cluster.stop().catch(() => undefined);
      throw error;
    }
    cluster.startupTime = Date.now() - started - resolveMs;
    return cluster;
  }

  /** Start-to-ready: from the startKafka call until every broker answered, not counting a Maven download; 0 when attached. */
  get startupMs(): number {
    return this.startupTime;
  }
  get bootstrapBrokers(): string {
    return this.state.bootstrapBrokers;
  }
  /** The plaintext listeners: the same as bootstrapBrokers unless clients use a secure listener. */
  get internalBrokers(): string {
    return this.state.internalBrokers ?? this.state.bootstrapBrokers;
  }
  /** The host:port list of the client listener `name` (the secure listener or one of its `more`). */
  listenerBrokers(name: string): string | undefined {
    if (this.state.secureListener?.name === name) return this.state.bootstrapBrokers;
    return this.state.moreListeners?.find((l) => l.name === name)?.brokers;
  }
  /** The secure client listener's name, or null when clients use plaintext. */
  get secureListenerName(): string | null {
    return this.state.secureListener?.name ?? null;
  }
  /** Directories the secure listener's owner made for this cluster, removed with it. */
  get ownedDirs(): readonly string[] {
    return this.state.ownedDirs ?? [];
  }
  get version(): string {
    return this.state.version;
  }
  get port(): number {
    return this.state.port;
  }
  get clusterId(): string {
    return this.state.clusterId;
  }
  /** The cluster's temp dir (configs, data and, unless logDir was given, logs); removed by stop(). */
  get dir(): string {
    return this.state.dir;
  }
  get detached(): boolean {
    return this.state.detached;
  }
  get brokers(): BrokerInfo[] {
    return this.state.brokers.map(({ id, port, internalPort, controllerPort, pid, paused, logFile }) => ({
      id,
      port,
      internalPort: internalPort ?? port,
      controllerPort,
      pid,
      paused,
      logFile,
    }));
  }
  get isRunning(): boolean {
    return !this.stopped && this.state.brokers.some((b) => b.pid !== null && isOurProcess(b.pid, this.state.dir));
  }

  /** The last lines of the given brokers' logs (all brokers by default), for error messages. */
  logTail(ids: readonly number[] = this.state.brokers.map((b) => b.id), lines = 25): string {
    return logTails(this.state, ids, lines);
  }

  /**
   * stop(): stops every broker (SIGTERM, then SIGKILL after stopTimeoutMs), removes the temp dir and the state file.
   * stop(id): stops one broker the same way and keeps its data, so start(id) brings it back.
   */
  async stop(id?: number): Promise<void> {
    if (id !== undefined) {
      await this.terminate(this.broker(id));
      this.harvestCds();
      writeState(this.state);
      return;
    }
    if (this.stopped) return;
    // All at once, while the quorum can still commit each broker's controlled shutdown. The KRaft leader then
    // waits 5 s for peers that are gone (about 5.5 s for three brokers); a broker stopped alone after its peers
    // has no quorum and would never finish, so it gets SIGKILL after stopTimeoutMs.
    // Brokers without a controller first, while the quorum can still take their controlled shutdown.
    const voters = controllerIds(this.state.brokers.length);
    await Promise.all(this.state.brokers.filter((b) => !voters.includes(b.id)).map((b) => this.terminate(b)));
    await Promise.all(this.state.brokers.filter((b) => voters.includes(b.id)).map((b) => this.terminate(b)));
    this.harvestCds();
    this.removeFiles();
    this.stopped = true;
    if (this.owner) process.off('exit', this.onExit);
  }

  /** SIGKILL, as a crash would. */
  async kill(id: number): Promise<void> {
    const broker = this.broker(id);
    if (broker.pid !== null && signal(broker.pid, this.state.dir, 'SIGKILL')) {
      await waitGone(broker.pid, this.state.dir, 10_000);
    }
    this.discardCdsDump(broker);
    broker.pid = null;
    broker.paused = false;
    writeState(this.state);
  }

  /** SIGSTOP: the broker stops answering but keeps its connections open, like a long GC pause or a hung host. */
  async pause(id: number): Promise<void> {
    const broker = this.running(id);
    signal(broker.pid, this.state.dir, 'SIGSTOP');
    broker.paused = true;
    writeState(this.state);
  }

  async resume(id: number): Promise<void> {
    const broker = this.running(id);
    signal(broker.pid, this.state.dir, 'SIGCONT');
    broker.paused = false;
    writeState(this.state);
  }

  /** Restarts a stopped or killed broker on its old data dir and waits until the cluster lists it again. */
  async start(id: number, timeoutMs = 60_000): Promise<void> {
    this.assertNotStopped();
    const broker = this.broker(id);
    if (broker.pid !== null && isOurProcess(broker.pid, this.state.dir)) {
      throw new Error(`Broker ${id} is already running (pid ${broker.pid})`);
    }
    spawnBroker(this.state, broker);
    writeState(this.state);
    await this.waitReady([id], timeoutMs);
  }

  /**
   * Waits until the given brokers serve metadata listing themselves, asking only them: after a restart the
   * others still list the old, not yet fenced incarnation for up to broker.session.timeout.ms.
   */
  private async waitReady(ids: readonly number[], timeoutMs: number): Promise<void> {
    const targets = this.state.brokers.filter((b) => ids.includes(b.id));
    try {
      await waitForKafka(targets.map((b) => `127.0.0.1:${b.internalPort ?? b.port}`).join(','), {
        brokers: ids.length,
        brokerIds: ids,
        clusterId: this.state.clusterId,
        timeoutMs,
        abort: () => deadBrokerMessage(this.state, ids),
      });
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${logTails(this.state, ids)}`);
    }
  }

  private broker(id: number): BrokerState {
    const broker = this.state.brokers.find((b) => b.id === id);
    if (!broker)
      throw new Error(`No broker ${id}: this cluster has brokers ${this.state.brokers.map((b) => b.id).join(', ')}`);
    return broker;
  }

  private running(id: number): BrokerState & { pid: number } {
    this.assertNotStopped();
    const broker = this.broker(id);
    if (broker.pid === null || !isOurProcess(broker.pid, this.state.dir))
      throw new Error(`Broker ${id} is not running`);
    return broker as BrokerState & { pid: number };
  }

  private assertNotStopped(): void {
    if (this.stopped) throw new Error(`The Kafka cluster on port ${this.state.port} has been stopped`);
  }

  private async terminate(broker: BrokerState): Promise<void> {
    const pid = broker.pid;
    if (pid !== null && isOurProcess(pid, this.state.dir)) {
      // A paused JVM cannot run its shutdown hook.
      signal(pid, this.state.dir, 'SIGCONT');
      signal(pid, this.state.dir, 'SIGTERM');
      if (!(await waitGone(pid, this.state.dir, this.state.stopTimeoutMs))) {
        signal(pid, this.state.dir, 'SIGKILL');
        this.discardCdsDump(broker);
        if (!(await waitGone(pid, this.state.dir, 10_000)))
          throw new Error(`Broker ${broker.id} (pid ${pid}) survived SIGKILL`);
      }
    }
    broker.pid = null;
    broker.paused = false;
  }

  /** A JVM killed while writing its class-data-sharing archive leaves a truncated file: never keep that one. */
  private discardCdsDump(broker: BrokerState): void {
    if (broker.cdsDump) fs.rmSync(broker.cdsDump, { force: true });
    broker.cdsDump = null;
  }

  /** Keeps the class-data-sharing archive a cleanly stopped broker wrote, for every later start of this version. */
  private harvestCds(): void {
    const archive = this.state.cdsArchive;
    for (const broker of this.state.brokers) {
      const dump = broker.cdsDump;
      if (!archive || !dump || broker.pid !== null) continue;
      broker.cdsDump = null;
      if (fs.existsSync(archive) || !fs.existsSync(dump) || fs.statSync(dump).size === 0) continue;
      const tmp = `${archive}.${process.pid}.tmp`;
      try {
        fs.copyFileSync(dump, tmp);
        fs.renameSync(tmp, archive);
      } catch {
        fs.rmSync(tmp, { force: true });
      }
    }
  }

  private removeFiles(): void {
    if (path.basename(this.state.dir).startsWith(TEMP_PREFIX)) {
      fs.rmSync(this.state.dir, { recursive: true, force: true, maxRetries: 3 });
    }
    for (const dir of this.state.ownedDirs ?? []) {
      // Only temp directories: a state file edited by hand must not make stop() delete anything else.
      if (path.dirname(dir) === os.tmpdir()) fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    }
    const file = statePath(this.state.port);
    const current = readState(this.state.port);
    if (current && current.dir === this.state.dir) fs.rmSync(file, { force: true });
  }

  /** Synchronous last resort when the owning node process exits without calling stop(). */
  private killNow(): void {
    if (this.stopped) return;
    for (const broker of this.state.brokers) {
      if (broker.pid !== null) signal(broker.pid, this.state.dir, 'SIGKILL');
    }
    try {
      this.removeFiles();
    } catch {
      // The state file lets the next start (or `cli.ts stop`) finish the clean-up.
    }
  }
}

/** Cleans up after a cluster on `port` whose owner died (e.g. a crashed test run); refuses to touch a live one. */
async function reclaimStale(port: number, log?: Logger): Promise<void> {
  const state = readState(port);
  const cluster = LocalKafkaCluster.attach(port);
  if (!state || !cluster) return;
  const live = cluster.brokers.filter((b) => b.pid !== null && isOurProcess(b.pid, cluster.dir));
  const ownerGone = state.ownerPid !== null && !pidAlive(state.ownerPid);
  if (live.length > 0 && !ownerGone) {
    throw new Error(
      `A local Kafka ${cluster.version} is already running on port ${port} (pids ${live.map((b) => b.pid).join(', ')}); stop it with: npm run kafka:stop -- --port ${port}`,
    );
  }
  if (live.length > 0)
    log?.(`Stopping the orphaned local Kafka on port ${port} (its owner process ${state.ownerPid} is gone)`);
  await cluster.stop();
}

/** Starts a fresh local Kafka cluster and resolves once every broker answers a metadata request. */
export function startKafka(options: StartKafkaOptions = {}): Promise<LocalKafkaCluster> {
  return LocalKafkaCluster.launch(options);
}

/** Stops the cluster recorded in `<repo>/.kafka/state-<port>.json`; false when there is none. */
export async function stopKafka(port: number = DEFAULT_PORT): Promise<boolean> {
  const cluster = LocalKafkaCluster.attach(port);
  if (!cluster) return false;
  await cluster.stop();
  return true;
}

/**
 * Uses the Kafka named by env KAFKA_BROKERS if it is set (starting nothing), else starts one.
 * The caller decides whether to export the result as KAFKA_BROKERS.
 */
export async function useOrStartKafka(options: StartKafkaOptions = {}): Promise<KafkaEndpoint> {
  const existing = process.env.KAFKA_BROKERS?.trim();
  if (existing) {
    try {
      await waitForKafka(existing, { timeoutMs: 15_000 });
    } catch (error) {
      throw new Error(`KAFKA_BROKERS is set, but ${(error as Error).message}; unset it to start a local Kafka instead`);
    }
    return { bootstrapBrokers: existing, started: false, stop: async () => undefined };
  }
  return startKafka(options);
}
