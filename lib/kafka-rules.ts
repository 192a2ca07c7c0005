/**
 * Kafka's own rules for topics, shared by synth-time validation and the topic-bootstrap handler (which
 * receives the same properties as strings). Dependency-free so that it bundles into a Lambda as is.
 */

export const MAX_TOPIC_NAME_LENGTH = 249;
const TOPIC_NAME = /^[a-zA-Z0-9._-]+$/;

/** Why Kafka would reject this topic name, or undefined when it is legal. */
export function topicNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.length > MAX_TOPIC_NAME_LENGTH)
    return `is ${name.length} characters; at most ${MAX_TOPIC_NAME_LENGTH} are allowed`;
  if (name === '.' || name === '..') return 'is reserved; "." and ".." are not topic names';
  if (!TOPIC_NAME.test(name)) return 'has characters Kafka rejects; use only a-z A-Z 0-9 . _ -';
  if (name.startsWith('__')) return 'starts with "__", which Kafka reserves for internal topics';
  return undefined;
}

type Check = (value: string) => string | undefined;

const LONG = /^-?\d+$/;
const long =
  (min: number): Check =>
  (v) =>
    LONG.test(v) && Number(v) >= min ? undefined : `a whole number >= ${min}`;
const int =
  (min: number, max: number): Check =>
  (v) =>
    LONG.test(v) && Number(v) >= min && Number(v) <= max ? undefined : `a whole number from ${min} to ${max}`;
const bool: Check = (v) => (v === 'true' || v === 'false' ? undefined : 'true or false');
const oneOf =
  (...allowed: string[]): Check =>
  (v) =>
    allowed.includes(v) ? undefined : `one of ${allowed.join(', ')}`;
const ratio: Check = (v) =>
  /^\d*\.?\d+$/.test(v) && Number(v) >= 0 && Number(v) <= 1 ? undefined : 'a number from 0 to 1';
const replicaList: Check = (v) =>
  v === '' || v === '*' || /^\d+:\d+(,\d+:\d+)*$/.test(v) ? undefined : '"*" or a list like 0:1,1:2';
const cleanupPolicy: Check = (v) => {
  const parts = v.split(',').map((p) => p.trim());
  return parts.length > 0 && parts.every((p) => p === 'delete' || p === 'compact')
    ? undefined
    : 'delete, compact or compact,delete';
};

/** Topic-level configuration keys (Apache Kafka 3.9 / 4.x documentation) with the values each accepts. */
export const TOPIC_CONFIG: Readonly<Record<string, Check>> = {
  'cleanup.policy': cleanupPolicy,
  'compression.type': oneOf('uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'),
  'compression.gzip.level': int(-1, 9),
  'compression.lz4.level': int(1, 17),
  'compression.zstd.level': int(-131072, 22),
  'delete.retention.ms': long(0),
  'file.delete.delay.ms': long(0),
  'flush.messages': long(1),
  'flush.ms': long(0),
  'follower.replication.throttled.replicas': replicaList,
  'index.interval.bytes': long(0),
  'leader.replication.throttled.replicas': replicaList,
  'local.retention.bytes': long(-2),
  'local.retention.ms': long(-2),
  'max.compaction.lag.ms': long(1),
  'max.message.bytes': int(0, 2147483647),
  'message.timestamp.after.max.ms': long(0),
  'message.timestamp.before.max.ms': long(0),
  // Deprecated since Kafka 3.6 (removed in 4.0), and the one timestamp bound MSK Serverless lets clients set.
  'message.timestamp.difference.max.ms': long(0),
  'message.timestamp.type': oneOf('CreateTime', 'LogAppendTime'),
  'min.cleanable.dirty.ratio': ratio,
  'min.compaction.lag.ms': long(0),
  'min.insync.replicas': int(1, 2147483647),
  preallocate: bool,
  'remote.storage.enable': bool,
  'retention.bytes': long(-1),
  'retention.ms': long(-1),
  'segment.bytes': int(14, 2147483647),
  'segment.index.bytes': int(4, 2147483647),
  'segment.jitter.ms': long(0),
  'segment.ms': long(1),
  'unclean.leader.election.enable': bool,
};

/** Why this topic-level setting is not valid, or undefined when it is. */
export function topicConfigProblem(key: string, value: string): string | undefined {
  const check = TOPIC_CONFIG[key];
  if (!check)
    return `is not a topic-level configuration key (see the Kafka topic configs; e.g. retention.ms, cleanup.policy)`;
  const allowed = check(value);
  return allowed ? `has value ${JSON.stringify(value)}; allowed: ${allowed}` : undefined;
}

/**
 * `AWS::MSK::Topic`'s `Configs` ("topic configurations encoded as a Base64 string"): base64 of a JSON object of
 * string values, keys sorted so that the text only changes when the settings do.
 */
export function encodeTopicConfigs(config: Record<string, string>): string {
  const sorted = Object.fromEntries(Object.entries(config).sort(([a], [b]) => a.localeCompare(b)));
  return Buffer.from(JSON.stringify(sorted)).toString('base64');
}

/** Kafka's default for the topic's `max.message.bytes` (1 MiB + record batch overhead). */
export const DEFAULT_MAX_MESSAGE_BYTES = 1048588;

/** A topic as the topic-bootstrap custom resource receives it. */
export interface TopicProperties {
  readonly Name: string;
  readonly Partitions: number;
  readonly ReplicationFactor: number;
  readonly Config: Record<string, string>;
}

/**
 * Checks a list of topics against Kafka's rules and the cluster's broker count. Returns a one-line problem
 * naming the topic, the field, the value and what is allowed, or undefined when all is well.
 * `minInsyncReplicas` is the cluster default the topic inherits when it sets none.
 */
export function topicsProblem(
  topics: readonly TopicProperties[],
  brokerCount: number | undefined,
  minInsyncReplicas: number,
): string | undefined {
  const seen = new Set<string>();
  for (const t of topics) {
    const nameProblem = topicNameProblem(t.Name);
    if (nameProblem) return `topic name ${JSON.stringify(t.Name)} ${nameProblem}`;
    const at = `topic ${JSON.stringify(t.Name)}`;
    // Kafka treats . and _ as the same in metric names, so it refuses topics that differ only by them.
    const collisionKey = t.Name.replace(/\./g, '_');
    if (seen.has(collisionKey))
      return `${at} is declared twice (or collides with another name that differs only in . and _)`;
    seen.add(collisionKey);
    if (!Number.isInteger(t.Partitions) || t.Partitions < 1) {
      return `${at}: partitions ${JSON.stringify(t.Partitions)} is not valid; allowed: a whole number >= 1`;
    }
    if (!Number.isInteger(t.ReplicationFactor) || t.ReplicationFactor < 1) {
      return `${at}: replicationFactor ${JSON.stringify(t.ReplicationFactor)} is not valid; allowed: a whole number >= 1`;
    }
    if (brokerCount !== undefined && t.ReplicationFactor > brokerCount) {
      return `${at}: replicationFactor ${t.ReplicationFactor} is above the broker count ${brokerCount}; allowed: 1 to ${brokerCount}`;
    }
    for (const [key, value] of Object.entries(t.Config)) {
      const problem = topicConfigProblem(key, value);
      if (problem) return `${at}: config ${key} ${problem}`;
    }
    const minIsr =
      t.Config['min.insync.replicas'] !== undefined ? Number(t.Config['min.insync.replicas']) : minInsyncReplicas;
    const allowed = minIsrProblem(minIsr, t.ReplicationFactor);
    if (allowed) return `${at}: min.insync.replicas ${minIsr} is not valid; allowed: ${allowed}`;
  }
  return undefined;
}

/**
 * `min.insync.replicas` must stay below the replication factor so one broker can be down (patched or
 * replaced, as MSK does during maintenance) without blocking `acks=all` writes. Returns what is allowed when
 * the value is not, else undefined.
 */
export function minIsrProblem(minIsr: number, replicationFactor: number): string | undefined {
  const max = Math.max(1, replicationFactor - 1);
  if (Number.isInteger(minIsr) && minIsr >= 1 && minIsr <= max) return undefined;
  return `${max === 1 ? '1' : `1 to ${max}`} (below the replication factor ${replicationFactor}, so one broker may be down)`;
}
