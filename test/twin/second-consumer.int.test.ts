/**
 * A second consumer added with KafkaClientFunction in a few lines, synthesized with the app (credential-free) and
 * run on the shared twin by its construct id: the bundled producer sends, and the new consumer reads the message as
 * its own group, beside the app's consumer, each with the grants of its own role.
 */
import { Duration } from 'aws-cdk-lib';
import { describeTwinApp, type TwinAppInstance, twinAppOn } from 'msk-twin';
import type { ConsumerResult } from '../../lambda/consumer';
import type { ProducerResult } from '../../lambda/producer';
import { KafkaClientFunction } from '../../lib/constructs/kafka-client-function';
import { synthesizeApp } from '../../scripts/app-twin';
import { useTwin } from '../integration/twin-helpers';
import { ensureBundles } from '../lambda/bundles';

jest.setTimeout(120_000);

// Names of this file's own, so that the shared twin's grants of other tests do not meet these.
const TOPIC = 'extending-topic';
const FIRST_GROUP = 'extending-first';
const SECOND_GROUP = 'extending-second';
const twin = useTwin();
let app: TwinAppInstance;

beforeAll(async () => {
  await ensureBundles();
  const synthesized = await synthesizeApp({
    context: {
      demoTopic: TOPIC,
      consumerGroup: FIRST_GROUP,
      topics: [{ name: TOPIC, partitions: 2, config: {} }],
    },
    // The lines docs/extending.md adds to lib/clients-stack.ts.
    moreClients: (clients) => {
      new KafkaClientFunction(clients, 'SecondConsumer', {
        ...clients.clientDefaults,
        handlerName: 'consumer',
        description: 'hello-msk: logs what is new in extending-topic as group extending-second',
        consume: { topic: 'extending-topic', group: 'extending-second' },
        timeout: Duration.seconds(60),
      });
    },
  });
  app = await twinAppOn(twin(), describeTwinApp(synthesized.assembly));
  await twin().withAdmin((admin) =>
    admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 2 }], waitForLeaders: true }),
  );
}, 300_000);

afterAll(async () => {
  await app?.stop();
});

test('the twin finds the new consumer by its construct id, in the VPC with a group that reaches the brokers', () => {
  const fn = app.function('SecondConsumer');
  expect(fn.path).toBe('SecondConsumer');
  expect(fn.roleArn).not.toBe(app.function('Consumer').roleArn);
  expect(app.reach('SecondConsumer')).toEqual({ reachable: true, reason: expect.stringContaining('SecondConsumer') });
});

test('the producer sends and the second consumer reads it as its own group, independently of the first', async () => {
  const message = `Hello second consumer ${Date.now()}`;
  const sent = await app.runner('Producer').invoke({ message });
  if (!sent.ok) throw new Error(sent.error.errorMessage);
  expect((sent.payload as ProducerResult).topic).toBe(TOPIC);

  const second = await app.runner('SecondConsumer').invoke({ fromBeginning: true });
  if (!second.ok) throw new Error(second.error.errorMessage);
  const read = second.payload as ConsumerResult;
  expect(read).toMatchObject({ topic: TOPIC, groupId: SECOND_GROUP, count: 1 });
  expect(read.messages.map((m) => m.value)).toEqual([message]);
  const logged = second.logs.filter((l) => l.stream !== 'platform' && l.message.includes(`"message":"${message}"`));
  expect(logged).toHaveLength(1);

  // The app's consumer has its own offsets: it still reads the message.
  const first = await app.runner('Consumer').invoke({ fromBeginning: true });
  if (!first.ok) throw new Error(first.error.errorMessage);
  expect(first.payload).toMatchObject({ groupId: FIRST_GROUP, count: 1 });
});

test("the second consumer's role may not read as the first consumer's group", async () => {
  const result = await app
    .runner('SecondConsumer', { environmentOverrides: { GROUP_ID: FIRST_GROUP } })
    .invoke({ fromBeginning: true });
  // Without DescribeGroup on that group its FindCoordinator is refused, which kafkajs reports as no coordinator.
  expect(result.ok).toBe(false);
  if (!result.ok) {
    expect(result.error.errorMessage).toMatch(
      /^Could not consume topic extending-topic as group extending-first: .*Failed to find group coordinator$/,
    );
  }
});
