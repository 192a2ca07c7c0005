/**
 * The `npm run kafka:*` commands as a user runs them (scripts/kafka/cli.ts), on a free port rather than 9092 so
 * that they never meet a broker someone else runs: start, status, broker kill and start, fetch, stop; and start,
 * status and stop of the local MSK twin (`--security iam`).
 */
import { spawnSync } from 'node:child_process';
import * as net from 'node:net';
import { join } from 'node:path';
import { LocalKafkaCluster, defaultKafkaVersion } from 'msk-twin';

jest.setTimeout(120000);

const ROOT = join(__dirname, '..', '..');
const VERSION = defaultKafkaVersion();
const V = VERSION.replace(/\./g, '\\.');

function cli(...args: string[]) {
  return spawnSync(join(ROOT, 'node_modules', '.bin', 'tsx'), ['scripts/kafka/cli.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
  });
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The first of `count` consecutive free ports: a broker needs 2 (plaintext, controller), a twin broker 3. */
async function freePorts(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 30000 + Math.floor(Math.random() * 25000);
    let free = true;
    for (let i = 0; i < count && free; i++) free = await bindable(port + i);
    if (free) return port;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

describe('npm run kafka:* commands', () => {
  let port: number;

  beforeAll(async () => {
    port = await freePorts(2);
  });
  afterAll(async () => {
    // A failed test must not leave a detached broker running.
    await LocalKafkaCluster.attach(port)?.stop();
  });

  test('kafka:start runs a broker in the background, prints its address and says how to stop it', () => {
    const started = cli('start', '--port', String(port));
    expect(started.status).toBe(0);
    expect(started.stdout).toBe(`127.0.0.1:${port}\n`);
    expect(started.stderr).toContain(`stop with: npm run kafka:stop -- --port ${port}`);
    expect(LocalKafkaCluster.attach(port)?.detached).toBe(true);
  });

  test('kafka:status shows it answering, started by kafka:start', () => {
    const status = cli('status');
    expect(status.status).toBe(0);
    expect(status.stdout).toContain(
      `Kafka ${VERSION} on port ${port}: 127.0.0.1:${port} (1 of 1 broker answering, controller 1; started by npm run kafka:start)`,
    );
    expect(status.stdout).toMatch(new RegExp(`  broker 1 127\\.0\\.0\\.1:${port} running \\(pid \\d+\\), answering`));
  });

  test('kafka:broker -- kill 1 takes the broker down, status says so, and start brings it back', () => {
    expect(cli('broker', 'kill', '1', '--port', String(port)).status).toBe(0);
    const down = cli('status').stdout;
    expect(down).toContain(`Kafka ${VERSION} on port ${port}: 127.0.0.1:${port} (not answering;`);
    expect(down).toContain(`  broker 1 127.0.0.1:${port} down\n`);
    expect(cli('broker', 'start', '1', '--port', String(port)).status).toBe(0);
    expect(cli('status').stdout).toContain(`127.0.0.1:${port} (1 of 1 broker answering`);
  });

  test('kafka:fetch has the jars of a version ready', () => {
    const fetched = cli('fetch', '--version', VERSION);
    expect(fetched.status).toBe(0);
    expect(fetched.stderr).toMatch(new RegExp(`^Kafka ${V}: \\d+ jars ready in [\\d.]+ s`, 'm'));
  });

  test('kafka:stop -- --port N stops it and removes its state', () => {
    const stopped = cli('stop', '--port', String(port));
    expect(stopped.status).toBe(0);
    expect(stopped.stderr).toMatch(new RegExp(`^Stopped Kafka ${V} on port ${port} in [\\d.]+ s`));
    expect(LocalKafkaCluster.attach(port)).toBeUndefined();
  });
});

describe('npm run kafka:start -- --security iam (the local MSK twin)', () => {
  let port: number;

  beforeAll(async () => {
    port = await freePorts(3);
  });
  afterAll(async () => {
    await LocalKafkaCluster.attach(port)?.stop();
  });

  test('starts the twin in the background and prints its IAM listener, CA file and credential registry', () => {
    const started = cli('start', '--security', 'iam', '--port', String(port));
    expect(started.status).toBe(0);
    const bootstrap = started.stdout.trim();
    expect(bootstrap).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(started.stderr).toContain(`local MSK twin: IAM listener (TLS + SASL/OAUTHBEARER) ${bootstrap}, region `);
    expect(started.stderr).toMatch(/CA certificate: \S+\.pem /);
    expect(started.stderr).toContain(`stop with: npm run kafka:stop -- --port ${port}`);

    const status = cli('status');
    expect(status.status).toBe(0);
    expect(status.stdout).toContain(`Kafka ${VERSION} on port ${port}:`);
    expect(status.stdout).toContain(`local MSK twin: IAM listener (TLS + SASL/OAUTHBEARER) ${bootstrap}`);
    expect(status.stdout).toContain('credential registry: ');
  });

  test('kafka:stop -- --port N stops it', () => {
    const stopped = cli('stop', '--port', String(port));
    expect(stopped.status).toBe(0);
    expect(stopped.stderr).toMatch(new RegExp(`^Stopped Kafka ${V} on port ${port} in [\\d.]+ s`));
    expect(LocalKafkaCluster.attach(port)).toBeUndefined();
  });
});
