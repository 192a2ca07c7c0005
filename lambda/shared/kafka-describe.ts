/**
 * Read-only views of a cluster's topics and consumer groups, in the shape Kafka's own tools print them
 * (`kafka-topics --describe`, `kafka-consumer-groups --describe`). Shared by the kafka-admin function and the
 * local command-line tools, so both paths answer alike.
 */
import { AssignerProtocol, ConfigResourceTypes, ConfigSource, type Admin } from 'kafkajs';

export interface PartitionDescription {
  readonly partition: number;
  /** Node id of the leader; -1 when the partition has none. */
  readonly leader: number;
  readonly replicas: number[];
  readonly isr: number[];
}

export interface TopicDescription {
  readonly name: string;
  readonly partitionCount: number;
  readonly replicationFactor: number;
  readonly partitions: PartitionDescription[];
  /** The topic's own overrides (what `kafka-topics --describe` prints as Configs); defaults are left out. */
  readonly configs: Record<string, string>;
}

export interface GroupListing {
  readonly groupId: string;
  /** `consumer` for consumer groups. */
  readonly protocolType: string;
}

export interface GroupMember {
  readonly memberId: string;
  readonly clientId: string;
  readonly clientHost: string;
  readonly assignment: { readonly topic: string; readonly partitions: number[] }[];
}

/** One row of `kafka-consumer-groups --describe`. */
export interface GroupPartitionOffset {
  readonly topic: string;
  readonly partition: number;
  /** The group's committed offset; null when it has committed none for this partition. */
  readonly currentOffset: string | null;
  readonly logEndOffset: string;
  /** logEndOffset - currentOffset; null without a committed offset. */
  readonly lag: string | null;
  /** The member the partition is assigned to; null when no member holds it. */
  readonly memberId: string | null;
  readonly clientHost: string | null;
  readonly clientId: string | null;
}

export interface GroupDescription {
  readonly groupId: string;
  /** Kafka's group state: Stable, Empty, PreparingRebalance, CompletingRebalance, Dead. */
  readonly state: string;
  readonly protocolType: string;
  readonly protocol: string;
  readonly members: GroupMember[];
  readonly offsets: GroupPartitionOffset[];
}

/** A topic or group that does not exist: a plain answer, not a Kafka failure. */
export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/** Every topic name, internal topics included (as `kafka-topics --list` prints them), sorted. */
export async function listTopics(admin: Admin): Promise<string[]> {
  return (await admin.listTopics()).sort();
}

/**
 * Partitions, leaders, replicas, in-sync replicas and the topic-level overrides of the given topics (all
 * topics when none are given). A missing topic is a NotFoundError, asked before any metadata request because
 * kafkajs retries an unknown topic for its whole retry budget.
 */
export async function describeTopics(admin: Admin, topics?: readonly string[]): Promise<TopicDescription[]> {
  const existing = await listTopics(admin);
  const missing = (topics ?? []).filter((t) => !existing.includes(t));
  if (missing.length > 0) throw new NotFoundError(`Topic '${missing[0]}' does not exist`);
  const names = topics && topics.length > 0 ? [...topics] : existing;
  if (names.length === 0) return [];
  const [{ topics: metadata }, configs] = await Promise.all([
    admin.fetchTopicMetadata({ topics: names }),
    admin.describeConfigs({
      resources: names.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })),
      includeSynonyms: false,
    }),
  ]);
  const overrides = new Map<string, Record<string, string>>(
    configs.resources.map((r) => [
      r.resourceName,
      Object.fromEntries(
        r.configEntries
          .filter((e) => e.configSource === ConfigSource.TOPIC_CONFIG && !e.isSensitive)
          .map((e) => [e.configName, e.configValue])
          .sort(([a], [b]) => a.localeCompare(b)),
      ),
    ]),
  );
  return metadata
    .map((t) => {
      const partitions = t.partitions
        .map((p) => ({ partition: p.partitionId, leader: p.leader, replicas: p.replicas, isr: p.isr }))
        .sort((a, b) => a.partition - b.partition);
      return {
        name: t.name,
        partitionCount: partitions.length,
        replicationFactor: partitions[0]?.replicas.length ?? 0,
        partitions,
        configs: overrides.get(t.name) ?? {},
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Every group the caller may see, sorted by id. */
export async function listGroups(admin: Admin): Promise<GroupListing[]> {
  const { groups } = await admin.listGroups();
  return groups
    .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType }))
    .sort((a, b) => a.groupId.localeCompare(b.groupId));
}

/**
 * A group's state, members and, per partition it has committed to or is assigned, the committed offset, the
 * log end offset and the lag between them.
 */
export async function describeGroup(admin: Admin, groupId: string): Promise<GroupDescription> {
  const [group] = (await coordinatorCall(() => admin.describeGroups([groupId]))).groups;
  const committedTopics = (await coordinatorCall(() => admin.fetchOffsets({ groupId }))).map((t) => t.topic);
  // A group that never existed is reported as Dead, with no members and nothing committed.
  if (!group || (group.state === 'Dead' && committedTopics.length === 0)) {
    throw new NotFoundError(`Consumer group '${groupId}' does not exist`);
  }
  const members: GroupMember[] = group.members.map((m) => ({
    memberId: m.memberId,
    clientId: m.clientId,
    clientHost: m.clientHost,
    assignment: decodeAssignment(m.memberAssignment),
  }));
  const holder = new Map<string, GroupMember>();
  for (const member of members) {
    for (const { topic, partitions } of member.assignment) {
      for (const partition of partitions) holder.set(`${topic}:${partition}`, member);
    }
  }
  const topics = [...new Set([...committedTopics, ...members.flatMap((m) => m.assignment.map((a) => a.topic))])];
  topics.sort();
  const committed = topics.length > 0 ? await coordinatorCall(() => admin.fetchOffsets({ groupId, topics })) : [];
  const ends = await Promise.all(topics.map(async (topic) => [topic, await admin.fetchTopicOffsets(topic)] as const));
  const endOf = new Map(ends.flatMap(([topic, offsets]) => offsets.map((o) => [`${topic}:${o.partition}`, o.high])));
  const offsets: GroupPartitionOffset[] = committed.flatMap(({ topic, partitions }) =>
    partitions
      .map((p) => {
        const current = BigInt(p.offset) >= 0n ? p.offset : null;
        const logEndOffset = endOf.get(`${topic}:${p.partition}`) ?? '0';
        const member = holder.get(`${topic}:${p.partition}`);
        return {
          topic,
          partition: p.partition,
          currentOffset: current,
          logEndOffset,
          lag: current === null ? null : String(BigInt(logEndOffset) - BigInt(current)),
          memberId: member?.memberId ?? null,
          clientHost: member?.clientHost ?? null,
          clientId: member?.clientId ?? null,
        };
      })
      .sort((a, b) => a.partition - b.partition),
  );
  return {
    groupId,
    state: group.state,
    protocolType: group.protocolType,
    protocol: group.protocol,
    members,
    offsets,
  };
}

/** Waits before asking the group coordinator again: 3.75 s in all. */
const COORDINATOR_BACKOFF_MS = [250, 500, 1000, 2000];

/**
 * kafkajs asks the group coordinator once for offsets and group descriptions, without the retries of its other
 * calls, so they fail with COORDINATOR_LOAD_IN_PROGRESS or NOT_COORDINATOR while the offsets topic is created
 * or the coordinator moves; both clear within moments.
 */
async function coordinatorCall<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const wait = COORDINATOR_BACKOFF_MS[attempt];
      if (wait === undefined || !(error as { retriable?: boolean }).retriable) throw error;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

function decodeAssignment(buffer: Buffer): GroupMember['assignment'] {
  if (!buffer || buffer.length === 0) return [];
  const decoded = AssignerProtocol.MemberAssignment.decode(buffer);
  if (!decoded) return [];
  return Object.entries(decoded.assignment)
    .map(([topic, partitions]) => ({ topic, partitions: [...partitions].sort((a, b) => a - b) }))
    .sort((a, b) => a.topic.localeCompare(b.topic));
}
