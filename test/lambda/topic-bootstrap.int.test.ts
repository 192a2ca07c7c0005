/**
 * The bundled topic handler (what would be deployed) driven with CloudFormation-shaped events of one topic
 * resource (`AWS::MSK::Topic`'s properties) on the local MSK twin: one test per lifecycle rule, each checking the
 * live topic afterwards, and the upgrade of a stack from the earlier one-resource-for-all-topics version.
 *
 * onEvent and isComplete run in Lambda-like containers on Node.js 24 as their own roles, over TLS + IAM, with the
 * ACLs of those roles' policies from the synthesized dev app, renamed from the stack's topic to every topic named
 * `tb-*` (the names these tests use). Checks and set-up read and make topics over the twin's plaintext listener
 * (raw access). The dev app keeps its topics (retain), so its role may not delete them: Delete events, and the
 * tests that inject broker faults into the handler's admin client or point it at a port where no broker listens,
 * load the handler in this process on plaintext: they need control of its client, not sign-in.
 */
import { createHash } from 'node:crypto';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { ConfigResourceTypes, ConfigSource, type Admin } from 'kafkajs';
import { BASE_CONFIG } from '../../lib/config';
import { encodeTopicConfigs } from '../../lib/kafka-rules';
import { asCloudFormationDelivers, type LambdaRunner, renamed, type TwinAppInstance } from 'msk-twin';
import { eventually, kafkaClient, testBrokers, uniqueName } from '../integration/kafka-helpers';
import { useTwinApp } from '../integration/twin-helpers';
import { loadBundle } from './bundles';

type TopicBootstrapModule = typeof import('../../lambda/topic-bootstrap');
type Handlers = Pick<TopicBootstrapModule, 'onEvent' | 'isComplete'>;

jest.setTimeout(60000);

const shared = useTwinApp();
/** The app on the twin, its topic-bootstrap roles granted on every `tb-*` topic. */
let twinApp: TwinAppInstance;
/** onEvent and isComplete on the twin, called like the handler module's exports. */
let onTwin: Handlers;

/** Log lines of the invocations on the twin, while captureLogs collects them. */
let runnerLines: LogLine[] | undefined;

function invoker<T>(runner: LambdaRunner): (event: unknown) => Promise<T> {
  return async (event) => {
    const result = await runner.invoke(event);
    for (const line of result.logs) {
      if (line.stream !== 'platform' && line.message.startsWith('{"level"')) {
        runnerLines?.push(JSON.parse(line.message) as LogLine);
      }
    }
    if (!result.ok) throw Object.assign(new Error(result.error.errorMessage), { name: result.error.errorType });
    return result.payload as T;
  };
}

beforeAll(async () => {
  twinApp = await shared().variant((app) => renamed(app, { topics: { [BASE_CONFIG.demoTopic]: 'tb-*' } }));
  onTwin = {
    onEvent: invoker(twinApp.runner('Topics/OnEvent')),
    isComplete: invoker(twinApp.runner('Topics/IsComplete')),
  };
}, 60_000);
afterAll(async () => {
  await twinApp?.stop();
});

const STACK_ID =
  'arn:aws:cloudformation:eu-west-1:123456789012:stack/HelloMsk-test-Cluster/5b1c0f40-0000-11ef-0000-0a1b2c3d4e5f';
const LOGICAL_ID = 'TopicsTopictesttopicE84D1EDE';
const ROLLBACK_HINT = `if this is a stack rollback, skip this resource: aws cloudformation continue-update-rollback --stack-name HelloMsk-test-Cluster --resources-to-skip ${LOGICAL_ID}`;

let handler: TopicBootstrapModule;
let admin: Admin;

beforeAll(async () => {
  handler = loadBundle<TopicBootstrapModule>('topic-bootstrap', { KAFKA_BROKERS: testBrokers(), KAFKA_AUTH: 'none' });
  admin = kafkaClient(testBrokers()).admin();
  await admin.connect();
});
afterAll(async () => {
  await handler?.close();
  await admin?.disconnect();
});

// ------------------------------------------------------------------------------------------------ events

interface Topic {
  readonly name: string;
  readonly partitions: number;
  readonly replicationFactor?: number;
  readonly config?: Record<string, string>;
}

const SERVICE_TOKEN = 'arn:aws:lambda:eu-west-1:123456789012:function:TopicsProviderframeworkonEvent';
const CLUSTER_ARN =
  'arn:aws:kafka:eu-west-1:123456789012:cluster/HelloMskdevCluster-EDB6C16D/0a1b2c3d-4e5f-6789-0abc-def012345678-2';

/** The resource's properties as the construct declares them and CloudFormation delivers them (as strings). */
function properties(topic: Topic): Record<string, unknown> & { ServiceToken: string } {
  const config = topic.config ?? {};
  return asCloudFormationDelivers({
    ServiceToken: SERVICE_TOKEN,
    ServiceTimeout: 900,
    ClusterArn: CLUSTER_ARN,
    TopicName: topic.name,
    PartitionCount: topic.partitions,
    ReplicationFactor: topic.replicationFactor ?? 1,
    ...(Object.keys(config).length > 0 ? { Configs: encodeTopicConfigs(config) } : {}),
  }) as Record<string, unknown> & { ServiceToken: string };
}

let requests = 0;
function common() {
  requests += 1;
  return {
    ServiceToken: SERVICE_TOKEN,
    ResponseURL: 'https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/...',
    StackId: STACK_ID,
    RequestId: `request-${requests}`,
    LogicalResourceId: LOGICAL_ID,
    ResourceType: 'Custom::MskTopic',
  };
}

function createEvent(topic: Topic): CloudFormationCustomResourceEvent {
  return { ...common(), RequestType: 'Create', ResourceProperties: properties(topic) };
}

/** CloudFormation sends the physical id onEvent returned: the topic name of the old declaration. */
function updateEvent(topic: Topic, old: Topic): CloudFormationCustomResourceEvent {
  return {
    ...common(),
    RequestType: 'Update',
    PhysicalResourceId: old.name,
    ResourceProperties: properties(topic),
    OldResourceProperties: properties(old),
  };
}

function deleteEvent(topic: Topic, physicalId = topic.name): CloudFormationCustomResourceEvent {
  return { ...common(), RequestType: 'Delete', PhysicalResourceId: physicalId, ResourceProperties: properties(topic) };
}

type LogLine = Record<string, unknown>;

/**
 * Runs `fn` with the handler's structured log lines captured (and kept off the console): INFO goes to
 * stdout, WARN and ERROR to stderr.
 */
async function captureLogs<T>(fn: () => Promise<T>): Promise<{ result: T; lines: LogLine[] }> {
  const lines: LogLine[] = [];
  runnerLines = lines;
  const streams = [process.stdout, process.stderr];
  const originals = streams.map((stream) => stream.write.bind(stream));
  for (const [i, stream] of streams.entries()) {
    stream.write = (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
      const text = chunk.toString();
      if (!text.startsWith('{"level"'))
        return (originals[i] as (c: unknown, ...r: unknown[]) => boolean)(chunk, ...rest);
      for (const line of text.split('\n').filter(Boolean)) lines.push(JSON.parse(line) as LogLine);
      return true;
    };
  }
  try {
    return { result: await fn(), lines };
  } finally {
    streams.forEach((stream, i) => (stream.write = originals[i]));
    runnerLines = undefined;
  }
}

/**
 * What the Provider framework does: onEvent, then isComplete every poll until it answers true. Returns the
 * physical id and the handler's log lines.
 */
async function deploy(
  event: CloudFormationCustomResourceEvent,
  module: Handlers = onTwin,
): Promise<{ physicalId: string; logs: LogLine[] }> {
  const { result, lines } = await captureLogs(async () => {
    const { PhysicalResourceId } = await module.onEvent(event);
    const waiting = { ...event, PhysicalResourceId };
    for (let poll = 0; poll < 60; poll++) {
      if ((await module.isComplete(waiting)).IsComplete) return PhysicalResourceId;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error('isComplete never answered true');
  });
  return { physicalId: result, logs: lines };
}

/** onEvent's failure reason (the handler must throw), with its log lines. */
async function failure(
  event: CloudFormationCustomResourceEvent,
  module: Handlers = onTwin,
): Promise<{ reason: string; logs: LogLine[] }> {
  const { result, lines } = await captureLogs(async () => {
    try {
      await module.onEvent(event);
    } catch (error) {
      return error as Error;
    }
    throw new Error(`${event.RequestType} succeeded; it should have failed`);
  });
  // The Provider framework puts the message in CloudFormation's status reason: one line, under 1 KB.
  expect(result.message).not.toMatch(/[\r\n]/);
  expect(Buffer.byteLength(result.message)).toBeLessThan(1024);
  return { reason: result.message, logs: lines };
}

const messages = (logs: LogLine[]): string[] => logs.map((l) => String(l.message));

// ------------------------------------------------------------------------------------------------ the broker

interface LiveTopic {
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly leaders: boolean;
  readonly overrides: Record<string, string>;
}

/** The topic as the broker has it, or undefined when it does not exist. */
async function live(name: string): Promise<LiveTopic | undefined> {
  if (!(await admin.listTopics()).includes(name)) return undefined;
  const {
    topics: [metadata],
  } = await admin.fetchTopicMetadata({ topics: [name] });
  const {
    resources: [config],
  } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name }],
  });
  const overrides = Object.fromEntries(
    config.configEntries
      .filter((e) => e.configSource === ConfigSource.TOPIC_CONFIG)
      .map((e) => [e.configName, e.configValue]),
  );
  return {
    partitions: metadata.partitions.length,
    replicationFactor: metadata.partitions[0].replicas.length,
    leaders: metadata.partitions.every((p) => p.leader >= 0),
    overrides,
  };
}

/** The value the topic gets for `key`, and whether it is the default (no override). */
async function effective(name: string, key: string): Promise<{ value: string; isDefault: boolean }> {
  const {
    resources: [config],
  } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name, configNames: [key] }],
  });
  const [entry] = config.configEntries;
  return { value: entry.configValue, isDefault: entry.configSource !== ConfigSource.TOPIC_CONFIG };
}

/**
 * Waits until the broker no longer lists the topic: a deletion is accepted before every broker's metadata
 * shows it, so a check right after it can still see the topic for a moment.
 */
async function expectGone(name: string): Promise<void> {
  await eventually(`deletion of topic ${name}`, 10000, async () => ((await live(name)) ? undefined : true));
}

async function makeTopic(name: string, partitions: number, config: Record<string, string> = {}): Promise<void> {
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      {
        topic: name,
        numPartitions: partitions,
        replicationFactor: 1,
        configEntries: Object.entries(config).map(([k, v]) => ({ name: k, value: v })),
      },
    ],
  });
}

// ------------------------------------------------------------------------------------------------ create

/** The in-process handler on plaintext, as the Provider framework calls it (Delete events need no sign-in). */
const inProcess = (): Handlers => handler;

describe('Create', () => {
  test('makes the topic with the declared partitions, replication factor and overrides; the physical id is its name', async () => {
    const name = uniqueName('tb-new');
    const config = { 'retention.ms': '3600000', 'cleanup.policy': 'compact' };
    const { physicalId, logs } = await deploy(createEvent({ name, partitions: 3, config }));
    expect(physicalId).toBe(name);
    expect(await live(name)).toEqual({ partitions: 3, replicationFactor: 1, leaders: true, overrides: config });
    expect(messages(logs)).toContain(`Created topic ${name} (3 partitions, replication factor 1)`);
  });

  test('delivered twice: the second finds the topic exactly as declared and succeeds, changing nothing', async () => {
    const name = uniqueName('tb-twice');
    const event = createEvent({ name, partitions: 3, config: { 'retention.ms': '60000' } });
    await deploy(event);
    const second = await deploy(event);
    expect(second.physicalId).toBe(name);
    expect(messages(second.logs)).toContain(`Topic ${name} already exists as declared`);
    expect(messages(second.logs).filter((m) => /^(Created|Set|Grew)/.test(m))).toEqual([]);
    expect(await live(name)).toEqual({
      partitions: 3,
      replicationFactor: 1,
      leaders: true,
      overrides: { 'retention.ms': '60000' },
    });
  });

  test.each([
    ['other partitions', { partitions: 3, config: { 'retention.ms': '1000' } }],
    ['other overrides', { partitions: 2, config: { 'retention.ms': '2000' } }],
    ['no overrides where it has some', { partitions: 2, config: {} }],
  ])('finding a topic that is not as declared (%s) fails in one line and leaves it as it was', async (_, declared) => {
    const name = uniqueName('tb-exists');
    await makeTopic(name, 2, { 'retention.ms': '1000' });
    const { reason } = await failure(createEvent({ name, ...declared }));
    expect(reason).toBe(
      `topic "${name}" already exists with 2 partitions, replication factor 1 and overrides {"retention.ms":"1000"}, not as declared (${declared.partitions}, 1, ${JSON.stringify(declared.config)}); delete it, or declare it exactly as it is to take it over`,
    );
    expect(await live(name)).toEqual({
      partitions: 2,
      replicationFactor: 1,
      leaders: true,
      overrides: { 'retention.ms': '1000' },
    });
  });

  test('finding a topic exactly as declared takes it over (it cannot be told from a re-delivered Create)', async () => {
    const name = uniqueName('tb-identical');
    await makeTopic(name, 2, { 'retention.ms': '1000' });
    const { physicalId, logs } = await deploy(createEvent({ name, partitions: 2, config: { 'retention.ms': '1000' } }));
    expect(physicalId).toBe(name);
    expect(messages(logs)).toContain(`Topic ${name} already exists as declared`);
  });

  test('a setting only the broker refuses fails in one line and leaves no topic', async () => {
    const name = uniqueName('tb-refused');
    const config = { 'min.compaction.lag.ms': '60000', 'max.compaction.lag.ms': '1000' };
    const { reason } = await failure(createEvent({ name, partitions: 1, config }));
    expect(reason).toBe(`topic "${name}": creating it failed: Configuration is invalid`);
    expect(await live(name)).toBeUndefined();
  });
});

// ------------------------------------------------------------------------------------------------ update

describe('Update', () => {
  test('more partitions: grows the topic in place and waits for the new partitions leaders', async () => {
    const name = uniqueName('tb-grow');
    const before: Topic = { name, partitions: 2 };
    await deploy(createEvent(before));
    const { physicalId, logs } = await deploy(updateEvent({ name, partitions: 5 }, before));
    expect(physicalId).toBe(name);
    expect(await live(name)).toEqual({ partitions: 5, replicationFactor: 1, leaders: true, overrides: {} });
    expect(messages(logs)).toContain(`Grew topic ${name} from 2 to 5 partitions`);
  });

  test('fewer partitions: fails naming the escape, changing nothing, not even the overrides of the same Update', async () => {
    const name = uniqueName('tb-shrink');
    const before: Topic = { name, partitions: 4 };
    await deploy(createEvent(before));
    const { reason } = await failure(updateEvent({ name, partitions: 2, config: { 'retention.ms': '5000' } }, before));
    expect(reason).toBe(
      `topic "${name}": partitions 2 is below the 4 it has, and Kafka cannot remove partitions; declare 4 or more (${ROLLBACK_HINT})`,
    );
    expect(await live(name)).toEqual({ partitions: 4, replicationFactor: 1, leaders: true, overrides: {} });
  });

  test('another replication factor fails with the reason and changes nothing', async () => {
    const name = uniqueName('tb-rf');
    const before: Topic = { name, partitions: 2 };
    await deploy(createEvent(before));
    const { reason } = await failure(updateEvent({ name, partitions: 3, replicationFactor: 2 }, before));
    expect(reason).toBe(
      `topic "${name}": replicationFactor 1 -> 2 is not supported (reassigning replicas is out of scope); the topic has 1, declare that`,
    );
    expect(await live(name)).toEqual({ partitions: 2, replicationFactor: 1, leaders: true, overrides: {} });
  });

  test('overrides added, changed and removed: the topic ends with exactly the declared set', async () => {
    const name = uniqueName('tb-config');
    const first: Topic = { name, partitions: 1, config: { 'retention.ms': '3600000', 'cleanup.policy': 'compact' } };
    await deploy(createEvent(first));
    const second: Topic = {
      name,
      partitions: 1,
      config: { 'retention.ms': '7200000', 'max.message.bytes': '2097152' },
    };
    await deploy(updateEvent(second, first));
    expect((await live(name))?.overrides).toEqual({ 'retention.ms': '7200000', 'max.message.bytes': '2097152' });
    expect(await effective(name, 'cleanup.policy')).toEqual({ value: 'delete', isDefault: true });
    await deploy(updateEvent({ name, partitions: 1 }, second));
    expect((await live(name))?.overrides).toEqual({});
  });

  test('overrides changed outside CloudFormation are put back by the next Update', async () => {
    const name = uniqueName('tb-drift');
    const declared: Topic = { name, partitions: 1, config: { 'retention.ms': '3600000' } };
    await deploy(createEvent(declared));
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name, configEntries: [{ name: 'segment.ms', value: '60000' }] }],
    });
    await eventually('the drifted overrides on the broker', 10000, async () =>
      (await live(name))?.overrides['segment.ms'] === '60000' ? true : undefined,
    );
    await deploy(updateEvent(declared, declared));
    expect((await live(name))?.overrides).toEqual({ 'retention.ms': '3600000' });
  });

  test('a topic deleted outside CloudFormation (or a replaced cluster) is created again', async () => {
    const name = uniqueName('tb-recreate');
    const declared: Topic = { name, partitions: 2 };
    await deploy(createEvent(declared));
    await admin.deleteTopics({ topics: [name] });
    await expectGone(name);
    const { physicalId, logs } = await deploy(updateEvent(declared, declared));
    expect(physicalId).toBe(name);
    expect(await live(name)).toMatchObject({ partitions: 2, leaders: true });
    expect(messages(logs)).toContain(`Topic ${name} does not exist (deleted, or a new cluster); creating it`);
  });

  test('a new TopicName is a replacement: a new topic under a new physical id; the old one is left to the Delete', async () => {
    const [oldName, newName] = [uniqueName('tb-old'), uniqueName('tb-new')];
    const before: Topic = { name: oldName, partitions: 2 };
    await deploy(createEvent(before));
    const { physicalId } = await deploy(updateEvent({ name: newName, partitions: 2 }, before));
    expect(physicalId).toBe(newName);
    expect(await live(newName)).toMatchObject({ partitions: 2, leaders: true });
    expect(await live(oldName)).toMatchObject({ partitions: 2 });
    // Under destroy, CloudFormation then deletes the old physical id (under retain it sends nothing).
    await deploy(deleteEvent(before, oldName), inProcess());
    await expectGone(oldName);
    expect(await live(newName)).toMatchObject({ partitions: 2 });
  });
});

// CloudFormation rolls a failed update back with another Update whose properties are the previous ones.
describe('Update rollback', () => {
  test('after an Update refused before any change, the rollback finds the topic as declared and succeeds', async () => {
    const name = uniqueName('tb-rb-rf');
    const before: Topic = { name, partitions: 3 };
    await deploy(createEvent(before));
    const refused: Topic = { name, partitions: 6, replicationFactor: 2, config: { 'retention.ms': '5000' } };
    await failure(updateEvent(refused, before));
    // Compared with the old properties, the rollback looks like a shrink and a replication change; the live
    // topic shows there is nothing to do.
    await deploy(updateEvent(before, refused));
    expect(await live(name)).toEqual({ partitions: 3, replicationFactor: 1, leaders: true, overrides: {} });
  });

  test('after a successful Update that changed the overrides, the rollback restores them', async () => {
    const name = uniqueName('tb-rb-config');
    const before: Topic = { name, partitions: 1, config: { 'retention.ms': '3600000' } };
    await deploy(createEvent(before));
    const forward: Topic = { name, partitions: 1, config: { 'segment.ms': '60000' } };
    await deploy(updateEvent(forward, before));
    await deploy(updateEvent(before, forward));
    expect((await live(name))?.overrides).toEqual({ 'retention.ms': '3600000' });
  });

  test('a rollback that finds more partitions than it declares, without asking for fewer, keeps them and logs it', async () => {
    const name = uniqueName('tb-rb-kept');
    const before: Topic = { name, partitions: 3 };
    await deploy(createEvent(before));
    await admin.createPartitions({ topicPartitions: [{ topic: name, count: 5 }] });
    await eventually('5 partitions on the broker', 10000, async () =>
      (await live(name))?.partitions === 5 ? true : undefined,
    );
    const refused: Topic = { name, partitions: 3, replicationFactor: 3 };
    await failure(updateEvent(refused, before));
    const { logs } = await deploy(updateEvent(before, refused));
    expect((await live(name))?.partitions).toBe(5);
    expect(messages(logs)).toContain(`Kept topic ${name} at 5 partitions (declared 3); Kafka cannot remove partitions`);
  });

  test('the rollback of a successful increase cannot be told from a decrease: it fails naming the escape', async () => {
    const name = uniqueName('tb-rb-increase');
    const before: Topic = { name, partitions: 3 };
    await deploy(createEvent(before));
    const forward: Topic = { name, partitions: 6 };
    await deploy(updateEvent(forward, before));
    const { reason } = await failure(updateEvent(before, forward));
    expect(reason).toBe(
      `topic "${name}": partitions 3 is below the 6 it has, and Kafka cannot remove partitions; declare 6 or more (${ROLLBACK_HINT})`,
    );
  });

  test('an Update that fails growing the topic restores the overrides it set', async () => {
    const name = uniqueName('tb-undo');
    const before: Topic = { name, partitions: 1, config: { 'retention.ms': '3600000' } };
    await deploy(createEvent(before));
    const faulty = new Proxy(admin, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        if (property !== 'createPartitions') return value;
        return () => Promise.reject(new Error('The broker failed this request'));
      },
    });
    const event = updateEvent({ name, partitions: 2, config: { 'retention.ms': '60000' } }, before);
    const { result: error, lines } = await captureLogs(() =>
      handler
        .onEventWith(() => Promise.resolve(faulty), event)
        .then(
          () => undefined,
          (e: unknown) => e as Error,
        ),
    );
    expect(error?.message).toBe(`topic "${name}": growing it to 2 partitions failed: The broker failed this request`);
    expect(messages(lines)).toContain(`Restored the configuration overrides of topic ${name}`);
    expect(await live(name)).toMatchObject({ partitions: 1, overrides: { 'retention.ms': '3600000' } });
  });
});

// ------------------------------------------------------------------------------------------------ delete

describe('Delete (sent only under the destroy policy)', () => {
  test('deletes the topic its physical id names, and is done once the broker no longer lists it', async () => {
    const [name, other] = [uniqueName('tb-delete'), uniqueName('tb-other')];
    await deploy(createEvent({ name, partitions: 2 }));
    await deploy(createEvent({ name: other, partitions: 1 }));
    const { physicalId, logs } = await deploy(deleteEvent({ name, partitions: 2 }), inProcess());
    expect(physicalId).toBe(name);
    expect(messages(logs)).toContain(`Deleted topic ${name}`);
    expect((await admin.listTopics()).includes(name)).toBe(false);
    expect(await live(other)).toMatchObject({ partitions: 1 });
  });

  test('delivered twice, or for a topic already gone: succeeds', async () => {
    const name = uniqueName('tb-delete-twice');
    await deploy(createEvent({ name, partitions: 1 }));
    const event = deleteEvent({ name, partitions: 1 });
    await deploy(event, inProcess());
    const second = await deploy(event, inProcess());
    expect(messages(second.logs)).toContain(`Topic ${name} is already gone`);
  });
});

// ------------------------------------------------------------------------------------------------ upgrade

/** The ownership mark the earlier topic-list handler set on the topics it created (its `ownershipMark`). */
function legacyMark(stackId: string, logicalId: string): string {
  const digest = createHash('sha256').update(`${stackId}\n${logicalId}`).digest();
  return (2n ** 63n - 2n - BigInt(`0x${digest.subarray(0, 6).toString('hex')}`)).toString();
}

describe('upgrade from the earlier resource that held the whole topic list', () => {
  const OLD_LOGICAL_ID = 'Topics025BDD29';

  test('the new per-topic Creates take over the topics with their data; the old resource’s Delete keeps them', async () => {
    const [first, second] = [uniqueName('tb-upgrade'), uniqueName('tb-upgrade')];
    const mark = legacyMark(STACK_ID, OLD_LOGICAL_ID);
    // As the earlier handler made them: the declared settings plus its mark.
    await makeTopic(first, 2, { 'retention.ms': '3600000', 'message.timestamp.before.max.ms': mark });
    await makeTopic(second, 1, { 'message.timestamp.before.max.ms': mark });
    const producer = kafkaClient(testBrokers()).producer();
    await producer.connect();
    await producer.send({ topic: first, messages: [{ key: 'k', value: 'kept across the upgrade' }] });
    await producer.disconnect();
    const offsetsBefore = await admin.fetchTopicOffsets(first);

    // The new template: one resource per topic (the first also grows), created before the old one is deleted.
    const firstLogs = await deploy(createEvent({ name: first, partitions: 3, config: { 'retention.ms': '3600000' } }));
    const secondLogs = await deploy(createEvent({ name: second, partitions: 1 }));
    for (const { logs } of [firstLogs, secondLogs]) {
      expect(messages(logs).filter((m) => m.startsWith('Created'))).toEqual([]);
    }
    expect(messages(firstLogs.logs)).toContain(
      `Taking over topic ${first} from the earlier topic-list resource; its ownership mark is removed`,
    );
    expect(await live(first)).toEqual({
      partitions: 3,
      replicationFactor: 1,
      leaders: true,
      overrides: { 'retention.ms': '3600000' },
    });
    expect((await live(second))?.overrides).toEqual({});

    // CloudFormation deletes the resource that left the template; the new code receives it (same provider).
    const oldDelete: CloudFormationCustomResourceEvent = {
      ...common(),
      LogicalResourceId: OLD_LOGICAL_ID,
      ResourceType: 'Custom::KafkaTopics',
      RequestType: 'Delete',
      PhysicalResourceId: `hello-msk-topics-${OLD_LOGICAL_ID}`,
      ResourceProperties: asCloudFormationDelivers({
        ServiceToken: SERVICE_TOKEN,
        ClusterArn: CLUSTER_ARN,
        Topics: [
          { Name: first, Partitions: 2, ReplicationFactor: 1, Config: { 'retention.ms': '3600000' } },
          { Name: second, Partitions: 1, ReplicationFactor: 1, Config: {} },
        ],
        RemovalPolicy: 'destroy',
        AdoptExisting: true,
      }) as { ServiceToken: string },
    };
    const { logs } = await deploy(oldDelete, inProcess());
    expect(messages(logs)).toContain(
      `Kept topics ${first}, ${second}: the topic-list resource is replaced by one resource per topic`,
    );
    expect(await live(first)).toMatchObject({ partitions: 3 });
    expect(await live(second)).toMatchObject({ partitions: 1 });
    // Same topic, same data: the message is where it was, nothing was recreated.
    const offsetsAfter = await admin.fetchTopicOffsets(first);
    for (const before of offsetsBefore) {
      expect(offsetsAfter.find((p) => p.partition === before.partition)?.high).toBe(before.high);
    }
    const consumer = kafkaClient(testBrokers()).consumer({ groupId: uniqueName('tb-upgrade-reader') });
    await consumer.connect();
    await consumer.subscribe({ topic: first, fromBeginning: true });
    const read = new Promise<string>((resolve) => {
      void consumer.run({ eachMessage: async ({ message }) => resolve(String(message.value)) });
    });
    expect(await read).toBe('kept across the upgrade');
    await consumer.disconnect();
  });
});

// ------------------------------------------------------------------------------------------------ visibility

// A broker accepts a change before its metadata shows it; CloudFormation must hear "done" only once it shows.
describe('done means visible in the broker metadata', () => {
  /** The shared test admin whose reads lag its writes: `lag` stale answers after each AlterConfigs or DeleteTopics. */
  function lagging(lag: number): { admin: Admin; staleReads: () => number } {
    const staleConfigs = new Map<string, { left: number; entries: unknown[] }>();
    const staleTopics = new Map<string, number>();
    let staleReads = 0;
    const proxy = new Proxy(admin, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        if (property === 'alterConfigs') {
          return async (args: Parameters<Admin['alterConfigs']>[0]) => {
            for (const resource of args.resources) {
              const {
                resources: [before],
              } = await target.describeConfigs({
                includeSynonyms: false,
                resources: [{ type: ConfigResourceTypes.TOPIC, name: resource.name }],
              });
              staleConfigs.set(resource.name, { left: lag, entries: before.configEntries });
            }
            await target.alterConfigs(args);
          };
        }
        if (property === 'describeConfigs') {
          return async (args: Parameters<Admin['describeConfigs']>[0]) => {
            const result = await target.describeConfigs(args);
            const resources = result.resources.map((resource) => {
              const stale = staleConfigs.get(resource.resourceName);
              if (!stale || stale.left <= 0) return resource;
              stale.left -= 1;
              staleReads += 1;
              return { ...resource, configEntries: stale.entries };
            });
            return { ...result, resources } as typeof result;
          };
        }
        if (property === 'deleteTopics') {
          return async (args: Parameters<Admin['deleteTopics']>[0]) => {
            await target.deleteTopics(args);
            for (const topic of args.topics) staleTopics.set(topic, lag);
          };
        }
        if (property === 'listTopics') {
          return async () => {
            const listed = await target.listTopics();
            for (const [topic, left] of staleTopics) {
              if (left <= 0) continue;
              staleTopics.set(topic, left - 1);
              staleReads += 1;
              if (!listed.includes(topic)) listed.push(topic);
            }
            return listed;
          };
        }
        return value;
      },
    });
    return { admin: proxy, staleReads: () => staleReads };
  }

  async function onEventWith(
    proxy: Admin,
    event: CloudFormationCustomResourceEvent,
    options: Parameters<TopicBootstrapModule['onEventWith']>[2] = {},
  ): Promise<{ error?: Error; logs: LogLine[] }> {
    const { result, lines } = await captureLogs(() =>
      handler
        .onEventWith(() => Promise.resolve(proxy), event, options)
        .then(
          () => undefined,
          (e: unknown) => e as Error,
        ),
    );
    return { error: result, logs: lines };
  }

  test('a configuration change is done only once the broker reads the declared overrides back', async () => {
    const name = uniqueName('tb-vis-config');
    const before: Topic = { name, partitions: 1, config: { 'retention.ms': '3600000' } };
    await deploy(createEvent(before));
    const slow = lagging(3);
    const { error, logs } = await onEventWith(
      slow.admin,
      updateEvent({ name, partitions: 1, config: { 'segment.ms': '600000' } }, before),
    );
    expect(error).toBeUndefined();
    expect(slow.staleReads()).toBe(3);
    expect(messages(logs)).toContain(`Waiting until the broker's metadata shows the configuration of ${name}`);
    expect((await live(name))?.overrides).toEqual({ 'segment.ms': '600000' });
  });

  test('a deletion is done only once the broker no longer lists the topic', async () => {
    const name = uniqueName('tb-vis-delete');
    await deploy(createEvent({ name, partitions: 1 }));
    const slow = lagging(3);
    const { error, logs } = await onEventWith(slow.admin, deleteEvent({ name, partitions: 1 }));
    expect(error).toBeUndefined();
    expect(slow.staleReads()).toBe(3);
    expect(messages(logs)).toContain(`Waiting until the broker's metadata shows the deletion of ${name}`);
    expect(await live(name)).toBeUndefined();
  });

  test('a change that never shows fails the event in one line, naming the topic', async () => {
    const name = uniqueName('tb-vis-never');
    const before: Topic = { name, partitions: 1 };
    await deploy(createEvent(before));
    const stuck = lagging(Number.MAX_SAFE_INTEGER);
    const { error } = await onEventWith(
      stuck.admin,
      updateEvent({ name, partitions: 1, config: { 'retention.ms': '60000' } }, before),
      { visibilityTimeoutMs: 2000 },
    );
    expect(error?.message).toBe(
      `configuration of ${name} did not show in the broker's metadata within 2 s; run the deploy again`,
    );
  });
});

// ------------------------------------------------------------------------------------------------ IAM

describe('authorization refused (IAM not yet showing the new grant)', () => {
  /** The shared test admin, answering TOPIC_AUTHORIZATION_FAILED to the first `times` topic listings. */
  function deniedFirst(times: number): { admin: Admin; denials: () => number } {
    let denials = 0;
    const proxy = new Proxy(admin, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        if (property !== 'listTopics') return value;
        return async () => {
          if (denials < times) {
            denials += 1;
            throw Object.assign(new Error('Not authorized to access topics: [Topic authorization failed]'), {
              type: 'TOPIC_AUTHORIZATION_FAILED',
            });
          }
          return target.listTopics();
        };
      },
    });
    return { admin: proxy, denials: () => denials };
  }

  test('is retried until the grant shows', async () => {
    const name = uniqueName('tb-iam-late');
    const late = deniedFirst(2);
    const { result, lines } = await captureLogs(() =>
      handler.onEventWith(() => Promise.resolve(late.admin), createEvent({ name, partitions: 1 }), {
        authorizationRetryMs: 10_000,
      }),
    );
    expect(result).toEqual({ PhysicalResourceId: name });
    expect(late.denials()).toBe(2);
    expect(messages(lines)).toContain(
      `Not authorized: kafka-cluster:DescribeTopic or kafka-cluster:DescribeTopicDynamicConfiguration on topic ${name}; retrying in 1 s (IAM may not show a new grant yet)`,
    );
    await eventually(`topic ${name}`, 10000, async () => ((await live(name)) ? true : undefined));
  });

  test('fails in one line naming the action once the retry window has passed', async () => {
    const name = uniqueName('tb-iam-never');
    const never = deniedFirst(Number.MAX_SAFE_INTEGER);
    const started = Date.now();
    const { result } = await captureLogs(() =>
      handler
        .onEventWith(() => Promise.resolve(never.admin), createEvent({ name, partitions: 1 }), {
          authorizationRetryMs: 2500,
        })
        .then(
          () => new Error('succeeded; it should have failed'),
          (e: unknown) => e as Error,
        ),
    );
    expect(result.message).toBe(
      `Not authorized: kafka-cluster:DescribeTopic or kafka-cluster:DescribeTopicDynamicConfiguration on topic ${name}`,
    );
    expect(never.denials()).toBe(2);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await live(name)).toBeUndefined();
  });
});

// ------------------------------------------------------------------------------------------------ properties

describe('bad properties', () => {
  test.each<[string, (name: string) => Record<string, unknown>, (name: string) => string]>([
    [
      'a property AWS::MSK::Topic does not have',
      (name) => ({ ...properties({ name, partitions: 1 }), RemovalPolicy: 'destroy' }),
      () =>
        'property RemovalPolicy is not known; allowed: ClusterArn, TopicName, PartitionCount, ReplicationFactor, Configs',
    ],
    [
      'a topic name Kafka rejects',
      (name) => properties({ name: `${name} x`, partitions: 1 }),
      (name) => `topic name "${name} x" has characters Kafka rejects; use only a-z A-Z 0-9 . _ -`,
    ],
    [
      'partitions not whole',
      (name) => ({ ...properties({ name, partitions: 1 }), PartitionCount: '1.5' }),
      (name) => `topic "${name}": PartitionCount "1.5" is not valid; allowed: a whole number >= 1`,
    ],
    [
      'replication factor missing',
      (name) => {
        const { ReplicationFactor: _, ...rest } = properties({ name, partitions: 1 });
        return rest;
      },
      (name) => `topic "${name}": ReplicationFactor undefined is not valid; allowed: a whole number >= 1`,
    ],
    [
      'Configs that are not base64',
      (name) => ({ ...properties({ name, partitions: 1 }), Configs: 'retention.ms=1' }),
      () => 'property Configs "retention.ms=1" is not valid; expected base64 of a JSON object of string values',
    ],
    [
      'an unknown config key',
      (name) => properties({ name, partitions: 1, config: { 'retention.days': '7' } }),
      (name) =>
        `topic "${name}": config retention.days is not a topic-level configuration key (see the Kafka topic configs; e.g. retention.ms, cleanup.policy)`,
    ],
    [
      'a replication factor above the broker count',
      (name) => properties({ name, partitions: 1, replicationFactor: 2 }),
      (name) => `topic "${name}": creating it failed: Replication-factor is invalid`,
    ],
  ])('%s: fails with the one-line reason and creates nothing', async (_, props, reason) => {
    const name = uniqueName('tb-bad');
    const event = {
      ...common(),
      RequestType: 'Create',
      ResourceProperties: props(name),
    } as CloudFormationCustomResourceEvent;
    const { reason: actual } = await failure(event);
    expect(actual).toBe(reason(name));
    expect((await admin.listTopics()).filter((t) => t.includes(name))).toEqual([]);
  });
});

describe('isComplete', () => {
  test('answers "not yet" instead of throwing while the broker is unreachable', async () => {
    const unreachable = loadBundle<TopicBootstrapModule>('topic-bootstrap', {
      KAFKA_BROKERS: '127.0.0.1:1',
      KAFKA_AUTH: 'none',
    });
    try {
      const name = uniqueName('tb-wait');
      const event = { ...createEvent({ name, partitions: 1 }), PhysicalResourceId: name };
      const { result } = await captureLogs(() => unreachable.isComplete(event));
      expect(result).toEqual({ IsComplete: false });
    } finally {
      await unreachable.close();
    }
  });

  test('waits while the topic has fewer partitions than declared', async () => {
    const name = uniqueName('tb-wait');
    await makeTopic(name, 1);
    const event = { ...createEvent({ name, partitions: 2 }), PhysicalResourceId: name };
    const { result, lines } = await captureLogs(() => onTwin.isComplete(event));
    expect(result).toEqual({ IsComplete: false });
    expect(messages(lines)).toContain(`Waiting for partition leaders of ${name}`);
  });
});
