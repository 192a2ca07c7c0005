/**
 * TCP ports on 127.0.0.1 for local Kafka listeners: free ports chosen by the OS, and checks of fixed ones.
 *
 * Kafka itself accepts port 0 only for a listener nobody needs to know in advance; a KRaft quorum names its
 * controllers' ports in every node's configuration, so the ports are chosen here, before the brokers start.
 */
import * as net from 'net';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function listen(port: number): Promise<net.Server | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(undefined));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(server));
  });
}

function close(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** true when nothing listens on `port` of 127.0.0.1 (a bind succeeds right now). */
export async function portBindable(port: number): Promise<boolean> {
  const server = await listen(port);
  if (!server) return false;
  await close(server);
  return true;
}

/** Like portBindable, but allows a moment for a port that a just-stopped broker is still releasing. */
export async function portFree(port: number, graceMs = 3000): Promise<boolean> {
  const deadline = Date.now() + graceMs;
  for (;;) {
    if (await portBindable(port)) return true;
    if (Date.now() > deadline) return false;
    await sleep(200);
  }
}

/**
 * `count` distinct ports that the OS reports free: all are held open at once (so no two are the same), then
 * released for the brokers to bind. Another process may take one in between; callers that start a broker on
 * them retry with fresh ports when a bind fails (see isBindFailure).
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = await listen(0);
      if (!server) throw new Error('The OS found no free TCP port on 127.0.0.1');
      servers.push(server);
    }
    return servers.map((server) => (server.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map(close));
  }
}

/** true when a broker's log or output says a listener could not bind its port. */
export function isBindFailure(text: string): boolean {
  return /BindException|Address already in use/.test(text);
}
