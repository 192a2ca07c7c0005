/** Loads the bundled handlers (dist/lambda/<name>/index.js, built exactly as CDK bundles them) for tests. */
import { existsSync } from 'node:fs';
import { buildLambdas, bundlePath } from '../../scripts/build-lambdas';

let built: Promise<unknown> | undefined;

/** Builds the bundles once per test worker. */
export function ensureBundles(): Promise<unknown> {
  built ??= buildLambdas(true);
  return built;
}

/**
 * A fresh instance of a bundled handler module with the given environment, as a new Lambda container would
 * load it (module scope runs again). The caller closes its connections.
 */
export function loadBundle<T>(name: string, env: Record<string, string>): T {
  const file = bundlePath(name);
  if (!existsSync(file)) throw new Error(`${file} is missing: call ensureBundles() first`);
  const saved: Record<string, string | undefined> = {};
  for (const key of Object.keys(env)) {
    saved[key] = process.env[key];
    process.env[key] = env[key];
  }
  try {
    // A fresh module registry, so module scope runs again like a new container.
    let loaded: T | undefined;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      loaded = require(file) as T;
    });
    return loaded as T;
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

export type ProducerModule = typeof import('../../lambda/producer');
export type ConsumerModule = typeof import('../../lambda/consumer');

/**
 * Captures (and keeps off the console) the structured log lines the handlers write while `fn` runs: INFO and
 * DEBUG on stdout, WARN and ERROR on stderr, as the Lambda runtime would send them all to CloudWatch Logs.
 * Tests that expect a failure assert on the lines instead of printing them.
 */
export async function captureLogs<T>(
  fn: (lines: readonly Record<string, unknown>[]) => Promise<T>,
): Promise<{ result: T; lines: Record<string, unknown>[] }> {
  const lines: Record<string, unknown>[] = [];
  const streams = [process.stdout, process.stderr];
  const originals = streams.map((stream) => stream.write.bind(stream));
  streams.forEach((stream, i) => {
    stream.write = (chunk: string | Uint8Array, ...rest: unknown[]) => {
      const other: string[] = [];
      for (const line of chunk.toString().split('\n')) {
        if (line.startsWith('{"level"')) lines.push(JSON.parse(line) as Record<string, unknown>);
        else if (line !== '') other.push(line);
      }
      // Anything that is not a handler's log line (jest's own output) still reaches the console.
      if (other.length > 0) return (originals[i] as (...args: unknown[]) => boolean)(`${other.join('\n')}\n`, ...rest);
      return true;
    };
  });
  try {
    return { result: await fn(lines), lines };
  } finally {
    streams.forEach((stream, i) => (stream.write = originals[i]));
  }
}

/**
 * Waits until no log line has arrived for `quietMs` (at most `maxMs`): a client that lost its broker logs its
 * reconnect attempts for a moment after the call that failed.
 */
export async function untilQuiet(lines: readonly unknown[], quietMs = 1000, maxMs = 5000): Promise<void> {
  const deadline = Date.now() + maxMs;
  let seen = -1;
  while (seen !== lines.length && Date.now() < deadline) {
    seen = lines.length;
    await new Promise((resolve) => setTimeout(resolve, quietMs));
  }
}
