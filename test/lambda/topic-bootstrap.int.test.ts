/**
 * The bundled topic-bootstrap handler (what would be deployed) driven with CloudFormation-shaped events
 * on the local MSK twin: one test per lifecycle rule, each checking the live topic afterwards.
 *
 * onEvent and isComplete run in Lambda-like containers on Node.js 24 as their own roles, over TLS + IAM, with the
 * ACLs of those roles' policies from the synthesized dev app, renamed from the stack's topic to every topic named
 * `tb-*` (the names these tests use). Checks and set-up read and make topics over the twin's plaintext listener
 * (raw access). The tests that inject broker faults into the handler's admin client, or point it at a port where
 * no broker listens, load the handler in this process on plaintext: they need control of its client, not sign-in.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { ConfigResourceTypes, ConfigSource, type Admin } from 'kafkajs';
import { KAFKA_TIMEOUTS } from '../../lambda/shared/kafka';
import { BASE_CONFIG } from '../../lib/config';
import { OWNERSHIP_MARK_CONFIG } from '../../lib/kafka-rules';
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
const LOGICAL_ID = 'Topics025BDD29';
const PHYSICAL_ID = `hello-msk-topics-${LOGICAL_ID}`;
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

interface Declared {
  readonly topics: Topic[];
  readonly removalPolicy?: 'retain' | 'destroy';
  readonly adoptExisting?: boolean;
  readonly clusterKind?: 'serverless';
}

function properties(declared: Declared): Record<string, unknown> & { ServiceToken: string } {
  return asCloudFormationDelivers({
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:TopicsProviderframeworkonEvent',
    ServiceTimeout: 900,
    ClusterArn:
      'arn:aws:kafka:eu-west-1:123456789012:cluster/HelloMskdevCluster-EDB6C16D/0a1b2c3d-4e5f-6789-0abc-def012345678-2',
    Topics: declared.topics.map((t) => ({
      Name: t.name,
      Partitions: t.partitions,
      ReplicationFactor: t.replicationFactor ?? 1,
      Config: t.config ?? {},
    })),
    RemovalPolicy: declared.removalPolicy ?? 'retain',
    AdoptExisting: declared.adoptExisting ?? true,
    ...(declared.clusterKind ? { ClusterKind: declared.clusterKind } : {}),
  }) as Record<string, unknown> & { ServiceToken: string };
}

let requests = 0;
function common() {
  requests += 1;
  return {
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:TopicsProviderframeworkonEvent',
    ResponseURL: 'https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/...',
    StackId: STACK_ID,
    RequestId: `request-${requests}`,
    LogicalResourceId: LOGICAL_ID,
    ResourceType: 'Custom::KafkaTopics',
  };
}

function createEvent(declared: Declared | Record<string, unknown>): CloudFormationCustomResourceEvent {
  const props = 'topics' in declared ? properties(declared as Declared) : declared;
  return { ...common(), RequestType: 'Create', ResourceProperties: props as { ServiceToken: string } };
}

function updateEvent(declared: Declared, old: Declared): CloudFormationCustomResourceEvent {
  return {
    ...common(),
    RequestType: 'Update',
    PhysicalResourceId: PHYSICAL_ID,
    ResourceProperties: properties(declared),
    OldResourceProperties: properties(old),
  };
}

function deleteEvent(declared: Declared): CloudFormationCustomResourceEvent {
  return {
    ...common(),
    RequestType: 'Delete',
    PhysicalResourceId: PHYSICAL_ID,
    ResourceProperties: properties(declared),
  };
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

/** The topic as the broker has it (its ownership mark left out, see markOf), or undefined when it does not exist. */
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
      .filter((e) => e.configSource === ConfigSource.TOPIC_CONFIG && e.configName !== OWNERSHIP_MARK_CONFIG)
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

/** The topic's ownership mark, or undefined when it has none. */
async function markOf(name: string): Promise<string | undefined> {
  const { value, isDefault } = await effective(name, OWNERSHIP_MARK_CONFIG);
  return isDefault ? undefined : value;
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

// ------------------------------------------------------------------------------------------------ lifecycle

describe('new topic', () => {
  test('Create makes it with the declared partitions, replication factor and overrides, and waits for leaders', async () => {
    const name = uniqueName('tb-new');
    const config = { 'retention.ms': '3600000', 'cleanup.policy': 'compact' };
    const { physicalId, logs } = await deploy(createEvent({ topics: [{ name, partitions: 3, config }] }));
    expect(physicalId).toBe(PHYSICAL_ID);
    expect(await live(name)).toEqual({ partitions: 3, replicationFactor: 1, leaders: true, overrides: config });
    expect(messages(logs)).toContain(`Created topic ${name} (3 partitions, replication factor 1)`);
  });

  test('a topic added to the list by an Update is created beside the existing ones', async () => {
    const [kept, added] = [uniqueName('tb-kept'), uniqueName('tb-added')];
    const before: Declared = { topics: [{ name: kept, partitions: 1 }] };
    await deploy(createEvent(before));
    await deploy(
      updateEvent(
        {
          topics: [
            { name: kept, partitions: 1 },
            { name: added, partitions: 2 },
          ],
        },
        before,
      ),
    );
    expect(await live(added)).toEqual({ partitions: 2, replicationFactor: 1, leaders: true, overrides: {} });
    expect((await live(kept))?.partitions).toBe(1);
  });
});

describe('topic exists at create', () => {
  test('is adopted when its partitions and replication factor match; the declared overrides replace its own', async () => {
    const name = uniqueName('tb-adopt');
    await makeTopic(name, 2, { 'retention.ms': '1000' });
    const { logs } = await deploy(
      createEvent({ topics: [{ name, partitions: 2, config: { 'segment.ms': '600000' } }] }),
    );
    expect(await live(name)).toEqual({
      partitions: 2,
      replicationFactor: 1,
      leaders: true,
      overrides: { 'segment.ms': '600000' },
    });
    expect(messages(logs)).toContain(`Adopting existing topic ${name}; this stack will never delete it`);
  });

  test.each([
    [
      'other partitions',
      { partitions: 3, adoptExisting: true },
      (n: string) =>
        `topic "${n}" already exists with 2 partitions and replication factor 1; it is adopted only with those values, not the declared 3 and 1`,
    ],
    [
      'AdoptExisting false',
      { partitions: 2, adoptExisting: false },
      (n: string) =>
        `topic "${n}" already exists (2 partitions, replication factor 1) and this stack did not create it, and AdoptExisting is false; delete it, declare another name, or allow adopting existing topics`,
    ],
  ])('fails before changing anything with %s', async (_, declared, reason) => {
    const [name, other] = [uniqueName('tb-exists'), uniqueName('tb-other')];
    await makeTopic(name, 2, { 'retention.ms': '1000' });
    const event = createEvent({
      adoptExisting: declared.adoptExisting,
      topics: [
        { name: other, partitions: 1 },
        { name, partitions: declared.partitions, config: { 'retention.ms': '2000' } },
      ],
    });
    expect((await failure(event)).reason).toBe(reason(name));
    expect(await live(name)).toEqual({
      partitions: 2,
      replicationFactor: 1,
      leaders: true,
      overrides: { 'retention.ms': '1000' },
    });
    expect(await live(other)).toBeUndefined();
  });
});

describe('partitions', () => {
  test('up: grows the topic in place and waits for the new partitions leaders', async () => {
    const name = uniqueName('tb-grow');
    const before: Declared = { topics: [{ name, partitions: 2 }] };
    await deploy(createEvent(before));
    const { logs } = await deploy(updateEvent({ topics: [{ name, partitions: 5 }] }, before));
    expect(await live(name)).toEqual({ partitions: 5, replicationFactor: 1, leaders: true, overrides: {} });
    expect(messages(logs)).toContain(`Grew topic ${name} from 2 to 5 partitions`);
  });

  test('down: fails with the reason and changes nothing, not even the other changes of the same Update', async () => {
    const [name, other, added] = [uniqueName('tb-shrink'), uniqueName('tb-other'), uniqueName('tb-added')];
    const before: Declared = {
      topics: [
        { name, partitions: 4 },
        { name: other, partitions: 1 },
      ],
    };
    await deploy(createEvent(before));
    const shrink: Declared = {
      topics: [
        { name, partitions: 2 },
        { name: other, partitions: 1, config: { 'retention.ms': '5000' } },
        { name: added, partitions: 1 },
      ],
    };
    expect((await failure(updateEvent(shrink, before))).reason).toBe(
      `topic "${name}": partitions 2 is below the 4 it has, and Kafka cannot remove partitions; declare 4 or more (${ROLLBACK_HINT})`,
    );
    expect((await live(name))?.partitions).toBe(4);
    expect((await live(other))?.overrides).toEqual({});
    expect(await live(added)).toBeUndefined();
  });
});

describe('replication factor', () => {
  test('a changed replication factor fails with the reason and changes nothing', async () => {
    const name = uniqueName('tb-rf');
    const before: Declared = { topics: [{ name, partitions: 2, replicationFactor: 1 }] };
    await deploy(createEvent(before));
    const event = updateEvent({ topics: [{ name, partitions: 3, replicationFactor: 2 }] }, before);
    expect((await failure(event)).reason).toBe(
      `topic "${name}": replicationFactor 1 -> 2 is not supported (reassigning replicas is out of scope); the topic has 1, declare that`,
    );
    expect(await live(name)).toEqual({ partitions: 2, replicationFactor: 1, leaders: true, overrides: {} });
  });
});

describe('configuration overrides', () => {
  test('added, changed and removed keys: the topic ends with exactly the declared set, removed keys at the default', async () => {
    const name = uniqueName('tb-config');
    const first: Declared = {
      topics: [{ name, partitions: 1, config: { 'retention.ms': '3600000', 'cleanup.policy': 'compact' } }],
    };
    await deploy(createEvent(first));
    const defaultCleanup = 'delete';

    const second: Declared = {
      topics: [{ name, partitions: 1, config: { 'retention.ms': '7200000', 'max.message.bytes': '2097152' } }],
    };
    await deploy(updateEvent(second, first));
    expect((await live(name))?.overrides).toEqual({ 'retention.ms': '7200000', 'max.message.bytes': '2097152' });
    expect(await effective(name, 'cleanup.policy')).toEqual({ value: defaultCleanup, isDefault: true });

    await deploy(updateEvent({ topics: [{ name, partitions: 1 }] }, second));
    expect((await live(name))?.overrides).toEqual({});
    expect((await effective(name, 'retention.ms')).isDefault).toBe(true);
  });

  test('overrides changed outside CloudFormation are put back to the declared set by the next Update', async () => {
    const name = uniqueName('tb-drift');
    const declared: Declared = { topics: [{ name, partitions: 1, config: { 'retention.ms': '3600000' } }] };
    await deploy(createEvent(declared));
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name, configEntries: [{ name: 'segment.ms', value: '60000' }] }],
    });
    // The drift must have reached the broker's metadata before the Update reads it, as it would long before a
    // real deploy.
    await eventually('the drifted overrides on the broker', 10000, async () =>
      (await live(name))?.overrides['segment.ms'] === '60000' ? true : undefined,
    );
    await deploy(updateEvent(declared, declared));
    expect((await live(name))?.overrides).toEqual({ 'retention.ms': '3600000' });
  });
});

describe('topic removed from the list', () => {
  test('is kept under the retain policy, and the log says so', async () => {
    const [name, stays] = [uniqueName('tb-removed'), uniqueName('tb-stays')];
    const before: Declared = {
      topics: [
        { name, partitions: 2 },
        { name: stays, partitions: 1 },
      ],
    };
    await deploy(createEvent(before));
    const { logs } = await deploy(updateEvent({ topics: [{ name: stays, partitions: 1 }] }, before));
    expect(await live(name)).toMatchObject({ partitions: 2 });
    expect(messages(logs)).toContain(`Kept topic ${name}: it left the list and the removal policy is retain`);
  });

  test('is deleted under the destroy policy', async () => {
    const [name, stays] = [uniqueName('tb-removed'), uniqueName('tb-stays')];
    const before: Declared = {
      removalPolicy: 'destroy',
      topics: [
        { name, partitions: 2 },
        { name: stays, partitions: 1 },
      ],
    };
    await deploy(createEvent(before));
    await deploy(updateEvent({ removalPolicy: 'destroy', topics: [{ name: stays, partitions: 1 }] }, before));
    await expectGone(name);
    expect(await live(stays)).toMatchObject({ partitions: 1 });
  });
});

describe('stack deleted', () => {
  test('retain keeps every topic, and needs no broker to do so', async () => {
    const name = uniqueName('tb-delete-retain');
    const declared: Declared = { topics: [{ name, partitions: 1 }] };
    await deploy(createEvent(declared));
    // A container whose broker is unreachable: with retain, Delete must not even try to connect.
    const unreachable = loadBundle<TopicBootstrapModule>('topic-bootstrap', {
      KAFKA_BROKERS: '127.0.0.1:1',
      KAFKA_AUTH: 'none',
    });
    try {
      const { physicalId, logs } = await deploy(deleteEvent(declared), unreachable);
      expect(physicalId).toBe(PHYSICAL_ID);
      expect(messages(logs)).toContain(`Kept topics ${name}: the removal policy is retain`);
    } finally {
      await unreachable.close();
    }
    expect(await live(name)).toMatchObject({ partitions: 1 });
  });

  test('destroy deletes the declared topics, and a topic already gone is no error', async () => {
    const [name, gone] = [uniqueName('tb-delete'), uniqueName('tb-gone')];
    const declared: Declared = {
      removalPolicy: 'destroy',
      topics: [
        { name, partitions: 2 },
        { name: gone, partitions: 1 },
      ],
    };
    await deploy(createEvent(declared));
    await admin.deleteTopics({ topics: [gone] });
    await expectGone(gone);
    const { physicalId, logs } = await deploy(deleteEvent(declared));
    expect(physicalId).toBe(PHYSICAL_ID);
    expect(messages(logs)).toContain(`Topics already gone: ${gone}`);
    await expectGone(name);
  });
});

describe('ownership: the stack deletes only topics it created', () => {
  const ourMark = () => handler.ownershipMark(STACK_ID, LOGICAL_ID);

  test('a created topic carries this resource’s mark, at a value with no effect, through every later change of its overrides', async () => {
    const name = uniqueName('tb-mark');
    const before: Declared = { topics: [{ name, partitions: 1, config: { 'retention.ms': '60000' } }] };
    await deploy(createEvent(before));
    expect(await markOf(name)).toBe(ourMark());
    // Reject records older than this: about 292 million years.
    expect(BigInt(ourMark()) / 1000n / 3600n / 24n / 365n).toBeGreaterThan(290_000_000n);
    await deploy(updateEvent({ topics: [{ name, partitions: 1, config: { 'cleanup.policy': 'compact' } }] }, before));
    expect((await live(name))?.overrides).toEqual({ 'cleanup.policy': 'compact' });
    expect(await markOf(name)).toBe(ourMark());
    // Another resource (another stack, or another logical id) has another mark.
    expect(handler.ownershipMark(STACK_ID, 'OtherTopics')).not.toBe(ourMark());
  });

  test.each([
    ['retain', 'retain' as const],
    ['destroy', 'destroy' as const],
  ])(
    'AdoptExisting false (%s): a topic someone else made, identical to the declaration, is refused in one line and left as it was',
    async (_, removalPolicy) => {
      const [name, other] = [uniqueName('tb-foreign'), uniqueName('tb-other')];
      await makeTopic(name, 2, { 'retention.ms': '60000' });
      const event = createEvent({
        adoptExisting: false,
        removalPolicy,
        topics: [
          { name: other, partitions: 1 },
          { name, partitions: 2, config: { 'retention.ms': '60000' } },
        ],
      });
      expect((await failure(event)).reason).toBe(
        `topic "${name}" already exists (2 partitions, replication factor 1) and this stack did not create it, and AdoptExisting is false; delete it, declare another name, or allow adopting existing topics`,
      );
      expect(await live(name)).toEqual({
        partitions: 2,
        replicationFactor: 1,
        leaders: true,
        overrides: { 'retention.ms': '60000' },
      });
      expect(await markOf(name)).toBeUndefined();
      expect(await live(other)).toBeUndefined();
    },
  );

  test('on MSK Serverless the mark is in message.timestamp.difference.max.ms, the one timestamp bound it lets clients set, and works the same', async () => {
    const name = uniqueName('tb-mark-sls');
    const declared: Declared = {
      clusterKind: 'serverless',
      adoptExisting: false,
      removalPolicy: 'destroy',
      topics: [{ name, partitions: 1, config: { 'retention.ms': '60000' } }],
    };
    await deploy(createEvent(declared));
    expect(await effective(name, 'message.timestamp.difference.max.ms')).toEqual({
      value: ourMark(),
      isDefault: false,
    });
    expect(await markOf(name)).toBeUndefined();
    expect(await live(name)).toMatchObject({
      overrides: { 'retention.ms': '60000', 'message.timestamp.difference.max.ms': ourMark() },
    });
    // A repeated delivery recognises it as its own, and a Delete under destroy deletes it.
    const again = await deploy(createEvent(declared));
    expect(messages(again.logs)).toContain(`Topic ${name} already exists as declared`);
    await deploy(deleteEvent(declared));
    await expectGone(name);
  });

  test('a topic another stack created (its mark, not ours) is refused too', async () => {
    const name = uniqueName('tb-theirs');
    await makeTopic(name, 1, { [OWNERSHIP_MARK_CONFIG]: handler.ownershipMark(STACK_ID, 'OtherTopics') });
    const event = createEvent({ adoptExisting: false, removalPolicy: 'destroy', topics: [{ name, partitions: 1 }] });
    expect((await failure(event)).reason).toMatch(/this stack did not create it/);
  });

  test('a re-delivered Create (the first delivery made its topics, then the framework failed) finds them by their mark and succeeds, also with AdoptExisting false and destroy', async () => {
    const [first, second] = [uniqueName('tb-redeliver'), uniqueName('tb-redeliver')];
    const declared: Declared = {
      adoptExisting: false,
      removalPolicy: 'destroy',
      topics: [
        { name: first, partitions: 2, config: { 'retention.ms': '60000' } },
        { name: second, partitions: 1 },
      ],
    };
    const event = createEvent(declared);
    // The first delivery's onEvent made the topics; its answer never reached CloudFormation.
    await captureLogs(() => onTwin.onEvent(event));
    const { physicalId, logs } = await deploy(event);
    expect(physicalId).toBe(PHYSICAL_ID);
    expect(messages(logs)).toEqual(
      expect.arrayContaining([
        `Topic ${first} already exists as declared`,
        `Topic ${second} already exists as declared`,
      ]),
    );
    expect(await live(first)).toEqual({
      partitions: 2,
      replicationFactor: 1,
      leaders: true,
      overrides: { 'retention.ms': '60000' },
    });
    // Still this stack's own: its Delete removes both.
    await deploy(deleteEvent(declared));
    await expectGone(first);
    await expectGone(second);
  });

  test('destroy: the stack’s Delete deletes the topics it created and keeps the one it adopted', async () => {
    const [created, adopted] = [uniqueName('tb-own'), uniqueName('tb-adopted')];
    await makeTopic(adopted, 1);
    const declared: Declared = {
      adoptExisting: true,
      removalPolicy: 'destroy',
      topics: [
        { name: created, partitions: 1 },
        { name: adopted, partitions: 1 },
      ],
    };
    const { logs: createLogs } = await deploy(createEvent(declared));
    expect(messages(createLogs)).toContain(`Adopting existing topic ${adopted}; this stack will never delete it`);
    expect(await markOf(adopted)).toBeUndefined();
    const { logs } = await deploy(deleteEvent(declared));
    await expectGone(created);
    expect(await live(adopted)).toMatchObject({ partitions: 1 });
    expect(messages(logs)).toContain(`Kept topics ${adopted}: this stack did not create them`);
  });

  test('destroy: a topic that leaves the list is deleted only when this stack created it', async () => {
    const [created, adopted] = [uniqueName('tb-own'), uniqueName('tb-adopted')];
    await makeTopic(adopted, 1);
    const before: Declared = {
      removalPolicy: 'destroy',
      topics: [
        { name: created, partitions: 1 },
        { name: adopted, partitions: 1 },
      ],
    };
    await deploy(createEvent(before));
    const { logs } = await deploy(updateEvent({ removalPolicy: 'destroy', topics: [] }, before));
    await expectGone(created);
    expect(await live(adopted)).toMatchObject({ partitions: 1 });
    expect(messages(logs)).toContain(`Kept topic ${adopted}: it left the list, but this stack did not create it`);
  });

  test('destroy: the rollback of an Update refused for meeting someone else’s topic leaves that topic alone', async () => {
    const [name, foreign] = [uniqueName('tb-rb-own'), uniqueName('tb-rb-foreign')];
    const before: Declared = { adoptExisting: false, removalPolicy: 'destroy', topics: [{ name, partitions: 1 }] };
    await deploy(createEvent(before));
    await makeTopic(foreign, 1);
    const forward: Declared = { ...before, topics: [...before.topics, { name: foreign, partitions: 1 }] };
    await failure(updateEvent(forward, before));
    // CloudFormation rolls the resource back with an Update from the refused properties to the previous ones:
    // the foreign topic seems to leave the list.
    await deploy(updateEvent(before, forward));
    expect(await live(foreign)).toMatchObject({ partitions: 1 });
    expect((await live(name))?.partitions).toBe(1);
  });
});

describe('same event delivered twice', () => {
  test('Create twice: same physical id, same topic, no error (also with AdoptExisting false)', async () => {
    const name = uniqueName('tb-twice');
    const event = createEvent({
      adoptExisting: false,
      topics: [{ name, partitions: 3, config: { 'retention.ms': '60000' } }],
    });
    const first = await deploy(event);
    const second = await deploy(event);
    expect(second.physicalId).toBe(first.physicalId);
    expect(messages(second.logs)).toContain(`Topic ${name} already exists as declared`);
    expect(await live(name)).toEqual({
      partitions: 3,
      replicationFactor: 1,
      leaders: true,
      overrides: { 'retention.ms': '60000' },
    });
  });

  test('Update twice: the second finds the grown, reconfigured topic and changes nothing', async () => {
    const name = uniqueName('tb-twice');
    const before: Declared = { topics: [{ name, partitions: 1 }] };
    await deploy(createEvent(before));
    const event = updateEvent({ topics: [{ name, partitions: 3, config: { 'retention.ms': '60000' } }] }, before);
    await deploy(event);
    const second = await deploy(event);
    expect(second.physicalId).toBe(PHYSICAL_ID);
    expect(messages(second.logs).filter((m) => /^(Grew|Set|Created)/.test(m))).toEqual([]);
    expect(await live(name)).toEqual({
      partitions: 3,
      replicationFactor: 1,
      leaders: true,
      overrides: { 'retention.ms': '60000' },
    });
  });

  test('Delete twice under destroy: the second finds nothing to delete', async () => {
    const name = uniqueName('tb-twice');
    const declared: Declared = { removalPolicy: 'destroy', topics: [{ name, partitions: 1 }] };
    await deploy(createEvent(declared));
    const event = deleteEvent(declared);
    await deploy(event);
    const second = await deploy(event);
    expect(messages(second.logs)).toContain(`Topics already gone: ${name}`);
    await expectGone(name);
  });

  test('a refused Update delivered twice fails twice with the same reason', async () => {
    const name = uniqueName('tb-twice');
    const before: Declared = { topics: [{ name, partitions: 2 }] };
    await deploy(createEvent(before));
    const event = updateEvent({ topics: [{ name, partitions: 1 }] }, before);
    const first = await failure(event);
    expect((await failure(event)).reason).toBe(first.reason);
    expect((await live(name))?.partitions).toBe(2);
  });
});

describe('rename', () => {
  test('under retain: the new name is created and the old topic is kept', async () => {
    const [oldName, newName] = [uniqueName('tb-old'), uniqueName('tb-new')];
    const before: Declared = { topics: [{ name: oldName, partitions: 2 }] };
    await deploy(createEvent(before));
    await deploy(updateEvent({ topics: [{ name: newName, partitions: 2 }] }, before));
    expect(await live(newName)).toMatchObject({ partitions: 2, leaders: true });
    expect(await live(oldName)).toMatchObject({ partitions: 2 });
  });

  test('under destroy: the new name is created and the old topic is deleted', async () => {
    const [oldName, newName] = [uniqueName('tb-old'), uniqueName('tb-new')];
    const before: Declared = { removalPolicy: 'destroy', topics: [{ name: oldName, partitions: 2 }] };
    await deploy(createEvent(before));
    await deploy(updateEvent({ removalPolicy: 'destroy', topics: [{ name: newName, partitions: 2 }] }, before));
    expect(await live(newName)).toMatchObject({ partitions: 2, leaders: true });
    await expectGone(oldName);
  });
});

// CloudFormation rolls a failed update back with another Update whose properties are the previous ones.
describe('Update rollback', () => {
  test('after an Update refused before any change, the rollback finds the live topics as declared and succeeds', async () => {
    const [grows, rf] = [uniqueName('tb-rb-grow'), uniqueName('tb-rb-rf')];
    const before: Declared = {
      topics: [
        { name: grows, partitions: 3 },
        { name: rf, partitions: 1 },
      ],
    };
    await deploy(createEvent(before));
    const refused: Declared = {
      topics: [
        { name: grows, partitions: 6, config: { 'retention.ms': '5000' } },
        { name: rf, partitions: 1, replicationFactor: 2 },
      ],
    };
    await failure(updateEvent(refused, before));
    expect((await live(grows))?.partitions).toBe(3);
    // Compared with the old properties, the rollback looks like a shrink and a replication change; the
    // live cluster shows there is nothing to do.
    await deploy(updateEvent(before, refused));
    expect(await live(grows)).toEqual({ partitions: 3, replicationFactor: 1, leaders: true, overrides: {} });
    expect(await live(rf)).toEqual({ partitions: 1, replicationFactor: 1, leaders: true, overrides: {} });
  });

  test('after a refused decrease, the rollback (back to the count the topic has) succeeds without touching it', async () => {
    const name = uniqueName('tb-rb-shrink');
    const before: Declared = { topics: [{ name, partitions: 4 }] };
    await deploy(createEvent(before));
    const shrink: Declared = { topics: [{ name, partitions: 2 }] };
    await failure(updateEvent(shrink, before));
    const { logs } = await deploy(updateEvent(before, shrink));
    expect(messages(logs).filter((m) => m.startsWith('Grew'))).toEqual([]);
    expect((await live(name))?.partitions).toBe(4);
  });

  test('after a successful update that changed overrides and deleted a topic (destroy), the rollback restores both', async () => {
    const [name, removed] = [uniqueName('tb-rb-config'), uniqueName('tb-rb-removed')];
    const before: Declared = {
      removalPolicy: 'destroy',
      topics: [
        { name, partitions: 1, config: { 'retention.ms': '3600000' } },
        { name: removed, partitions: 2, config: { 'cleanup.policy': 'compact' } },
      ],
    };
    await deploy(createEvent(before));
    const forward: Declared = {
      removalPolicy: 'destroy',
      topics: [{ name, partitions: 1, config: { 'segment.ms': '60000' } }],
    };
    await deploy(updateEvent(forward, before));
    await expectGone(removed);
    // A broker applies a configuration change moments after the controller accepts it: wait for it to show,
    // before the rollback (which comes later in real life) and before checking the rollback's own change.
    const showsOverrides = (overrides: Record<string, string>) =>
      eventually(`overrides ${JSON.stringify(overrides)} on the broker`, 10000, async () =>
        JSON.stringify((await live(name))?.overrides) === JSON.stringify(overrides) ? true : undefined,
      );
    await showsOverrides({ 'segment.ms': '60000' });
    // Another resource of the stack fails; CloudFormation rolls this resource back.
    await deploy(updateEvent(before, forward));
    await showsOverrides({ 'retention.ms': '3600000' });
    expect(await live(removed)).toEqual({
      partitions: 2,
      replicationFactor: 1,
      leaders: true,
      overrides: { 'cleanup.policy': 'compact' },
    });
  });

  test('a rollback that re-declares a topic kept under retain succeeds even with AdoptExisting false', async () => {
    const [name, removed] = [uniqueName('tb-rb-keep'), uniqueName('tb-rb-kept')];
    const before: Declared = {
      adoptExisting: false,
      topics: [
        { name, partitions: 1 },
        { name: removed, partitions: 2, config: { 'retention.ms': '60000' } },
      ],
    };
    await deploy(createEvent(before));
    const forward: Declared = { adoptExisting: false, topics: [{ name, partitions: 1 }] };
    await deploy(updateEvent(forward, before));
    await deploy(updateEvent(before, forward));
    expect(await live(removed)).toMatchObject({ partitions: 2, overrides: { 'retention.ms': '60000' } });
  });

  test('a rollback that finds more partitions than it declares, without asking for fewer, keeps them and logs it', async () => {
    const [name, rf] = [uniqueName('tb-rb-kept'), uniqueName('tb-rb-rf')];
    const before: Declared = {
      topics: [
        { name, partitions: 3 },
        { name: rf, partitions: 1 },
      ],
    };
    await deploy(createEvent(before));
    // Grown outside CloudFormation (or by an increase whose rollback was skipped with continue-update-rollback).
    await admin.createPartitions({ topicPartitions: [{ topic: name, count: 5 }] });
    await eventually('5 partitions on the broker', 10000, async () =>
      (await live(name))?.partitions === 5 ? true : undefined,
    );
    const refused: Declared = {
      topics: [
        { name, partitions: 3, config: { 'retention.ms': '5000' } },
        { name: rf, partitions: 1, replicationFactor: 3 },
      ],
    };
    await failure(updateEvent(refused, before));
    const { logs } = await deploy(updateEvent(before, refused));
    expect((await live(name))?.partitions).toBe(5);
    expect(messages(logs)).toContain(`Kept topic ${name} at 5 partitions (declared 3); Kafka cannot remove partitions`);
  });

  test('the rollback of a successful increase cannot be told from a decrease: it fails naming the escape', async () => {
    // Documented limit: "declared 3, previously 6, the topic has 6" is also what a user's 6 -> 3 looks like,
    // and only the stack status (out of reach of this function) could tell them apart.
    const name = uniqueName('tb-rb-increase');
    const before: Declared = { topics: [{ name, partitions: 3 }] };
    await deploy(createEvent(before));
    const forward: Declared = { topics: [{ name, partitions: 6 }] };
    await deploy(updateEvent(forward, before));
    const { reason } = await failure(updateEvent(before, forward));
    expect(reason).toBe(
      `topic "${name}": partitions 3 is below the 6 it has, and Kafka cannot remove partitions; declare 6 or more (${ROLLBACK_HINT})`,
    );
    expect((await live(name))?.partitions).toBe(6);
  });
});

describe('a failing event undoes its own partial work', () => {
  /** The shared test admin, with one kind of call failing as a broker might, after validation passed. */
  function failingOn(method: 'createTopics' | 'createPartitions', when: (args: unknown) => boolean): Admin {
    return new Proxy(admin, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        if (property !== method || typeof value !== 'function') return value;
        return (args: { validateOnly?: boolean }) =>
          !args.validateOnly && when(args)
            ? Promise.reject(new Error('The broker failed this request'))
            : (value as (a: unknown) => Promise<unknown>).call(target, args);
      },
    });
  }

  test('a Create that fails on its second topic deletes the first and restores an adopted topic', async () => {
    const [adopted, first, second] = [uniqueName('tb-undo-adopted'), uniqueName('tb-undo-1'), uniqueName('tb-undo-2')];
    await makeTopic(adopted, 1, { 'retention.ms': '1000' });
    const faulty = failingOn('createTopics', (args) => JSON.stringify(args).includes(second));
    const event = createEvent({
      topics: [
        { name: adopted, partitions: 1, config: { 'retention.ms': '2000' } },
        { name: first, partitions: 1 },
        { name: second, partitions: 1 },
      ],
    });
    const { result: error, lines } = await captureLogs(() =>
      handler
        .onEventWith(() => Promise.resolve(faulty), event)
        .then(
          () => undefined,
          (e: unknown) => e as Error,
        ),
    );
    expect(error?.message).toBe(`topic "${second}": creating it failed: The broker failed this request`);
    await expectGone(first);
    expect(await live(second)).toBeUndefined();
    expect((await live(adopted))?.overrides).toEqual({ 'retention.ms': '1000' });
    expect(messages(lines)).toContain(`Deleted the topics this event created: ${first}`);
  });

  test('an Update that fails growing a topic deletes the topic it created and restores the overrides it set', async () => {
    const [grows, reconfigured, added] = [
      uniqueName('tb-undo-grow'),
      uniqueName('tb-undo-conf'),
      uniqueName('tb-undo-add'),
    ];
    const before: Declared = {
      topics: [
        { name: grows, partitions: 1 },
        { name: reconfigured, partitions: 1, config: { 'retention.ms': '3600000' } },
      ],
    };
    await deploy(createEvent(before));
    const faulty = failingOn('createPartitions', () => true);
    const event = updateEvent(
      {
        topics: [
          { name: grows, partitions: 2 },
          { name: reconfigured, partitions: 1, config: { 'retention.ms': '60000', 'segment.ms': '60000' } },
          { name: added, partitions: 1 },
        ],
      },
      before,
    );
    const { result: error } = await captureLogs(() =>
      handler
        .onEventWith(() => Promise.resolve(faulty), event)
        .then(
          () => undefined,
          (e: unknown) => e as Error,
        ),
    );
    expect(error?.message).toBe(`topic "${grows}": growing it to 2 partitions failed: The broker failed this request`);
    expect((await live(grows))?.partitions).toBe(1);
    expect((await live(reconfigured))?.overrides).toEqual({ 'retention.ms': '3600000' });
    await expectGone(added);
  });
});

// A broker accepts a change before its metadata shows it; CloudFormation must hear "done" only once it shows.
describe('done means visible in the broker metadata', () => {
  /**
   * The shared test admin, whose reads lag its writes: for the next `lag` reads after an AlterConfigs, the
   * topic's configuration reads as it was before; after a DeleteTopics, the topic is still listed. Counts the
   * stale answers it gave.
   */
  function lagging(lag: number): { admin: Admin; staleReads: () => number } {
    const staleConfigs = new Map<string, { left: number; entries: unknown[] }>();
    const staleTopics = new Map<string, number>();
    let staleReads = 0;
    const proxy = new Proxy(admin, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        if (property === 'alterConfigs') {
          return async (args: Parameters<Admin['alterConfigs']>[0]) => {
            if (!args.validateOnly) {
              for (const resource of args.resources) {
                const {
                  resources: [before],
                } = await target.describeConfigs({
                  includeSynonyms: false,
                  resources: [{ type: ConfigResourceTypes.TOPIC, name: resource.name }],
                });
                staleConfigs.set(resource.name, { left: lag, entries: before.configEntries });
              }
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
    visibilityTimeoutMs?: number,
  ): Promise<{ error?: Error; logs: LogLine[] }> {
    const { result, lines } = await captureLogs(() =>
      handler
        .onEventWith(() => Promise.resolve(proxy), event, { visibilityTimeoutMs })
        .then(
          () => undefined,
          (e: unknown) => e as Error,
        ),
    );
    return { error: result, logs: lines };
  }

  test('a configuration change is done only once the broker reads the declared overrides back', async () => {
    const name = uniqueName('tb-vis-config');
    const before: Declared = { topics: [{ name, partitions: 1, config: { 'retention.ms': '3600000' } }] };
    await deploy(createEvent(before));
    const slow = lagging(3);
    const { error, logs } = await onEventWith(
      slow.admin,
      updateEvent({ topics: [{ name, partitions: 1, config: { 'segment.ms': '600000' } }] }, before),
    );
    expect(error).toBeUndefined();
    // It read until the broker answered with the new set: every stale answer was used up.
    expect(slow.staleReads()).toBe(3);
    expect(messages(logs)).toContain(`Waiting until the broker's metadata shows the configuration of ${name}`);
    expect((await live(name))?.overrides).toEqual({ 'segment.ms': '600000' });
  });

  test.each([
    ['an Update (the topic left the list under destroy)', 'update'],
    ['a Delete (the stack is deleted under destroy)', 'delete'],
  ])('a deletion by %s is done only once the broker no longer lists the topic', async (_, how) => {
    const [name, stays] = [uniqueName('tb-vis-delete'), uniqueName('tb-vis-stays')];
    const before: Declared = {
      removalPolicy: 'destroy',
      topics: [
        { name, partitions: 1 },
        { name: stays, partitions: 1 },
      ],
    };
    await deploy(createEvent(before));
    const slow = lagging(3);
    const event =
      how === 'update'
        ? updateEvent({ removalPolicy: 'destroy', topics: [{ name: stays, partitions: 1 }] }, before)
        : deleteEvent({ removalPolicy: 'destroy', topics: [{ name, partitions: 1 }] });
    const { error, logs } = await onEventWith(slow.admin, event);
    expect(error).toBeUndefined();
    expect(slow.staleReads()).toBe(3);
    expect(messages(logs)).toContain(`Waiting until the broker's metadata shows the deletion of ${name}`);
    expect(await live(name)).toBeUndefined();
  });

  test('a change that never shows fails the event in one line, naming the topic', async () => {
    const name = uniqueName('tb-vis-never');
    const before: Declared = { topics: [{ name, partitions: 1 }] };
    await deploy(createEvent(before));
    const stuck = lagging(Number.MAX_SAFE_INTEGER);
    const { error } = await onEventWith(
      stuck.admin,
      updateEvent({ topics: [{ name, partitions: 1, config: { 'retention.ms': '60000' } }] }, before),
      2000,
    );
    expect(error?.message).toBe(
      `configuration of ${name} did not show in the broker's metadata within 2 s; run the deploy again`,
    );
  });

  test('a Delete that meets a deletion already under way (a second delivery) counts the topic as gone', async () => {
    const [name, other] = [uniqueName('tb-vis-twice'), uniqueName('tb-vis-twice')];
    const declared: Declared = {
      removalPolicy: 'destroy',
      topics: [
        { name, partitions: 1 },
        { name: other, partitions: 1 },
      ],
    };
    await deploy(createEvent(declared));
    // An admin that retries as the handler's own client does (kafkajs retries an unknown topic first).
    const bounded = kafkaClient(testBrokers(), 'hello-msk-test-bounded', { ...KAFKA_TIMEOUTS.retry }).admin();
    await bounded.connect();
    // The other delivery deletes the topic between this one's read and its own DeleteTopics request, which
    // Kafka then answers with "This server does not host this topic-partition".
    const racing = new Proxy(bounded, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        if (property !== 'deleteTopics') return value;
        return async (args: Parameters<Admin['deleteTopics']>[0]) => {
          if (args.topics.includes(name)) {
            await target.deleteTopics({ topics: [name] });
            await expectGone(name);
          }
          return target.deleteTopics(args);
        };
      },
    });
    const { error, logs } = await onEventWith(racing, deleteEvent(declared)).finally(() => bounded.disconnect());
    expect(error).toBeUndefined();
    expect(messages(logs)).toContain(`Topic ${name} is already gone (deleted meanwhile)`);
    await expectGone(name);
    await expectGone(other);
  });
});

// ------------------------------------------------------------------------------------------------ bad properties

type Bad = (ok: string, bad: string) => Record<string, unknown>;
const okTopic = (name: string) => ({ Name: name, Partitions: '1', ReplicationFactor: '1', Config: {} });
const withTopic = (ok: string, topic: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:TopicsProviderframeworkonEvent',
  Topics: [okTopic(ok), topic],
  RemovalPolicy: 'retain',
  AdoptExisting: 'true',
  ...extra,
});
const LONG = `tb-${'x'.repeat(247)}`;

const BAD_PROPERTIES: [string, Bad, (bad: string, ok: string) => string][] = [
  [
    'Topics missing',
    () => ({ ServiceToken: 'x', RemovalPolicy: 'retain' }),
    () => 'property Topics is missing; expected a list of { Name, Partitions, ReplicationFactor, Config }',
  ],
  [
    'Topics not a list',
    () => ({ ServiceToken: 'x', Topics: 'test-topic' }),
    () =>
      'property Topics "test-topic" is not valid; expected a list of { Name, Partitions, ReplicationFactor, Config }',
  ],
  [
    'an unknown property',
    (ok, bad) => withTopic(ok, okTopic(bad), { Retention: '7d' }),
    () => 'property Retention is not known; allowed: ClusterArn, Topics, RemovalPolicy, AdoptExisting, ClusterKind',
  ],
  [
    'ClusterKind not provisioned or serverless',
    (ok, bad) => withTopic(ok, okTopic(bad), { ClusterKind: 'express' }),
    () => 'property ClusterKind "express" is not valid; allowed: provisioned or serverless',
  ],
  [
    'RemovalPolicy not retain or destroy',
    (ok, bad) => withTopic(ok, okTopic(bad), { RemovalPolicy: 'snapshot' }),
    () => 'property RemovalPolicy "snapshot" is not valid; allowed: retain or destroy',
  ],
  [
    'AdoptExisting not a boolean',
    (ok, bad) => withTopic(ok, okTopic(bad), { AdoptExisting: 'yes' }),
    () => 'property AdoptExisting "yes" is not valid; allowed: true or false',
  ],
  [
    'a topic without a name',
    (ok) => withTopic(ok, { Partitions: '1', ReplicationFactor: '1' }),
    () => 'Topics[1].Name undefined is not valid; expected a topic name',
  ],
  [
    'a topic name Kafka rejects',
    (ok, bad) => withTopic(ok, okTopic(`${bad} x`)),
    (bad) => `topic name "${bad} x" has characters Kafka rejects; use only a-z A-Z 0-9 . _ -`,
  ],
  [
    'a topic name longer than 249',
    (ok) => withTopic(ok, okTopic(LONG)),
    () => `topic name "${LONG}" is 250 characters; at most 249 are allowed`,
  ],
  [
    'a topic name reserved for internal topics',
    (ok, bad) => withTopic(ok, okTopic(`__${bad}`)),
    (bad) => `topic name "__${bad}" starts with "__", which Kafka reserves for internal topics`,
  ],
  [
    'an unknown topic field',
    (ok, bad) => withTopic(ok, { ...okTopic(bad), Retention: '1d' }),
    (bad) => `topic "${bad}": Retention is not a topic field; allowed: Name, Partitions, ReplicationFactor, Config`,
  ],
  [
    'partitions 0',
    (ok, bad) => withTopic(ok, { ...okTopic(bad), Partitions: '0' }),
    (bad) => `topic "${bad}": partitions 0 is not valid; allowed: a whole number >= 1`,
  ],
  [
    'partitions not a number',
    (ok, bad) => withTopic(ok, { ...okTopic(bad), Partitions: 'three' }),
    (bad) => `topic "${bad}": partitions "three" is not valid; allowed: a whole number >= 1`,
  ],
  [
    'partitions not whole',
    (ok, bad) => withTopic(ok, { ...okTopic(bad), Partitions: '1.5' }),
    (bad) => `topic "${bad}": partitions "1.5" is not valid; allowed: a whole number >= 1`,
  ],
  [
    'replication factor missing',
    (ok, bad) => withTopic(ok, { Name: bad, Partitions: '1' }),
    (bad) => `topic "${bad}": replicationFactor undefined is not valid; allowed: a whole number >= 1`,
  ],
  [
    'replication factor above the live broker count',
    (ok, bad) => withTopic(ok, { ...okTopic(bad), ReplicationFactor: '2' }),
    (bad) => `topic "${bad}": replicationFactor 2 is above the broker count 1; allowed: 1 to 1`,
  ],
  [
    // MSK Serverless places replicas away from the brokers a client sees, so the handler leaves the judgement to
    // the cluster: here the one local broker answers for itself.
    'on a serverless cluster, a replication factor only the broker refuses',
    (ok, bad) => withTopic(ok, { ...okTopic(bad), ReplicationFactor: '2' }, { ClusterKind: 'serverless' }),
    (bad) => `topic "${bad}": Kafka refuses to create it: Replication-factor is invalid`,
  ],
  [
    'a duplicate name',
    (ok) => withTopic(ok, okTopic(ok)),
    (_, ok) => `topic "${ok}" is declared twice (or collides with another name that differs only in . and _)`,
  ],
  [
    'config not an object',
    (ok, bad) => withTopic(ok, { ...okTopic(bad), Config: 'retention.ms=1' }),
    (bad) => `topic "${bad}": config "retention.ms=1" is not valid; expected an object of string values`,
  ],
  [
    'an unknown config key',
    (ok, bad) => withTopic(ok, { ...okTopic(bad), Config: { 'retention.days': '7' } }),
    (bad) =>
      `topic "${bad}": config retention.days is not a topic-level configuration key (see the Kafka topic configs; e.g. retention.ms, cleanup.policy)`,
  ],
  [
    'a config value the key does not allow',
    (ok, bad) => withTopic(ok, { ...okTopic(bad), Config: { 'cleanup.policy': 'archive' } }),
    (bad) => `topic "${bad}": config cleanup.policy has value "archive"; allowed: delete, compact or compact,delete`,
  ],
  [
    'min.insync.replicas not below the replication factor',
    (ok, bad) => withTopic(ok, { ...okTopic(bad), Config: { 'min.insync.replicas': '2' } }),
    (bad) =>
      `topic "${bad}": min.insync.replicas 2 is not valid; allowed: 1 (below the replication factor 1, so one broker may be down)`,
  ],
  [
    'a combination of values that only the broker refuses',
    (ok, bad) =>
      withTopic(ok, {
        ...okTopic(bad),
        Config: { 'min.compaction.lag.ms': '60000', 'max.compaction.lag.ms': '1000' },
      }),
    (bad) => `topic "${bad}": Kafka refuses to create it: Configuration is invalid`,
  ],
];

describe('bad properties', () => {
  test.each(BAD_PROPERTIES)('%s: fails with the one-line reason and changes nothing', async (_, props, reason) => {
    const [ok, bad] = [uniqueName('tb-ok'), uniqueName('tb-bad')];
    const { reason: actual } = await failure(createEvent(props(ok, bad)));
    expect(actual).toBe(reason(bad, ok));
    const topics = await admin.listTopics();
    expect(topics.filter((t) => t === ok || t.includes(bad))).toEqual([]);
  });
});

describe('isComplete', () => {
  test('answers "not yet" instead of throwing while the broker is unreachable', async () => {
    const unreachable = loadBundle<TopicBootstrapModule>('topic-bootstrap', {
      KAFKA_BROKERS: '127.0.0.1:1',
      KAFKA_AUTH: 'none',
    });
    try {
      const event = {
        ...createEvent({ topics: [{ name: uniqueName('tb-wait'), partitions: 1 }] }),
        PhysicalResourceId: PHYSICAL_ID,
      };
      const { result } = await captureLogs(() => unreachable.isComplete(event));
      expect(result).toEqual({ IsComplete: false });
    } finally {
      await unreachable.close();
    }
  });

  test('waits while a declared topic has fewer partitions than declared', async () => {
    const name = uniqueName('tb-wait');
    await makeTopic(name, 1);
    const event = { ...createEvent({ topics: [{ name, partitions: 2 }] }), PhysicalResourceId: PHYSICAL_ID };
    const { result, lines } = await captureLogs(() => onTwin.isComplete(event));
    expect(result).toEqual({ IsComplete: false });
    expect(messages(lines)).toContain(`Waiting for partition leaders of ${name}`);
  });
});
