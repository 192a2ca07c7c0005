/**
 * A Lambda-like container for one function: its code (the asset `cdk deploy` ships) runs in a child process
 * on the Node.js major of the function's runtime with the environment Lambda would give it, behind a local Runtime API. Invocations reuse the
 * container (module scope survives, as in a warm Lambda), the function's Timeout is enforced, the container
 * can be frozen between invocations (SIGSTOP/SIGCONT, as Lambda freezes it) or replaced (a cold start), and
 * its stdout/stderr lines are kept as the function's CloudWatch log lines.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { functionEnvironment, type TwinApp, type TwinEndpoint, type TwinFunction } from '../assembly/assembly';
import { TWIN_ACCOUNT, TWIN_PARTITION, TWIN_REGION } from '../identity';

const BOOTSTRAP = path.join(__dirname, 'lambda-bootstrap.cts');

/** What a container needs to run one function, as the template declares it. */
export interface LambdaFunctionSpec {
  /** AWS_LAMBDA_FUNCTION_NAME */
  readonly name: string;
  /** The function's code: a directory (the staged asset) copied into the container's task root, as Lambda unzips it. */
  readonly codeDir: string;
  /** `index.handler`: module file in the task root, and its export. */
  readonly handler: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /** The function's Environment.Variables, resolved for the twin. */
  readonly environment: Readonly<Record<string, string>>;
  readonly logGroupName: string;
  /** LoggingConfig.LogFormat (`JSON` or `Text`). */
  readonly logFormat?: string;
  /** LoggingConfig.ApplicationLogLevel. */
  readonly applicationLogLevel?: string;
  /** @default 'nodejs24.x' */
  readonly runtime?: string;
}

/** The function's spec from the synthesized app, its bootstrap brokers pointing at the twin. */
export function functionSpec(
  app: Pick<TwinApp, 'assembly' | 'resolver'>,
  fn: TwinFunction,
  endpoint: TwinEndpoint,
): LambdaFunctionSpec {
  if (!fn.codeDir) {
    throw new Error(`${fn.stack}/${fn.path}: the assembly holds no code asset for this function`);
  }
  return {
    name: fn.name,
    codeDir: fn.codeDir,
    handler: fn.handler,
    timeoutSeconds: fn.timeoutSeconds,
    memoryMb: fn.memoryMb,
    environment: functionEnvironment(app, fn, endpoint),
    logGroupName: fn.logGroupName,
    logFormat: fn.logFormat,
    applicationLogLevel: fn.applicationLogLevel,
    runtime: fn.runtime,
  };
}

export interface LambdaCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/**
 * Keys Lambda sets itself and refuses in a function's configuration ("Defined runtime environment variables",
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime).
 */
export const RESERVED_ENVIRONMENT_KEYS = [
  '_HANDLER',
  '_X_AMZN_TRACE_ID',
  'AWS_DEFAULT_REGION',
  'AWS_REGION',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_ACCESS_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API',
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR',
];

export interface ContainerEnvironmentInput {
  readonly credentials: LambdaCredentials;
  /** The region the function runs in. */
  readonly region: string;
  /** `127.0.0.1:port` of the runner's Runtime API. */
  readonly runtimeApi: string;
  /** Where the function's code is (the task root). */
  readonly taskRoot: string;
  /** Where the runtime's own files are. */
  readonly runtimeDir: string;
  /** The modules the runtime provides (the AWS SDK for JavaScript v3, as /var/runtime/node_modules). @default none */
  readonly runtimeModules?: string;
  /** Directory of the Node.js binary, first on PATH as /var/lang/bin is in Lambda. */
  readonly nodeDir: string;
  /** The log stream of this container. */
  readonly logStreamName: string;
  /** PEM file of the twin's CA. @default none */
  readonly caFile?: string;
  /** Replaces function variables (tests that point a function elsewhere). @default none */
  readonly overrides?: Readonly<Record<string, string>>;
}

/**
 * The whole environment of a container: the function's own variables and what Lambda adds, nothing from
 * the parent process (a variable the stack forgets is missing here too).
 */
export function containerEnvironment(
  spec: LambdaFunctionSpec,
  input: ContainerEnvironmentInput,
): Record<string, string> {
  const own = { ...spec.environment, ...input.overrides };
  const reserved = Object.keys(own).filter((key) => RESERVED_ENVIRONMENT_KEYS.includes(key));
  if (reserved.length > 0) {
    throw new Error(
      `Function ${spec.name}: Environment.Variables ${reserved.join(', ')} ${reserved.length > 1 ? 'are' : 'is'} reserved by Lambda; the deployment would be refused`,
    );
  }
  if (input.caFile !== undefined && own.NODE_EXTRA_CA_CERTS !== undefined) {
    throw new Error(
      `Function ${spec.name}: Environment.Variables NODE_EXTRA_CA_CERTS is set, but the twin needs it for its own CA`,
    );
  }
  const runtime = spec.runtime ?? 'nodejs24.x';
  return {
    // Lambda's defaults that a function may override.
    PATH: `${input.nodeDir}:/usr/local/bin:/usr/bin:/bin`,
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    ...own,
    _HANDLER: spec.handler,
    AWS_REGION: input.region,
    AWS_DEFAULT_REGION: input.region,
    AWS_EXECUTION_ENV: `AWS_Lambda_${runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: spec.name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memoryMb),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: spec.logGroupName,
    AWS_LAMBDA_LOG_STREAM_NAME: input.logStreamName,
    AWS_LAMBDA_RUNTIME_API: input.runtimeApi,
    // Set by Lambda's advanced logging controls (the handlers' logger reads AWS_LAMBDA_LOG_LEVEL).
    ...(spec.logFormat ? { AWS_LAMBDA_LOG_FORMAT: spec.logFormat.toUpperCase() } : {}),
    ...(spec.applicationLogLevel ? { AWS_LAMBDA_LOG_LEVEL: spec.applicationLogLevel.toUpperCase() } : {}),
    LAMBDA_TASK_ROOT: input.taskRoot,
    LAMBDA_RUNTIME_DIR: input.runtimeDir,
    // As Lambda's Node.js runtimes set it, less the /opt layer directories (the twin runs no layers).
    NODE_PATH: [input.runtimeModules, input.runtimeDir, input.taskRoot].filter((d) => d !== undefined).join(':'),
    AWS_ACCESS_KEY_ID: input.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: input.credentials.secretAccessKey,
    ...(input.credentials.sessionToken ? { AWS_SESSION_TOKEN: input.credentials.sessionToken } : {}),
    ...(input.caFile !== undefined ? { NODE_EXTRA_CA_CERTS: input.caFile } : {}),
  };
}

/**
 * Heap limits as Lambda's Node.js runtime sets them from the memory size (the bootstrap script of its public
 * base images): a tenth of the memory for the young generation, half of that per semi-space, the rest old space.
 */
export function nodeMemoryArgs(memoryMb: number): string[] {
  const newSpace = Math.floor(memoryMb / 10);
  return [
    '--expose-gc',
    '--max-http-header-size=81920',
    `--max-semi-space-size=${Math.floor(newSpace / 2)}`,
    `--max-old-space-size=${memoryMb - newSpace}`,
  ];
}

/** A Lambda log stream name: `YYYY/MM/DD/[$LATEST]<32 hex>`. */
function logStreamName(now = new Date()): string {
  const day = now.toISOString().slice(0, 10).replace(/-/g, '/');
  return `${day}/[$LATEST]${randomBytes(16).toString('hex')}`;
}

/** Major version of a Node.js binary, or undefined when it does not run. */
function nodeMajor(binary: string): number | undefined {
  try {
    const version = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
    return Number(/^v(\d+)\./.exec(version)?.[1]);
  } catch {
    return undefined;
  }
}

/** The Node.js major of a Lambda runtime identifier (`nodejs24.x`); fails in one line for any other runtime. */
export function runtimeNodeMajor(runtime: string | undefined): number {
  const major = /^nodejs(\d+)\.x$/.exec(runtime ?? 'nodejs24.x')?.[1];
  if (!major) throw new Error(`Runtime ${runtime}: the Lambda-like runner runs Node.js runtimes (nodejsNN.x) only`);
  return Number(major);
}

/** Node.js binaries found, by major: each is looked up once per process, not at every container start. */
const nodeBinaries = new Map<number, string>();

/**
 * A Node.js binary of `major`: MSK_TWIN_LAMBDA_NODE, else the `node-<platform>-<arch>` package when npm installed
 * that major, else this process's own node when it is that major.
 */
export function lambdaNodeBinary(major = 24): string {
  const override = process.env.MSK_TWIN_LAMBDA_NODE;
  if (override) return override;
  const found = nodeBinaries.get(major);
  if (found) return found;
  const packageName = `node-${process.platform}-${process.arch}`;
  let packaged: { dir: string; version: string } | undefined;
  try {
    const manifest = require.resolve(`${packageName}/package.json`);
    packaged = {
      dir: path.dirname(manifest),
      version: (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { version: string }).version,
    };
  } catch {
    packaged = undefined;
  }
  let binary: string | undefined;
  if (packaged && Number(packaged.version.split('.')[0]) === major) binary = path.join(packaged.dir, 'bin', 'node');
  else if (nodeMajor(process.execPath) === major) binary = process.execPath;
  if (!binary || !fs.existsSync(binary)) {
    throw new Error(
      `No Node.js ${major} for the Lambda-like runner: install ${packageName}@${major} (linux-x64 and linux-arm64 only) or set MSK_TWIN_LAMBDA_NODE to a Node.js ${major} binary`,
    );
  }
  nodeBinaries.set(major, binary);
  return binary;
}

/**
 * A node_modules directory holding the `@aws-sdk` scope that this package resolves, as Lambda's Node.js runtimes
 * include the AWS SDK for JavaScript v3 (bundles that mark `@aws-sdk/*` external load it from there). Only the
 * clients installed beside the twin are there; undefined when none is.
 */
let runtimeModulesDir: string | null | undefined;

function runtimeModules(): string | undefined {
  if (runtimeModulesDir !== undefined) return runtimeModulesDir ?? undefined;
  let scope: string;
  try {
    scope = path.dirname(path.dirname(require.resolve('@aws-sdk/client-kafka/package.json')));
  } catch {
    runtimeModulesDir = null;
    return undefined;
  }
  const dir = path.join(os.tmpdir(), 'msk-twin-lambda-runtime', 'node_modules');
  const link = path.join(dir, '@aws-sdk');
  if (!fs.existsSync(link)) {
    fs.mkdirSync(dir, { recursive: true });
    try {
      fs.symlinkSync(scope, link, 'dir');
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw error;
    }
  }
  runtimeModulesDir = dir;
  return dir;
}

/** One line of the function's log: what CloudWatch Logs would receive. */
export interface LogLine {
  readonly time: number;
  /** The invocation that was running, or undefined during init. */
  readonly requestId?: string;
  /** `platform` for Lambda's own START, END and REPORT lines. */
  readonly stream: 'stdout' | 'stderr' | 'platform';
  readonly message: string;
}

/** The error of a failed invocation, as Lambda's Invoke API returns it. */
export interface LambdaError {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace?: string[];
}

interface InvokeOutcome {
  readonly requestId: string;
  /** The container was started for this invocation. */
  readonly coldStart: boolean;
  /** Module load of a cold start, until the runtime asked for its first event. */
  readonly initDurationMs?: number;
  /** From handing over the event until the response (or error). */
  readonly durationMs: number;
  readonly logs: readonly LogLine[];
}

export type InvokeResult =
  | (InvokeOutcome & { readonly ok: true; readonly payload: unknown })
  | (InvokeOutcome & { readonly ok: false; readonly error: LambdaError });

export interface LambdaRunnerOptions {
  /** Credentials of the function's role for each new container (Lambda gives a container its role's session). */
  readonly credentials: () => LambdaCredentials | Promise<LambdaCredentials>;
  /** @default TWIN_REGION */
  readonly region?: string;
  /** PEM file of the twin's CA, given to the function as NODE_EXTRA_CA_CERTS. @default none */
  readonly caFile?: string;
  /** Replaces function variables; for tests that point a function at another broker. @default none */
  readonly environmentOverrides?: Readonly<Record<string, string>>;
  /** Replaces the function's timeout; for tests and benchmarks of a shorter schedule period. @default the template's */
  readonly timeoutSeconds?: number;
  /**
   * Freeze the container (SIGSTOP) after each invocation and thaw it (SIGCONT) for the next, as Lambda does:
   * timers and heartbeats stop, sockets stay open but unanswered.
   * @default true
   */
  readonly freezeBetweenInvocations?: boolean;
  /**
   * Ends a container this long after it started, before the next invocation, which then starts a new one with
   * credentials asked anew. Lambda puts the role's session credentials in a container's environment once, at init,
   * and never changes them; it "terminates execution environments every few hours to allow for runtime updates
   * and maintenance, even for functions that are invoked continuously" (Lambda developer guide, "Understanding
   * the Lambda execution environment lifecycle"), so a function's credentials rotate with its containers. Tests
   * shorten the few hours to seconds. @default none (a container lives until coldStart() or stop())
   */
  readonly maxContainerLifetimeMs?: number;
  /** @default lambdaNodeBinary() */
  readonly nodeBinary?: string;
  /** Called for every log line as it arrives. @default none */
  readonly onLog?: (line: LogLine) => void;
  /**
   * Broker ports on 127.0.0.1 the function's security groups do not let it reach: its connects there never
   * complete, as in a VPC that drops them (network/security-groups.ts). @default none
   */
  readonly unreachablePorts?: readonly number[];
  /**
   * Connections to `host:port` that go to a port on 127.0.0.1 instead, the host name kept for TLS (the twin's
   * CloudFormation response host, for deploy-time handlers). @default none
   */
  readonly routes?: Readonly<Record<string, number>>;
}

/** Lambda's limit on a function's init phase (module load) for on-demand functions. */
const INIT_TIMEOUT_MS = 10_000;
/** How long the runtime may take after a response before asking for the next event. */
const SETTLE_TIMEOUT_MS = 2_000;

interface Invocation {
  readonly requestId: string;
  readonly event: unknown;
  readonly coldStart: boolean;
  readonly logs: LogLine[];
  dispatchedAt?: number;
  timer?: NodeJS.Timeout;
  outcome?: { ok: true; payload: unknown } | { ok: false; error: LambdaError };
  durationMs?: number;
  settling?: boolean;
  completed?: boolean;
  resolve: (result: InvokeResult) => void;
}

interface Container {
  readonly child: ChildProcess;
  readonly taskRoot: string;
  readonly startedAt: number;
  initDurationMs?: number;
  initError?: LambdaError;
  /** The runtime's pending GET /next, answered when an event comes. */
  waiting?: http.ServerResponse;
  frozen: boolean;
  exited: boolean;
  exitDescription?: string;
  /** Parts of the current line per stream. */
  partial: { stdout: string; stderr: string };
}

/** One function's container (at most one at a time); invocations run one after another. */
/**
 * Runners whose containers must die with this process. One `exit` listener serves them all: a test that starts
 * twenty functions at once would otherwise add twenty listeners and trip Node's leak warning.
 */
const liveRunners = new Set<LambdaRunner>();
let exitListenerAdded = false;

function killOnExit(runner: LambdaRunner): void {
  liveRunners.add(runner);
  if (exitListenerAdded) return;
  exitListenerAdded = true;
  process.on('exit', () => {
    for (const live of liveRunners) live.killNow();
  });
}

export class LambdaRunner {
  /** Every log line of every container of this runner. */
  readonly logs: LogLine[] = [];
  private readonly server: http.Server;
  private runtimeApi?: string;
  private container?: Container;
  private queued?: Invocation;
  private current?: Invocation;
  private chain: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(
    readonly spec: LambdaFunctionSpec,
    private readonly options: LambdaRunnerOptions,
  ) {
    this.server = http.createServer((request, response) => this.runtimeRequest(request, response));
    this.server.keepAliveTimeout = 0;
    killOnExit(this);
  }

  /** PID of the current container's process, if one runs. */
  get pid(): number | undefined {
    return this.container && !this.container.exited ? this.container.child.pid : undefined;
  }

  get frozen(): boolean {
    return this.container?.frozen ?? false;
  }

  /** Invokes the function with `event`, as a synchronous Lambda invoke; one invocation at a time. */
  invoke(event: unknown): Promise<InvokeResult> {
    const run = this.chain.then(() => this.invokeNow(event));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Freezes the idle container (SIGSTOP), as Lambda does between invocations; resolves once it is stopped. */
  async freeze(): Promise<void> {
    const container = this.container;
    if (!container || container.exited || container.frozen) return;
    container.child.kill('SIGSTOP');
    container.frozen = true;
    await stoppedState(container.child, true);
  }

  /** Thaws a frozen container (SIGCONT); resolves once it runs again. */
  async thaw(): Promise<void> {
    const container = this.container;
    if (!container || container.exited || !container.frozen) return;
    container.child.kill('SIGCONT');
    container.frozen = false;
    await stoppedState(container.child, false);
  }

  /** Ends the container; the next invocation starts a new one (a cold start). */
  async coldStart(): Promise<void> {
    await this.chain;
    await this.endContainer();
  }

  /** Ends the container and the Runtime API. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.chain;
    await this.endContainer();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    liveRunners.delete(this);
  }

  private async invokeNow(event: unknown): Promise<InvokeResult> {
    if (this.stopped) throw new Error(`The runner of ${this.spec.name} has been stopped`);
    const lifetime = this.options.maxContainerLifetimeMs;
    if (lifetime !== undefined && this.container && performance.now() - this.container.startedAt >= lifetime) {
      await this.endContainer();
    }
    const coldStart = !this.container || this.container.exited;
    if (coldStart) await this.startContainer();
    await this.thaw();
    const result = await new Promise<InvokeResult>((resolve) => {
      const invocation: Invocation = { requestId: randomUUID(), event, coldStart, logs: [], resolve };
      this.queued = invocation;
      this.platformLog(invocation, `START RequestId: ${invocation.requestId} Version: $LATEST`);
      this.dispatch();
      const container = this.container;
      if (container && !container.waiting && container.initDurationMs === undefined) {
        const initTimer = setTimeout(() => {
          if (this.queued !== invocation || container.initDurationMs !== undefined) return;
          this.failContainer(container, {
            errorType: 'Runtime.InitTimeout',
            errorMessage: `Init of ${this.spec.name} did not finish within ${INIT_TIMEOUT_MS / 1000} s`,
          });
        }, INIT_TIMEOUT_MS);
        initTimer.unref();
      }
    });
    if (this.options.freezeBetweenInvocations ?? true) await this.freeze();
    return result;
  }

  private async startContainer(): Promise<void> {
    await this.endContainer();
    if (!this.runtimeApi) {
      await new Promise<void>((resolve, reject) => {
        this.server.once('error', reject);
        this.server.listen({ host: '127.0.0.1', port: 0 }, () => resolve());
      });
      this.runtimeApi = `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    }
    const moduleFile = this.spec.handler.slice(0, this.spec.handler.lastIndexOf('.'));
    const entry = ['.js', '.cjs', '.mjs'].map((ext) => `${moduleFile}${ext}`);
    if (!entry.some((file) => fs.existsSync(path.join(this.spec.codeDir, file)))) {
      throw new Error(
        `${this.spec.name}: ${this.spec.codeDir} has no ${moduleFile}.js for handler ${this.spec.handler} (synthesize with bundling: cdk synth)`,
      );
    }
    // A task root outside the project: the code cannot reach the project's node_modules, as in Lambda.
    const taskRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'msk-twin-lambda-task-'));
    fs.cpSync(this.spec.codeDir, taskRoot, { recursive: true });
    const node = this.options.nodeBinary ?? lambdaNodeBinary(runtimeNodeMajor(this.spec.runtime));
    const env = containerEnvironment(this.spec, {
      credentials: await this.options.credentials(),
      region: this.options.region ?? TWIN_REGION,
      runtimeApi: this.runtimeApi,
      taskRoot,
      runtimeDir: __dirname,
      runtimeModules: runtimeModules(),
      nodeDir: path.dirname(node),
      logStreamName: logStreamName(),
      caFile: this.options.caFile,
      overrides: this.options.environmentOverrides,
    });
    const unreachable = JSON.stringify(this.options.unreachablePorts ?? []);
    const routes = JSON.stringify(this.options.routes ?? {});
    const child = spawn(node, [...nodeMemoryArgs(this.spec.memoryMb), BOOTSTRAP, unreachable, routes], {
      cwd: taskRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const container: Container = {
      child,
      taskRoot,
      startedAt: performance.now(),
      frozen: false,
      exited: false,
      partial: { stdout: '', stderr: '' },
    };
    this.container = container;
    for (const stream of ['stdout', 'stderr'] as const) {
      child[stream]?.setEncoding('utf8');
      child[stream]?.on('data', (chunk: string) => this.output(container, stream, chunk));
    }
    child.on('error', (error) => {
      this.failContainer(container, { errorType: 'Runtime.StartError', errorMessage: error.message });
    });
    child.on('exit', (code, signal) => {
      container.exited = true;
      container.exitDescription = signal ? `signal: ${signal}` : `exit status ${code}`;
      this.flushPartial(container);
      this.containerGone(container);
    });
  }

  private output(container: Container, stream: 'stdout' | 'stderr', chunk: string): void {
    const lines = (container.partial[stream] + chunk).split('\n');
    container.partial[stream] = lines.pop() ?? '';
    for (const line of lines) this.log(stream, line);
  }

  private flushPartial(container: Container): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (container.partial[stream] !== '') this.log(stream, container.partial[stream]);
      container.partial[stream] = '';
    }
  }

  /** A line of the container's output; lines of a cold start's init go with the invocation that waits for it. */
  private log(stream: 'stdout' | 'stderr', message: string): void {
    if (message.trim() === '') return;
    const invocation = this.current ?? this.queued;
    this.record(invocation, { time: Date.now(), requestId: this.current?.requestId, stream, message });
  }

  /** Lambda's own lines (START, END, REPORT, timeouts) for an invocation. */
  private platformLog(invocation: Invocation, message: string): void {
    this.record(invocation, { time: Date.now(), requestId: invocation.requestId, stream: 'platform', message });
  }

  private record(invocation: Invocation | undefined, line: LogLine): void {
    this.logs.push(line);
    invocation?.logs.push(line);
    this.options.onLog?.(line);
  }

  /** Hands the queued event to the runtime once it waits for one. */
  private dispatch(): void {
    const container = this.container;
    const invocation = this.queued;
    if (!container || !invocation || !container.waiting || this.current) return;
    const response = container.waiting;
    container.waiting = undefined;
    this.queued = undefined;
    this.current = invocation;
    const timeoutSeconds = this.options.timeoutSeconds ?? this.spec.timeoutSeconds;
    const timeoutMs = timeoutSeconds * 1000;
    invocation.dispatchedAt = performance.now();
    response.writeHead(200, {
      'content-type': 'application/json',
      'lambda-runtime-aws-request-id': invocation.requestId,
      'lambda-runtime-deadline-ms': String(Date.now() + timeoutMs),
      'lambda-runtime-invoked-function-arn': `arn:${TWIN_PARTITION}:lambda:${this.options.region ?? TWIN_REGION}:${TWIN_ACCOUNT}:function:${this.spec.name}`,
      'lambda-runtime-trace-id': `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')};Sampled=0`,
    });
    response.end(JSON.stringify(invocation.event ?? null));
    // Lambda's timeout error ("Troubleshoot invocation issues in Lambda", Sandbox.Timedout): the runtime is
    // ended, and the next invocation starts a new one.
    invocation.timer = setTimeout(() => {
      if (this.current !== invocation || invocation.outcome) return;
      const seconds = timeoutSeconds.toFixed(2);
      this.failContainer(container, {
        errorType: 'Sandbox.Timedout',
        errorMessage: `${new Date().toISOString()} ${invocation.requestId} Task timed out after ${seconds} seconds`,
      });
    }, timeoutMs);
  }

  private runtimeRequest(request: http.IncomingMessage, response: http.ServerResponse): void {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      const container = this.container;
      const url = request.url ?? '';
      if (!container || container.exited) {
        response.writeHead(410).end();
        return;
      }
      if (request.method === 'GET' && url === '/2018-06-01/runtime/invocation/next') {
        container.initDurationMs ??= performance.now() - container.startedAt;
        container.waiting = response;
        if (this.current?.outcome) this.settle(this.current);
        this.dispatch();
        return;
      }
      const m = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(url);
      if (request.method === 'POST' && m) {
        response.writeHead(202).end();
        const invocation = this.current;
        if (!invocation || invocation.requestId !== m[1] || invocation.outcome) return;
        invocation.durationMs = performance.now() - (invocation.dispatchedAt ?? performance.now());
        clearTimeout(invocation.timer);
        invocation.outcome =
          m[2] === 'response' ? { ok: true, payload: parseJson(body) } : { ok: false, error: lambdaError(body) };
        // Settled when the runtime asks for its next event (its work for this one is done), or soon after.
        setTimeout(() => this.settle(invocation), SETTLE_TIMEOUT_MS).unref();
        return;
      }
      if (request.method === 'POST' && url === '/2018-06-01/runtime/init/error') {
        response.writeHead(202).end();
        container.initError = lambdaError(body);
        return;
      }
      response.writeHead(404).end();
    });
  }

  /** Completes an invocation that has its outcome, after the runtime's output of it has been read. */
  private settle(invocation: Invocation): void {
    if (this.current !== invocation || !invocation.outcome || invocation.settling) return;
    invocation.settling = true;
    // Output written before the runtime's next request is already in the pipes: two turns of the loop read it.
    setImmediate(() => setImmediate(() => this.complete(invocation)));
  }

  private complete(invocation: Invocation): void {
    const outcome = invocation.outcome;
    if (!outcome || invocation.completed) return;
    invocation.completed = true;
    if (this.current === invocation) this.current = undefined;
    const durationMs = invocation.durationMs ?? 0;
    this.platformLog(invocation, `END RequestId: ${invocation.requestId}`);
    const init = invocation.coldStart ? this.container?.initDurationMs : undefined;
    this.platformLog(
      invocation,
      [
        `REPORT RequestId: ${invocation.requestId}`,
        `Duration: ${durationMs.toFixed(2)} ms`,
        `Billed Duration: ${Math.ceil(durationMs)} ms`,
        `Memory Size: ${this.spec.memoryMb} MB`,
        ...(this.maxMemoryMb() !== undefined ? [`Max Memory Used: ${this.maxMemoryMb()} MB`] : []),
        ...(init !== undefined ? [`Init Duration: ${init.toFixed(2)} ms`] : []),
      ].join('\t'),
    );
    const common = {
      requestId: invocation.requestId,
      coldStart: invocation.coldStart,
      initDurationMs: init,
      durationMs,
      logs: invocation.logs,
    };
    invocation.resolve(
      outcome.ok ? { ...common, ok: true, payload: outcome.payload } : { ...common, ok: false, error: outcome.error },
    );
  }

  /** Peak resident memory of the container's process (Linux), in MB. */
  private maxMemoryMb(): number | undefined {
    const pid = this.pid;
    if (pid === undefined || process.platform !== 'linux') return undefined;
    try {
      const kb = /VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      return kb ? Math.ceil(Number(kb) / 1024) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Ends the container for a platform error (timeout, init failure) and fails what was running. */
  private failContainer(container: Container, error: LambdaError): void {
    const invocation = this.current ?? this.queued;
    if (invocation && !invocation.outcome) {
      clearTimeout(invocation.timer);
      invocation.durationMs = invocation.dispatchedAt ? performance.now() - invocation.dispatchedAt : 0;
      invocation.outcome = { ok: false, error };
      this.platformLog(invocation, error.errorMessage);
    }
    if (!container.exited) container.child.kill('SIGKILL');
  }

  /** The container's process is gone: whatever was running fails as Lambda reports a crashed runtime. */
  private containerGone(container: Container): void {
    if (this.container !== container) return;
    const invocation = this.current ?? this.queued;
    this.queued = undefined;
    if (invocation) {
      if (!invocation.outcome) {
        clearTimeout(invocation.timer);
        invocation.durationMs = invocation.dispatchedAt ? performance.now() - invocation.dispatchedAt : 0;
        invocation.outcome = {
          ok: false,
          error: container.initError ?? {
            errorType: 'Runtime.ExitError',
            errorMessage: `RequestId: ${invocation.requestId} Error: Runtime exited with error: ${container.exitDescription ?? 'unknown'}`,
          },
        };
      }
      setImmediate(() => this.complete(invocation));
    }
    fs.rmSync(container.taskRoot, { recursive: true, force: true });
  }

  private async endContainer(): Promise<void> {
    const container = this.container;
    if (!container) return;
    if (!container.exited) {
      const gone = new Promise<void>((resolve) => container.child.once('exit', () => resolve()));
      container.child.kill('SIGKILL');
      await gone;
    }
    fs.rmSync(container.taskRoot, { recursive: true, force: true });
    if (this.container === container) this.container = undefined;
  }

  /** Last resort when this process exits without stop(): end our own container process only. */
  killNow(): void {
    const container = this.container;
    if (container && !container.exited) container.child.kill('SIGKILL');
    if (container) fs.rmSync(container.taskRoot, { recursive: true, force: true });
  }
}

/** Signals arrive asynchronously: waits (on Linux, up to a second) until the process is stopped, or running. */
async function stoppedState(child: ChildProcess, stopped: boolean): Promise<void> {
  if (process.platform !== 'linux' || child.pid === undefined) return;
  const deadline = Date.now() + 1000;
  while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
    let state: string | undefined;
    try {
      state = fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[0];
    } catch {
      return;
    }
    if ((state === 'T') === stopped) return;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function lambdaError(body: string): LambdaError {
  const parsed = parseJson(body) as Partial<LambdaError> | string;
  if (typeof parsed !== 'object' || parsed === null) {
    return { errorType: 'Runtime.Unknown', errorMessage: String(parsed) };
  }
  return {
    errorType: String(parsed.errorType ?? 'Error'),
    errorMessage: String(parsed.errorMessage ?? ''),
    trace: Array.isArray(parsed.trace) ? parsed.trace.map(String) : undefined,
  };
}
