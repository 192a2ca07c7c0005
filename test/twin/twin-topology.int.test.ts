/**
 * The deployed topology and MSK's topic rules on the twin, with real brokers: the dev cluster runs on the two
 * brokers it declares (so a topic of replication factor 3 is refused, as MSK refuses it); a twin runs exactly the
 * client listeners it is given; and MSK Serverless's topic limits are refused by the brokers' own topic policy,
 * also when the topic-bootstrap handler asks for them.
 */
import * as fs from 'node:fs';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { SERVERLESS_TOPIC_LIMITS } from 'msk-catalog';
import {
  asCloudFormationDelivers,
  type LocalTwin,
  startTwin,
  topicPolicyProperties,
  type TwinAppInstance,
} from 'msk-twin';
import { encodeTopicConfigs } from '../../lib/kafka-rules';
import { startAppTwin } from '../../scripts/app-twin';
import { ensureBundles, loadBundle } from '../lambda/bundles';
import { uniqueName } from '../integration/kafka-helpers';

type TopicBootstrapModule = typeof import('../../lambda/topic-bootstrap');

jest.setTimeout(120_000);

/** kafkajs shows a refusal by the topic policy as its error code's text; the reason is in the broker log. */
const POLICY_VIOLATION = 'Request parameters do not satisfy the configured policy';

/** The brokers' log lines of the topic policy's refusals of `topic`, without the log prefix. */
function policyRefusals(twin: LocalTwin, topic: string): string[] {
  return twin.cluster.brokers.flatMap((broker) =>
    fs
      .readFileSync(broker.logFile, 'utf8')
      .split('\n')
      .filter((line) => line.includes(`MSK topic policy refused: Topic ${topic}:`))
      .map((line) => line.replace(/^.*MSK topic policy refused: /, '').replace(/ \(hellomsk\..*$/, '')),
  );
}

function plainAdmin(brokers: string): Admin {
  return new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
}

/** The message of the first topic error of a createTopics call that must fail. */
async function createError(
  admin: Admin,
  topic: Parameters<Admin['createTopics']>[0]['topics'][number],
): Promise<string> {
  try {
    await admin.createTopics({ topics: [topic], waitForLeaders: false });
  } catch (error) {
    const errors = (error as { errors?: { message: string }[] }).errors;
    return errors?.[0]?.message ?? (error as Error).message;
  }
  throw new Error(`creating ${topic.topic} succeeded; it should have failed`);
}

describe('the dev cluster on the twin', () => {
  let instance: TwinAppInstance | undefined;
  let admin: Admin;
  const running = (): TwinAppInstance => {
    if (!instance) throw new Error('the dev twin did not start');
    return instance;
  };

  beforeAll(async () => {
    instance = await startAppTwin({ stage: 'dev' });
    admin = plainAdmin(running().twin.plaintextBrokers);
    await admin.connect();
  }, 240_000);
  afterAll(async () => {
    await admin?.disconnect();
    await instance?.stop();
  }, 60_000);

  test('runs as many brokers as NumberOfBrokerNodes declares', async () => {
    expect(running().app.cluster.brokerCount).toBe(2);
    expect(running().twin.cluster.brokers).toHaveLength(2);
    expect((await admin.describeCluster()).brokers.map((b) => b.nodeId).sort()).toEqual([1, 2]);
  });

  test('opens the IAM listener alone, as IAM over TLS does on MSK (port 9098)', () => {
    expect(running().twin.listeners.map((l) => [l.name, l.mskPort])).toEqual([['IAM', 9098]]);
    expect(running().twin.listeners[0].bootstrapBrokers).toBe(running().twin.bootstrapBrokers);
    expect(running().twin.bootstrapBrokers.split(',')).toHaveLength(2);
  });

  test('refuses a topic of replication factor 3 on two brokers, and creates one of 2', async () => {
    const message = await createError(admin, { topic: uniqueName('topo-rf3'), replicationFactor: 3 });
    expect(message).toBe('Replication-factor is invalid');
    const topic = uniqueName('topo-rf2');
    await admin.createTopics({ topics: [{ topic, replicationFactor: 2 }], waitForLeaders: true });
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(metadata.topics[0].partitions[0].replicas.sort()).toEqual([1, 2]);
  });
});

describe('a twin with plaintext and TLS listeners and the MSK Serverless topic policy', () => {
  let twin: LocalTwin | undefined;
  let admin: Admin;
  const running = (): LocalTwin => {
    if (!twin) throw new Error('the twin did not start');
    return twin;
  };

  beforeAll(async () => {
    await ensureBundles();
    twin = await startTwin({
      brokers: 1,
      listeners: [
        { kind: 'plaintext', mskPort: 9092 },
        { kind: 'tls', mskPort: 9094 },
      ],
      brokerConfig: topicPolicyProperties(SERVERLESS_TOPIC_LIMITS),
    });
    admin = plainAdmin(running().plaintextBrokers);
    await admin.connect();
  }, 180_000);
  afterAll(async () => {
    await admin?.disconnect();
    await twin?.stop();
  }, 60_000);

  test('has no IAM listener: asking for its brokers fails in one line naming the listeners it has', () => {
    expect(running().hasIamListener).toBe(false);
    expect(() => running().bootstrapBrokers).toThrow(
      "The twin has no IAM listener (the cluster's ClientAuthentication does not enable Sasl.Iam); its client listeners: CLIENT (MSK port 9092), TLS (MSK port 9094)",
    );
  });

  test('takes plaintext clients on the plaintext listener and TLS clients on the TLS listener', async () => {
    const [plaintext, tls] = running().listeners;
    expect(plaintext.bootstrapBrokers).not.toBe(running().plaintextBrokers);
    const overPlaintext = plainAdmin(plaintext.bootstrapBrokers);
    const overTls = new Kafka({
      brokers: tls.bootstrapBrokers.split(','),
      ssl: { ca: [fs.readFileSync(running().caFile, 'utf8')] },
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    }).admin();
    try {
      await overPlaintext.connect();
      await overTls.connect();
      expect((await overPlaintext.describeCluster()).brokers).toHaveLength(1);
      expect((await overTls.describeCluster()).brokers[0].port).toBe(Number(tls.bootstrapBrokers.split(':')[1]));
    } finally {
      await overPlaintext.disconnect();
      await overTls.disconnect();
    }
  });

  test.each<[string, Record<string, string>, number, string]>([
    [
      'a topic config MSK Serverless does not let clients set',
      { 'segment.bytes': '1048576' },
      1,
      'config segment.bytes is not allowed on MSK Serverless; allowed: cleanup.policy, compression.type, max.message.bytes, message.timestamp.difference.max.ms, message.timestamp.type, retention.bytes, retention.ms',
    ],
    [
      'max.message.bytes above 8 MiB',
      { 'max.message.bytes': '9000000' },
      1,
      'max.message.bytes 9000000 is not allowed on MSK Serverless; allowed: at most 8388608',
    ],
    [
      'min.insync.replicas other than 2',
      { 'min.insync.replicas': '1' },
      1,
      'min.insync.replicas 1 is not allowed on MSK Serverless; allowed: 2 or unset',
    ],
    [
      'a replication factor other than 3',
      { 'retention.ms': '3600000' },
      1,
      'replication factor 1 is not allowed on MSK Serverless; allowed: 3',
    ],
  ])('the brokers refuse %s', async (_name, config, replicationFactor, expected) => {
    const topic = uniqueName('topo-sl');
    const message = await createError(admin, {
      topic,
      replicationFactor,
      configEntries: Object.entries(config).map(([name, value]) => ({ name, value })),
    });
    expect(message).toBe(POLICY_VIOLATION);
    expect(policyRefusals(running(), topic)).toEqual([`Topic ${topic}: ${expected}`]);
    expect((await admin.listTopics()).includes(topic)).toBe(false);
  });

  test('the topic-bootstrap custom resource fails in one line on a topic config MSK Serverless refuses', async () => {
    const handler = loadBundle<TopicBootstrapModule>('topic-bootstrap', {
      KAFKA_BROKERS: running().plaintextBrokers,
      KAFKA_AUTH: 'none',
    });
    const topic = uniqueName('topo-cr');
    const event = {
      ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:TopicsProviderframeworkonEvent',
      ResponseURL: 'https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/...',
      StackId:
        'arn:aws:cloudformation:eu-west-1:123456789012:stack/HelloMsk-test-Cluster/5b1c0f40-0000-11ef-0000-0a1b2c3d4e5f',
      RequestId: 'request-topology',
      LogicalResourceId: 'TopicsTopictopologyE84D1EDE',
      ResourceType: 'Custom::MskTopic',
      RequestType: 'Create',
      ResourceProperties: asCloudFormationDelivers({
        ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:TopicsProviderframeworkonEvent',
        ClusterArn: 'arn:aws:kafka:eu-west-1:123456789012:cluster/HelloMsk/0a1b2c3d-4e5f-6789-0abc-def012345678-2',
        TopicName: topic,
        PartitionCount: 1,
        ReplicationFactor: 1,
        Configs: encodeTopicConfigs({ 'segment.bytes': '1048576' }),
      }),
    } as unknown as CloudFormationCustomResourceEvent;
    let reason = '';
    try {
      await handler.onEvent(event);
    } catch (error) {
      reason = (error as Error).message;
    } finally {
      await handler.close();
    }
    expect(reason).toBe(`topic ${JSON.stringify(topic)}: creating it failed: ${POLICY_VIOLATION}`);
    expect(policyRefusals(running(), topic)[0]).toMatch(
      new RegExp(`^Topic ${topic}: config segment\\.bytes is not allowed on MSK Serverless; allowed: `),
    );
    expect((await admin.listTopics()).includes(topic)).toBe(false);
  });
});
