import * as net from 'net';
import { freePorts, isBindFailure, portBindable, portFree } from 'msk-twin';
import { PortInUseError, startKafka } from 'msk-twin';

/** Listens on `port` of 127.0.0.1 (0: any) until the returned close() is called. */
async function hold(port = 0): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: '127.0.0.1', exclusive: true }, resolve);
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('free ports for local Kafka listeners', () => {
  test('freePorts returns the asked number of distinct ports, each bindable once released', async () => {
    const ports = await freePorts(6);
    expect(ports).toHaveLength(6);
    expect(new Set(ports).size).toBe(6);
    for (const port of ports) {
      expect(port).toBeGreaterThan(0);
      expect(await portBindable(port)).toBe(true);
    }
  });

  test('portBindable and portFree report a held port as taken, and free again once released', async () => {
    const held = await hold();
    try {
      expect(await portBindable(held.port)).toBe(false);
      expect(await portFree(held.port, 300)).toBe(false);
    } finally {
      await held.close();
    }
    expect(await portFree(held.port, 300)).toBe(true);
  });

  test.each([
    [
      'org.apache.kafka.common.KafkaException: Socket server failed to bind to 127.0.0.1:9092: Address already in use.',
      true,
    ],
    ['Caused by: java.net.BindException: Address already in use', true],
    ['Kafka 3.9.2 broker 1 exited during startup', false],
  ])('isBindFailure(%j) is %s', (text, expected) => {
    expect(isBindFailure(text)).toBe(expected);
  });

  test('a fixed port that is taken fails the start with one line naming the port, before any JVM starts', async () => {
    const held = await hold();
    try {
      const start = startKafka({ brokers: 1, port: held.port });
      await expect(start).rejects.toBeInstanceOf(PortInUseError);
      await expect(start).rejects.toThrow(
        `Port ${held.port} on 127.0.0.1 is already in use (Kafka on port ${held.port} needs ${held.port}-${held.port + 1}); ` +
          'local Kafkas started from this repo: npm run kafka:status',
      );
    } finally {
      await held.close();
    }
  }, 15_000);
});
