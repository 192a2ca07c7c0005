/**
 * Malformed input at every entry point: producer and consumer events, the topic-bootstrap custom resource's
 * properties, the functions' environment and the app's configuration. Each case fails with its exact
 * one-line message, and nothing is sent, committed or changed: high watermarks, committed offsets, consumer
 * groups, the topic list and a declared topic's partitions and overrides are the same afterwards.
 *
 * These complement the tables in clients.int.test.ts, topic-bootstrap.int.test.ts and lib/validation.test.ts
 * with other inputs, and add the cross-entry cases: the same mistake made at synth time and in the custom
 * resource's properties gets the same reason, and an event meant for one function is refused by the other.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { ConfigResourceTypes, ConfigSource, type Admin } from 'kafkajs';
import { ConfigError } from '../../lib/config';
import { kafkaClient, testBrokers, uniqueName } from '../integration/kafka-helpers';
import { buildTestApp } from '../lib/synth';
import { captureLogs, ensureBundles, loadBundle, type ConsumerModule, type ProducerModule } from './bundles';

type TopicBootstrapModule = typeof import('../../lambda/topic-bootstrap');

jest.setTimeout(60_000);

const MAX_MESSAGE_BYTES = 2048;
const PRODUCER_FIELDS = 'message, key, headers, count';
const CONSUMER_FIELDS = 'fromBeginning, maxMessages, listen';

let admin: Admin;
let topic: string;
let group: string;
/** An existing topic that every custom-resource case also declares, with more partitions and other overrides. */
let fixture: string;
let producer: ProducerModule;
let consumer: ConsumerModule;
let topics: TopicBootstrapModule;

function env(extra: Record<string, string> = {}): Record<string, string> {
  return { KAFKA_BROKERS: testBrokers(), KAFKA_AUTH: 'none', TOPIC: topic, POWERTOOLS_LOG_LEVEL: 'INFO', ...extra };
}

beforeAll(async () => {
  await ensureBundles();
  admin = kafkaClient(testBrokers()).admin();
  await admin.connect();
  topic = uniqueName('malformed');
  group = uniqueName('malformed-group');
  fixture = uniqueName('malformed-fixture');
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic, numPartitions: 3 },
      { topic: fixture, numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '3600000' }] },
    ],
  });
  producer = loadBundle<ProducerModule>('producer', env({ MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES) }));
  consumer = loadBundle<ConsumerModule>('consumer', env({ GROUP_ID: group }));
  topics = loadBundle<TopicBootstrapModule>('topic-bootstrap', env({ POWERTOOLS_LOG_LEVEL: 'SILENT' }));
  // Messages waiting, so that a consumer that went ahead would have something to commit.
  await captureLogs(() => producer.handler({ message: 'waiting', count: 5 }));
});

afterAll(async () => {
  await producer?.close();
  await consumer?.close();
  await topics?.close();
  await admin?.disconnect();
});

/** Everything a malformed input must leave alone. */
async function brokerState(): Promise<unknown> {
  // One after the other: kafkajs' admin keeps one metadata cache, and a call for another topic that refreshes it
  // meanwhile leaves fetchTopicOffsets without its topic ("Cannot destructure property 'partitions'").
  const watermarks = await admin.fetchTopicOffsets(topic);
  const committed = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  const groups = await admin.listGroups();
  const names = await admin.listTopics();
  const metadata = await admin.fetchTopicMetadata({ topics: [fixture] });
  const configs = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: fixture }],
  });
  return {
    highWatermarks: watermarks.map((w) => [w.partition, w.high]).sort(),
    committed: committed[0].partitions.map((p) => [p.partition, p.offset]).sort(),
    groupExists: groups.groups.some((g) => g.groupId === group),
    // Only this file's topics: other test files share the broker and create their own meanwhile.
    topics: names.filter((name) => name.startsWith('malformed')).sort(),
    fixturePartitions: metadata.topics[0].partitions.length,
    fixtureOverrides: configs.resources[0].configEntries
      .filter((e) => e.configSource === ConfigSource.TOPIC_CONFIG)
      .map((e) => [e.configName, e.configValue]),
  };
}

/** Runs `fn`, which must throw; returns the message after checking that it is one line and nothing changed. */
async function refused(fn: () => Promise<unknown>): Promise<{ message: string; logLines: number }> {
  const before = await brokerState();
  const { result, lines } = await captureLogs(() =>
    fn().then(
      () => new Error('accepted; it should have been refused'),
      (e: unknown) => e as Error,
    ),
  );
  expect(result.message).toMatch(/^[^\r\n]+$/);
  expect(await brokerState()).toEqual(before);
  return { message: result.message, logLines: lines.length };
}

// ------------------------------------------------------------------------------------------------ events

describe('producer events', () => {
  test.each([
    ['a boolean event', true, `event must be a JSON object with fields ${PRODUCER_FIELDS}; got boolean true`],
    ['a number event', 42, `event must be a JSON object with fields ${PRODUCER_FIELDS}; got number 42`],
    ['a field in the wrong case', { Count: 2 }, `event field Count is not known; allowed fields: ${PRODUCER_FIELDS}`],
    [
      'a consumer event',
      { fromBeginning: true },
      `event field fromBeginning is not known; allowed fields: ${PRODUCER_FIELDS}`,
    ],
    [
      'a message that is an object',
      { message: { text: 'hi' } },
      'event field message is object {"text":"hi"}; allowed: a string',
    ],
    ['a number key', { key: 7 }, 'event field key is number 7; allowed: a string'],
    [
      'headers that are a list',
      { headers: ['a=b'] },
      'event field headers is an array; allowed: an object of string values',
    ],
    ['null headers', { headers: null }, 'event field headers is null; allowed: an object of string values'],
    ['a null header value', { headers: { trace: null } }, 'event field headers.trace is null; allowed: a string'],
    ['a negative count', { count: -1 }, 'event field count is number -1; allowed: a whole number from 1 to 10000'],
    ['a boolean count', { count: true }, 'event field count is boolean true; allowed: a whole number from 1 to 10000'],
    [
      'a message within the limit whose key and headers take it over',
      { message: 'x', key: 'k'.repeat(1000), headers: { trace: 't'.repeat(600) } },
      "event message is 1606 bytes with key and headers; allowed: at most 1536 (the topic's max.message.bytes 2048 less batch overhead)",
    ],
    [
      'a message of few characters but many bytes',
      { message: '€'.repeat(600) },
      "event message is 1800 bytes with key and headers; allowed: at most 1536 (the topic's max.message.bytes 2048 less batch overhead)",
    ],
  ])('refuses %s, and sends nothing', async (_name, event, message) => {
    const outcome = await refused(() => producer.handler(event));
    expect(outcome).toEqual({ message, logLines: 0 });
  });
});

describe('consumer events', () => {
  test.each([
    ['an array event', [], `event must be a JSON object with fields ${CONSUMER_FIELDS}; got an array`],
    ['a producer event', { message: 'hi' }, `event field message is not known; allowed fields: ${CONSUMER_FIELDS}`],
    [
      'fromBeginning as a number',
      { fromBeginning: 1 },
      'event field fromBeginning is number 1; allowed: true or false',
    ],
    ['fromBeginning null', { fromBeginning: null }, 'event field fromBeginning is null; allowed: true or false'],
    [
      'maxMessages as a string',
      { maxMessages: '10' },
      'event field maxMessages is the string "10"; allowed: a whole number from 1 to 10000',
    ],
    [
      'a fractional maxMessages',
      { maxMessages: 2.5 },
      'event field maxMessages is number 2.5; allowed: a whole number from 1 to 10000',
    ],
    [
      'a negative maxMessages',
      { maxMessages: -5 },
      'event field maxMessages is number -5; allowed: a whole number from 1 to 10000',
    ],
  ])('refuses %s: nothing read, logged or committed, and no group joined', async (_name, event, message) => {
    const outcome = await refused(() => consumer.handler(event));
    expect(outcome).toEqual({ message, logLines: 0 });
  });
});

// ------------------------------------------------------------------------------------------------ environment

describe('function environment', () => {
  test.each([
    [
      'producer',
      { MAX_MESSAGE_BYTES: '1MB' },
      'Environment variable MAX_MESSAGE_BYTES is "1MB"; expected a whole number >= 1',
    ],
    ['producer', { TOPIC: ' ' }, 'Environment variable TOPIC is not set'],
    ['consumer', { GROUP_ID: '' }, 'Environment variable GROUP_ID is not set'],
    [
      'consumer',
      { GROUP_ID: 'g', CONSUMER_SESSION_TIMEOUT_MS: '0' },
      'Environment variable CONSUMER_SESSION_TIMEOUT_MS is "0"; expected a whole number >= 1',
    ],
    [
      'topic-bootstrap',
      { KAFKA_BROKERS: `${testBrokers()},broker-2` },
      `Environment variable KAFKA_BROKERS has "broker-2"; expected host:port[,host:port...]`,
    ],
    ['topic-bootstrap', { KAFKA_AUTH: 'IAM' }, 'Environment variable KAFKA_AUTH is "IAM"; expected iam or none'],
  ])('a %s container with %j fails at load, before it connects', async (name, extra, message) => {
    const outcome = await refused(async () => loadBundle(name, env(extra)));
    expect(outcome).toEqual({ message, logLines: 0 });
  });
});

// ------------------------------------------------------------------------------------------------ custom resource

const SERVICE_TOKEN = 'arn:aws:lambda:eu-west-1:123456789012:function:TopicsProviderframeworkonEvent';

/** A Create of one topic resource, with `AWS::MSK::Topic`'s properties as CloudFormation delivers them. */
function createEvent(properties: Record<string, unknown>): CloudFormationCustomResourceEvent {
  return {
    RequestType: 'Create',
    ServiceToken: SERVICE_TOKEN,
    ResponseURL: 'https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/...',
    StackId:
      'arn:aws:cloudformation:eu-west-1:123456789012:stack/HelloMsk-test-Cluster/5b1c0f40-0000-11ef-0000-0a1b2c3d4e5f',
    RequestId: uniqueName('request'),
    LogicalResourceId: 'TopicsTopictesttopicE84D1EDE',
    ResourceType: 'Custom::MskTopic',
    ResourceProperties: { ServiceToken: SERVICE_TOKEN, ...properties },
  };
}

const topicProperties = (name: unknown, extra: Record<string, unknown> = {}) => ({
  ClusterArn: 'arn:aws:kafka:eu-west-1:123456789012:cluster/HelloMskdevCluster-EDB6C16D/0a1b2c3d-4e5f-6789',
  TopicName: name,
  PartitionCount: '1',
  ReplicationFactor: '1',
  ...extra,
});
const configs = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64');

describe('topic custom resource properties', () => {
  test.each<[string, (name: string) => CloudFormationCustomResourceEvent, (name: string) => string]>([
    [
      'the earlier topic-list shape',
      (name) => createEvent({ Topics: [{ Name: name, Partitions: '1', ReplicationFactor: '1' }] }),
      () => 'property Topics is not known; allowed: ClusterArn, TopicName, PartitionCount, ReplicationFactor, Configs',
    ],
    [
      'a number as the name',
      () => createEvent(topicProperties(42)),
      () => 'property TopicName 42 is not valid; expected a topic name',
    ],
    ['an empty name', () => createEvent(topicProperties('')), () => 'topic name "" is empty'],
    [
      'negative partitions',
      (name) => createEvent(topicProperties(name, { PartitionCount: '-3' })),
      (name) => `topic "${name}": partitions -3 is not valid; allowed: a whole number >= 1`,
    ],
    [
      'replication factor 0',
      (name) => createEvent(topicProperties(name, { ReplicationFactor: '0' })),
      (name) => `topic "${name}": replicationFactor 0 is not valid; allowed: a whole number >= 1`,
    ],
    [
      'Configs given as a JSON object, not base64',
      (name) => createEvent(topicProperties(name, { Configs: { 'retention.ms': '1' } })),
      () => 'property Configs {"retention.ms":"1"} is not valid; expected base64 of a JSON object of string values',
    ],
    [
      'Configs with a value that is an object',
      (name) => createEvent(topicProperties(name, { Configs: configs({ 'retention.ms': { days: 7 } }) })),
      () =>
        'property Configs {"retention.ms":{"days":7}} is not valid; expected base64 of a JSON object of string values',
    ],
    [
      'a ClusterArn that is not a string',
      (name) => createEvent(topicProperties(name, { ClusterArn: 5 })),
      () => 'property ClusterArn 5 is not valid; expected an ARN',
    ],
  ])('refuses %s: no topic created, nothing changed', async (_, event, reason) => {
    const name = uniqueName('malformed-new');
    const outcome = await refused(() => topics.onEvent(event(name)));
    expect(outcome.message).toBe(reason(name));
  });
});

// ------------------------------------------------------------------------------------------------ configuration

function configError(context: Record<string, unknown>): string {
  try {
    buildTestApp(context);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('the app synthesized; it should have been refused');
}

describe('app configuration (synth time)', () => {
  test.each([
    [
      'topics given as one object',
      { topics: '{"name":"t","partitions":1}' },
      'Context -c topics: topics {"name":"t","partitions":1} is not valid; expected an array of topics',
    ],
    [
      'a topic given as a bare name',
      { topics: '["orders"]' },
      'Context -c topics: topics[0] "orders" is not valid; expected { name, partitions, replicationFactor, config }',
    ],
    [
      'partitions given as a string in JSON',
      { topics: '[{"name":"t","partitions":"3"}]' },
      'Context -c topics: topics[0].partitions "3" is not valid; expected a number',
    ],
    [
      'broker settings given as a list',
      { brokerConfig: '["auto.create.topics.enable=true"]' },
      'Context -c brokerConfig: brokerConfig "[\\"auto.create.topics.enable=true\\"]" is not valid; expected an object of string, number or boolean values',
    ],
    ['an empty number', { natGateways: '' }, 'Context -c natGateways: natGateways "" is not valid; expected a number'],
    [
      'a boolean spelled otherwise',
      { saslScram: 'yes' },
      'Context -c saslScram: saslScram "yes" is not valid; expected true or false',
    ],
  ])('refuses %s', (_name, context, message) => {
    expect(configError(context)).toBe(message);
  });
});

// ------------------------------------------------------------------------------------------------ cross-entry

describe('one mistake, two entry points: synth time and the custom resource give the same reason', () => {
  test.each([
    [
      'a reserved topic name',
      { name: '..', partitions: 1 },
      'topic name ".." is reserved; "." and ".." are not topic names',
    ],
    [
      'a retention that is not a number',
      { name: 'orders', partitions: 1, config: { 'retention.ms': 'forever' } },
      'topic "orders": config retention.ms has value "forever"; allowed: a whole number >= -1',
    ],
    [
      'a compression Kafka does not know',
      { name: 'orders', partitions: 1, config: { 'compression.type': 'brotli' } },
      'topic "orders": config compression.type has value "brotli"; allowed: one of uncompressed, zstd, lz4, snappy, gzip, producer',
    ],
    [
      'negative partitions',
      { name: 'orders', partitions: -1 },
      'topic "orders": partitions -1 is not valid; allowed: a whole number >= 1',
    ],
  ])('%s', async (_name, declared, reason) => {
    expect(configError({ topics: JSON.stringify([declared]) })).toBe(`HelloMsk-dev-Cluster/Topics: ${reason}`);
    const event = createEvent(
      topicProperties(declared.name, {
        PartitionCount: String(declared.partitions),
        ...('config' in declared ? { Configs: configs(declared.config) } : {}),
      }),
    );
    const outcome = await refused(() => topics.onEvent(event));
    expect(outcome.message).toBe(reason);
  });
});
