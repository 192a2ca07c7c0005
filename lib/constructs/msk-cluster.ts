import { Fn, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as msk from 'aws-cdk-lib/aws-msk';
import { Construct } from 'constructs';
import type { EnhancedMonitoring, StorageMode } from '../config';
import { KafkaCluster } from './kafka-cluster';
import { minIsrProblem } from '../kafka-rules';
import {
  EXPRESS_INSTANCE_TYPES,
  EXPRESS_KAFKA_VERSIONS,
  EXPRESS_CONFIGURABLE_BROKER_PROPERTIES,
  maxBrokers,
  MAX_EBS_GIB,
  MIN_EBS_GIB,
  MSK_CONFIGURABLE_BROKER_PROPERTIES,
  MSK_KAFKA_VERSIONS,
  MSK_PORTS,
  NO_KAFKA_4_INSTANCE_TYPES,
  NO_TIERED_STORAGE_INSTANCE_TYPES,
  STANDARD_INSTANCE_TYPES,
} from 'msk-catalog';
import { acknowledgeNag } from '../nag-acknowledgements';
import { checkRetention, invalid } from '../validation';
import { vendedLogGroupName } from './vended-logs';

/** Port of the brokers' TLS + IAM listener inside the VPC. */
export const MSK_IAM_PORT = MSK_PORTS.iam;

export interface MskClusterProps {
  /** The VPC of the brokers. */
  readonly vpc: ec2.IVpc;
  /** One subnet per AZ for the brokers. */
  readonly vpcSubnets: ec2.SubnetSelection;
  /** Number of AZs the subnets span: 2 or 3. */
  readonly azCount: number;
  /** The brokers' security group (its ingress rules belong to whoever owns the clients). */
  readonly securityGroup: ec2.ISecurityGroup;
  /** MSK Kafka version string. */
  readonly kafkaVersion: string;
  /** Broker instance type. */
  readonly instanceType: string;
  /** Brokers in each AZ. */
  readonly brokersPerAz: number;
  /** EBS volume per broker at creation, in GiB (Standard brokers). */
  readonly ebsVolumeGiB: number;
  /** Storage auto scaling ceiling in GiB; equal to `ebsVolumeGiB` turns it off. */
  readonly ebsMaxVolumeGiB: number;
  /**
   * Local EBS only, or tiered storage.
   * @default 'LOCAL'
   */
  readonly storageMode?: StorageMode;
  /**
   * CloudWatch metrics level.
   * @default 'DEFAULT'
   */
  readonly enhancedMonitoring?: EnhancedMonitoring;
  /** Days to keep broker logs. */
  readonly logRetentionDays: number;
  /**
   * Broker settings merged over the durable defaults.
   * @default {}
   */
  readonly brokerConfig?: Record<string, string>;
  /**
   * What happens to the cluster and its logs when removed from the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Customer-managed KMS key for the brokers' data volumes.
   * @default - the AWS managed key for MSK
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Also accept SASL/SCRAM clients on port 9096, with one generated user whose secret lives in Secrets
   * Manager, encrypted with this customer-managed key (MSK refuses SCRAM secrets under the AWS managed key).
   * SCRAM principals are authorized by Kafka ACLs, so `allow.everyone.if.no.acl.found` is turned off.
   * @default - IAM only
   */
  readonly saslScram?: { readonly secretKey: kms.IKey };
}

const ENHANCED_MONITORING: EnhancedMonitoring[] = [
  'DEFAULT',
  'PER_BROKER',
  'PER_TOPIC_PER_BROKER',
  'PER_TOPIC_PER_PARTITION',
];

/**
 * An MSK provisioned cluster that accepts only TLS with IAM authentication, encrypts at rest and between
 * brokers, logs to CloudWatch with retention, scales its storage, and runs a broker configuration with
 * durable topic defaults. Grant methods give Kafka clients exactly the data-plane actions they need.
 */
export class MskCluster extends KafkaCluster {
  readonly kind = 'provisioned' as const;
  readonly cluster: msk.CfnCluster;
  readonly resource: msk.CfnCluster;
  readonly currentVersion: string;
  readonly brokerLogGroup: logs.LogGroup;
  readonly configuration?: msk.CfnConfiguration;
  readonly logGroup: logs.LogGroup;
  /** The generated cluster name (also the middle of every topic and group ARN). */
  readonly clusterName: string;
  readonly clusterArn: string;
  readonly brokerCount: number;
  /** Cluster-wide `default.replication.factor`. */
  readonly defaultReplicationFactor: number;
  /** Cluster-wide `min.insync.replicas`. */
  readonly minInsyncReplicas: number;
  /** The effective broker properties (`server.properties`) of the custom configuration. */
  readonly serverProperties: Record<string, string>;
  readonly express: boolean;
  /** The SCRAM user's secret (`{ username, password }`), when SASL/SCRAM is on. */
  readonly scramSecret?: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: MskClusterProps) {
    super(scope, id);
    this.express = props.instanceType.startsWith('express.');
    this.brokerCount = props.brokersPerAz * props.azCount;
    const scramDefaults: Record<string, string> = props.saslScram ? { 'allow.everyone.if.no.acl.found': 'false' } : {};
    this.serverProperties = this.express
      ? expressServerProperties({ ...scramDefaults, ...props.brokerConfig })
      : durableServerProperties(this.brokerCount, { ...scramDefaults, ...props.brokerConfig });
    this.defaultReplicationFactor = this.express ? 3 : Number(this.serverProperties['default.replication.factor']);
    this.minInsyncReplicas = this.express ? 2 : Number(this.serverProperties['min.insync.replicas']);
    validate(this.node.path, props, this.brokerCount, this.serverProperties, this.express);

    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.clusterName = Names.uniqueResourceName(this, { maxLength: 64, separator: '-' });

    this.logGroup = new logs.LogGroup(this, 'BrokerLogs', {
      logGroupName: vendedLogGroupName(this, 'msk'),
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy,
    });

    // Names are unique per account and region; the stack's id ends this one, so a configuration kept by the
    // retain policy never blocks a new stack of the same name.
    const stackIdPrefix = Fn.select(0, Fn.split('-', Fn.select(2, Fn.split('/', Stack.of(this).stackId))));
    this.configuration = new msk.CfnConfiguration(this, 'Configuration', {
      // Bound to no Kafka version, so that an upgrade keeps it and a properties change is its next revision.
      name: Fn.join('-', [
        `${Names.uniqueResourceName(this, { maxLength: 48, separator: '-' })}-config`.replace(/_/g, '-'),
        stackIdPrefix,
      ]),
      description: 'hello-msk durable broker defaults',
      serverProperties: Object.entries(this.serverProperties)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n'),
    });
    this.configuration.applyRemovalPolicy(removalPolicy);

    const subnets = props.vpc.selectSubnets(props.vpcSubnets);
    this.cluster = new msk.CfnCluster(this, 'Resource', {
      clusterName: this.clusterName,
      kafkaVersion: props.kafkaVersion,
      numberOfBrokerNodes: this.brokerCount,
      brokerNodeGroupInfo: {
        instanceType: props.instanceType,
        clientSubnets: subnets.subnetIds,
        securityGroups: [props.securityGroup.securityGroupId],
        storageInfo: this.express ? undefined : { ebsStorageInfo: { volumeSize: props.ebsVolumeGiB } },
        connectivityInfo: { publicAccess: { type: 'DISABLED' } },
      },
      clientAuthentication: {
        sasl: { iam: { enabled: true }, scram: { enabled: props.saslScram !== undefined } },
        tls: { enabled: false },
        unauthenticated: { enabled: false },
      },
      encryptionInfo: {
        // Encryption at rest is always on; without a key ARN MSK uses the AWS managed key.
        encryptionAtRest: props.encryptionKey ? { dataVolumeKmsKeyId: props.encryptionKey.keyArn } : undefined,
        encryptionInTransit: { clientBroker: 'TLS', inCluster: true },
      },
      configurationInfo: { arn: this.configuration.attrArn, revision: this.configuration.attrLatestRevisionRevision },
      enhancedMonitoring: props.enhancedMonitoring ?? 'DEFAULT',
      storageMode: this.express ? undefined : (props.storageMode ?? 'LOCAL'),
      loggingInfo: {
        brokerLogs: { cloudWatchLogs: { enabled: true, logGroup: this.logGroup.logGroupName } },
      },
    });
    this.cluster.applyRemovalPolicy(removalPolicy);
    this.resource = this.cluster;
    this.clusterArn = this.cluster.attrArn;
    this.currentVersion = this.cluster.attrCurrentVersion;
    this.brokerLogGroup = this.logGroup;

    if (props.saslScram) {
      this.scramSecret = new secretsmanager.Secret(this, 'ScramSecret', {
        // MSK only associates secrets whose name starts with AmazonMSK_.
        secretName: `AmazonMSK_${Names.uniqueResourceName(this, { maxLength: 48, separator: '-' })}`,
        description: 'hello-msk: SASL/SCRAM user for the MSK cluster',
        encryptionKey: props.saslScram.secretKey,
        generateSecretString: {
          secretStringTemplate: JSON.stringify({ username: 'hello-msk' }),
          generateStringKey: 'password',
          excludePunctuation: true,
          passwordLength: 32,
        },
        removalPolicy,
      });
      new msk.CfnBatchScramSecret(this, 'ScramSecrets', {
        clusterArn: this.clusterArn,
        secretArnList: [this.scramSecret.secretArn],
      });
      acknowledgeNag(
        this.scramSecret,
        'SMG4',
        'MSK reads SCRAM credentials from this secret; rotating it needs a rotation function that also updates Kafka ACL users, which the project leaves to the team that owns the SCRAM clients',
      );
    }

    if (!this.express && props.ebsMaxVolumeGiB > props.ebsVolumeGiB) {
      const target = new appscaling.ScalableTarget(this, 'StorageScaling', {
        serviceNamespace: appscaling.ServiceNamespace.KAFKA,
        scalableDimension: 'kafka:broker-storage:VolumeSize',
        resourceId: this.clusterArn,
        minCapacity: 1,
        maxCapacity: props.ebsMaxVolumeGiB,
      });
      target.scaleToTrackMetric('StorageUtilization', {
        predefinedMetric: appscaling.PredefinedMetric.KAFKA_BROKER_STORAGE_UTILIZATION,
        targetValue: 60,
        // MSK volumes only grow.
        disableScaleIn: true,
      });
    }
  }
}

/**
 * Broker defaults for durability: no topics created by accident, no unclean leader election, and
 * replication that fits the broker count (RF 3 / min ISR 2 with three or more brokers, RF 2 / min ISR 1 with two).
 */
export function durableServerProperties(
  brokerCount: number,
  overrides: Record<string, string>,
): Record<string, string> {
  const rf = Math.min(3, Math.max(1, brokerCount));
  return {
    'auto.create.topics.enable': 'false',
    'unclean.leader.election.enable': 'false',
    'default.replication.factor': String(rf),
    'min.insync.replicas': String(Math.max(1, rf - 1)),
    'num.partitions': '3',
    'transaction.state.log.replication.factor': String(rf),
    'transaction.state.log.min.isr': String(Math.max(1, rf - 1)),
    'delete.topic.enable': 'true',
    ...overrides,
  };
}

/** Express brokers fix replication themselves (RF 3, min ISR 2, no unclean election); only the rest is ours. */
export function expressServerProperties(overrides: Record<string, string>): Record<string, string> {
  return { 'auto.create.topics.enable': 'false', 'num.partitions': '3', ...overrides };
}

function validate(
  path: string,
  p: MskClusterProps,
  brokerCount: number,
  serverProperties: Record<string, string>,
  express: boolean,
): void {
  const fail = (key: string, value: unknown, allowed: string): never => {
    throw invalid(path, key, value, allowed);
  };
  if (p.azCount !== 2 && p.azCount !== 3) fail('azCount', p.azCount, '2 or 3');
  if (!Token.isUnresolved(p.instanceType)) {
    if (!p.instanceType.startsWith('kafka.') && !p.instanceType.startsWith('express.')) {
      fail(
        'instanceType',
        p.instanceType,
        'a type starting with "kafka." (Standard) or "express." (Express), e.g. kafka.t3.small',
      );
    }
    if (![...STANDARD_INSTANCE_TYPES, ...EXPRESS_INSTANCE_TYPES].includes(p.instanceType)) {
      fail(
        'instanceType',
        p.instanceType,
        `one of ${[...STANDARD_INSTANCE_TYPES, ...EXPRESS_INSTANCE_TYPES].join(', ')}`,
      );
    }
  }
  if (!Number.isInteger(p.brokersPerAz) || p.brokersPerAz < 1) {
    fail('brokersPerAz', p.brokersPerAz, 'a whole number >= 1 (MSK puts the same number of brokers in every AZ)');
  }
  const max = maxBrokers(p.kafkaVersion);
  if (brokerCount > max) {
    fail(
      'brokersPerAz',
      p.brokersPerAz,
      `at most ${Math.floor(max / p.azCount)} with ${p.azCount} AZs (${max} brokers per ${p.kafkaVersion} cluster)`,
    );
  }
  if (!Token.isUnresolved(p.kafkaVersion)) {
    if (/^4\./.test(p.kafkaVersion) && !p.kafkaVersion.endsWith('.kraft')) {
      fail(
        'kafkaVersion',
        p.kafkaVersion,
        `a KRaft version for Kafka 4 (e.g. ${p.kafkaVersion.replace(/^(4\.\d+)\..*$/, '$1.x')}.kraft)`,
      );
    }
    if (/^4\./.test(p.kafkaVersion) && NO_KAFKA_4_INSTANCE_TYPES.includes(p.instanceType)) {
      fail(
        'kafkaVersion',
        p.kafkaVersion,
        `3.9.x.kraft or earlier on ${p.instanceType} (MSK offers Kafka 4 on kafka.m5 and kafka.m7g brokers)`,
      );
    }
    const versions: readonly string[] = express ? EXPRESS_KAFKA_VERSIONS : MSK_KAFKA_VERSIONS;
    if (!versions.includes(p.kafkaVersion)) {
      fail('kafkaVersion', p.kafkaVersion, `${express ? 'for Express brokers ' : ''}one of ${versions.join(', ')}`);
    }
  }
  if (express) {
    if (p.azCount !== 3) fail('azCount', p.azCount, '3 for Express brokers');
    if (p.storageMode === 'TIERED')
      fail('storageMode', p.storageMode, 'LOCAL for Express brokers (they manage storage themselves)');
    if (p.ebsMaxVolumeGiB !== p.ebsVolumeGiB) {
      fail(
        'ebsMaxVolumeGiB',
        p.ebsMaxVolumeGiB,
        `equal to ebsVolumeGiB (${p.ebsVolumeGiB}): Express brokers have no EBS to scale`,
      );
    }
  }
  if (!Number.isInteger(p.ebsVolumeGiB) || p.ebsVolumeGiB < MIN_EBS_GIB || p.ebsVolumeGiB > MAX_EBS_GIB) {
    fail('ebsVolumeGiB', p.ebsVolumeGiB, `a whole number from ${MIN_EBS_GIB} to ${MAX_EBS_GIB}`);
  }
  if (!Number.isInteger(p.ebsMaxVolumeGiB) || p.ebsMaxVolumeGiB < p.ebsVolumeGiB || p.ebsMaxVolumeGiB > MAX_EBS_GIB) {
    fail(
      'ebsMaxVolumeGiB',
      p.ebsMaxVolumeGiB,
      `a whole number from ebsVolumeGiB (${p.ebsVolumeGiB}) to ${MAX_EBS_GIB}`,
    );
  }
  const storageMode = p.storageMode ?? 'LOCAL';
  if (storageMode !== 'LOCAL' && storageMode !== 'TIERED') fail('storageMode', storageMode, 'LOCAL or TIERED');
  if (storageMode === 'TIERED') {
    if (NO_TIERED_STORAGE_INSTANCE_TYPES.includes(p.instanceType)) {
      fail(
        'storageMode',
        storageMode,
        `LOCAL on ${p.instanceType} (tiered storage needs a kafka.m5 or kafka.m7g broker)`,
      );
    }
  }
  const monitoring = p.enhancedMonitoring ?? 'DEFAULT';
  if (!ENHANCED_MONITORING.includes(monitoring)) fail('enhancedMonitoring', monitoring, ENHANCED_MONITORING.join(', '));
  checkRetention(path, 'logRetentionDays', p.logRetentionDays);

  const accepted = express ? EXPRESS_CONFIGURABLE_BROKER_PROPERTIES : MSK_CONFIGURABLE_BROKER_PROPERTIES;
  for (const key of Object.keys(p.brokerConfig ?? {})) {
    if (!accepted.includes(key)) {
      fail(
        'brokerConfig',
        key,
        `a property MSK accepts in a custom configuration for ${express ? 'Express' : 'Standard'} brokers (listed in packages/msk-catalog)`,
      );
    }
  }
  if (express) return;
  const rf = Number(serverProperties['default.replication.factor']);
  if (!Number.isInteger(rf) || rf < 1 || rf > brokerCount) {
    fail(
      'brokerConfig.default.replication.factor',
      serverProperties['default.replication.factor'],
      `1 to the broker count (${brokerCount})`,
    );
  }
  const minIsr = Number(serverProperties['min.insync.replicas']);
  const allowed = minIsrProblem(minIsr, rf);
  if (allowed) fail('brokerConfig.min.insync.replicas', serverProperties['min.insync.replicas'], allowed);
}
