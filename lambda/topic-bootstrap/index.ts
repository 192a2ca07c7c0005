/**
 * Topic-bootstrap custom resource, behind the CDK Provider framework: `onEvent` checks everything and makes
 * the quick changes, `isComplete` waits until every partition of the declared topics has a leader. Both
 * return to succeed and throw to fail; the framework answers CloudFormation.
 *
 * Done means visible: a broker accepts a configuration change or a deletion before its metadata shows it (the
 * controller commits the change, and each broker applies it moments later), so `onEvent` returns only once
 * the topics it reconfigured read back as declared and the topics it deleted are no longer listed, and
 * counts a topic that another delivery of the event is deleting at the same time as already gone.
 *
 * Every decision compares the declared topics with the LIVE cluster, never with the old properties alone,
 * so a re-delivered event and a rollback (an Update carrying the previous properties) find little or
 * nothing to do. All checks run before the first change; a failed event deletes the topics it created and
 * restores the configuration it changed.
 *
 * Rollbacks: CloudFormation marks nothing in a rollback Update, and a function in the isolated subnets
 * cannot ask CloudFormation for the stack status. The one rollback that the event and the live cluster
 * cannot tell apart from a user's request is the undoing of a partition increase: "declared 3, previously
 * declared 6, the topic has 6" is both a rollback of a successful 3 -> 6 and a request to shrink 6 -> 3.
 * Kafka cannot shrink, so that case fails, naming the `continue-update-rollback` escape. To keep it rare,
 * increases are the last change of an event (after every check and every other change), so a failed
 * event of this resource never leaves an increase behind and its own rollback never needs a shrink;
 * only a failure of another resource after this one succeeded can. Everything else a rollback brings
 * (configuration back, a removed topic again, a refused change) succeeds.
 *
 * Ownership: Kafka records nothing about who created a topic, and an identical topic someone else made looks
 * exactly like one this resource made in an earlier delivery of the same event. So every topic this resource
 * creates carries its mark, `message.timestamp.before.max.ms` set to a value derived from the stack id and the
 * logical id, about 292 million years, where the setting (reject records older than that) has no effect (on MSK
 * Serverless, which lets clients set no other timestamp bound, `message.timestamp.difference.max.ms`). The
 * mark tells a re-delivered event's own topics from anyone else's, survives every later change of the declared
 * overrides, and decides deletion: the destroy policy deletes only topics that carry this resource's mark, so
 * an adopted topic, or one another stack made, is never deleted.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { createHash } from 'node:crypto';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { ConfigResourceTypes, ConfigSource, type Admin, type ITopicConfig } from 'kafkajs';
import { ownershipMarkConfig, topicNameProblem, topicsProblem, type TopicProperties } from '../../lib/kafka-rules';
import { authorizationFailure } from '../shared/authorization';
import { readKafkaSettings } from '../shared/env';
import { createKafka, describeKafkaFailure, isDisconnectedError } from '../shared/kafka';

export type TopicRemovalPolicy = 'retain' | 'destroy';

/** The custom resource's properties, as the handler uses them (CloudFormation delivers them as strings). */
export interface TopicBootstrapProperties {
  readonly Topics: TopicProperties[];
  /** What happens to a topic removed from `Topics`, or to all of them when the resource is deleted. */
  readonly RemovalPolicy: TopicRemovalPolicy;
  /** Whether an existing topic with the declared partitions and replication factor is taken over. */
  readonly AdoptExisting: boolean;
  /** The MSK cluster; only here so that a replaced cluster re-runs the resource (its topics are gone). */
  readonly ClusterArn?: string;
  /**
   * `serverless` on MSK Serverless, where replicas are not placed on the brokers a client sees, so the
   * replication factor is left to the cluster to judge. Absent means provisioned.
   */
  readonly ClusterKind?: 'provisioned' | 'serverless';
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

const PROPERTY_FIELDS = ['ClusterArn', 'Topics', 'RemovalPolicy', 'AdoptExisting', 'ClusterKind'];
/** CloudFormation passes these beside the resource's own properties. */
const FRAMEWORK_FIELDS = ['ServiceToken', 'ServiceTimeout'];
const TOPIC_FIELDS = ['Name', 'Partitions', 'ReplicationFactor', 'Config'];
const TOPIC_SHAPE = 'a list of { Name, Partitions, ReplicationFactor, Config }';

// Module scope: one admin client per container, reused by warm invocations.
const logger = new Logger({ serviceName: 'hello-msk-topic-bootstrap' });
const settings = readKafkaSettings();
const kafka = createKafka(settings, 'hello-msk-topic-bootstrap', logger);
const sharedAdmin = kafka.admin();
let connected: Promise<void> | undefined;
sharedAdmin.on(sharedAdmin.events.DISCONNECT, () => {
  connected = undefined;
});

/** Creates, changes and (only when the removal policy says so) deletes the declared topics. */
export async function onEvent(event: CloudFormationCustomResourceEvent): Promise<OnEventResponse> {
  return onEventWith(connectedAdmin, event);
}

/** Done when every partition of every declared topic has a leader. */
export async function isComplete(event: IsCompleteEvent): Promise<IsCompleteResponse> {
  return isCompleteWith(connectedAdmin, event);
}

/** Kafka's largest long: `message.timestamp.before.max.ms` at its default, no limit at all. */
const MAX_LONG = 2n ** 63n - 1n;

/** This resource's mark: the topic setting that holds it on this kind of cluster, and its value. */
interface Mark {
  readonly key: string;
  readonly value: string;
}

/**
 * The value of the ownership mark on the topics this resource (stack id and logical id) creates: the largest
 * long less up to 2^48 ms (8,900 years), so still about 292 million years, which no record timestamp reaches.
 */
export function ownershipMark(stackId: string, logicalResourceId: string): string {
  const digest = createHash('sha256').update(`${stackId}\n${logicalResourceId}`).digest();
  return (MAX_LONG - 1n - BigInt(`0x${digest.subarray(0, 6).toString('hex')}`)).toString();
}

/** Disconnects the shared admin client (offline runs and tests; Lambda just freezes the container). */
export async function close(): Promise<void> {
  await sharedAdmin.disconnect().catch(() => undefined);
  connected = undefined;
}

/** How long `onEvent` waits for its changes to show in the broker's metadata before it fails. */
export const VISIBILITY_TIMEOUT_MS = 30_000;

export interface OnEventOptions {
  /** @default VISIBILITY_TIMEOUT_MS */
  readonly visibilityTimeoutMs?: number;
}

/** `onEvent` with the admin client supplied by the caller (tests inject faults with it). */
export async function onEventWith(
  getAdmin: () => Promise<Admin>,
  event: CloudFormationCustomResourceEvent,
  options: OnEventOptions = {},
): Promise<OnEventResponse> {
  try {
    return await handleEvent(getAdmin, event, options.visibilityTimeoutMs ?? VISIBILITY_TIMEOUT_MS);
  } catch (error) {
    // Reading the live topics (Metadata, DescribeConfigs) is all that happens outside the steps named above.
    const denied = authorizationFailure(error, {
      topic: {
        action: 'DescribeTopic or kafka-cluster:DescribeTopicDynamicConfiguration',
        name: declaredNames(event).join(', ') || '(none declared)',
      },
    });
    const failure =
      error instanceof TopicBootstrapError
        ? error
        : new TopicBootstrapError(denied ? denied.message : `Topics: ${describeKafkaFailure(error, settings)}`);
    logger.error(failure.message, { error: error as Error, requestType: event.RequestType });
    throw failure;
  }
}

/** The declared topic names, read leniently (for naming them in an error). */
function declaredNames(event: CloudFormationCustomResourceEvent): string[] {
  try {
    return parseProperties(event.ResourceProperties).Topics.map((t) => t.Name);
  } catch {
    return [];
  }
}

/**
 * `isComplete` with the admin client supplied by the caller. It never throws: the framework retries a
 * thrown error like "not yet" and, at the total timeout, cannot report it, so problems are logged and the
 * answer is "not yet" until they clear or the framework reports the timeout.
 */
export async function isCompleteWith(
  getAdmin: () => Promise<Admin>,
  event: IsCompleteEvent,
): Promise<IsCompleteResponse> {
  if (event.RequestType === 'Delete') return { IsComplete: true };
  try {
    const { Topics } = parseProperties(event.ResourceProperties);
    if (Topics.length === 0) return { IsComplete: true };
    const admin = await getAdmin();
    const waiting = await topicsWithoutLeaders(admin, Topics);
    if (waiting.length > 0) {
      logger.info(`Waiting for partition leaders of ${waiting.join(', ')}`, { waiting });
      return { IsComplete: false };
    }
    logger.info(`Every partition has a leader: ${Topics.map((t) => t.Name).join(', ')}`);
    return { IsComplete: true };
  } catch (error) {
    logger.warn('Could not check the topics yet; checking again', { error: error as Error });
    return { IsComplete: false };
  }
}

async function handleEvent(
  getAdmin: () => Promise<Admin>,
  event: CloudFormationCustomResourceEvent,
  visibilityTimeoutMs: number,
): Promise<OnEventResponse> {
  const physicalId = physicalIdOf(event);
  logger.info(`${event.RequestType} ${event.LogicalResourceId}`, {
    physicalResourceId: physicalId,
    properties: event.ResourceProperties,
    oldProperties: event.RequestType === 'Update' ? event.OldResourceProperties : undefined,
  });
  // Read leniently here: a Delete must not fail on an unreadable property, and Create and Update check them next.
  const kind: unknown = (event.ResourceProperties as Record<string, unknown> | undefined)?.ClusterKind;
  const mark: Mark = {
    key: ownershipMarkConfig(kind === 'serverless' ? 'serverless' : 'provisioned'),
    value: ownershipMark(event.StackId, event.LogicalResourceId),
  };
  if (event.RequestType === 'Delete') {
    await deleteAll(getAdmin, event.ResourceProperties, mark, visibilityTimeoutMs);
    return { PhysicalResourceId: physicalId };
  }

  const desired = parseProperties(event.ResourceProperties);
  const staticProblem = topicsProblem(desired.Topics, undefined, 1);
  if (staticProblem) throw new TopicBootstrapError(staticProblem);
  const previous =
    event.RequestType === 'Update' ? previousTopics(event.OldResourceProperties) : new Map<string, PreviousTopic>();

  const admin = await getAdmin();
  const { brokers } = await admin.describeCluster();
  const removed = [...previous.keys()].filter((name) => !desired.Topics.some((t) => t.Name === name));
  const existing = new Set(await admin.listTopics());
  const live = await describeLiveTopics(
    admin,
    desired.Topics.map((t) => t.Name).filter((name) => existing.has(name)),
    mark,
  );
  // Only the destroy policy deletes a removed topic, and only one this resource created: its mark decides.
  const removedLive =
    desired.RemovalPolicy === 'destroy'
      ? await describeLiveTopics(
          admin,
          removed.filter((name) => existing.has(name)),
          mark,
        )
      : new Map<string, LiveTopic>();

  const plan = planChanges({
    desired,
    previous,
    removed,
    live,
    removedLive,
    existing,
    mark,
    brokerCount: desired.ClusterKind === 'serverless' ? undefined : brokers.length,
    rollbackHint: rollbackHint(event),
  });
  await validateWithKafka(admin, plan, mark);
  await apply(admin, plan, mark);
  await untilVisible(admin, plan, mark, visibilityTimeoutMs);
  logger.info(`Topics are as declared: ${desired.Topics.map((t) => t.Name).join(', ') || '(none)'}`, {
    requestType: event.RequestType,
    created: plan.create.map((t) => t.Name),
    reconfigured: plan.alter.map((a) => a.name),
    grown: plan.grow.map((g) => g.name),
    deleted: plan.remove,
  });
  return { PhysicalResourceId: physicalId };
}

/**
 * A fixed id per logical resource, set at Create and returned unchanged ever after. A changed id would make
 * CloudFormation treat the Update as a replacement and then send a Delete for the "old" resource, which
 * under the destroy policy deletes the topics. A replaced cluster needs no new id either: the ClusterArn
 * property changes, and the Update creates the topics on the new cluster.
 */
function physicalIdOf(event: CloudFormationCustomResourceEvent): string {
  if (event.RequestType === 'Create') return `hello-msk-topics-${event.LogicalResourceId}`;
  return event.PhysicalResourceId;
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

/** Checks the properties at the door and turns them into typed values; throws naming the field. */
export function parseProperties(raw: unknown): TopicBootstrapProperties {
  if (!isRecord(raw)) throw new TopicBootstrapError(`properties ${show(raw)} are not valid; expected an object`);
  const unknownField = Object.keys(raw).find((k) => !PROPERTY_FIELDS.includes(k) && !FRAMEWORK_FIELDS.includes(k));
  if (unknownField !== undefined) {
    throw new TopicBootstrapError(`property ${unknownField} is not known; allowed: ${PROPERTY_FIELDS.join(', ')}`);
  }
  if (raw.Topics === undefined) throw new TopicBootstrapError(`property Topics is missing; expected ${TOPIC_SHAPE}`);
  if (!Array.isArray(raw.Topics)) {
    throw new TopicBootstrapError(`property Topics ${show(raw.Topics)} is not valid; expected ${TOPIC_SHAPE}`);
  }
  const topics = raw.Topics.map((t: unknown, i) => parseTopic(t, i));

  const removal = raw.RemovalPolicy ?? 'retain';
  if (removal !== 'retain' && removal !== 'destroy') {
    throw new TopicBootstrapError(`property RemovalPolicy ${show(removal)} is not valid; allowed: retain or destroy`);
  }
  const adopt = raw.AdoptExisting ?? 'true';
  if (![true, false, 'true', 'false'].includes(adopt as string | boolean)) {
    throw new TopicBootstrapError(`property AdoptExisting ${show(adopt)} is not valid; allowed: true or false`);
  }
  if (raw.ClusterArn !== undefined && typeof raw.ClusterArn !== 'string') {
    throw new TopicBootstrapError(`property ClusterArn ${show(raw.ClusterArn)} is not valid; expected an ARN`);
  }
  const kind = raw.ClusterKind ?? 'provisioned';
  if (kind !== 'provisioned' && kind !== 'serverless') {
    throw new TopicBootstrapError(
      `property ClusterKind ${show(kind)} is not valid; allowed: provisioned or serverless`,
    );
  }
  return {
    Topics: topics,
    RemovalPolicy: removal,
    AdoptExisting: adopt === true || adopt === 'true',
    ClusterArn: raw.ClusterArn,
    ClusterKind: kind,
  };
}

function parseTopic(raw: unknown, index: number): TopicProperties {
  if (!isRecord(raw)) {
    throw new TopicBootstrapError(
      `Topics[${index}] ${show(raw)} is not valid; expected { Name, Partitions, ReplicationFactor, Config }`,
    );
  }
  if (typeof raw.Name !== 'string') {
    throw new TopicBootstrapError(`Topics[${index}].Name ${show(raw.Name)} is not valid; expected a topic name`);
  }
  const at = `topic ${JSON.stringify(raw.Name)}`;
  const unknownField = Object.keys(raw).find((k) => !TOPIC_FIELDS.includes(k));
  if (unknownField !== undefined) {
    throw new TopicBootstrapError(`${at}: ${unknownField} is not a topic field; allowed: ${TOPIC_FIELDS.join(', ')}`);
  }
  const partitions = wholeNumber(raw.Partitions);
  if (partitions === undefined) {
    throw new TopicBootstrapError(
      `${at}: partitions ${show(raw.Partitions)} is not valid; allowed: a whole number >= 1`,
    );
  }
  const replicationFactor = wholeNumber(raw.ReplicationFactor);
  if (replicationFactor === undefined) {
    throw new TopicBootstrapError(
      `${at}: replicationFactor ${show(raw.ReplicationFactor)} is not valid; allowed: a whole number >= 1`,
    );
  }
  const rawConfig = raw.Config ?? {};
  if (!isRecord(rawConfig)) {
    throw new TopicBootstrapError(`${at}: config ${show(rawConfig)} is not valid; expected an object of string values`);
  }
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(rawConfig)) {
    if (!['string', 'number', 'boolean'].includes(typeof value)) {
      throw new TopicBootstrapError(`${at}: config ${key} ${show(value)} is not valid; expected a string`);
    }
    config[key] = String(value);
  }
  return { Name: raw.Name, Partitions: partitions, ReplicationFactor: replicationFactor, Config: config };
}

interface PreviousTopic {
  readonly partitions?: number;
  readonly replicationFactor?: number;
}

/**
 * The topics of OldResourceProperties, read leniently: they only tell which topics left the list and what
 * the previous declaration asked for, and an unreadable entry must not block an Update or its rollback.
 */
function previousTopics(raw: unknown): Map<string, PreviousTopic> {
  const topics = new Map<string, PreviousTopic>();
  const list = isRecord(raw) && Array.isArray(raw.Topics) ? (raw.Topics as unknown[]) : [];
  for (const t of list) {
    if (!isRecord(t) || typeof t.Name !== 'string' || topicNameProblem(t.Name)) continue;
    topics.set(t.Name, { partitions: wholeNumber(t.Partitions), replicationFactor: wholeNumber(t.ReplicationFactor) });
  }
  return topics;
}

function rollbackHint(event: CloudFormationCustomResourceEvent): string {
  const stackName = event.StackId.split('/')[1] ?? event.StackId;
  return `if this is a stack rollback, skip this resource: aws cloudformation continue-update-rollback --stack-name ${stackName} --resources-to-skip ${event.LogicalResourceId}`;
}

// ---------------------------------------------------------------------------------------------- live state

interface LiveTopic {
  readonly partitions: number;
  readonly replicationFactor: number;
  /** The topic's own configuration overrides (not broker defaults), its ownership mark left out. */
  readonly overrides: Record<string, string>;
  /** The value of the mark's setting, when the topic has one: whose mark it carries. */
  readonly ownership?: string;
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
    connected = undefined;
    connected = sharedAdmin.connect();
    await connected;
  }
  return sharedAdmin;
}

/** Partition count, replication factor and overrides of existing topics. */
async function describeLiveTopics(admin: Admin, present: string[], mark: Mark): Promise<Map<string, LiveTopic>> {
  const live = new Map<string, LiveTopic>();
  if (present.length === 0) return live;
  const { topics } = await admin.fetchTopicMetadata({ topics: present });
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: present.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })),
  });
  for (const topic of topics) {
    const config = resources.find((r) => r.resourceName === topic.name);
    const overrides: Record<string, string> = {};
    let ownership: string | undefined;
    for (const entry of config?.configEntries ?? []) {
      if (entry.configSource === ConfigSource.TOPIC_CONFIG && entry.configValue !== null) {
        if (entry.configName === mark.key) ownership = entry.configValue;
        else overrides[entry.configName] = entry.configValue;
      }
    }
    live.set(topic.name, {
      partitions: topic.partitions.length,
      replicationFactor: Math.max(0, ...topic.partitions.map((p) => p.replicas.length)),
      overrides,
      ownership,
    });
  }
  return live;
}

async function topicsWithoutLeaders(admin: Admin, topics: TopicProperties[]): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t.Name)).map((t) => t.Name);
  const present = topics.filter((t) => existing.has(t.Name));
  if (present.length === 0) return missing;
  const { topics: metadata } = await admin.fetchTopicMetadata({ topics: present.map((t) => t.Name) });
  const waiting = present
    .filter((t) => {
      const partitions = metadata.find((m) => m.name === t.Name)?.partitions ?? [];
      return partitions.length < t.Partitions || partitions.some((p) => p.leader < 0);
    })
    .map((t) => t.Name);
  return [...missing, ...waiting];
}

function sameConfig(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => b[k] === a[k]);
}

/** An override set plus the topic's mark, whoever's it is: replacing the overrides never removes a mark. */
function withOwnership(
  overrides: Record<string, string>,
  ownership: string | undefined,
  mark: Mark,
): Record<string, string> {
  return ownership === undefined ? overrides : { ...overrides, [mark.key]: ownership };
}

// ---------------------------------------------------------------------------------------------- planning

interface Plan {
  readonly create: TopicProperties[];
  /** Replace the topic's overrides with `desired`; `previous` restores them if the event fails. */
  readonly alter: {
    readonly name: string;
    readonly desired: Record<string, string>;
    readonly previous: Record<string, string>;
  }[];
  readonly remove: string[];
  readonly grow: { readonly name: string; readonly from: number; readonly to: number }[];
}

interface PlanInput {
  readonly desired: TopicBootstrapProperties;
  /** The previously declared topics (Update only). */
  readonly previous: Map<string, PreviousTopic>;
  /** Topics declared before and not any more. */
  readonly removed: string[];
  readonly live: Map<string, LiveTopic>;
  /** The removed topics that still exist, under the destroy policy only. */
  readonly removedLive: Map<string, LiveTopic>;
  /** Every topic the function can see. */
  readonly existing: Set<string>;
  /** This resource's ownership mark. */
  readonly mark: Mark;
  /** Live brokers, which bound a new topic's replication factor; undefined when the cluster judges that itself. */
  readonly brokerCount: number | undefined;
  readonly rollbackHint: string;
}

/** Decides every change, or throws the first reason not to change anything. */
function planChanges(input: PlanInput): Plan {
  const { desired, previous, live } = input;
  const plan: Plan = { create: [], alter: [], remove: [], grow: [] };
  const fail = (message: string): never => {
    throw new TopicBootstrapError(message);
  };

  for (const topic of desired.Topics) {
    const name = topic.Name;
    const at = `topic ${JSON.stringify(name)}`;
    const current = live.get(name);
    const before = previous.get(name);

    if (!current) {
      if (before) logger.warn(`Topic ${name} was declared before but does not exist; creating it again`);
      plan.create.push(topic);
      continue;
    }
    const configMatches = sameConfig(current.overrides, topic.Config);
    const alter = {
      name,
      desired: withOwnership(topic.Config, current.ownership, input.mark),
      previous: withOwnership(current.overrides, current.ownership, input.mark),
    };

    if (!before && current.ownership !== input.mark.value) {
      // Not declared by this resource before, nor created by it: someone else's topic.
      if (!desired.AdoptExisting) {
        fail(
          `${at} already exists (${current.partitions} partitions, replication factor ${current.replicationFactor}) and this stack did not create it, and AdoptExisting is false; delete it, declare another name, or allow adopting existing topics`,
        );
      }
      if (current.partitions !== topic.Partitions || current.replicationFactor !== topic.ReplicationFactor) {
        fail(
          `${at} already exists with ${current.partitions} partitions and replication factor ${current.replicationFactor}; it is adopted only with those values, not the declared ${topic.Partitions} and ${topic.ReplicationFactor}`,
        );
      }
      // Adopted topics keep their mark (or none), so the destroy policy never deletes them.
      logger.info(`Adopting existing topic ${name}; this stack will never delete it`, { overrides: current.overrides });
      if (!configMatches) plan.alter.push(alter);
      continue;
    }
    if (!before) {
      // Created by this resource, yet not in the previous properties: a re-delivered Create or Update, or a
      // topic that left the list under retain and is declared again (also by a rollback).
      const exact =
        current.partitions === topic.Partitions &&
        current.replicationFactor === topic.ReplicationFactor &&
        configMatches;
      logger.info(
        exact ? `Topic ${name} already exists as declared` : `Topic ${name} exists; this stack created it earlier`,
      );
    }

    if (current.replicationFactor !== topic.ReplicationFactor) {
      // Asked for by this event when the previous declaration differs (or there was none to compare with).
      const from = before ? before.replicationFactor : current.replicationFactor;
      if (from !== undefined && from !== topic.ReplicationFactor) {
        fail(
          `${at}: replicationFactor ${from} -> ${topic.ReplicationFactor} is not supported (reassigning replicas is out of scope); the topic has ${current.replicationFactor}, declare that`,
        );
      }
      // Not asked for by this event (changed outside CloudFormation): a rollback must not trip over it.
      logger.warn(
        `Kept topic ${name} at replication factor ${current.replicationFactor} (declared ${topic.ReplicationFactor}); this resource does not reassign replicas`,
      );
    }

    if (topic.Partitions > current.partitions) {
      plan.grow.push({ name, from: current.partitions, to: topic.Partitions });
    } else if (topic.Partitions < current.partitions) {
      const from = before ? before.partitions : current.partitions;
      if (from !== undefined && topic.Partitions < from) {
        fail(
          `${at}: partitions ${topic.Partitions} is below the ${current.partitions} it has, and Kafka cannot remove partitions; declare ${current.partitions} or more (${input.rollbackHint})`,
        );
      }
      logger.warn(
        `Kept topic ${name} at ${current.partitions} partitions (declared ${topic.Partitions}); Kafka cannot remove partitions`,
      );
    }
    if (!configMatches) plan.alter.push(alter);
  }

  for (const name of input.removed) {
    if (desired.RemovalPolicy === 'retain') {
      logger.info(`Kept topic ${name}: it left the list and the removal policy is retain`);
    } else if (!input.existing.has(name)) {
      logger.info(`Topic ${name} left the list and is already gone`);
    } else if (input.removedLive.get(name)?.ownership !== input.mark.value) {
      logger.info(`Kept topic ${name}: it left the list, but this stack did not create it`);
    } else {
      plan.remove.push(name);
    }
  }

  // Live brokers only matter for topics about to be created: an existing topic keeps its replicas while a
  // broker restarts (MSK patches brokers one at a time), and a rollback must not fail because of it.
  const brokerProblem = topicsProblem(plan.create, input.brokerCount, 1);
  if (brokerProblem) fail(brokerProblem);
  return plan;
}

// ---------------------------------------------------------------------------------------------- changes

/** A topic as this resource creates it: the declared settings and this resource's mark. */
function kafkaTopic(topic: TopicProperties, mark: Mark): ITopicConfig {
  return {
    topic: topic.Name,
    numPartitions: topic.Partitions,
    replicationFactor: topic.ReplicationFactor,
    configEntries: Object.entries(withOwnership(topic.Config, mark.value, mark)).map(([name, value]) => ({
      name,
      value,
    })),
  };
}

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

/** Asks Kafka to check each change without making it (validateOnly), one topic at a time so errors name it. */
async function validateWithKafka(admin: Admin, plan: Plan, mark: Mark): Promise<void> {
  const check = async (name: string, what: string, action: string, call: () => Promise<unknown>): Promise<void> => {
    try {
      await call();
    } catch (error) {
      const denied = authorizationFailure(error, { topic: { action, name } });
      if (denied) throw new TopicBootstrapError(denied.message);
      throw new TopicBootstrapError(`topic ${JSON.stringify(name)}: Kafka refuses to ${what}: ${kafkaReason(error)}`);
    }
  };
  for (const topic of plan.create) {
    await check(topic.Name, 'create it', 'CreateTopic', () =>
      admin.createTopics({ validateOnly: true, waitForLeaders: false, topics: [kafkaTopic(topic, mark)] }),
    );
  }
  for (const change of plan.alter) {
    await check(change.name, 'set its configuration', 'AlterTopicDynamicConfiguration', () =>
      admin.alterConfigs({ validateOnly: true, resources: [topicConfig(change.name, change.desired)] }),
    );
  }
  for (const change of plan.grow) {
    await check(change.name, `grow it to ${change.to} partitions`, 'AlterTopic', () =>
      admin.createPartitions({ validateOnly: true, topicPartitions: [{ topic: change.name, count: change.to }] }),
    );
  }
}

/**
 * Creates, reconfigures, deletes, then grows: increases come last because they cannot be undone. On a
 * failure, the topics this event created are deleted and the overrides it replaced are restored.
 */
async function apply(admin: Admin, plan: Plan, mark: Mark): Promise<void> {
  const created: string[] = [];
  const altered: Plan['alter'] = [];
  let step = { name: '', what: '', action: '' };
  try {
    for (const topic of plan.create) {
      step = { name: topic.Name, what: 'creating it', action: 'CreateTopic' };
      const made = await admin.createTopics({ waitForLeaders: false, topics: [kafkaTopic(topic, mark)] });
      if (!made) {
        // A broker's topic list can lag a creation by moments: an earlier delivery of this event may have made it.
        if ((await describeLiveTopics(admin, [topic.Name], mark)).get(topic.Name)?.ownership !== mark.value) {
          throw new Error('someone else created it meanwhile');
        }
        logger.info(`Topic ${topic.Name} already exists as declared`);
        continue;
      }
      created.push(topic.Name);
      logger.info(
        `Created topic ${topic.Name} (${topic.Partitions} partitions, replication factor ${topic.ReplicationFactor})`,
        { config: topic.Config },
      );
    }
    for (const change of plan.alter) {
      step = { name: change.name, what: 'setting its configuration', action: 'AlterTopicDynamicConfiguration' };
      // AlterConfigs (not the incremental API) replaces the topic's whole override set: keys left out
      // return to the broker default, which is exactly "apply the declared overrides".
      await admin.alterConfigs({ validateOnly: false, resources: [topicConfig(change.name, change.desired)] });
      altered.push(change);
      logger.info(`Set the configuration overrides of topic ${change.name}`, {
        previous: change.previous,
        overrides: change.desired,
      });
    }
    for (const name of plan.remove) {
      step = { name, what: 'deleting it', action: 'DeleteTopic' };
      if (await deleteTopic(admin, name)) {
        logger.info(`Deleted topic ${name}: it left the list and the removal policy is destroy`);
      }
    }
    for (const change of plan.grow) {
      step = { name: change.name, what: `growing it to ${change.to} partitions`, action: 'AlterTopic' };
      await admin.createPartitions({ topicPartitions: [{ topic: change.name, count: change.to }] });
      logger.info(`Grew topic ${change.name} from ${change.from} to ${change.to} partitions`);
    }
  } catch (error) {
    logger.error(`Failed ${step.what} (topic ${step.name}); undoing this event's changes`, { error: error as Error });
    const undoProblem = await undo(admin, created, altered);
    const denied = authorizationFailure(error, { topic: { action: step.action, name: step.name } });
    throw new TopicBootstrapError(
      `${denied ? denied.message : `topic ${JSON.stringify(step.name)}: ${step.what} failed: ${kafkaReason(error)}`}${undoProblem ? `; undo incomplete: ${undoProblem}` : ''}`,
    );
  }
}

async function undo(admin: Admin, created: string[], altered: Plan['alter']): Promise<string | undefined> {
  const problems: string[] = [];
  for (const change of altered.reverse()) {
    try {
      await admin.alterConfigs({ validateOnly: false, resources: [topicConfig(change.name, change.previous)] });
      logger.info(`Restored the configuration overrides of topic ${change.name}`, { overrides: change.previous });
    } catch (error) {
      problems.push(`topic ${change.name} keeps its new configuration (${kafkaReason(error)})`);
    }
  }
  if (created.length > 0) {
    try {
      await admin.deleteTopics({ topics: created });
      logger.info(`Deleted the topics this event created: ${created.join(', ')}`);
    } catch (error) {
      problems.push(`topics ${created.join(', ')} remain (${kafkaReason(error)})`);
    }
  }
  return problems.length > 0 ? problems.join('; ') : undefined;
}

/**
 * Delete: retain keeps every topic (and needs no broker); destroy deletes the declared topics that exist and
 * carry this resource's mark, and keeps the others (adopted, or made by someone else).
 */
async function deleteAll(
  getAdmin: () => Promise<Admin>,
  raw: unknown,
  mark: Mark,
  visibilityTimeoutMs: number,
): Promise<void> {
  const properties = isRecord(raw) ? raw : {};
  // Read leniently: an unreadable old property must not block the stack's deletion; retain is the default.
  const names = [...previousTopics(properties).keys()];
  if (properties.RemovalPolicy !== 'destroy') {
    logger.info(`Kept topics ${names.join(', ') || '(none)'}: the removal policy is retain`);
    return;
  }
  if (names.length === 0) return;
  const admin = await getAdmin();
  const existing = new Set(await admin.listTopics());
  const gone = names.filter((n) => !existing.has(n));
  if (gone.length > 0) logger.info(`Topics already gone: ${gone.join(', ')}`);
  const live = await describeLiveTopics(
    admin,
    names.filter((n) => existing.has(n)),
    mark,
  );
  const present = [...live].filter(([, topic]) => topic.ownership === mark.value).map(([name]) => name);
  const foreign = [...live.keys()].filter((name) => !present.includes(name));
  if (foreign.length > 0) logger.info(`Kept topics ${foreign.join(', ')}: this stack did not create them`);
  if (present.length === 0) return;
  // One at a time, so that a topic another delivery is deleting fails neither this call nor the others.
  const deleted: string[] = [];
  for (const name of present) {
    try {
      if (await deleteTopic(admin, name)) deleted.push(name);
    } catch (error) {
      throw new TopicBootstrapError(`topic ${JSON.stringify(name)}: deleting it failed: ${kafkaReason(error)}`);
    }
  }
  if (deleted.length > 0) logger.info(`Deleted topics ${deleted.join(', ')}: the removal policy is destroy`);
  await waitUntilGone(admin, present, visibilityTimeoutMs);
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
 * Deletes one topic; false when Kafka no longer hosts it. Between this handler's read and its delete, another
 * delivery of the same event (CloudFormation may send one while the first still runs) can have deleted it:
 * Kafka then answers "This server does not host this topic-partition", which here means "already gone".
 */
async function deleteTopic(admin: Admin, name: string): Promise<boolean> {
  try {
    await admin.deleteTopics({ topics: [name] });
    return true;
  } catch (error) {
    if (!isUnknownTopic(error)) throw error;
    logger.info(`Topic ${name} is already gone (deleted meanwhile)`);
    return false;
  }
}

/** Polls `pending` (what is not visible yet) until it is empty, or fails after `timeoutMs` naming what is not. */
async function waitFor(what: string, timeoutMs: number, pending: () => Promise<string[]>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 100;
  for (;;) {
    const waiting = await pending();
    if (waiting.length === 0) return;
    if (Date.now() + delay > deadline) {
      throw new TopicBootstrapError(
        `${what} of ${waiting.join(', ')} did not show in the broker's metadata within ${Math.round(timeoutMs / 1000)} s; run the deploy again`,
      );
    }
    logger.info(`Waiting until the broker's metadata shows the ${what} of ${waiting.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(1000, delay * 2);
  }
}

async function waitUntilGone(admin: Admin, names: string[], timeoutMs: number): Promise<void> {
  if (names.length === 0) return;
  await waitFor('deletion', timeoutMs, async () => {
    const listed = new Set(await admin.listTopics());
    return names.filter((name) => listed.has(name));
  });
}

/**
 * Waits until what `apply` changed shows: the reconfigured topics' overrides read back as set (a later
 * AlterConfigs replaces the whole set, so an old key still listed means the change has not arrived), and
 * the deleted topics are no longer listed. New topics and added partitions are isComplete's to wait for.
 */
async function untilVisible(admin: Admin, plan: Plan, mark: Mark, timeoutMs: number): Promise<void> {
  if (plan.alter.length > 0) {
    await waitFor('configuration', timeoutMs, async () => {
      const live = await describeLiveTopics(
        admin,
        plan.alter.map((change) => change.name),
        mark,
      );
      return plan.alter
        .filter((change) => {
          const topic = live.get(change.name);
          return !topic || !sameConfig(withOwnership(topic.overrides, topic.ownership, mark), change.desired);
        })
        .map((change) => change.name);
    });
  }
  await waitUntilGone(admin, plan.remove, timeoutMs);
}

function oneLine(message: string): string {
  const line = message.replace(/\s*[\r\n]+\s*/g, ' ').trim();
  if (Buffer.byteLength(line) <= MAX_REASON_BYTES) return line;
  const cut = Buffer.from(line)
    .subarray(0, MAX_REASON_BYTES - 3)
    .toString('utf8');
  return `${cut.replace(/\uFFFD+$/, '')}...`;
}
