/**
 * Topic custom resource behind the CDK Provider framework: one resource per topic, with the properties of
 * `AWS::MSK::Topic` (`Configs` is base64 of a JSON object of strings). `onEvent` makes the change, `isComplete`
 * waits until every partition has a leader; each throws one line to fail. The physical id is the topic name. A
 * Create that finds its topic takes it only when it is exactly as declared, or carries the mark of the earlier
 * topic-list resource (docs/decisions.md, docs/upgrading.md).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { ConfigResourceTypes, ConfigSource, type Admin } from 'kafkajs';
import { topicNameProblem, topicsProblem, type TopicProperties } from '../../lib/kafka-rules';
import { authorizationFailure, NotAuthorizedError } from '../shared/authorization';
import { intEnv, readKafkaSettings } from '../shared/env';
import { createKafka, describeKafkaFailure, isDisconnectedError } from '../shared/kafka';
import { NEW_GRANT_RETRY_MS, retryWindow, retryWithin } from '../shared/retry';

/** The custom resource's properties as the handler uses them (CloudFormation delivers them as strings). */
export interface TopicResourceProperties {
  readonly ClusterArn: string;
  readonly TopicName: string;
  readonly PartitionCount: number;
  readonly ReplicationFactor: number;
  /** Decoded from `Configs`; empty when the property is absent. */
  readonly Configs: Record<string, string>;
}

export interface OnEventResponse {
  readonly PhysicalResourceId: string;
}

export interface IsCompleteResponse {
  readonly IsComplete: boolean;
}

/** What `isComplete` receives: the event plus what `onEvent` returned. */
export type IsCompleteEvent = CloudFormationCustomResourceEvent & { readonly PhysicalResourceId: string };

/** A failure CloudFormation shows as the resource's status reason: one line, under 1 KB. */
export class TopicBootstrapError extends Error {
  constructor(message: string) {
    super(oneLine(message));
    this.name = 'TopicBootstrapError';
  }
}

/** The Provider framework adds the log group and a stack trace; the whole response must fit in 4 KB. */
export const MAX_REASON_BYTES = 1000;
/** How long `onEvent` waits for its changes to show in the broker's metadata before it fails. */
export const VISIBILITY_TIMEOUT_MS = 30_000;
const PROPERTY_FIELDS = ['ClusterArn', 'TopicName', 'PartitionCount', 'ReplicationFactor', 'Configs'];
/** CloudFormation passes these beside the resource's own properties. */
const FRAMEWORK_FIELDS = ['ServiceToken', 'ServiceTimeout'];
/**
 * The settings and values in which the earlier version of this handler marked the topics it created: the
 * largest long less up to 2^48 ms, in `message.timestamp.before.max.ms` (`...difference.max.ms` on Serverless).
 */
const LEGACY_MARK_KEYS = ['message.timestamp.before.max.ms', 'message.timestamp.difference.max.ms'];
const MAX_LONG = 2n ** 63n - 1n;
const LEGACY_MARK_MIN = MAX_LONG - 1n - 2n ** 48n;

// Module scope: one admin client per container, reused by warm invocations.
// AUTHORIZATION_RETRY_MS shortens the window of refusals retried (tests of refusals).
const authorizationRetryMs = intEnv('AUTHORIZATION_RETRY_MS', NEW_GRANT_RETRY_MS);
const logger = new Logger({ serviceName: 'hello-msk-topic-bootstrap' });
const settings = readKafkaSettings();
const sharedAdmin = createKafka(settings, 'hello-msk-topic-bootstrap', logger).admin();
let connected: Promise<void> | undefined;
sharedAdmin.on(sharedAdmin.events.DISCONNECT, () => {
  connected = undefined;
});

/** Creates, changes or deletes the topic. */
export async function onEvent(event: CloudFormationCustomResourceEvent): Promise<OnEventResponse> {
  return onEventWith(connectedAdmin, event);
}

/** Done when the topic has the declared partitions, each with a leader. */
export async function isComplete(event: IsCompleteEvent): Promise<IsCompleteResponse> {
  return isCompleteWith(connectedAdmin, event);
}

/** Disconnects the shared admin client (offline runs and tests; Lambda just freezes the container). */
export async function close(): Promise<void> {
  await sharedAdmin.disconnect().catch(() => undefined);
  connected = undefined;
}

export interface OnEventOptions {
  /** @default VISIBILITY_TIMEOUT_MS */
  readonly visibilityTimeoutMs?: number;
  /** How long a refusal for lack of authorization is retried. @default NEW_GRANT_RETRY_MS */
  readonly authorizationRetryMs?: number;
}

/** `onEvent` with the admin client supplied by the caller (tests inject faults with it). */
export async function onEventWith(
  getAdmin: () => Promise<Admin>,
  event: CloudFormationCustomResourceEvent,
  options: OnEventOptions = {},
): Promise<OnEventResponse> {
  try {
    // Every step reads the live topic first, so running the whole event again is safe.
    return await retryWithin(
      retryWindow(options.authorizationRetryMs ?? authorizationRetryMs),
      () => handleEvent(getAdmin, event, options.visibilityTimeoutMs ?? VISIBILITY_TIMEOUT_MS),
      (error) => {
        const failure = asFailure(error, event);
        return failure instanceof NotAuthorizedError ? failure.message : undefined;
      },
      (reason, delay) => logger.warn(`${reason}; retrying in ${delay / 1000} s (IAM may not show a new grant yet)`),
    );
  } catch (error) {
    const failure = asFailure(error, event);
    logger.error(failure.message, { error: error as Error, requestType: event.RequestType });
    throw failure instanceof TopicBootstrapError ? failure : new TopicBootstrapError(failure.message);
  }
}

/** The one-line failure for `error`: ours as is, a refusal for lack of authorization, or Kafka's reason. */
function asFailure(error: unknown, event: CloudFormationCustomResourceEvent): Error {
  if (error instanceof TopicBootstrapError || error instanceof NotAuthorizedError) return error;
  const name = (event.ResourceProperties as Record<string, unknown> | undefined)?.TopicName;
  const denied = authorizationFailure(error, {
    topic: { action: 'DescribeTopic or kafka-cluster:DescribeTopicDynamicConfiguration', name: String(name) },
  });
  return denied ?? new TopicBootstrapError(`Topics: ${describeKafkaFailure(error, settings)}`);
}

/**
 * `isComplete` with the admin client supplied by the caller. It never throws: the framework retries a thrown
 * error like "not yet" and, at the total timeout, cannot report it, so problems are logged and the answer is
 * "not yet" until they clear or the framework reports the timeout.
 */
export async function isCompleteWith(
  getAdmin: () => Promise<Admin>,
  event: IsCompleteEvent,
): Promise<IsCompleteResponse> {
  if (event.RequestType === 'Delete') return { IsComplete: true };
  try {
    const topic = parseProperties(event.ResourceProperties);
    const admin = await getAdmin();
    const live = (await admin.listTopics()).includes(topic.TopicName)
      ? (await admin.fetchTopicMetadata({ topics: [topic.TopicName] })).topics[0]
      : undefined;
    const partitions = live?.partitions ?? [];
    if (partitions.length < topic.PartitionCount || partitions.some((p) => p.leader < 0)) {
      logger.info(`Waiting for partition leaders of ${topic.TopicName}`);
      return { IsComplete: false };
    }
    logger.info(`Every partition of ${topic.TopicName} has a leader`);
    return { IsComplete: true };
  } catch (error) {
    logger.warn('Could not check the topic yet; checking again', { error: error as Error });
    return { IsComplete: false };
  }
}

async function handleEvent(
  getAdmin: () => Promise<Admin>,
  event: CloudFormationCustomResourceEvent,
  visibilityTimeoutMs: number,
): Promise<OnEventResponse> {
  logger.info(`${event.RequestType} ${event.LogicalResourceId}`, {
    physicalResourceId: event.RequestType === 'Create' ? undefined : event.PhysicalResourceId,
    properties: event.ResourceProperties,
    oldProperties: event.RequestType === 'Update' ? event.OldResourceProperties : undefined,
  });
  if (event.RequestType === 'Delete') {
    await deleteTopic(getAdmin, event, visibilityTimeoutMs);
    return { PhysicalResourceId: event.PhysicalResourceId };
  }
  const topic = parseProperties(event.ResourceProperties);
  const problem = topicsProblem([asTopic(topic)], undefined, 1);
  if (problem) throw new TopicBootstrapError(problem);
  const admin = await getAdmin();
  let live = await describeLive(admin, topic.TopicName);
  // A new TopicName is a replacement: a new topic under a new physical id, as a Create would make it.
  const creating = event.RequestType === 'Create' || event.PhysicalResourceId !== topic.TopicName;
  if (!live) {
    if (!creating) logger.warn(`Topic ${topic.TopicName} does not exist (deleted, or a new cluster); creating it`);
    if (await createTopic(admin, topic)) return { PhysicalResourceId: topic.TopicName };
    // Made meanwhile (another delivery of this event, or someone else): the same rules as finding it at the start.
    live = await describeLive(admin, topic.TopicName);
    if (!live)
      throw new TopicBootstrapError(
        `topic ${JSON.stringify(topic.TopicName)}: Kafka says it exists but does not list it; run the deploy again`,
      );
  }
  if (creating) {
    checkTakeOver(topic, live);
    await reconcile(admin, topic, live, undefined, '', visibilityTimeoutMs);
  } else {
    const old = previousDeclaration(event.OldResourceProperties);
    await reconcile(admin, topic, live, old, rollbackHint(event), visibilityTimeoutMs);
  }
  return { PhysicalResourceId: topic.TopicName };
}

// ---------------------------------------------------------------------------------------------- properties

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** CloudFormation turns numbers into strings; accept both, and nothing that is not a whole number. */
function wholeNumber(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^-?\d{1,15}$/.test(value.trim())) return Number(value.trim());
  return undefined;
}

function decodeConfigs(raw: unknown): Record<string, string> {
  if (raw === undefined || raw === '') return {};
  const expected = 'expected base64 of a JSON object of string values';
  let decoded: unknown;
  try {
    if (typeof raw !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(raw)) throw new Error('not base64');
    decoded = JSON.parse(Buffer.from(raw, 'base64').toString('utf8'));
  } catch {
    throw new TopicBootstrapError(`property Configs ${show(raw)} is not valid; ${expected}`);
  }
  if (!isRecord(decoded) || Object.values(decoded).some((v) => typeof v !== 'string')) {
    throw new TopicBootstrapError(`property Configs ${show(decoded)} is not valid; ${expected}`);
  }
  return decoded as Record<string, string>;
}

/** Checks the properties at the door and turns them into typed values; throws naming the field. */
export function parseProperties(raw: unknown): TopicResourceProperties {
  if (!isRecord(raw)) throw new TopicBootstrapError(`properties ${show(raw)} are not valid; expected an object`);
  const unknownField = Object.keys(raw).find((k) => !PROPERTY_FIELDS.includes(k) && !FRAMEWORK_FIELDS.includes(k));
  if (unknownField !== undefined) {
    throw new TopicBootstrapError(`property ${unknownField} is not known; allowed: ${PROPERTY_FIELDS.join(', ')}`);
  }
  if (typeof raw.ClusterArn !== 'string' || !raw.ClusterArn.startsWith('arn:')) {
    throw new TopicBootstrapError(`property ClusterArn ${show(raw.ClusterArn)} is not valid; expected an ARN`);
  }
  if (typeof raw.TopicName !== 'string') {
    throw new TopicBootstrapError(`property TopicName ${show(raw.TopicName)} is not valid; expected a topic name`);
  }
  const at = `topic ${JSON.stringify(raw.TopicName)}`;
  const partitions = wholeNumber(raw.PartitionCount);
  if (partitions === undefined) {
    throw new TopicBootstrapError(
      `${at}: PartitionCount ${show(raw.PartitionCount)} is not valid; allowed: a whole number >= 1`,
    );
  }
  const replicationFactor = wholeNumber(raw.ReplicationFactor);
  if (replicationFactor === undefined) {
    throw new TopicBootstrapError(
      `${at}: ReplicationFactor ${show(raw.ReplicationFactor)} is not valid; allowed: a whole number >= 1`,
    );
  }
  return {
    ClusterArn: raw.ClusterArn,
    TopicName: raw.TopicName,
    PartitionCount: partitions,
    ReplicationFactor: replicationFactor,
    Configs: decodeConfigs(raw.Configs),
  };
}

function asTopic(topic: TopicResourceProperties): TopicProperties {
  return {
    Name: topic.TopicName,
    Partitions: topic.PartitionCount,
    ReplicationFactor: topic.ReplicationFactor,
    Config: topic.Configs,
  };
}

interface Previous {
  readonly partitions?: number;
  readonly replicationFactor?: number;
}

/** OldResourceProperties, read leniently: an unreadable entry must not block an Update or its rollback. */
function previousDeclaration(raw: unknown): Previous {
  if (!isRecord(raw)) return {};
  return { partitions: wholeNumber(raw.PartitionCount), replicationFactor: wholeNumber(raw.ReplicationFactor) };
}

function rollbackHint(event: CloudFormationCustomResourceEvent): string {
  const stackName = event.StackId.split('/')[1] ?? event.StackId;
  return `if this is a stack rollback, skip this resource: aws cloudformation continue-update-rollback --stack-name ${stackName} --resources-to-skip ${event.LogicalResourceId}`;
}

// ---------------------------------------------------------------------------------------------- live state

interface LiveTopic {
  readonly partitions: number;
  readonly replicationFactor: number;
  /** The topic's own configuration overrides (not broker defaults), a legacy ownership mark included. */
  readonly overrides: Record<string, string>;
  /** Whether one of those overrides is the earlier handler's ownership mark. */
  readonly legacyMark: boolean;
}

async function connectedAdmin(): Promise<Admin> {
  connected ??= sharedAdmin.connect().catch((error: unknown) => {
    connected = undefined;
    throw error;
  });
  await connected;
  try {
    // Brokers close idle connections after about 10 minutes; a warm container finds out here, before any change.
    await sharedAdmin.describeCluster();
  } catch (error) {
    if (!isDisconnectedError(error)) throw error;
    logger.warn('Admin connection was closed; reconnecting', { error: (error as Error).message });
    await sharedAdmin.disconnect().catch(() => undefined);
    connected = sharedAdmin.connect();
    await connected;
  }
  return sharedAdmin;
}

function isLegacyMark(key: string, value: string): boolean {
  return LEGACY_MARK_KEYS.includes(key) && /^\d{19}$/.test(value) && BigInt(value) >= LEGACY_MARK_MIN;
}

/** Partition count, replication factor and overrides of the topic, or undefined when it does not exist. */
async function describeLive(admin: Admin, name: string): Promise<LiveTopic | undefined> {
  if (!(await admin.listTopics()).includes(name)) return undefined;
  const {
    topics: [metadata],
  } = await admin.fetchTopicMetadata({ topics: [name] });
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name }],
  });
  const overrides: Record<string, string> = {};
  for (const entry of resources[0]?.configEntries ?? []) {
    if (entry.configSource === ConfigSource.TOPIC_CONFIG && entry.configValue !== null) {
      overrides[entry.configName] = entry.configValue;
    }
  }
  return {
    partitions: metadata.partitions.length,
    replicationFactor: Math.max(0, ...metadata.partitions.map((p) => p.replicas.length)),
    overrides,
    legacyMark: Object.entries(overrides).some(([key, value]) => isLegacyMark(key, value)),
  };
}

function sameConfig(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => b[k] === a[k]);
}

// ---------------------------------------------------------------------------------------------- changes

function topicConfig(name: string, overrides: Record<string, string>) {
  return {
    type: ConfigResourceTypes.TOPIC,
    name,
    configEntries: Object.entries(overrides).map(([key, value]) => ({ name: key, value })),
  };
}

/** The innermost Kafka reason: kafkajs wraps per-topic errors in aggregates and non-retriable wrappers. */
function kafkaReason(error: unknown): string {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current instanceof Error && !seen.has(current)) {
    seen.add(current);
    const errors = (current as { errors?: unknown[] }).errors;
    if (Array.isArray(errors) && errors.length > 0) {
      return errors.map((e) => (e instanceof Error ? e.message : String(e))).join('; ');
    }
    const cause = (current as { cause?: unknown }).cause;
    if (!(cause instanceof Error) || cause === current) return current.message;
    current = cause;
  }
  return error instanceof Error ? error.message : String(error);
}

/** Runs one Kafka change; a failure becomes one line naming the topic, the step and the IAM action it needs. */
async function step<T>(name: string, what: string, action: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const denied = authorizationFailure(error, { topic: { action, name } });
    if (denied) throw denied;
    throw new TopicBootstrapError(`topic ${JSON.stringify(name)}: ${what} failed: ${kafkaReason(error)}`);
  }
}

/** Creates the topic in one request, so a failure leaves nothing behind to undo; false when it exists. */
async function createTopic(admin: Admin, topic: TopicResourceProperties): Promise<boolean> {
  const name = topic.TopicName;
  const made = await step(name, 'creating it', 'CreateTopic', () =>
    admin.createTopics({
      waitForLeaders: false,
      topics: [
        {
          topic: name,
          numPartitions: topic.PartitionCount,
          replicationFactor: topic.ReplicationFactor,
          configEntries: Object.entries(topic.Configs).map(([key, value]) => ({ name: key, value })),
        },
      ],
    }),
  );
  if (made) {
    logger.info(
      `Created topic ${name} (${topic.PartitionCount} partitions, replication factor ${topic.ReplicationFactor})`,
      { config: topic.Configs },
    );
  }
  return made;
}

/**
 * A Create that finds its topic takes it only when it is exactly as declared (what a re-delivered Create makes)
 * or carries the earlier handler's ownership mark (an upgraded stack, whose topics that handler made).
 */
function checkTakeOver(topic: TopicResourceProperties, live: LiveTopic): void {
  const name = topic.TopicName;
  if (live.legacyMark) {
    logger.info(`Taking over topic ${name} from the earlier topic-list resource; its ownership mark is removed`);
    return;
  }
  const exact =
    live.partitions === topic.PartitionCount &&
    live.replicationFactor === topic.ReplicationFactor &&
    sameConfig(live.overrides, topic.Configs);
  if (!exact) {
    throw new TopicBootstrapError(
      `topic ${JSON.stringify(name)} already exists with ${live.partitions} partitions, replication factor ${live.replicationFactor} and overrides ${JSON.stringify(live.overrides)}, not as declared (${topic.PartitionCount}, ${topic.ReplicationFactor}, ${JSON.stringify(topic.Configs)}); delete it, or declare it exactly as it is to take it over`,
    );
  }
  logger.info(`Topic ${name} already exists as declared`);
}

/**
 * Brings an existing topic to the declaration: checks first, then the overrides, then more partitions last
 * (they cannot be undone); a failed increase restores the overrides. `previous` is the Update's old declaration.
 */
async function reconcile(
  admin: Admin,
  topic: TopicResourceProperties,
  live: LiveTopic,
  previous: Previous | undefined,
  hint: string,
  visibilityTimeoutMs: number,
): Promise<void> {
  const name = topic.TopicName;
  const at = `topic ${JSON.stringify(name)}`;
  if (live.replicationFactor !== topic.ReplicationFactor) {
    const from = previous?.replicationFactor ?? live.replicationFactor;
    if (from !== topic.ReplicationFactor) {
      throw new TopicBootstrapError(
        `${at}: replicationFactor ${from} -> ${topic.ReplicationFactor} is not supported (reassigning replicas is out of scope); the topic has ${live.replicationFactor}, declare that`,
      );
    }
    // Not asked for by this event (changed outside CloudFormation): a rollback must not trip over it.
    logger.warn(
      `Kept topic ${name} at replication factor ${live.replicationFactor} (declared ${topic.ReplicationFactor})`,
    );
  }
  if (topic.PartitionCount < live.partitions) {
    const from = previous?.partitions ?? live.partitions;
    if (topic.PartitionCount < from) {
      throw new TopicBootstrapError(
        `${at}: partitions ${topic.PartitionCount} is below the ${live.partitions} it has, and Kafka cannot remove partitions; declare ${live.partitions} or more${hint ? ` (${hint})` : ''}`,
      );
    }
    logger.warn(
      `Kept topic ${name} at ${live.partitions} partitions (declared ${topic.PartitionCount}); Kafka cannot remove partitions`,
    );
  }
  const reconfigure = !sameConfig(live.overrides, topic.Configs);
  if (reconfigure) {
    // AlterConfigs (not the incremental API) replaces the whole override set: keys left out return to the
    // broker default, which is exactly "apply the declared overrides" (and drops a legacy mark).
    await step(name, 'setting its configuration', 'AlterTopicDynamicConfiguration', () =>
      admin.alterConfigs({ validateOnly: false, resources: [topicConfig(name, topic.Configs)] }),
    );
    logger.info(`Set the configuration overrides of topic ${name}`, {
      previous: live.overrides,
      overrides: topic.Configs,
    });
  }
  if (topic.PartitionCount > live.partitions) {
    try {
      await step(name, `growing it to ${topic.PartitionCount} partitions`, 'AlterTopic', () =>
        admin.createPartitions({ topicPartitions: [{ topic: name, count: topic.PartitionCount }] }),
      );
    } catch (error) {
      if (reconfigure) await restore(admin, name, live.overrides, error as Error);
      throw error;
    }
    logger.info(`Grew topic ${name} from ${live.partitions} to ${topic.PartitionCount} partitions`);
  }
  if (reconfigure) {
    await waitFor('configuration', visibilityTimeoutMs, name, async () => {
      const now = await describeLive(admin, name);
      return !!now && sameConfig(now.overrides, topic.Configs);
    });
  }
}

async function restore(admin: Admin, name: string, overrides: Record<string, string>, cause: Error): Promise<void> {
  try {
    await admin.alterConfigs({ validateOnly: false, resources: [topicConfig(name, overrides)] });
    logger.info(`Restored the configuration overrides of topic ${name}`, { overrides });
  } catch (error) {
    throw new TopicBootstrapError(
      `${cause.message}; undo incomplete: topic ${name} keeps its new configuration (${kafkaReason(error)})`,
    );
  }
}

/**
 * Delete: CloudFormation sends it only when the resource's policy is not Retain. The topic its physical id names
 * is deleted; the earlier topic-list resource (a `Topics` property), replaced by one resource per topic, keeps all.
 */
async function deleteTopic(
  getAdmin: () => Promise<Admin>,
  event: CloudFormationCustomResourceEvent & { PhysicalResourceId: string },
  visibilityTimeoutMs: number,
): Promise<void> {
  const properties = isRecord(event.ResourceProperties) ? event.ResourceProperties : {};
  if ('Topics' in properties) {
    const names = Array.isArray(properties.Topics)
      ? properties.Topics.map((t: unknown) => (isRecord(t) ? String(t.Name) : '?'))
      : [];
    logger.info(
      `Kept topics ${names.join(', ') || '(none)'}: the topic-list resource is replaced by one resource per topic`,
    );
    return;
  }
  const name = event.PhysicalResourceId;
  if (topicNameProblem(name)) {
    logger.info(`Nothing to delete: physical id ${name} names no topic`);
    return;
  }
  const admin = await getAdmin();
  try {
    await admin.deleteTopics({ topics: [name] });
    logger.info(`Deleted topic ${name}`);
  } catch (error) {
    // Never existed, or another delivery of this Delete deleted it between kafkajs' retries.
    if (!isUnknownTopic(error)) {
      const denied = authorizationFailure(error, { topic: { action: 'DeleteTopic', name } });
      if (denied) throw denied;
      throw new TopicBootstrapError(`topic ${JSON.stringify(name)}: deleting it failed: ${kafkaReason(error)}`);
    }
    logger.info(`Topic ${name} is already gone`);
  }
  await waitFor('deletion', visibilityTimeoutMs, name, async () => !(await admin.listTopics()).includes(name));
}

/** Kafka's answer for a topic it does not host: one that does not exist, or no longer. */
function isUnknownTopic(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current instanceof Error && !seen.has(current)) {
    seen.add(current);
    if ((current as { type?: unknown }).type === 'UNKNOWN_TOPIC_OR_PARTITION') return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Done means visible: a broker accepts a change before its metadata shows it, so `onEvent` polls until it does,
 * or fails after `timeoutMs` naming what did not show.
 */
async function waitFor(what: string, timeoutMs: number, name: string, done: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 100; !(await done()); delay = Math.min(1000, delay * 2)) {
    if (Date.now() + delay > deadline) {
      throw new TopicBootstrapError(
        `${what} of ${name} did not show in the broker's metadata within ${Math.round(timeoutMs / 1000)} s; run the deploy again`,
      );
    }
    logger.info(`Waiting until the broker's metadata shows the ${what} of ${name}`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

function oneLine(message: string): string {
  const line = message.replace(/\s*[\r\n]+\s*/g, ' ').trim();
  if (Buffer.byteLength(line) <= MAX_REASON_BYTES) return line;
  const cut = Buffer.from(line)
    .subarray(0, MAX_REASON_BYTES - 3)
    .toString('utf8');
  return `${cut.replace(/\uFFFD+$/, '')}...`;
}
