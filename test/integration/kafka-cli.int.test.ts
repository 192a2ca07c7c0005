/**
 * The `npm run kafka:*` commands as a user runs them (scripts/kafka/cli.ts), on a free port rather than 9092 so
 * that they never meet a broker someone else runs: start, status, broker kill and start, fetch, stop.
 */
import { spawnSync } from 'node:child_process';
import * as net from 'node:net';
import { join } from 'node:path';
import { LocalKafkaCluster, defaultKafkaVersion } from '../../scripts/kafka/local-kafka';

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

async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 30000 + Math.floor(Math.random() * 25000);
    if ((await bindable(port)) && (await bindable(port + 1))) return port;
  }
  throw new Error('no two consecutive free ports found');
}

describe('npm run kafka:* commands', () => {
  let port: number;

  beforeAll(async () => {
    port = await freePortPair();
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
