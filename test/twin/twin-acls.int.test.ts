/**
 * Authorization on the local MSK twin: a role signed in over IAM may do exactly what its IAM policy allows, and
 * nothing when nothing is allowed (the twin's authorizer evaluates the policy for every request). Each role is
 * new, so its policy is exactly the one the test sets.
 */
import { Kafka, logLevel, type Admin, type KafkaConfig } from 'kafkajs';
import { type Allow, roleAllowing } from 'msk-twin';
import { kafkaClient, uniqueName, within } from '../integration/kafka-helpers';
import { uniqueRole, useTwin } from '../integration/twin-helpers';

const twin = useTwin();

/** kafka-cluster:`action` on the topic (or, ending in `*`, on the topics with that prefix). */
const onTopic = (name: string, action: string): Allow => [action, 'topic', name];

/** A new role allowed Connect and `allows`; returns a kafkajs client signed in as it. */
async function roleWith(name: string, allows: Allow[], extra: Partial<KafkaConfig> = {}): Promise<Kafka> {
  const roleArn = uniqueRole(name);
  await twin().setPolicies([roleAllowing(roleArn, twin().clusterArn, allows)]);
  const credentials = twin().issueCredentials(roleArn, 900);
  return new Kafka({ ...twin().clientConfig(credentials, name), ...extra });
}

/** Sends one message with acks=all; resolves the error message, or undefined when the broker acknowledged it. */
async function produce(kafka: Kafka, topic: string): Promise<string | undefined> {
  const producer = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
  try {
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ value: 'Hello MSK' }] });
    return undefined;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await producer.disconnect();
  }
}

/** How many messages a topic holds, asked over the plaintext listener. */
async function messageCount(topic: string): Promise<number> {
  const admin = kafkaClient(twin().plaintextBrokers).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

/** The error types kafkajs reports for creating `topic` (it throws one aggregate error per request). */
async function creationErrors(admin: Admin, topic: string): Promise<string[]> {
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: false });
    return [];
  } catch (error) {
    return ((error as { errors?: { type?: string }[] }).errors ?? [{ type: (error as Error).message }]).map(
      (e) => e.type ?? 'unknown',
    );
  }
}

let plaintextAdmin: Admin;
const topics = {
  orders: uniqueName('orders'),
  prefixed: `${uniqueName('acl')}-`,
};

beforeAll(async () => {
  plaintextAdmin = kafkaClient(twin().plaintextBrokers).admin();
  await plaintextAdmin.connect();
  await plaintextAdmin.createTopics({
    topics: [
      topics.orders,
      `${topics.prefixed}eu`,
      `${topics.prefixed}us`,
      topics.prefixed.slice(0, -1),
      `other-${topics.prefixed}eu`,
    ].map((topic) => ({ topic, numPartitions: 1 })),
    waitForLeaders: true,
  });
});

afterAll(async () => {
  await plaintextAdmin.disconnect();
});

const TOPIC_DENIED = 'Not authorized to access topics: [Topic authorization failed]';

describe('producing', () => {
  test('a role with DescribeTopic but no WriteData gets an authorization error, and nothing is written', async () => {
    const kafka = await roleWith('describe-only', [onTopic(topics.orders, 'DescribeTopic')]);
    expect(await produce(kafka, topics.orders)).toBe(TOPIC_DENIED);
    expect(await messageCount(topics.orders)).toBe(0);
  });

  test('a role with WriteData and DescribeTopic on the topic produces', async () => {
    const kafka = await roleWith('writer', [
      onTopic(topics.orders, 'WriteData'),
      onTopic(topics.orders, 'DescribeTopic'),
    ]);
    expect(await produce(kafka, topics.orders)).toBeUndefined();
    expect(await messageCount(topics.orders)).toBe(1);
  });

  test('a role granted nothing but Connect is refused every topic', async () => {
    const kafka = await roleWith('connect-only', []);
    expect(await produce(kafka, topics.orders)).toBe(TOPIC_DENIED);
    const admin = kafka.admin();
    await admin.connect();
    try {
      expect(await creationErrors(admin, uniqueName('nope'))).toEqual(['TOPIC_AUTHORIZATION_FAILED']);
    } finally {
      await admin.disconnect();
    }
  });
});

describe('a topic ARN ending in *', () => {
  test('covers exactly the topics that start with the prefix', async () => {
    const prefix = topics.prefixed;
    const kafka = await roleWith('prefixed', [
      onTopic(`${prefix}*`, 'WriteData'),
      onTopic(`${prefix}*`, 'DescribeTopic'),
    ]);
    const outcomes = Object.fromEntries(
      await Promise.all(
        [`${prefix}eu`, `${prefix}us`, prefix.slice(0, -1), `other-${prefix}eu`].map(
          async (topic) => [topic, (await produce(kafka, topic)) ?? 'written'] as const,
        ),
      ),
    );
    expect(outcomes).toEqual({
      [`${prefix}eu`]: 'written',
      [`${prefix}us`]: 'written',
      [prefix.slice(0, -1)]: TOPIC_DENIED,
      [`other-${prefix}eu`]: TOPIC_DENIED,
    });
  });

  test('for CreateTopic lets a role create topics with the prefix and no others', async () => {
    const prefix = `${uniqueName('created')}-`;
    const kafka = await roleWith('creator', [
      onTopic(`${prefix}*`, 'CreateTopic'),
      onTopic(`${prefix}*`, 'DescribeTopic'),
    ]);
    const admin = kafka.admin();
    await admin.connect();
    try {
      await expect(
        admin.createTopics({ topics: [{ topic: `${prefix}mine`, numPartitions: 1 }], waitForLeaders: false }),
      ).resolves.toBe(true);
      expect(await creationErrors(admin, uniqueName('not-mine'))).toEqual(['TOPIC_AUTHORIZATION_FAILED']);
    } finally {
      await admin.disconnect();
    }
  });
});

describe('consuming', () => {
  test('a role with ReadData on the topic and AlterGroup on its group reads the messages, and cannot write', async () => {
    const topic = uniqueName('read');
    const group = uniqueName('readers');
    await plaintextAdmin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const writer = kafkaClient(twin().plaintextBrokers).producer();
    await writer.connect();
    await writer.send({ topic, acks: -1, messages: [{ value: 'Hello MSK' }] });
    await writer.disconnect();

    const kafka = await roleWith('reader', [
      onTopic(topic, 'ReadData'),
      onTopic(topic, 'DescribeTopic'),
      ['AlterGroup', 'group', group],
      ['DescribeGroup', 'group', group],
    ]);
    const consumer = kafka.consumer({ groupId: group, maxWaitTimeInMs: 100 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      const value = await within(
        20_000,
        'reading as the reader role',
        new Promise<string | undefined>((resolve, reject) => {
          consumer
            .run({ eachMessage: ({ message }) => Promise.resolve(resolve(message.value?.toString())) })
            .catch(reject);
        }),
      );
      expect(value).toBe('Hello MSK');
    } finally {
      await consumer.disconnect();
    }
    expect(await produce(kafka, topic)).toBe(TOPIC_DENIED);
  }, 30_000);

  test('without AlterGroup on its group, the role cannot join it', async () => {
    const topic = topics.orders;
    // kafkajs drops the broker's answer to FindCoordinator ("Failed to find group coordinator"); its debug log keeps it.
    const answers: string[] = [];
    const kafka = await roleWith('no-group', [onTopic(topic, 'ReadData'), onTopic(topic, 'DescribeTopic')], {
      logLevel: logLevel.DEBUG,
      logCreator:
        () =>
        ({ log }) => {
          const error = (log as { error?: { type?: string } }).error;
          if (log.message === 'Tried to find group coordinator' && error?.type) answers.push(error.type);
        },
    });
    const consumer = kafka.consumer({ groupId: uniqueName('forbidden'), retry: { retries: 0 } });
    // kafkajs reports a consumer's fatal errors as a CRASH event, not through run().
    const crashed = new Promise<Error>((resolve) =>
      consumer.on(consumer.events.CRASH, (event) => resolve(event.payload.error)),
    );
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({ eachMessage: () => Promise.resolve() });
      const error = await within(20_000, 'the consumer crashing', crashed);
      expect(error.message).toBe('Failed to find group coordinator');
      expect(new Set(answers)).toEqual(new Set(['GROUP_AUTHORIZATION_FAILED']));
    } finally {
      await consumer.disconnect();
    }
  }, 30_000);
});
