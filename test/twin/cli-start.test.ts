import { spawn } from 'child_process';
import * as net from 'net';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [path.join(ROOT, 'scripts', 'kafka', 'cli.ts'), ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('kafka:start on a port that is taken', () => {
  test('exits 1 with one line naming the port and how to start on other ports, and prints no bootstrap string', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1' }, resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const result = await cli(['start', '--port', String(port)]);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr.trimEnd().split('\n')).toEqual([
        expect.stringMatching(/^Starting Apache Kafka \S+ \(KRaft, 1 broker\) on port \d+\.\.\.$/),
        `Port ${port} on 127.0.0.1 is already in use, so Kafka cannot start on port ${port} (1 broker(s) need ${port}-${port + 1}). ` +
          'Start it on other ports with: npm run kafka:start -- --port N (or --port 0 for any free ports); ' +
          'local Kafkas started from this repo: npm run kafka:status',
      ]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  }, 30_000);
});
