/**
 * The twin broker's `server.properties` entries from the deployed cluster's broker configuration: the
 * `ServerProperties` of the synthesized `AWS::MSK::Configuration`, over MSK's own defaults for the keys it
 * leaves out, so that durability settings and `auto.create.topics.enable=false` are the deployed ones. Keys
 * that cannot apply to a local broker are listed with the reason, never dropped silently.
 */
import {
  BROKER_PROPERTY_VALUES,
  DEFAULT_IAM_CONNECTION_RATE,
  EXPRESS_CONFIGURABLE_BROKER_PROPERTIES,
  EXPRESS_TOPIC_LIMITS,
  iamConnectionRate,
  MSK_CONFIGURABLE_BROKER_PROPERTIES,
  SERVERLESS_TOPIC_LIMITS,
  type TopicLimits,
} from 'msk-catalog';
import type { TwinCluster } from '../assembly/assembly';
import { IAM_LISTENER } from '../twin';

/** The broker's topic policy (src/iam/…/policy/MskTopicPolicy.java), loaded for both policy hooks. */
export const TOPIC_POLICY_CLASS = 'hellomsk.twin.policy.MskTopicPolicy';
const TOPIC_POLICY_PREFIX = 'msk.twin.topic.policy.';

/** A server property of the cluster's configuration that MSK's CreateConfiguration would refuse. */
export class TwinConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TwinConfigurationError';
  }
}

/** Where a deployed value comes from. */
export type SettingSource = 'configuration' | 'msk-default' | 'express-fixed' | 'kafka-default' | 'msk-quota';

export interface BrokerSetting {
  readonly key: string;
  /** The value the deployed brokers run with. */
  readonly deployed: string;
  readonly source: SettingSource;
  /** The value the twin's brokers run with; undefined when the key is not applied locally. */
  readonly local?: string;
  /** Why `local` differs from `deployed`, or why the key is not applied. */
  readonly reason?: string;
}

export interface BrokerConfigPlan {
  /** `server.properties` entries for every twin broker, over the local broker's own base settings. */
  readonly properties: Readonly<Record<string, string>>;
  /** The topic limits the brokers' topic policy enforces (MSK Serverless, Express brokers); undefined: none. */
  readonly topicLimits?: TopicLimits;
  readonly settings: readonly BrokerSetting[];
  /** The MSK version string and the local Apache Kafka release that matches it, if the project tests one. */
  readonly kafkaVersion: { readonly deployed?: string; readonly local?: string; readonly reason?: string };
}

export interface BrokerConfigOptions {
  /** Brokers the twin runs (the local tooling runs 1 or 3). */
  readonly brokers: number;
  /**
   * `group.initial.rebalance.delay.ms` when the configuration leaves it out. MSK then runs Kafka's default
   * (3000 ms: a new group waits 3 s before its first rebalance); tests that create many groups may pass 0.
   * @default 3000
   */
  readonly groupInitialRebalanceDelayMs?: number;
}

/**
 * The default MSK configuration (MSK developer guide, "The default Amazon MSK configuration",
 * https://docs.aws.amazon.com/msk/latest/developerguide/msk-default-configuration.html). "Properties that you
 * don't set explicitly [in a custom configuration] get the values they have in the default configuration"
 * (ibid., "Custom MSK configurations").
 */
export function mskDefaultConfiguration(azCount: number): Record<string, string> {
  const threeAz = azCount >= 3;
  return {
    'allow.everyone.if.no.acl.found': 'true',
    'auto.create.topics.enable': 'false',
    'auto.leader.rebalance.enable': 'true',
    'default.replication.factor': threeAz ? '3' : '2',
    'min.insync.replicas': threeAz ? '2' : '1',
    'num.io.threads': '8',
    'num.network.threads': '5',
    'num.partitions': '1',
    'num.replica.fetchers': '2',
    'replica.lag.time.max.ms': '30000',
    'socket.receive.buffer.bytes': '102400',
    'socket.request.max.bytes': '104857600',
    'socket.send.buffer.bytes': '102400',
    'unclean.leader.election.enable': 'true',
    'zookeeper.session.timeout.ms': '18000',
    'zookeeper.set.acl': 'false',
  };
}

/**
 * MSK's limit on new IAM connections per second, per broker: read by the twin's sign-in validator
 * (src/iam/.../ConnectionRateLimit.java), which refuses a sign-in over it as MSK does ("Too many connects").
 * Kafka's own `max.connection.creation.rate` (KIP-612) would delay such connections instead.
 */
export const IAM_CONNECTION_RATE_KEY = 'hellomsk.twin.iam.connection.rate';

/**
 * MSK's limit on open connections per broker on its IAM listener, Kafka's own per-listener `max.connections`
 * (MSK developer guide, "Amazon MSK quota": 3000, set as `listener.name.client_iam.max.connections`).
 */
export const IAM_MAX_CONNECTIONS_KEY = `listener.name.${IAM_LISTENER.toLowerCase()}.max.connections`;
export const IAM_MAX_CONNECTIONS = 3000;

/** Express brokers fix these themselves (MSK developer guide, Express brokers). */
const EXPRESS_FIXED: Record<string, string> = {
  'default.replication.factor': '3',
  'min.insync.replicas': '2',
  'unclean.leader.election.enable': 'false',
};

/** Sized for a broker host; the local brokers share one small machine and keep their own. */
const HOST_SIZING = [
  'num.io.threads',
  'num.network.threads',
  'num.replica.fetchers',
  'num.recovery.threads.per.data.dir',
  'socket.receive.buffer.bytes',
  'socket.send.buffer.bytes',
  'replica.socket.receive.buffer.bytes',
];

/** Replication factors, each with the min ISR setting that must stay at or below it. */
const REPLICATION: { readonly factor: string; readonly minIsr?: string }[] = [
  { factor: 'default.replication.factor', minIsr: 'min.insync.replicas' },
  { factor: 'transaction.state.log.replication.factor', minIsr: 'transaction.state.log.min.isr' },
  { factor: 'offsets.topic.replication.factor' },
];

/** The Apache Kafka releases the project runs locally and tests kafkajs against, by MSK minor version. */
export const LOCAL_KAFKA_RELEASES: Readonly<Record<string, string>> = {
  '3.9': '3.9.2',
  '4.0': '4.0.2',
  '4.1': '4.1.2',
};

/**
 * Parses Java `.properties` text as Kafka reads `server.properties`: `key=value`, `key: value` or
 * `key value`, `#`/`!` comments, trailing-backslash continuation lines.
 */
export function parseServerProperties(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i].replace(/^\s+/, '');
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < lines.length) {
      line = line.slice(0, -1) + lines[++i].replace(/^\s+/, '');
    }
    const m = /^((?:\\.|[^=:\s\\])+)\s*[=:\s]?\s*(.*)$/.exec(line);
    if (!m) continue;
    const unescape = (s: string) => s.replace(/\\(.)/g, (_x, c: string) => ({ t: '\t', n: '\n', r: '\r' })[c] ?? c);
    out[unescape(m[1])] = unescape(m[2].replace(/\s+$/, ''));
  }
  return out;
}

/** The deployed broker settings of `cluster` and what the twin's `options.brokers` brokers run with. */
export function brokerConfigFor(cluster: TwinCluster, options: BrokerConfigOptions): BrokerConfigPlan {
  const express = cluster.instanceType?.startsWith('express.') ?? false;
  const configured = parseServerProperties(cluster.serverProperties ?? '');
  const deployed = new Map<string, { value: string; source: SettingSource }>();
  for (const [key, value] of Object.entries(mskDefaultConfiguration(cluster.azCount ?? 3))) {
    deployed.set(key, { value, source: 'msk-default' });
  }
  for (const [key, value] of Object.entries(configured)) deployed.set(key, { value, source: 'configuration' });
  if (express) {
    for (const [key, value] of Object.entries(EXPRESS_FIXED)) deployed.set(key, { value, source: 'express-fixed' });
  }
  if (!deployed.has('group.initial.rebalance.delay.ms')) {
    deployed.set('group.initial.rebalance.delay.ms', { value: '3000', source: 'kafka-default' });
  }
  const rate = iamConnectionRate(cluster.serverless ? undefined : cluster.instanceType);
  deployed.set(IAM_CONNECTION_RATE_KEY, { value: String(rate.perSecond), source: 'msk-quota' });
  deployed.set(IAM_MAX_CONNECTIONS_KEY, { value: String(IAM_MAX_CONNECTIONS), source: 'msk-quota' });

  const accepted = express ? EXPRESS_CONFIGURABLE_BROKER_PROPERTIES : MSK_CONFIGURABLE_BROKER_PROPERTIES;
  checkConfiguration(cluster, configured, accepted, express);
  const settings: BrokerSetting[] = [];
  const local = new Map<string, string>();
  const cappedFactor = new Map<string, number>();

  for (const [key, { value, source }] of deployed) {
    const setting = (localValue: string | undefined, reason?: string) => {
      settings.push({ key, deployed: value, source, local: localValue, reason });
      if (localValue !== undefined) local.set(key, localValue);
    };
    if (key === 'allow.everyone.if.no.acl.found') {
      setting(
        undefined,
        'MSK ignores it under IAM access control (MSK developer guide, "IAM access control"); the twin denies whatever no ACL allows',
      );
    } else if (key.startsWith('zookeeper.')) {
      setting(undefined, 'the twin runs KRaft, without ZooKeeper');
    } else if (HOST_SIZING.includes(key)) {
      setting(
        undefined,
        'sized for a broker host; the local brokers share a small machine and keep their own (only throughput differs)',
      );
    } else if (key === 'group.initial.rebalance.delay.ms' && source === 'kafka-default') {
      const delay = String(options.groupInitialRebalanceDelayMs ?? 3000);
      setting(delay, delay === value ? undefined : 'shortened on request, for tests that create many groups');
    } else if (key === IAM_CONNECTION_RATE_KEY) {
      setting(
        value,
        rate.known
          ? undefined
          : `${cluster.serverless ? 'MSK Serverless' : (cluster.instanceType ?? 'an unnamed instance type')} has no per-broker figure in the table: the strictest (${DEFAULT_IAM_CONNECTION_RATE}/s) applies`,
      );
    } else if (key === IAM_MAX_CONNECTIONS_KEY) {
      setting(
        value,
        cluster.serverless
          ? 'MSK Serverless states its connection quotas per cluster; the twin applies the per-broker figure of provisioned clusters'
          : undefined,
      );
    } else if (REPLICATION.some((r) => r.factor === key)) {
      const factor = Number(value);
      const capped = Math.min(factor, options.brokers);
      cappedFactor.set(key, capped);
      setting(
        String(capped),
        capped === factor
          ? undefined
          : `above the ${options.brokers} local broker(s): capped to ${capped} (the deployed cluster has ${cluster.brokerCount ?? 'more'} brokers)`,
      );
    } else if (REPLICATION.some((r) => r.minIsr === key)) {
      // Decided after the factors below.
      settings.push({ key, deployed: value, source });
    } else {
      setting(value);
    }
  }

  for (const { factor, minIsr } of REPLICATION) {
    if (!minIsr) continue;
    const index = settings.findIndex((s) => s.key === minIsr);
    if (index < 0) continue;
    const deployedValue = Number(settings[index].deployed);
    const ceiling = cappedFactor.get(factor) ?? options.brokers;
    const value = Math.min(deployedValue, ceiling);
    settings[index] = {
      ...settings[index],
      local: String(value),
      reason:
        value === deployedValue
          ? undefined
          : `above the local ${factor} ${ceiling}: capped to ${value}, or no acks=all write could succeed`,
    };
    local.set(minIsr, String(value));
  }

  const topicLimits = cluster.serverless ? SERVERLESS_TOPIC_LIMITS : express ? EXPRESS_TOPIC_LIMITS : undefined;
  if (topicLimits) for (const [key, value] of Object.entries(topicPolicyProperties(topicLimits))) local.set(key, value);

  settings.sort((a, b) => a.key.localeCompare(b.key));
  return {
    properties: Object.fromEntries([...local].sort(([a], [b]) => a.localeCompare(b))),
    topicLimits,
    settings,
    kafkaVersion: localKafkaVersion(cluster.kafkaVersion),
  };
}

/**
 * Refuses, as CreateConfiguration would, the first server property MSK does not accept for the broker kind or
 * whose value Kafka's config definition refuses: one line naming the configuration, the key, the value and what
 * is allowed.
 */
function checkConfiguration(
  cluster: TwinCluster,
  configured: Readonly<Record<string, string>>,
  accepted: readonly string[],
  express: boolean,
): void {
  const at = `${cluster.configuration ?? `${cluster.stack}/${cluster.logicalId}`} ServerProperties`;
  for (const [key, value] of Object.entries(configured)) {
    if (!accepted.includes(key)) {
      throw new TwinConfigurationError(
        `${at}: ${key}=${value} is not a property MSK accepts for ${express ? 'Express' : 'Standard'} brokers; allowed: ${accepted.join(', ')}`,
      );
    }
    const allowed = BROKER_PROPERTY_VALUES[key]?.(value);
    if (allowed) throw new TwinConfigurationError(`${at}: ${key}=${value} is not valid; allowed: ${allowed}`);
  }
}

/** The broker properties that switch the topic policy on for both hooks and give it `limits`. */
export function topicPolicyProperties(limits: TopicLimits): Record<string, string> {
  return {
    'create.topic.policy.class.name': TOPIC_POLICY_CLASS,
    'alter.config.policy.class.name': TOPIC_POLICY_CLASS,
    [`${TOPIC_POLICY_PREFIX}kind`]: limits.kind,
    [`${TOPIC_POLICY_PREFIX}replication.factor`]: String(limits.replicationFactor),
    [`${TOPIC_POLICY_PREFIX}min.insync.replicas`]: String(limits.minInsyncReplicas),
    ...(limits.topicConfigs ? { [`${TOPIC_POLICY_PREFIX}configs`]: limits.topicConfigs.join(',') } : {}),
    ...(limits.maxMessageBytes !== undefined
      ? { [`${TOPIC_POLICY_PREFIX}max.message.bytes`]: String(limits.maxMessageBytes) }
      : {}),
    ...(limits.maxPartitions !== undefined
      ? { [`${TOPIC_POLICY_PREFIX}max.partitions`]: String(limits.maxPartitions) }
      : {}),
  };
}

function localKafkaVersion(deployed: string | undefined): BrokerConfigPlan['kafkaVersion'] {
  if (deployed === undefined) return { reason: 'the cluster names no Kafka version (MSK picks it)' };
  const minor = /^(\d+\.\d+)\./.exec(deployed)?.[1];
  const local = minor ? LOCAL_KAFKA_RELEASES[minor] : undefined;
  if (local) return { deployed, local };
  return {
    deployed,
    reason: `no local Apache Kafka release is tested for ${deployed} (tested: ${Object.values(LOCAL_KAFKA_RELEASES).join(', ')})`,
  };
}

/** The plan as Markdown. */
export function formatBrokerConfig(plan: BrokerConfigPlan, brokers: number): string {
  const version = plan.kafkaVersion.local
    ? `MSK ${plan.kafkaVersion.deployed} runs locally as Apache Kafka ${plan.kafkaVersion.local}.`
    : `Kafka version: ${plan.kafkaVersion.reason ?? 'unknown'}.`;
  const lines = [
    `${version} Local brokers: ${brokers}.`,
    '',
    '| Key | Deployed | From | Twin | Why different |',
    '|---|---|---|---|---|',
    ...plan.settings.map(
      (s) => `| ${s.key} | ${s.deployed} | ${s.source} | ${s.local ?? 'not applied'} | ${s.reason ?? ''} |`,
    ),
  ];
  return lines.join('\n');
}
