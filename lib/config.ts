import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Node } from 'constructs';

/** A Kafka topic that the topic-bootstrap custom resource creates and maintains. */
export interface TopicSpec {
  /** Topic name: 1-249 of `[a-zA-Z0-9._-]`, not `.` or `..`. */
  readonly name: string;
  /** Partition count; may grow later, never shrink. */
  readonly partitions: number;
  /**
   * Replicas per partition; at most the number of brokers.
   * @default the cluster's default.replication.factor (3 with three or more brokers, else 2)
   */
  readonly replicationFactor?: number;
  /** Topic-level overrides, e.g. `{ "retention.ms": "604800000" }`. */
  readonly config?: Record<string, string>;
}

export type ClusterKind = 'provisioned' | 'serverless';
export type RemovalPolicyName = 'destroy' | 'retain';
export type TopicResourceName = 'custom' | 'native';
export type ConsumerMode = 'kafkajs' | 'event-source-mapping';
export type EnhancedMonitoring = 'DEFAULT' | 'PER_BROKER' | 'PER_TOPIC_PER_BROKER' | 'PER_TOPIC_PER_PARTITION';
export type StorageMode = 'LOCAL' | 'TIERED';

/** The whole app's configuration, read from `cdk.json` context and `-c key=value` overrides. */
export interface AppConfig {
  /** Name of the stage these values came from (`dev`, `prod`, …); part of every stack name. */
  readonly stage: string;
  /** `provisioned` brokers, or `serverless` (MSK Serverless: IAM only, no broker settings). */
  readonly clusterKind: ClusterKind;
  /** MSK Kafka version string, e.g. `3.9.x.kraft`. */
  readonly kafkaVersion: string;
  /** Broker instance type, e.g. `kafka.t3.small`, `kafka.m7g.large`, `express.m7g.large`. */
  readonly instanceType: string;
  /** Brokers in each availability zone (MSK places the same number in every AZ). */
  readonly brokersPerAz: number;
  /** Availability zones, and so private subnets, for the brokers: 2 or 3. */
  readonly azCount: number;
  /** Explicit AZ names (length `azCount`); empty lets CloudFormation pick the region's first AZs. */
  readonly availabilityZones: string[];
  /** IPv4 CIDR of the VPC. */
  readonly vpcCidr: string;
  /** An existing VPC to use instead of creating one (`vpc-…`); empty creates one. */
  readonly vpcId: string;
  /** With `vpcId`: one private subnet per AZ of `availabilityZones`, in the same order. */
  readonly privateSubnetIds: string[];
  /** NAT gateways; 0 because nothing in the VPC needs the internet. */
  readonly natGateways: number;
  /** EBS volume per broker at creation, in GiB (1-16384). */
  readonly ebsVolumeGiB: number;
  /** Storage auto scaling ceiling per broker in GiB; equal to `ebsVolumeGiB` turns auto scaling off. */
  readonly ebsMaxVolumeGiB: number;
  /** `LOCAL` EBS only, or `TIERED` (needs Kafka >= 3.6 and a kafka.m5/m7g broker). */
  readonly storageMode: StorageMode;
  /** CloudWatch metrics level; DEFAULT is free, the others are charged. */
  readonly enhancedMonitoring: EnhancedMonitoring;
  /** What `cdk destroy` does with the cluster and log groups. */
  readonly removalPolicy: RemovalPolicyName;
  /** Days to keep broker, flow and function logs (a CloudWatch Logs retention value). */
  readonly logRetentionDays: number;
  /** Extra broker (server.properties) settings, merged over the durable defaults. */
  readonly brokerConfig: Record<string, string>;
  /** Topics the topic-bootstrap custom resource creates and maintains. */
  readonly topics: TopicSpec[];
  /** The topic the producer and consumer functions use; one of `topics`. */
  readonly demoTopic: string;
  /** The consumer function's consumer group. */
  readonly consumerGroup: string;
  /**
   * `kafkajs`: the consumer function reads the topic itself, run by `consumerSchedule`; `event-source-mapping`:
   * Lambda polls the topic and invokes the consumer with each batch (interface endpoints for Lambda and STS).
   */
  readonly consumer: ConsumerMode;
  /** EventBridge schedule that runs the kafkajs consumer; each run of a rate up to 15 minutes listens for its period. */
  readonly consumerSchedule: string;
  /**
   * Reserved concurrency of the consumer; 0 leaves it unreserved. 1 guarantees one group member, but reserving
   * any concurrency fails on accounts whose Lambda concurrency quota is below about 100 (new accounts get 10 or 50).
   */
  readonly consumerConcurrency: number;
  /** What happens to a topic removed from `topics` (or on stack deletion): `retain` keeps it, `destroy` deletes it. */
  readonly topicRemovalPolicy: RemovalPolicyName;
  /** `custom` topic resources (kafkajs in the VPC), or CloudFormation's `native` `AWS::MSK::Topic` (provisioned only). */
  readonly topicResource: TopicResourceName;
  /** Email address that receives the cluster alarms through an SNS topic; empty for no notifications. */
  readonly alarmEmail: string;
  /** `aws-managed` keys, or one `customer-managed` KMS key (rotated yearly) for the cluster's data and the logs. */
  readonly encryptionKey: EncryptionKeyChoice;
  /** Also accept SASL/SCRAM clients (port 9096), with their secret in Secrets Manager; IAM stays on. */
  readonly saslScram: boolean;
}

export type EncryptionKeyChoice = 'aws-managed' | 'customer-managed';

/**
 * Context key naming the stage to use: `cdk synth -c stage=prod`. Not `profile`, which every AWS user reads as
 * an AWS profile (`--profile` of the AWS and CDK CLIs).
 */
export const STAGE_KEY = 'stage';
/** Context key holding the stages in `cdk.json`. */
export const STAGES_KEY = 'hello-msk:stages';
export const DEFAULT_STAGE = 'dev';
/** Former names of `stage` and `hello-msk:stages`: still read, with a one-line notice. */
export const LEGACY_STAGE_KEY = 'profile';
export const LEGACY_STAGES_KEY = 'hello-msk:profiles';
/** `-c key=unset` (or `null` in a stage) gives a key its default back, whatever the stage set. */
export const UNSET = 'unset';

/** The defaults every stage starts from: the cheap development cluster. */
export const BASE_CONFIG: Omit<AppConfig, 'stage'> = {
  clusterKind: 'provisioned',
  kafkaVersion: '3.9.x.kraft',
  instanceType: 'kafka.t3.small',
  brokersPerAz: 1,
  azCount: 2,
  availabilityZones: [],
  vpcCidr: '10.42.0.0/16',
  vpcId: '',
  privateSubnetIds: [],
  natGateways: 0,
  ebsVolumeGiB: 10,
  ebsMaxVolumeGiB: 10,
  storageMode: 'LOCAL',
  enhancedMonitoring: 'DEFAULT',
  removalPolicy: 'destroy',
  logRetentionDays: 7,
  brokerConfig: {},
  topics: [{ name: 'test-topic', partitions: 3, config: {} }],
  demoTopic: 'test-topic',
  consumerGroup: 'hello-msk-consumer',
  consumer: 'kafkajs',
  consumerSchedule: 'rate(15 minutes)',
  consumerConcurrency: 0,
  topicRemovalPolicy: 'retain',
  topicResource: 'custom',
  alarmEmail: '',
  encryptionKey: 'aws-managed',
  saslScram: false,
};

type Kind = 'string' | 'number' | 'boolean' | 'stringList' | 'stringMap' | 'topics';

const KINDS: Record<keyof Omit<AppConfig, 'stage'>, Kind> = {
  clusterKind: 'string',
  kafkaVersion: 'string',
  instanceType: 'string',
  brokersPerAz: 'number',
  azCount: 'number',
  availabilityZones: 'stringList',
  vpcCidr: 'string',
  vpcId: 'string',
  privateSubnetIds: 'stringList',
  natGateways: 'number',
  ebsVolumeGiB: 'number',
  ebsMaxVolumeGiB: 'number',
  storageMode: 'string',
  enhancedMonitoring: 'string',
  removalPolicy: 'string',
  logRetentionDays: 'number',
  brokerConfig: 'stringMap',
  topics: 'topics',
  demoTopic: 'string',
  consumerGroup: 'string',
  consumer: 'string',
  consumerSchedule: 'string',
  consumerConcurrency: 'number',
  topicRemovalPolicy: 'string',
  topicResource: 'string',
  alarmEmail: 'string',
  encryptionKey: 'string',
  saslScram: 'boolean',
};

const KEYS = Object.keys(KINDS) as (keyof typeof KINDS)[];

/** The parts of an `invalid` value message, so that the app can add where the value came from. */
export interface InvalidValue {
  readonly path: string;
  readonly key: string;
  readonly value: unknown;
  readonly allowed: string;
}

/** Thrown for any configuration mistake; the message is one line naming the key, the value and what is allowed. */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly invalidValue?: InvalidValue,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/** `-c key=value` always arrives as a string; cdk.json values arrive typed. */
function coerce(key: string, raw: unknown, kind: Kind, source: string): unknown {
  const bad = (allowed: string): never => {
    throw new ConfigError(`${source}: ${key} ${show(raw)} is not valid; expected ${allowed}`);
  };
  let value = raw;
  if (typeof raw === 'string' && kind !== 'string') {
    if (kind === 'number') {
      value = raw.trim() === '' ? NaN : Number(raw);
    } else if (kind === 'boolean') {
      value = raw === 'true' ? true : raw === 'false' ? false : raw;
    } else {
      try {
        value = JSON.parse(raw);
      } catch {
        return bad(
          { stringList: 'a JSON array of strings', stringMap: 'a JSON object', topics: 'a JSON array of topics' }[kind],
        );
      }
    }
  }
  switch (kind) {
    case 'string':
      return typeof value === 'string' ? value : bad('a string');
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? value : bad('a number');
    case 'boolean':
      return typeof value === 'boolean' ? value : bad('true or false');
    case 'stringList':
      return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : bad('an array of strings');
    case 'stringMap':
      return coerceStringMap(value) ?? bad('an object of string, number or boolean values');
    case 'topics':
      return coerceTopics(key, value, source);
  }
}

function coerceStringMap(value: unknown): Record<string, string> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (!['string', 'number', 'boolean'].includes(typeof v)) return undefined;
    out[k] = String(v);
  }
  return out;
}

const TOPIC_FIELDS = ['name', 'partitions', 'replicationFactor', 'config'];

function coerceTopics(key: string, value: unknown, source: string): TopicSpec[] {
  if (!Array.isArray(value)) {
    throw new ConfigError(`${source}: ${key} ${show(value)} is not valid; expected an array of topics`);
  }
  return value.map((t: unknown, i) => {
    const at = `${key}[${i}]`;
    if (typeof t !== 'object' || t === null || Array.isArray(t)) {
      throw new ConfigError(
        `${source}: ${at} ${show(t)} is not valid; expected { name, partitions, replicationFactor, config }`,
      );
    }
    const topic = t as Record<string, unknown>;
    const unknownField = Object.keys(topic).find((f) => !TOPIC_FIELDS.includes(f));
    if (unknownField) {
      const guess = closestKey(unknownField, TOPIC_FIELDS);
      throw new ConfigError(
        `${source}: ${at}.${unknownField} is not a topic field; ${guess ? `did you mean ${guess}?` : `use ${TOPIC_FIELDS.join(', ')}`}`,
      );
    }
    if (typeof topic.name !== 'string') {
      throw new ConfigError(`${source}: ${at}.name ${show(topic.name)} is not valid; expected a string`);
    }
    for (const f of ['partitions', 'replicationFactor'] as const) {
      if (topic[f] === undefined && f === 'partitions') {
        throw new ConfigError(`${source}: ${at}.partitions is missing; expected a number`);
      }
      if (typeof topic[f] !== 'number' && topic[f] !== undefined) {
        throw new ConfigError(`${source}: ${at}.${f} ${show(topic[f])} is not valid; expected a number`);
      }
    }
    const config = topic.config === undefined ? {} : coerceStringMap(topic.config);
    if (!config) {
      throw new ConfigError(
        `${source}: ${at}.config ${show(topic.config)} is not valid; expected an object of string values`,
      );
    }
    return {
      name: topic.name,
      partitions: topic.partitions as number,
      replicationFactor: topic.replicationFactor as number | undefined,
      config,
    };
  });
}

/** Minimal view of a construct tree node, so the loader can be tested without an App. */
export type ContextReader = Pick<Node, 'tryGetContext' | 'getAllContext'>;

/**
 * The closest of `known` to a misspelt `key`, if one is close enough to be what was meant: at most one edit
 * in three characters, ignoring case and the separators `-`, `_` and `.` (`brokerPerAz`, `kafka-version`).
 */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const bare = (k: string) => k.toLowerCase().replace(/[-_.]/g, '');
  const wanted = bare(key);
  const limit = Math.max(1, Math.floor(wanted.length / 3));
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(wanted, bare(candidate));
    if (distance <= limit && (!best || distance < best.distance)) best = { key: candidate, distance };
  }
  return best?.key;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

function notAKey(source: string, key: string, shown: string, known: readonly string[]): ConfigError {
  const guess = closestKey(key, known);
  return new ConfigError(
    `${source}: ${shown} is not a configuration key; ${guess ? `did you mean ${guess}?` : `use one of ${known.join(', ')}`}`,
  );
}

/** Every key that `-c key=value` may set: the stage's name and each configuration key. */
const CONTEXT_KEYS: readonly string[] = [STAGE_KEY, ...KEYS];

/**
 * Whether a context key is one the app must recognise: a camelCase word, or an un-namespaced near miss of an app
 * key (`brokers-per-az`). The CDK's own keys are namespaced (`@aws-cdk/core:…`) or kebab-case.
 */
function isAppConfigShaped(key: string): boolean {
  if (/^[a-z][A-Za-z0-9]*$/.test(key)) return true;
  return !/[:/@]/.test(key) && closestKey(key, CONTEXT_KEYS) !== undefined;
}

/** Rejects a context key that looks like app configuration but is not one, naming the closest key. */
function checkContextKeys(node: ContextReader): void {
  const context = (node.getAllContext() ?? {}) as Record<string, unknown>;
  for (const [key, raw] of Object.entries(context)) {
    if (CONTEXT_KEYS.includes(key) || key === LEGACY_STAGE_KEY || !isAppConfigShaped(key)) continue;
    if (closestKey(key, [LEGACY_STAGE_KEY])) {
      // `-c profil=prod` means the stage: suggest its current name.
      throw new ConfigError(
        `Context -c ${key}: ${key} ${show(raw)} is not a configuration key; did you mean ${STAGE_KEY}?`,
      );
    }
    throw notAKey(`Context -c ${key}`, key, `${key} ${show(raw)}`, CONTEXT_KEYS);
  }
}

/** Where each value of a loaded configuration came from, for error messages. */
const SOURCES = new WeakMap<AppConfig, Readonly<Record<string, string>>>();

/**
 * Where `key` of `config` came from, as messages say it: `the default`, `from stage "prod" in cdk.json`,
 * `from cdk.json` or `from -c`. Undefined for a configuration that `loadConfig` did not make.
 */
export function sourceOf(config: AppConfig, key: string): string | undefined {
  return SOURCES.get(config)?.[key];
}

function withSources(config: AppConfig, sources: Record<string, string>): AppConfig {
  SOURCES.set(config, sources);
  return config;
}

/**
 * Adds where the value came from to a `ConfigError` of `invalid` whose key (or its first segment, as in
 * `brokerConfig.min.insync.replicas`) is a configuration key: `brokersPerAz 2 (from -c) is not valid; …`.
 */
export function withSourceOf(error: unknown, config: AppConfig): unknown {
  if (!(error instanceof ConfigError) || !error.invalidValue) return error;
  const { path: at, key, value, allowed } = error.invalidValue;
  const source = sourceOf(config, /^[A-Za-z]+/.exec(key)?.[0] ?? key);
  if (!source) return error;
  return new ConfigError(`${at}: ${key} ${show(value)} (${source}) is not valid; allowed: ${allowed}`);
}

/** The `context` of the project's cdk.json, to tell its values from `-c` ones; empty when there is none. */
function projectContext(): Record<string, unknown> {
  try {
    const file = JSON.parse(readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8')) as { context?: object };
    return (file.context ?? {}) as Record<string, unknown>;
  } catch {
    return {};
  }
}

export interface LoadOptions {
  /** Receives one-line notices (an old key name still read). @default none printed */
  readonly notice?: (line: string) => void;
  /** cdk.json's context, whose values count as `from cdk.json` rather than `from -c`. @default the project's */
  readonly fileContext?: Record<string, unknown>;
}

/** The stage's name, from `stage` or its former name `profile`. */
function chooseStage(node: ContextReader, notice: (line: string) => void): string {
  // Context values arrive as strings from -c and typed from cdk.json; a stage name is checked as a string.
  const text = (value: unknown) => (typeof value === 'string' ? value : show(value));
  const stage: unknown = node.tryGetContext(STAGE_KEY);
  const legacy: unknown = node.tryGetContext(LEGACY_STAGE_KEY);
  if (legacy === undefined) return stage === undefined ? DEFAULT_STAGE : text(stage);
  if (stage !== undefined && stage !== legacy) {
    throw new ConfigError(
      `Context -c ${LEGACY_STAGE_KEY}: ${show(legacy)} disagrees with -c ${STAGE_KEY} ${show(stage)}; ${LEGACY_STAGE_KEY} is the old name of ${STAGE_KEY}: give only -c ${STAGE_KEY}`,
    );
  }
  notice(`-c ${LEGACY_STAGE_KEY} is now -c ${STAGE_KEY}; using stage ${text(legacy)}`);
  return text(legacy);
}

/** The stages from `hello-msk:stages`, and from its former name `hello-msk:profiles` if a cdk.json still has it. */
function readStages(node: ContextReader, notice: (line: string) => void): Record<string, Record<string, unknown>> {
  const stages = (node.tryGetContext(STAGES_KEY) ?? {}) as Record<string, Record<string, unknown>>;
  const legacy = node.tryGetContext(LEGACY_STAGES_KEY) as Record<string, Record<string, unknown>> | undefined;
  if (legacy === undefined) return stages;
  notice(`cdk.json: ${LEGACY_STAGES_KEY} is now ${STAGES_KEY}; reading both`);
  return { ...legacy, ...stages };
}

/** Whether a raw value asks for the key's default: `-c key=unset`, or `null` in cdk.json. */
function isUnset(raw: unknown): boolean {
  return raw === null || raw === UNSET;
}

/**
 * Reads the configuration: `BASE_CONFIG`, then the chosen stage from `cdk.json`, then single-key overrides given
 * as context (`-c brokersPerAz=2`); `unset` (or `null`) gives a key its default back. Checks key names and value
 * types only; each construct checks the values it uses. A misspelt key fails with the closest known key rather
 * than being ignored. Remembers where each value came from (`sourceOf`).
 */
export function loadConfig(node: ContextReader, options: LoadOptions = {}): AppConfig {
  const notice = options.notice ?? (() => undefined);
  const fileContext = options.fileContext ?? projectContext();
  checkContextKeys(node);
  const stage = chooseStage(node, notice);
  const stages = readStages(node, notice);
  const names = Object.keys(stages);

  if (!/^[A-Za-z][A-Za-z0-9-]{0,30}$/.test(stage)) {
    throw new ConfigError(
      `Config: stage ${show(stage)} is not valid; allowed: a letter then up to 30 letters, digits or -`,
    );
  }
  if (!(stage in stages)) {
    throw new ConfigError(
      `Config: stage ${show(stage)} is not defined in ${STAGES_KEY}; use one of ${names.join(', ') || '(none defined)'}`,
    );
  }
  const merged: Record<string, unknown> = { ...BASE_CONFIG };
  const sources: Record<string, string> = Object.fromEntries(KEYS.map((k) => [k, 'the default']));
  const source = `Config stage ${show(stage)} (cdk.json)`;
  for (const [key, raw] of Object.entries(stages[stage] ?? {})) {
    if (!(key in KINDS)) throw notAKey(source, key, key, KEYS);
    if (isUnset(raw)) continue;
    merged[key] = coerce(key, raw, KINDS[key as keyof typeof KINDS], source);
    sources[key] = `from stage ${show(stage)} in cdk.json`;
  }
  for (const key of KEYS) {
    const raw: unknown = node.tryGetContext(key);
    if (raw === undefined) continue;
    const fromFile = JSON.stringify(raw) === JSON.stringify(fileContext[key]);
    if (isUnset(raw)) {
      merged[key] = BASE_CONFIG[key];
      sources[key] = 'the default';
      continue;
    }
    merged[key] = coerce(key, raw, KINDS[key], fromFile ? `cdk.json context ${key}` : `Context -c ${key}`);
    sources[key] = fromFile ? 'from cdk.json' : 'from -c';
  }
  sources[STAGE_KEY] = node.tryGetContext(STAGE_KEY) === undefined ? 'the default' : 'from -c';
  return withSources({ ...(merged as Omit<AppConfig, 'stage'>), stage }, sources);
}
