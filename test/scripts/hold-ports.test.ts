import { spawnSync } from 'child_process';
import * as path from 'path';
import { freePorts, portBindable } from 'msk-twin';

const ROOT = path.join(__dirname, '..', '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

/** Node code that exits 0 when every port it is given is taken on 127.0.0.1, and 3 otherwise. */
const PROBE = `
const net = require('net');
const bindable = (port) => new Promise((resolve) => {
  const server = net.createServer().once('error', () => resolve(false));
  server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
});
Promise.all(process.argv.slice(1).map(Number).map(bindable)).then((free) => process.exit(free.some(Boolean) ? 3 : 0));
`;

describe('hold-ports (CI: the tests run while other programs hold the usual Kafka ports)', () => {
  test('holds single ports and ranges while the command runs, releases them after, and passes on its exit code', async () => {
    const [a, b] = await freePorts(2);
    const held = spawnSync(
      TSX,
      ['scripts/hold-ports.ts', String(a), `${b}-${b}`, '--', process.execPath, '-e', PROBE, String(a), String(b)],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(held.stderr).toContain(`== holding 127.0.0.1 ports ${a}, ${b} while running:`);
    expect(held.status).toBe(0);
    expect(await portBindable(a)).toBe(true);
    expect(await portBindable(b)).toBe(true);

    const failing = spawnSync(
      TSX,
      ['scripts/hold-ports.ts', String(a), '--', process.execPath, '-e', 'process.exit(7)'],
      {
        cwd: ROOT,
        encoding: 'utf8',
      },
    );
    expect(failing.status).toBe(7);
  }, 30_000);

  test('rejects a malformed port range in one line', () => {
    const result = spawnSync(TSX, ['scripts/hold-ports.ts', '29097-29092', '--', 'true'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe('"29097-29092" is not a port or a port range like 29092-29097\n');
  }, 30_000);
});
