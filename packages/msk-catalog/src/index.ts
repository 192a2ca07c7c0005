/**
 * What Amazon MSK accepts for a provisioned cluster, from the MSK developer guide. Synth-time validation
 * checks config against these lists so that a typo fails in seconds rather than after a 20-minute deploy.
 */

/** Kafka versions MSK creates provisioned clusters with. 4.x exists only in KRaft mode. */
export const MSK_KAFKA_VERSIONS = [
  '3.6.0',
  '3.7.x',
  '3.7.x.kraft',
  '3.8.x',
  '3.8.x.kraft',
  '3.9.x',
  '3.9.x.kraft',
  '4.0.x.kraft',
  '4.1.x.kraft',
] as const;

/**
 * Kafka versions Express brokers run, as CreateCluster spells them: the 3.6 line is `3.6.0` (MSK's "Supported
 * Apache Kafka versions" lists 3.6.0 beside 3.7.x and later). Express on 3.9 exists only in KRaft mode: CreateCluster refuses `3.9.x`
 * ("Express instance types are not supported for Kafka version 3.9.x", hashicorp/terraform-provider-aws#48309)
 * and MSK announced Express on 3.9 as "KRaft support for Express brokers" (What's New, 2025-12).
 */
export const EXPRESS_KAFKA_VERSIONS = ['3.6.0', '3.8.x', '3.9.x.kraft'] as const;

const SIZES_M5 = ['large', 'xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge', '24xlarge'];
const SIZES_M7G = ['large', 'xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge'];

/** Standard broker instance types (EBS storage). */
export const STANDARD_INSTANCE_TYPES = [
  'kafka.t3.small',
  ...SIZES_M5.map((s) => `kafka.m5.${s}`),
  ...SIZES_M7G.map((s) => `kafka.m7g.${s}`),
];

/** Express broker instance types (storage managed by MSK). */
export const EXPRESS_INSTANCE_TYPES = SIZES_M7G.map((s) => `express.m7g.${s}`);

/** Broker types that CreateCluster refuses with Kafka 4.x ("Unsupported InstanceType"). */
export const NO_KAFKA_4_INSTANCE_TYPES = ['kafka.t3.small'];

/** Broker types that cannot use tiered storage. */
export const NO_TIERED_STORAGE_INSTANCE_TYPES = ['kafka.t3.small'];

export const MIN_EBS_GIB = 1;
export const MAX_EBS_GIB = 16384;

/** Most brokers a provisioned cluster may have (a service quota): 60 in KRaft mode, 30 with ZooKeeper. */
export function maxBrokers(kafkaVersion: string): number {
  return kafkaVersion.endsWith('.kraft') ? 60 : 30;
}

/**
 * Ports of the broker listeners, by client authentication (MSK developer guide, "Port information": 9092
 * plaintext, 9094 TLS, 9096 SASL/SCRAM, 9098 IAM, for access from within AWS).
 */
export const MSK_PORTS = { plaintext: 9092, tls: 9094, saslScram: 9096, iam: 9098 } as const;

/**
 * Broker properties MSK accepts in a custom configuration for Standard brokers (MSK developer guide,
 * "Custom MSK configurations"). CreateConfiguration refuses anything else.
 */
export const MSK_CONFIGURABLE_BROKER_PROPERTIES: readonly string[] = [
  'allow.everyone.if.no.acl.found',
  'auto.create.topics.enable',
  'compression.type',
  'connections.max.idle.ms',
  'default.replication.factor',
  'delete.topic.enable',
  'group.initial.rebalance.delay.ms',
  'group.max.session.timeout.ms',
  'group.min.session.timeout.ms',
  'leader.imbalance.per.broker.percentage',
  'log.cleaner.delete.retention.ms',
  'log.cleaner.min.cleanable.ratio',
  'log.cleanup.policy',
  'log.flush.interval.messages',
  'log.flush.interval.ms',
  'log.message.timestamp.difference.max.ms',
  'log.message.timestamp.type',
  'log.retention.bytes',
  'log.retention.hours',
  'log.retention.minutes',
  'log.retention.ms',
  'log.roll.ms',
  'log.segment.bytes',
  'max.incremental.fetch.session.cache.slots',
  'message.max.bytes',
  'min.insync.replicas',
  'num.io.threads',
  'num.network.threads',
  'num.partitions',
  'num.recovery.threads.per.data.dir',
  'num.replica.fetchers',
  'offsets.retention.minutes',
  'offsets.topic.replication.factor',
  'replica.fetch.max.bytes',
  'replica.fetch.response.max.bytes',
  'replica.lag.time.max.ms',
  'replica.selector.class',
  'replica.socket.receive.buffer.bytes',
  'socket.receive.buffer.bytes',
  'socket.request.max.bytes',
  'socket.send.buffer.bytes',
  'transaction.max.timeout.ms',
  'transaction.state.log.min.isr',
  'transaction.state.log.replication.factor',
  'transactional.id.expiration.ms',
  'unclean.leader.election.enable',
  'zookeeper.connection.timeout.ms',
  'zookeeper.session.timeout.ms',
];

/**
 * Static broker properties MSK accepts in a custom configuration for Express brokers. Express fixes
 * replication (RF 3, min ISR 2) and unclean leader election (off) itself.
 */
export const EXPRESS_CONFIGURABLE_BROKER_PROPERTIES: readonly string[] = [
  'allow.everyone.if.no.acl.found',
  'auto.create.topics.enable',
  'compression.type',
  'connections.max.idle.ms',
  'delete.topic.enable',
  'group.initial.rebalance.delay.ms',
  'group.max.session.timeout.ms',
  'leader.imbalance.per.broker.percentage',
  'log.cleanup.policy',
  'log.message.timestamp.after.max.ms',
  'log.message.timestamp.before.max.ms',
  'log.message.timestamp.type',
  'log.retention.bytes',
  'log.retention.ms',
  'max.connections.per.ip',
  'max.incremental.fetch.session.cache.slots',
  'message.max.bytes',
  'num.partitions',
  'offsets.retention.minutes',
  'replica.fetch.max.bytes',
  'replica.selector.class',
  'socket.receive.buffer.bytes',
  'socket.request.max.bytes',
  'socket.send.buffer.bytes',
  'transaction.max.timeout.ms',
  'transactional.id.expiration.ms',
];

/**
 * New IAM connections per second per broker, MSK's quota by broker size (MSK developer guide, "Amazon MSK quota",
 * https://docs.aws.amazon.com/msk/latest/developerguide/limits.html, "Maximum TCP connection rate per broker
 * (IAM)": 100 per second on M5 and M7g and on Express brokers, 4 per second on T3).
 */
export const IAM_CONNECTION_RATE_BY_FAMILY: Readonly<Record<string, number>> = {
  'kafka.t3': 4,
  'kafka.m5': 100,
  'kafka.m7g': 100,
  express: 100,
};

/**
 * An instance type the table does not know (and MSK Serverless, which publishes no per-broker figure) gets the
 * strictest documented figure: a client that copes with 4 new connections per second copes with any broker.
 */
export const DEFAULT_IAM_CONNECTION_RATE = 4;

/** MSK's new-IAM-connection quota per broker for `instanceType`, and whether the table knew the type. */
export function iamConnectionRate(instanceType: string | undefined): { perSecond: number; known: boolean } {
  const family = instanceType?.startsWith('express.') ? 'express' : instanceType?.split('.').slice(0, 2).join('.');
  const known = family !== undefined ? IAM_CONNECTION_RATE_BY_FAMILY[family] : undefined;
  return known === undefined
    ? { perSecond: DEFAULT_IAM_CONNECTION_RATE, known: false }
    : { perSecond: known, known: true };
}

type ValueCheck = (value: string) => string | undefined;
const wholeNumber =
  (min: number, max = Number.MAX_SAFE_INTEGER): ValueCheck =>
  (v) =>
    /^-?\d+$/.test(v.trim()) && Number(v) >= min && Number(v) <= max
      ? undefined
      : max === Number.MAX_SAFE_INTEGER
        ? `a whole number >= ${min}`
        : `a whole number from ${min} to ${max}`;
const trueOrFalse: ValueCheck = (v) => (v === 'true' || v === 'false' ? undefined : 'true or false');
const oneOf =
  (...allowed: string[]): ValueCheck =>
  (v) =>
    allowed.includes(v) ? undefined : `one of ${allowed.join(', ')}`;

/**
 * The values Kafka's broker config definitions accept for the configurable keys whose type or range is plain
 * (Apache Kafka documentation, "Broker Configs"); CreateConfiguration refuses a value the broker could not start
 * with. Keys not listed here are checked by the broker itself when it starts.
 */
export const BROKER_PROPERTY_VALUES: Readonly<Record<string, ValueCheck>> = {
  'allow.everyone.if.no.acl.found': trueOrFalse,
  'auto.create.topics.enable': trueOrFalse,
  'auto.leader.rebalance.enable': trueOrFalse,
  'compression.type': oneOf('uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'),
  'default.replication.factor': wholeNumber(1, 32767),
  'delete.topic.enable': trueOrFalse,
  'group.initial.rebalance.delay.ms': wholeNumber(0),
  'log.cleanup.policy': oneOf('delete', 'compact', 'compact,delete', 'delete,compact'),
  'log.message.timestamp.type': oneOf('CreateTime', 'LogAppendTime'),
  'log.retention.bytes': wholeNumber(-1),
  'log.retention.hours': wholeNumber(-1),
  'log.retention.minutes': wholeNumber(-1),
  'log.retention.ms': wholeNumber(-1),
  'log.segment.bytes': wholeNumber(14, 2147483647),
  'message.max.bytes': wholeNumber(0, 2147483647),
  'min.insync.replicas': wholeNumber(1, 2147483647),
  'num.partitions': wholeNumber(1, 2147483647),
  'offsets.topic.replication.factor': wholeNumber(1, 32767),
  'transaction.state.log.min.isr': wholeNumber(1, 2147483647),
  'transaction.state.log.replication.factor': wholeNumber(1, 32767),
  'unclean.leader.election.enable': trueOrFalse,
};

/** What a Kafka client may do to a topic on a cluster that limits topics (MSK Serverless, Express brokers). */
export interface TopicLimits {
  /** How MSK's pages name the kind, for messages. */
  readonly kind: string;
  /** The one replication factor the kind accepts. */
  readonly replicationFactor: number;
  /** The one `min.insync.replicas` a topic may set (or leave unset). */
  readonly minInsyncReplicas: number;
  /** The only topic configs a client may set; undefined when the kind documents no such list. */
  readonly topicConfigs?: readonly string[];
  /** Largest `max.message.bytes`. */
  readonly maxMessageBytes?: number;
  /** Most partitions a cluster holds (its quota); a topic with more can never be created. */
  readonly maxPartitions?: number;
}

/**
 * MSK Serverless: "you can set or modify the following topic-level configuration properties. All other
 * topic-level configuration properties are not configurable" (MSK developer guide, "Configuration properties for
 * MSK Serverless clusters", which also gives max.message.bytes' 8 MiB ceiling); 2400 partitions per cluster
 * ("MSK Serverless quota"); three replicas and min ISR 2, which MSK sets and clients cannot.
 */
export const SERVERLESS_TOPIC_LIMITS: TopicLimits = {
  kind: 'MSK Serverless',
  replicationFactor: 3,
  minInsyncReplicas: 2,
  topicConfigs: [
    'cleanup.policy',
    'compression.type',
    'max.message.bytes',
    'message.timestamp.difference.max.ms',
    'message.timestamp.type',
    'retention.bytes',
    'retention.ms',
  ],
  maxMessageBytes: 8388608,
  maxPartitions: 2400,
};

/**
 * Express brokers: `default.replication.factor` 3 and `min.insync.replicas` 2 are read-only (MSK developer guide,
 * "Express brokers read-only configurations"); "Replication is always set to 3 and the minimum in-sync replica
 * is always set to 2" ("Best practices for Express brokers").
 */
export const EXPRESS_TOPIC_LIMITS: TopicLimits = {
  kind: 'Express brokers',
  replicationFactor: 3,
  minInsyncReplicas: 2,
};
