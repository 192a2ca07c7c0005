/**
 * The local MSK twin refuses what MSK refuses: the bundled handlers, run through the Lambda-like runner on
 * Node.js 24 over TLS + IAM, each as its own role with that role's policies from the synthesized dev app.
 *
 * A role that lacks an action is the app's own role with that action taken out of its statements in the
 * assembly, before its policies are read (policy-variants.ts): the rest of the policy and its ARNs stay exactly as
 * synthesized. Each variant runs as roles of its own (`<role>-v<n>`), so it starts from exactly its own policies;
 * each test also renames the app's topic (and group) to names of its own, since the shared twin holds one set of
 * topics.
 *
 * Tokens MSK refuses (tampered, expired, another region, unknown credentials) are checked token by token at the
 * broker in test/twin/twin-signin.int.test.ts; here the handlers meet the refusals their own signer
 * runs into: credentials that expired, credentials the twin never issued, and a function in another region.
 */
import { BASE_CONFIG } from '../../lib/config';
import { renamed, type TwinAppInstance, withoutActions } from 'msk-twin';
import { uniqueName } from '../integration/kafka-helpers';
import { refusalReason, storedMessages, useTwinApp } from '../integration/twin-helpers';

jest.setTimeout(90_000);

const shared = useTwinApp();
const DEMO_TOPIC = BASE_CONFIG.demoTopic;
const GROUP = BASE_CONFIG.consumerGroup;

async function createTopic(instance: TwinAppInstance, prefix: string): Promise<string> {
  const topic = uniqueName(prefix);
  await instance.twin.withAdmin((admin) =>
    admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true }),
  );
  return topic;
}

const roleOf = (instance: TwinAppInstance, name: string) => instance.function(name).roleArn;

/** Lambda's Invoke answer of a failed invocation, or a failure of the test when it succeeded. */
function failureOf(result: Awaited<ReturnType<ReturnType<TwinAppInstance['runner']>['invoke']>>) {
  if (result.ok) throw new Error(`the invocation succeeded: ${JSON.stringify(result.payload)}`);
  expect(result.error.errorMessage).not.toMatch(/[\r\n]/);
  return result.error;
}

describe('a producer', () => {
  test('whose role lacks kafka-cluster:WriteData fails with one line naming the topic and the action, and writes nothing', async () => {
    const topic = await createTopic(shared(), 'refuse-write');
    const role = roleOf(shared(), 'Producer');
    const variant = await shared().variant((app) =>
      renamed(withoutActions(app, role, ['kafka-cluster:WriteData']), { topics: { [DEMO_TOPIC]: topic } }),
    );
    try {
      // The variant runs as a role of its own whose policies are exactly the edited ones.
      const policies = JSON.stringify(variant.policiesOf(variant.function('Producer').roleArn).policies);
      expect(policies).not.toContain('"kafka-cluster:WriteData"');
      expect(policies).toContain('"kafka-cluster:DescribeTopic"');
      const producer = variant.runner('Producer', { environmentOverrides: { TOPIC: topic } });
      const error = failureOf(await producer.invoke({ message: 'must not land', count: 3 }));
      expect(error).toMatchObject({
        errorType: 'NotAuthorizedError',
        errorMessage: `Not authorized: kafka-cluster:WriteData on topic ${topic}`,
      });
      expect(await storedMessages(variant.twin, topic)).toBe(0);
    } finally {
      await variant.stop();
    }
  });

  test('with its full policy writes to its own topic (the control for the refusals around it)', async () => {
    const topic = await createTopic(shared(), 'allow-write');
    const variant = await shared().variant((app) => renamed(app, { topics: { [DEMO_TOPIC]: topic } }));
    try {
      const producer = variant.runner('Producer', { environmentOverrides: { TOPIC: topic } });
      const result = await producer.invoke({ count: 3 });
      expect(result.ok).toBe(true);
      expect(await storedMessages(variant.twin, topic)).toBe(3);
      // Node.js 24 warns about kafkajs' negative timer (kafkajs #1751); the function keeps that out of its log.
      expect(result.logs.filter((l) => l.stream === 'stderr')).toEqual([]);
      // Signed in as its own role, with the credentials issued to its container.
      const [key] = variant.accessKeysOf(producer);
      expect(variant.signIns(producer)).toEqual([
        expect.stringMatching(
          new RegExp(`MSK IAM sign-in \\[[0-9a-f-]{36}\\]: ${roleOf(variant, 'Producer')} with access key ${key},`),
        ),
      ]);
    } finally {
      await variant.stop();
    }
  });

  test('is refused a topic outside its policy, in one line, and writes nothing there', async () => {
    const outside = await createTopic(shared(), 'outside');
    const producer = shared().runner('Producer', { environmentOverrides: { TOPIC: outside } });
    const error = failureOf(await producer.invoke({}));
    expect(error).toMatchObject({
      errorType: 'NotAuthorizedError',
      errorMessage: `Not authorized: kafka-cluster:WriteData on topic ${outside}`,
    });
    expect(await storedMessages(shared().twin, outside)).toBe(0);
  });
});

describe('the consumer', () => {
  test("cannot write: the producer's code signed in as the consumer's role is refused, and nothing is written", async () => {
    const topic = await createTopic(shared(), 'consumer-write');
    const variant = await shared().variant((app) =>
      renamed(app, { topics: { [DEMO_TOPIC]: topic }, groups: { [GROUP]: uniqueName('group') } }),
    );
    try {
      const consumerRole = roleOf(variant, 'Consumer');
      const writer = variant.runner('Producer', {
        roleArn: consumerRole,
        environmentOverrides: { TOPIC: topic },
      });
      const error = failureOf(await writer.invoke({ message: 'must not land' }));
      expect(error.errorType).toBe('NotAuthorizedError');
      // The idempotent producer asks for its producer id first: without WriteDataIdempotently (or WriteData on
      // any topic), Kafka refuses that before any write.
      expect(error.errorMessage).toBe('Not authorized: kafka-cluster:WriteDataIdempotently on the cluster');
      expect(await storedMessages(variant.twin, topic)).toBe(0);
    } finally {
      await variant.stop();
    }
  });

  test('whose role lacks kafka-cluster:AlterGroup fails at its group join, in one line, and commits nothing', async () => {
    const topic = await createTopic(shared(), 'no-alter-group');
    const group = uniqueName('group');
    const role = roleOf(shared(), 'Consumer');
    const variant = await shared().variant((app) =>
      renamed(withoutActions(app, role, ['kafka-cluster:AlterGroup']), {
        topics: { [DEMO_TOPIC]: topic },
        groups: { [GROUP]: group },
      }),
    );
    try {
      const producer = variant.runner('Producer', { environmentOverrides: { TOPIC: topic } });
      expect((await producer.invoke({ message: 'waiting' })).ok).toBe(true);
      const consumer = variant.runner('Consumer', { environmentOverrides: { TOPIC: topic, GROUP_ID: group } });
      const started = Date.now();
      const error = failureOf(await consumer.invoke({}));
      expect(error).toMatchObject({
        errorType: 'NotAuthorizedError',
        errorMessage: `Not authorized: kafka-cluster:AlterGroup on group ${group}`,
      });
      // Refused at once, not left waiting for a join until the function's timeout.
      expect(Date.now() - started).toBeLessThan(20_000);
      const committed = await variant.twin.withAdmin((admin) =>
        admin.fetchOffsets({ groupId: group, topics: [topic] }),
      );
      expect(committed[0].partitions.every((p) => p.offset === '-1')).toBe(true);
    } finally {
      await variant.stop();
    }
  });

  test('is refused a topic outside its policy, in one line', async () => {
    const outside = await createTopic(shared(), 'outside-read');
    const consumer = shared().runner('Consumer', { environmentOverrides: { TOPIC: outside } });
    const error = failureOf(await consumer.invoke({}));
    expect(error).toMatchObject({
      errorType: 'NotAuthorizedError',
      errorMessage: `Not authorized: kafka-cluster:DescribeTopic on topic ${outside}`,
    });
  });
});

describe('the topic bootstrap', () => {
  test('without kafka-cluster:CreateTopic fails in one line and creates nothing', async () => {
    // Not tb-…: topic-bootstrap.int.test.ts grants the same role CREATE on every tb-* topic of the shared twin.
    const topic = uniqueName('nocreate');
    const role = roleOf(shared(), 'Topics/OnEvent');
    const variant = await shared().variant((app) =>
      renamed(withoutActions(app, role, ['kafka-cluster:CreateTopic']), { topics: { [DEMO_TOPIC]: topic } }),
    );
    try {
      // No retries: the role lacks the action for good, and the handler would otherwise wait for IAM a minute.
      const onEvent = variant.runner('Topics/OnEvent', { environmentOverrides: { AUTHORIZATION_RETRY_MS: '1' } });
      const error = failureOf(
        await onEvent.invoke({
          RequestType: 'Create',
          ServiceToken: 'arn:aws:lambda:us-east-1:111122223333:function:TopicsProviderframeworkonEvent',
          ResponseURL: 'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/...',
          StackId: 'arn:aws:cloudformation:us-east-1:111122223333:stack/HelloMsk-dev-Cluster/5b1c0f40',
          RequestId: uniqueName('request'),
          LogicalResourceId: 'TopicsTopictesttopicE84D1EDE',
          ResourceType: 'Custom::MskTopic',
          ResourceProperties: {
            ServiceToken: 'arn:aws:lambda:us-east-1:111122223333:function:TopicsProviderframeworkonEvent',
            ClusterArn: variant.app.cluster.arn,
            TopicName: topic,
            PartitionCount: '3',
            ReplicationFactor: '1',
          },
        }),
      );
      expect(error).toMatchObject({
        errorType: 'TopicBootstrapError',
        errorMessage: `Not authorized: kafka-cluster:CreateTopic on topic ${topic}`,
      });
      const topics = await variant.twin.withAdmin((admin) => admin.listTopics());
      expect(topics).not.toContain(topic);
    } finally {
      await variant.stop();
    }
  });
});

describe('sign-in refused, as MSK answers it', () => {
  const refusedLine =
    /^Not authorized: kafka-cluster:Connect on the cluster \(sign-in refused: \[[0-9a-f-]{36}\]: Access denied\)$/;

  async function refusedProducer(options: Parameters<TwinAppInstance['runner']>[1]): Promise<string> {
    const topic = await createTopic(shared(), 'refused');
    const variant = await shared().variant((app) => renamed(app, { topics: { [DEMO_TOPIC]: topic } }));
    try {
      const producer = variant.runner('Producer', { ...options, environmentOverrides: { TOPIC: topic } });
      const error = failureOf(await producer.invoke({}));
      expect(error.errorType).toBe('NotAuthorizedError');
      expect(error.errorMessage).toMatch(refusedLine);
      expect(await storedMessages(variant.twin, topic)).toBe(0);
      return refusalReason(variant.twin, error.errorMessage);
    } finally {
      await variant.stop();
    }
  }

  test('a function signing for another region', async () => {
    const reason = await refusedProducer({ region: 'eu-west-1' });
    expect(reason).toContain('signed for region eu-west-1');
  });

  test('credentials that have expired', async () => {
    const role = roleOf(shared(), 'Producer');
    const expired = shared().twin.issueCredentials(role, 1);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const reason = await refusedProducer({ credentials: () => expired });
    expect(reason).toMatch(/expired/);
  });

  test('credentials the twin never issued', async () => {
    const role = roleOf(shared(), 'Producer');
    const made = {
      ...shared().twin.issueCredentials(role, 60),
      accessKeyId: 'TWINAAAAAAAAAAAAAAAA',
    };
    const reason = await refusedProducer({ credentials: () => made });
    expect(reason).toMatch(/TWINAAAAAAAAAAAAAAAA/);
  });
});
