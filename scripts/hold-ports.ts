/**
 * Runs a command while TCP ports on 127.0.0.1 are held, as other local Kafkas would hold them; CI uses it to
 * show that the tests and the demo never depend on a fixed port being free.
 *
 *   tsx scripts/hold-ports.ts 9092 19092 29092-29097 -- npm test
 *
 * A port that something else already holds counts as held. Exits with the command's exit code.
 */
import { spawn } from 'child_process';
import * as net from 'net';

function parsePorts(specs: readonly string[]): number[] {
  return specs.flatMap((spec) => {
    const match = /^(\d+)(?:-(\d+))?$/.exec(spec);
    const first = match ? Number(match[1]) : NaN;
    const last = match?.[2] ? Number(match[2]) : first;
    if (!match || first < 1 || last > 65535 || last < first) {
      throw new Error(`"${spec}" is not a port or a port range like 29092-29097`);
    }
    return Array.from({ length: last - first + 1 }, (_, i) => first + i);
  });
}

/** Listens on `port`; resolves undefined when something else already holds it. */
function hold(port: number): Promise<net.Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => socket.destroy());
    server.once('error', (error: NodeJS.ErrnoException) =>
      error.code === 'EADDRINUSE' ? resolve(undefined) : reject(error),
    );
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(server));
  });
}

async function main(argv: string[]): Promise<number> {
  const separator = argv.indexOf('--');
  if (separator < 1 || separator === argv.length - 1) {
    throw new Error('usage: tsx scripts/hold-ports.ts PORT|FIRST-LAST... -- COMMAND [ARGS...]');
  }
  const ports = parsePorts(argv.slice(0, separator));
  const [command, ...args] = argv.slice(separator + 1);
  const servers = await Promise.all(ports.map(hold));
  const taken = ports.filter((_, i) => servers[i] === undefined);
  process.stderr.write(
    `== holding 127.0.0.1 ports ${ports.join(', ')}${taken.length ? ` (already held elsewhere: ${taken.join(', ')})` : ''} while running: ${[command, ...args].join(' ')}\n`,
  );
  const child = spawn(command, args, { stdio: 'inherit' });
  for (const name of ['SIGINT', 'SIGTERM'] as const) process.on(name, () => child.kill(name));
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status, signal) => resolve(status ?? (signal ? 128 : 1)));
  });
  await Promise.all(
    servers.map((server) => (server ? new Promise((resolve) => server.close(resolve)) : Promise.resolve())),
  );
  return code;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
