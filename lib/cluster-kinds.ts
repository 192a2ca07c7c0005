/**
 * What MSK Serverless and Express brokers fix or refuse, checked at synth so that a mistake fails in seconds
 * rather than after a 20-minute deploy. Each number names the AWS page it comes from; docs/cluster-kinds.md
 * lists every limit with how it is checked.
 */
import { EXPRESS_TOPIC_LIMITS, SERVERLESS_TOPIC_LIMITS } from 'msk-catalog';
import { BASE_CONFIG, ConfigError, show, sourceOf, type AppConfig } from './config';
import type { TopicProperties } from './kafka-rules';
import { invalid } from './validation';

const MIB = 1024 * 1024;

/**
 * MSK Serverless: what it fixes for every topic and the settings a client may make come from `msk-catalog`
 * (the twin's brokers enforce the same limits); the quotas below are the synth checks' own.
 */
export const SERVERLESS = {
  replicationFactor: SERVERLESS_TOPIC_LIMITS.replicationFactor,
  minInsyncReplicas: SERVERLESS_TOPIC_LIMITS.minInsyncReplicas,
  topicConfigs: SERVERLESS_TOPIC_LIMITS.topicConfigs ?? [],
  maxMessageBytes: SERVERLESS_TOPIC_LIMITS.maxMessageBytes ?? 8 * MIB,
  /**
   * Partitions per cluster: 2400 of non-compacted topics and 120 of compacted ones (MSK developer guide,
   * "Amazon MSK quota" > "MSK Serverless quota"; default quotas that AWS Support can raise).
   */
  maxPartitions: SERVERLESS_TOPIC_LIMITS.maxPartitions ?? 2400,
  maxCompactedPartitions: 120,
  /** Ingress per partition, bytes per second (same quota table): above it MSK throttles the producer. */
  partitionIngressBytesPerSecond: 5 * MIB,
} as const;

/** Express brokers: replication and min ISR from `msk-catalog`. */
export const EXPRESS = {
  replicationFactor: EXPRESS_TOPIC_LIMITS.replicationFactor,
  minInsyncReplicas: EXPRESS_TOPIC_LIMITS.minInsyncReplicas,
  /** Express brokers run in three AZs only (MSK developer guide, "Express brokers"). */
  azCount: 3,
} as const;

export function isExpress(instanceType: string): boolean {
  return instanceType.startsWith('express.');
}

/** Config keys that describe brokers, and why MSK Serverless has no use for each. */
const SERVERLESS_REFUSES: Partial<Record<keyof AppConfig, string>> = {
  kafkaVersion: 'MSK Serverless chooses the Kafka version itself',
  instanceType: 'MSK Serverless has no brokers to size',
  brokersPerAz: 'MSK Serverless has no brokers to size',
  ebsVolumeGiB: 'MSK Serverless manages storage itself',
  ebsMaxVolumeGiB: 'MSK Serverless manages storage itself',
  storageMode: 'MSK Serverless manages storage itself',
  enhancedMonitoring: 'MSK Serverless publishes its DEFAULT-level metrics only',
  brokerConfig: 'MSK Serverless sets every broker property itself',
  saslScram: 'MSK Serverless accepts IAM clients only',
  encryptionKey: 'MSK Serverless encrypts at rest with a key MSK owns; AWS::MSK::ServerlessCluster takes none',
};

/** Config keys that describe EBS volumes, which Express brokers do not have. */
const EXPRESS_REFUSES: Partial<Record<keyof AppConfig, string>> = {
  ebsVolumeGiB: 'Express brokers manage their storage themselves',
};

/**
 * Rejects settings that the chosen kind of cluster has no use for, so that nobody believes they took effect.
 * A key counts as set when it differs from the base default: stages and `-c` overrides are merged before this.
 * Every such key is named in one message, with where it came from, so that switching a stage's kind (prod with
 * `-c clusterKind=serverless`) takes one round, not one per key.
 */
export function checkClusterKind(path: string, config: AppConfig): void {
  if (config.clusterKind !== 'provisioned' && config.clusterKind !== 'serverless') {
    throw invalid(path, 'clusterKind', config.clusterKind, 'provisioned or serverless');
  }
  const serverless = config.clusterKind === 'serverless';
  const refused = serverless
    ? { refuses: SERVERLESS_REFUSES, kind: 'with clusterKind serverless', key: 'clusterKind' }
    : isExpress(config.instanceType)
      ? { refuses: EXPRESS_REFUSES, kind: `on ${config.instanceType}`, key: 'instanceType' }
      : undefined;
  if (!refused) return;
  const conflicts = (Object.entries(refused.refuses) as [keyof typeof BASE_CONFIG, string][]).filter(
    ([key]) => JSON.stringify(config[key]) !== JSON.stringify(BASE_CONFIG[key]),
  );
  if (conflicts.length === 0) return;
  if (conflicts.length === 1) {
    const [key, why] = conflicts[0];
    throw invalid(path, key, config[key], `unset (${show(BASE_CONFIG[key])}) ${refused.kind}: ${why}`);
  }
  const from = (key: string) => {
    const source = sourceOf(config, key);
    return source ? ` (${source})` : '';
  };
  const problems = conflicts.map(([key, why]) => `${key} ${show(config[key])}${from(key)}: ${why}`);
  // The topics' own problems would be the next round; on both kinds a topic without a factor gets 3.
  const topics = config.topics.map((t) => ({
    Name: t.name,
    Partitions: t.partitions,
    ReplicationFactor: t.replicationFactor ?? SERVERLESS.replicationFactor,
    Config: t.config ?? {},
  }));
  const topicProblem = serverless ? serverlessTopicsProblem(topics) : expressTopicsProblem(topics);
  if (topicProblem) problems.push(`topics${from('topics')}: ${topicProblem}`);
  throw new ConfigError(
    `${path}: ${problems.length} settings do not apply ${refused.kind}${from(refused.key)}; unset each (-c KEY=unset) or change it: ${problems.join('; ')}`,
  );
}

/** Counts toward the compacted-partition quota when `cleanup.policy` includes compact. */
function compacted(topic: TopicProperties): boolean {
  return (topic.Config['cleanup.policy'] ?? '').includes('compact');
}

/**
 * What MSK Serverless refuses in the declared topics: a replication factor other than 3, a topic setting it
 * does not let clients set, messages above 8 MiB, and more partitions than its quotas. One line, or undefined.
 */
export function serverlessTopicsProblem(topics: readonly TopicProperties[]): string | undefined {
  for (const t of topics) {
    const at = `topic ${JSON.stringify(t.Name)}`;
    if (t.ReplicationFactor !== SERVERLESS.replicationFactor) {
      return `${at}: replicationFactor ${t.ReplicationFactor} is not valid; allowed: ${SERVERLESS.replicationFactor} (MSK Serverless replicates every topic three times)`;
    }
    for (const [key, value] of Object.entries(t.Config)) {
      if (!SERVERLESS.topicConfigs.includes(key)) {
        return `${at}: config ${key} is not valid on MSK Serverless; allowed: ${SERVERLESS.topicConfigs.join(', ')}`;
      }
      if (key === 'max.message.bytes' && Number(value) > SERVERLESS.maxMessageBytes) {
        return `${at}: config max.message.bytes ${JSON.stringify(value)} is not valid; allowed: up to ${SERVERLESS.maxMessageBytes} (8 MiB) on MSK Serverless`;
      }
    }
  }
  const count = (list: readonly TopicProperties[]) => list.reduce((sum, t) => sum + t.Partitions, 0);
  const compactedPartitions = count(topics.filter(compacted));
  const otherPartitions = count(topics.filter((t) => !compacted(t)));
  if (compactedPartitions > SERVERLESS.maxCompactedPartitions) {
    return `topics: ${compactedPartitions} partitions of compacted topics is not valid; allowed: at most ${SERVERLESS.maxCompactedPartitions} per MSK Serverless cluster (its quota)`;
  }
  if (otherPartitions > SERVERLESS.maxPartitions) {
    return `topics: ${otherPartitions} partitions of non-compacted topics is not valid; allowed: at most ${SERVERLESS.maxPartitions} per MSK Serverless cluster (its quota)`;
  }
  return undefined;
}

/** What Express brokers fix for every topic: replication factor 3 and `min.insync.replicas` 2. */
export function expressTopicsProblem(topics: readonly TopicProperties[]): string | undefined {
  for (const t of topics) {
    const at = `topic ${JSON.stringify(t.Name)}`;
    if (t.ReplicationFactor !== EXPRESS.replicationFactor) {
      return `${at}: replicationFactor ${t.ReplicationFactor} is not valid; allowed: ${EXPRESS.replicationFactor} (Express brokers replicate every topic three times)`;
    }
    const minIsr = t.Config['min.insync.replicas'];
    if (minIsr !== undefined && minIsr !== String(EXPRESS.minInsyncReplicas)) {
      return `${at}: config min.insync.replicas ${JSON.stringify(minIsr)} is not valid; allowed: ${EXPRESS.minInsyncReplicas} or unset (fixed by Express brokers)`;
    }
  }
  return undefined;
}

/** Throws the first kind-specific topic problem with the construct path in front. */
export function checkTopicsForKind(
  path: string,
  kind: { readonly kind: AppConfig['clusterKind']; readonly express: boolean },
  topics: readonly TopicProperties[],
): void {
  const problem =
    kind.kind === 'serverless'
      ? serverlessTopicsProblem(topics)
      : kind.express
        ? expressTopicsProblem(topics)
        : undefined;
  if (problem) throw new ConfigError(`${path}: ${problem}`);
}
