/**
 * `npm run kafka:status` on a real three-broker cluster: a killed or paused broker is never counted as
 * answering, although the cluster's metadata keeps listing a killed broker until the controller fences it.
 */
import * as net from 'node:net';
import { clusterStatus, formatStatus, type LocalKafkaCluster, startKafka } from 'msk-twin';

jest.setTimeout(120000);

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The first port of `count` consecutive free ones, so that this cluster clashes with no other broker. */
async function freePortBlock(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 30000 + Math.floor(Math.random() * 25000);
    const free = await Promise.all(Array.from({ length: count }, (_, i) => bindable(base + i)));
    if (free.every(Boolean)) return base;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

describe('kafka:status', () => {
  let cluster: LocalKafkaCluster;

  beforeAll(async () => {
    cluster = await startKafka({ brokers: 3, port: await freePortBlock(6) });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  test('counts only the brokers that answer themselves: a killed one is down although metadata still lists it', async () => {
    const healthy = await clusterStatus(cluster);
    expect(healthy.brokers.map((b) => [b.id, b.process, b.answering])).toEqual([
      [1, 'running', true],
      [2, 'running', true],
      [3, 'running', true],
    ]);
    expect(formatStatus(healthy)[0]).toMatch(
      /\(3 of 3 brokers answering, controller [123]; started by a test run or the demo\)$/,
    );

    // The surviving brokers' metadata names broker 2 until it is fenced (broker.session.timeout.ms, 6 s here).
    await cluster.kill(2);
    // The survivors may be electing a new controller just then: give each a few seconds to answer.
    const status = await clusterStatus(cluster, 5000);
    expect(status.brokers.map((b) => [b.id, b.process, b.answering])).toEqual([
      [1, 'running', true],
      [2, 'down', false],
      [3, 'running', true],
    ]);
    const lines = formatStatus(status);
    expect(lines[0]).toMatch(/\(2 of 3 brokers answering/);
    expect(lines[2]).toBe(`  broker 2 127.0.0.1:${cluster.brokers[1].port} down`);
  });

  test('a paused broker is shown paused and not answering', async () => {
    await cluster.pause(3);
    try {
      const status = await clusterStatus(cluster, 1000);
      const broker3 = status.brokers.find((b) => b.id === 3);
      expect(broker3).toMatchObject({ process: 'paused', answering: false, pid: expect.any(Number) });
      expect(formatStatus(status)[3]).toMatch(/^ {2}broker 3 127\.0\.0\.1:\d+ paused \(pid \d+\), not answering$/);
    } finally {
      await cluster.resume(3);
    }
  });
});
