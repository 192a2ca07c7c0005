/**
 * The runtime loop inside one Lambda-like container (a child process that lambda-runner.ts starts on Node.js
 * 24): load the handler from LAMBDA_TASK_ROOT, then repeatedly take the next event from the Runtime API at
 * AWS_LAMBDA_RUNTIME_API, call the handler and post its result or error, as Lambda's Node.js runtime does.
 *
 * Node.js runs this file directly (type stripping: annotations only, no imports), so that nothing of the
 * parent's modules is loaded into the function's process.
 */
const http = process.getBuiltinModule('node:http');
const nodePath = process.getBuiltinModule('node:path');
const { createRequire } = process.getBuiltinModule('node:module');
const net = process.getBuiltinModule('node:net');

interface FormattedError {
  errorType: string;
  errorMessage: string;
  trace: string[];
}

interface RuntimeResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

type Handler = (event: unknown, context: Record<string, unknown>) => unknown;

const API = process.env.AWS_LAMBDA_RUNTIME_API ?? '';
const PREFIX = '/2018-06-01/runtime';
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const [apiHost, apiPort] = API.split(':');

/** The Runtime API's shape of an error, as Lambda's Node.js runtime reports it (errorType is the error's name). */
function formatError(error: unknown, fallbackType?: string): FormattedError {
  if (error instanceof Error) {
    return {
      errorType: fallbackType ?? error.name,
      errorMessage: error.message,
      trace: (error.stack ?? '').split('\n'),
    };
  }
  return { errorType: fallbackType ?? typeof error, errorMessage: String(error), trace: [] };
}

function call(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  return new Promise<RuntimeResponse>((resolve, reject) => {
    const request = http.request(
      {
        host: apiHost,
        port: Number(apiPort),
        method,
        path: `${PREFIX}${path}`,
        agent,
        headers: { 'content-type': 'application/json', ...headers },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text }));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

async function postError(path: string, error: FormattedError): Promise<void> {
  await call('POST', path, JSON.stringify(error), { 'lambda-runtime-function-error-type': error.errorType });
}

let currentRequestId: string | undefined;

/** An error outside the handler's promise ends the container, after reporting it for the current request. */
function fatal(error: unknown, type?: string): void {
  const formatted = formatError(error, type);
  process.stderr.write(`${JSON.stringify({ level: 'ERROR', message: 'Uncaught error', ...formatted })}\n`);
  const path = currentRequestId ? `/invocation/${currentRequestId}/error` : '/init/error';
  void postError(path, formatted).finally(() => process.exit(129));
}

/**
 * Broker ports the function's security groups do not let it reach (the runner's first argument, JSON). In a VPC such
 * a connection's SYN is dropped: the client's connect never completes, and the client gives up on its own timeout,
 * or Linux after its SYN retries (net.ipv4.tcp_syn_retries 6: about 127 s).
 */
const unreachablePorts = new Set<number>(JSON.parse(process.argv[2] ?? '[]') as number[]);
/** `host:port` to a port on 127.0.0.1 (the runner's second argument, JSON): see LambdaRunnerOptions.routes. */
const routes = new Map(Object.entries(JSON.parse(process.argv[3] ?? '{}') as Record<string, number>));
const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;
const SYN_RETRIES_MS = 127_000;

if (unreachablePorts.size > 0 || routes.size > 0) {
  // Called with each socket as `this` below.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const connect = net.Socket.prototype.connect;
  // net.connect, tls.connect and socket.connect all end here, with (options[, cb]), (port[, host][, cb]) or the
  // array net.connect normalizes them to.
  net.Socket.prototype.connect = function (this: InstanceType<typeof net.Socket>, ...args: unknown[]) {
    const first = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
    const options = (typeof first === 'object' && first !== null ? first : { port: first, host: args[1] }) as {
      port?: unknown;
      host?: unknown;
    };
    const port = Number(options.port);
    const host = typeof options.host === 'string' ? options.host : 'localhost';
    const route = routes.get(`${host}:${port}`);
    if (route !== undefined) {
      const rerouted = { ...options, host: '127.0.0.1', port: route };
      // net.connect's normalized array carries a marker of its own: changed in place, not copied.
      if (Array.isArray(args[0])) {
        (args[0] as unknown[])[0] = rerouted;
        return connect.apply(this, args as never);
      }
      const rest = typeof args[0] === 'object' ? args.slice(1) : args.slice(2);
      return connect.apply(this, [rerouted, ...rest] as never);
    }
    if (!unreachablePorts.has(port) || !LOOPBACK.test(host)) return connect.apply(this, args as never);
    // Connecting, and never connected: writes wait, as on a socket whose SYN goes unanswered.
    (this as { connecting: boolean }).connecting = true;
    const timer = setTimeout(() => {
      const error = Object.assign(new Error(`connect ETIMEDOUT ${host}:${port}`), {
        code: 'ETIMEDOUT',
        errno: -110,
        syscall: 'connect',
        address: host,
        port,
      });
      this.destroy(error);
    }, SYN_RETRIES_MS);
    timer.unref();
    this.once('close', () => clearTimeout(timer));
    return this;
  };
}

process.on('uncaughtException', (error) => fatal(error));
process.on('unhandledRejection', (reason) => fatal(reason, 'Runtime.UnhandledPromiseRejection'));

function loadHandler(): Handler {
  const spec = process.env._HANDLER ?? '';
  const dot = spec.lastIndexOf('.');
  const moduleName = spec.slice(0, dot);
  const exportName = spec.slice(dot + 1);
  const file = nodePath.join(process.env.LAMBDA_TASK_ROOT ?? '.', moduleName);
  let loaded: Record<string, unknown>;
  try {
    loaded = createRequire(file)(file) as Record<string, unknown>;
  } catch (error) {
    const missing =
      (error as { code?: string }).code === 'MODULE_NOT_FOUND' &&
      (error as Error).message.startsWith(`Cannot find module '${file}'`);
    throw missing
      ? Object.assign(new Error(`Cannot find module '${moduleName}'`), { name: 'Runtime.ImportModuleError' })
      : error;
  }
  const handler = loaded[exportName];
  if (typeof handler !== 'function') {
    throw Object.assign(new Error(`${spec} is undefined or not exported`), { name: 'Runtime.HandlerNotFound' });
  }
  return handler as Handler;
}

function header(response: RuntimeResponse, name: string): string {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : (value ?? '');
}

async function main(): Promise<void> {
  let handler: Handler;
  try {
    handler = loadHandler();
  } catch (error) {
    const formatted = formatError(error);
    process.stderr.write(`${JSON.stringify({ level: 'ERROR', message: 'Init failed', ...formatted })}\n`);
    await postError('/init/error', formatted);
    process.exit(1);
  }
  for (;;) {
    const next = await call('GET', '/invocation/next');
    const requestId = header(next, 'lambda-runtime-aws-request-id');
    const deadline = Number(header(next, 'lambda-runtime-deadline-ms'));
    currentRequestId = requestId;
    const context = {
      awsRequestId: requestId,
      invokedFunctionArn: header(next, 'lambda-runtime-invoked-function-arn'),
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => deadline - Date.now(),
    };
    try {
      const result = await handler(JSON.parse(next.body) as unknown, context);
      await call('POST', `/invocation/${requestId}/response`, JSON.stringify(result ?? null));
    } catch (error) {
      await postError(`/invocation/${requestId}/error`, formatError(error));
    }
    currentRequestId = undefined;
  }
}

main().catch((error: unknown) => fatal(error, 'Runtime.ExitError'));
