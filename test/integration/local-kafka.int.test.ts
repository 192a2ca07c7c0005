import * as fs from 'fs';
import type { KafkaMessage } from 'kafkajs';
import { LocalKafkaCluster, isOurProcess, pidsUsing, startKafka, statePath } from 'msk-twin';
import { eventually, kafkaClient, testBrokers, uniqueName, withAdmin, within } from './kafka-helpers';

describe('the shared local Kafka from globalSetup', () => {
  test('a kafkajs client produces a message and reads it back', async () => {
    const kafka = kafkaClient(testBrokers());
    const topic = uniqueName('roundtrip');
    await withAdmin(kafka, (admin) =>
      admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true }),
    );

    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const [sent] = await producer
      .send({ topic, acks: -1, messages: [{ key: 'greeting', value: 'Hello MSK' }] })
      .finally(() => producer.disconnect());

    const consumer = kafka.consumer({ groupId: uniqueName('roundtrip'), maxWaitTimeInMs: 200 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      const received = await within(
        20_000,
        'reading the message back',
        new Promise<KafkaMessage>((resolve, reject) => {
          consumer
            .run({
              eachMessage: ({ message }) => {
                resolve(message);
                return Promise.resolve();
              },
            })
            .catch(reject);
        }),
      );
      expect({ key: received.key?.toString(), value: received.value?.toString(), offset: received.offset }).toEqual({
        key: 'greeting',
        value: 'Hello MSK',
        offset: sent.baseOffset,
      });
    } finally {
      await consumer.disconnect();
    }
  }, 30_000);
});

describe('a three-broker local cluster', () => {
  let cluster: LocalKafkaCluster | undefined;
  const topic = uniqueName('replicated');

  const running = (): LocalKafkaCluster => {
    if (!cluster) throw new Error('the three-broker cluster did not start');
    return cluster;
  };
  const partitionZero = async () => {
    const metadata = await withAdmin(kafkaClient(running().bootstrapBrokers), (admin) =>
      admin.fetchTopicMetadata({ topics: [topic] }),
    );
    const partition = metadata.topics[0].partitions[0];
    return { leader: partition.leader, replicas: [...partition.replicas].sort(), isr: [...partition.isr].sort() };
  };

  beforeAll(async () => {
    cluster = await startKafka({ brokers: 3 });
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  test('comes up with three brokers, and a replication-factor-3 topic has all three replicas in sync', async () => {
    const kafka = kafkaClient(running().bootstrapBrokers);
    expect(running().bootstrapBrokers).toBe(
      running()
        .brokers.map((b) => `127.0.0.1:${b.port}`)
        .join(','),
    );
    // Not waitForLeaders: kafkajs then reads metadata from one broker right away and gives up on
    // UNKNOWN_TOPIC_OR_PARTITION when that broker has not caught up yet (it retries only LEADER_NOT_AVAILABLE).
    const described = await withAdmin(kafka, async (admin) => {
      await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 3 }], waitForLeaders: false });
      return admin.describeCluster();
    });
    expect(described.brokers.map((b) => b.nodeId).sort()).toEqual([1, 2, 3]);

    const partition = await eventually('all three replicas in sync', 30_000, async () => {
      const p = await partitionZero();
      return p.isr.length === 3 ? p : undefined;
    });
    expect(partition.replicas).toEqual([1, 2, 3]);
    expect(partition.isr).toEqual([1, 2, 3]);
  }, 60_000);

  test('after SIGKILL of the partition leader, the topic still takes writes with acks=all', async () => {
    const { leader } = await partitionZero();
    const pid = running().brokers.find((b) => b.id === leader)?.pid;
    expect(pid).toEqual(expect.any(Number));

    await running().kill(leader);
    expect(isOurProcess(pid as number, running().dir)).toBe(false);

    // The leader stays in the metadata until the controller fences it (broker.session.timeout.ms, 6 s here).
    // A client that meets the dead leader before then gives up after its retries; like any real caller, the
    // test then tries again with a fresh producer until the write is acknowledged or the deadline passes.
    const written = await eventually('an acks=all write with one broker killed', 45_000, async () => {
      const producer = kafkaClient(running().bootstrapBrokers, 'kill-test', {
        initialRetryTime: 300,
        maxRetryTime: 5_000,
        retries: 8,
      }).producer({ allowAutoTopicCreation: false });
      try {
        await producer.connect();
        const [result] = await producer.send({ topic, acks: -1, messages: [{ value: 'still writable' }] });
        return result;
      } finally {
        await producer.disconnect().catch(() => undefined);
      }
    });
    expect(written.errorCode).toBe(0);

    // min.insync.replicas is 2: the write above needed both survivors, and the killed broker has left the ISR.
    const after = await partitionZero();
    expect(after.leader).not.toBe(leader);
    expect(after.isr).toEqual([1, 2, 3].filter((id) => id !== leader));
  }, 90_000);

  test('start(id) brings a killed broker back on its old data, and it rejoins the ISR', async () => {
    const down = running().brokers.filter((b) => b.pid === null);
    expect(down).toHaveLength(1);
    await running().start(down[0].id);

    const partition = await eventually('the restarted broker back in the ISR', 45_000, async () => {
      const p = await partitionZero();
      return p.isr.length === 3 ? p : undefined;
    });
    expect(partition.isr).toEqual([1, 2, 3]);
  }, 120_000);

  test('stop() ends every broker process and removes the temp dir and state file', async () => {
    const { dir } = running();
    const pids = running().brokers.map((b) => b.pid);
    expect(pidsUsing(dir).sort()).toEqual([...pids].sort());
    const { port } = running();
    expect(fs.existsSync(statePath(port))).toBe(true);

    await running().stop();

    expect(pidsUsing(dir)).toEqual([]);
    expect(fs.existsSync(dir)).toBe(false);
    expect(fs.existsSync(statePath(port))).toBe(false);
  }, 60_000);
});
