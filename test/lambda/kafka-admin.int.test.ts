/**
 * The bundled kafka-admin handler (what `npm run kafka -- topics|groups --profile P` invokes on AWS) against
 * the real local Kafka broker.
 */
import type { Admin, Consumer } from 'kafkajs';
import { kafkaClient, testBrokers, uniqueName, within } from '../integration/kafka-helpers';
import { captureLogs, ensureBundles, loadBundle } from './bundles';

type AdminModule = typeof import('../../lambda/kafka-admin');

jest.setTimeout(60000);

let admin: Admin;
let fn: AdminModule;

beforeAll(async () => {
  await ensureBundles();
  admin = kafkaClient(testBrokers()).admin();
  await admin.connect();
  fn = loadBundle<AdminModule>('kafka-admin', { KAFKA_BROKERS: testBrokers(), KAFKA_AUTH: 'none' });
});
afterAll(async () => {
  await fn.close();
  await admin.disconnect();
});

async function createTopic(partitions: number, config: Record<string, string> = {}): Promise<string> {
  const topic = uniqueName('admin');
  await admin.createTopics({
    topics: [
      {
        topic,
        numPartitions: partitions,
        configEntries: Object.entries(config).map(([name, value]) => ({ name, value })),
      },
    ],
    waitForLeaders: true,
  });
  return topic;
}

/** Writes `count` messages to partition 0. */
async function produce(topic: string, count: number): Promise<void> {
  const producer = kafkaClient(testBrokers()).producer();
  await producer.connect();
  await producer.send({
    topic,
    messages: Array.from({ length: count }, (_, i) => ({ value: `m${i}`, partition: 0 })),
  });
  await producer.disconnect();
}

describe('kafka-admin handler', () => {
  test('list-topics lists every topic, sorted', async () => {
    const a = await createTopic(1);
    const b = await createTopic(1);
    const { result } = await captureLogs(() => fn.handler({ action: 'list-topics' }));
    expect(result.action).toBe('list-topics');
    const topics = (result as { topics: string[] }).topics;
    expect(topics).toEqual(expect.arrayContaining([a, b]));
    expect(topics).toEqual([...topics].sort());
  });

  test('describe-topics shows partitions, leaders, replicas, ISR and only the topic’s own overrides', async () => {
    const topic = await createTopic(3, { 'retention.ms': '3600000', 'cleanup.policy': 'compact' });
    const { result } = await captureLogs(() => fn.handler({ action: 'describe-topics', topics: [topic] }));
    expect(result).toEqual({
      action: 'describe-topics',
      topics: [
        {
          name: topic,
          partitionCount: 3,
          replicationFactor: 1,
          partitions: [0, 1, 2].map((partition) => ({ partition, leader: 1, replicas: [1], isr: [1] })),
          configs: { 'cleanup.policy': 'compact', 'retention.ms': '3600000' },
        },
      ],
    });
  });

  test('describe-topics of a topic that does not exist says so in one line, at once', async () => {
    const started = Date.now();
    await expect(fn.handler({ action: 'describe-topics', topics: ['no-such-topic'] })).rejects.toThrow(
      new Error("Topic 'no-such-topic' does not exist"),
    );
    expect(Date.now() - started).toBeLessThan(3000);
  });

  test('list-groups and describe-group show a group with committed offsets, its lag and no members', async () => {
    const topic = await createTopic(2);
    const groupId = uniqueName('admin-group');
    await produce(topic, 5);
    await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '3' }] });

    const listed = (await captureLogs(() => fn.handler({ action: 'list-groups' }))).result;
    expect((listed as { groups: { groupId: string }[] }).groups).toContainEqual({ groupId, protocolType: 'consumer' });

    const { result } = await captureLogs(() => fn.handler({ action: 'describe-group', groupId }));
    expect(result).toEqual({
      action: 'describe-group',
      group: {
        groupId,
        state: 'Empty',
        protocolType: 'consumer',
        protocol: '',
        members: [],
        offsets: [
          {
            topic,
            partition: 0,
            currentOffset: '3',
            logEndOffset: '5',
            lag: '2',
            memberId: null,
            clientHost: null,
            clientId: null,
          },
          {
            topic,
            partition: 1,
            currentOffset: null,
            logEndOffset: '0',
            lag: null,
            memberId: null,
            clientHost: null,
            clientId: null,
          },
        ],
      },
    });
  });

  test('describe-group shows a running member and the partitions assigned to it', async () => {
    const topic = await createTopic(2);
    const groupId = uniqueName('admin-live');
    const consumer: Consumer = kafkaClient(testBrokers(), 'admin-test-member').consumer({ groupId });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic] });
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.run({ eachMessage: async () => undefined });
    try {
      await within(20000, 'the group join', joined);
      const { result } = await captureLogs(() => fn.handler({ action: 'describe-group', groupId }));
      const group = (result as { group: { state: string; members: unknown[]; offsets: unknown[] } }).group;
      expect(group.state).toBe('Stable');
      expect(group.members).toEqual([
        {
          memberId: expect.stringMatching(/^admin-test-member-/),
          clientId: 'admin-test-member',
          clientHost: expect.stringMatching(/127\.0\.0\.1/),
          assignment: [{ topic, partitions: [0, 1] }],
        },
      ]);
      expect(group.offsets).toEqual(
        [0, 1].map((partition): unknown =>
          expect.objectContaining({
            topic,
            partition,
            currentOffset: null,
            clientId: 'admin-test-member',
            memberId: expect.stringMatching(/^admin-test-member-/),
          }),
        ),
      );
    } finally {
      await consumer.disconnect();
    }
  });

  test('describe-group of a group that does not exist says so in one line', async () => {
    await expect(fn.handler({ action: 'describe-group', groupId: 'no-such-group' })).rejects.toThrow(
      new Error("Consumer group 'no-such-group' does not exist"),
    );
  });

  test.each([
    [
      'no action',
      {},
      'event field action is missing; allowed: list-topics, describe-topics, list-groups, describe-group',
    ],
    [
      'an action that changes something',
      { action: 'create-topic' },
      'event field action is the string "create-topic"; allowed: list-topics, describe-topics, list-groups, describe-group',
    ],
    [
      'topics that are not a list',
      { action: 'describe-topics', topics: 'orders' },
      'event field topics is the string "orders"; allowed: an array of topic names',
    ],
    [
      'describe-group without a group',
      { action: 'describe-group' },
      'event field groupId is missing; describe-group needs the group to describe',
    ],
    [
      'an unknown field',
      { action: 'list-topics', topic: 'x' },
      'event field topic is not known; allowed fields: action, topics, groupId',
    ],
  ])('rejects %s before asking Kafka', async (_name, event, message) => {
    await expect(fn.handler(event)).rejects.toThrow(new Error(message));
  });

  test('an unreachable broker fails in seconds with one line naming the brokers, and logs the error', async () => {
    const unreachable = loadBundle<AdminModule>('kafka-admin', { KAFKA_BROKERS: '127.0.0.1:1', KAFKA_AUTH: 'none' });
    const started = Date.now();
    try {
      const outcome = await captureLogs(() =>
        unreachable.handler({ action: 'list-topics' }).then(
          () => undefined,
          (error: Error) => error,
        ),
      );
      expect(outcome.result?.message).toMatch(
        /^Could not list-topics: Kafka at 127\.0\.0\.1:1 \(auth none\) failed: .*(ECONNREFUSED|Connection error)/,
      );
      expect(outcome.lines).toContainEqual(
        expect.objectContaining({ level: 'ERROR', message: 'Admin request failed', action: 'list-topics' }),
      );
      expect(Date.now() - started).toBeLessThan(15000);
    } finally {
      await unreachable.close();
    }
  });
});
