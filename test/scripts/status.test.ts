import { formatStatus, stopTargets, type ClusterStatus } from 'msk-twin';

describe('kafka:stop targets', () => {
  const recorded = [
    { port: 9092, detached: true },
    { port: 9192, detached: true },
    { port: 19092, detached: false },
  ];

  test('with no option, every Kafka that kafka:start left running, on any port, and none a test run owns', () => {
    expect(stopTargets(recorded, {})).toEqual([9092, 9192]);
  });

  test('--port N stops that one, --all every recorded one', () => {
    expect(stopTargets(recorded, { port: 19092 })).toEqual([19092]);
    expect(stopTargets(recorded, { all: true })).toEqual([9092, 9192, 19092]);
  });
});

describe('kafka:status lines', () => {
  const base: ClusterStatus = {
    version: '3.9.2',
    port: 9092,
    bootstrapBrokers: '127.0.0.1:9092,127.0.0.1:9093,127.0.0.1:9094',
    dir: '/tmp/hello-msk-kafka-9092-x',
    detached: true,
    controller: 1,
    brokers: [
      { id: 1, address: '127.0.0.1:9092', process: 'running', pid: 11, answering: true },
      { id: 2, address: '127.0.0.1:9093', process: 'down', pid: null, answering: false },
      { id: 3, address: '127.0.0.1:9094', process: 'running', pid: 13, answering: false },
    ],
  };

  test('count only answering brokers and say who started the cluster', () => {
    expect(formatStatus(base)).toEqual([
      'Kafka 3.9.2 on port 9092: 127.0.0.1:9092,127.0.0.1:9093,127.0.0.1:9094 (1 of 3 brokers answering, controller 1; started by npm run kafka:start)',
      '  broker 1 127.0.0.1:9092 running (pid 11), answering',
      '  broker 2 127.0.0.1:9093 down',
      '  broker 3 127.0.0.1:9094 running (pid 13), not answering',
      '  dir: /tmp/hello-msk-kafka-9092-x',
    ]);
  });

  test('say "not answering" when no broker answers', () => {
    const none = { ...base, controller: null, brokers: base.brokers.map((b) => ({ ...b, answering: false })) };
    expect(formatStatus(none)[0]).toMatch(/\(not answering; started by npm run kafka:start\)$/);
  });
});
