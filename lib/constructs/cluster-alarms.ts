import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { SERVERLESS } from '../cluster-kinds';
import type { EnhancedMonitoring } from '../config';
import { MskMetrics } from '../msk-metrics';

/** Thresholds of the cluster alarms; docs/deploy.md (Dashboard and alarms) explains each. */
export const CLUSTER_ALARM_THRESHOLDS = {
  /** KafkaDataLogsDiskUsed, percent per broker. Storage auto scaling (when on) targets 60 %. */
  diskUsedPercent: 80,
  /** CpuUser + CpuSystem, percent per broker, averaged over 15 minutes (MSK's guidance: stay under 60 %). */
  cpuPercent: 60,
  /** SumOffsetLag of the demo group on the demo topic, messages, for 15 minutes. */
  consumerLagMessages: 1000,
  /** MSK Serverless: a topic's BytesInPerSec as a share of its partitions' ingress quota, for 5 minutes. */
  serverlessIngressShare: 0.8,
} as const;

export interface ClusterAlarmsProps {
  /** The cluster's name (the "Cluster Name" dimension). */
  readonly clusterName: string;
  /** Number of brokers; their IDs are 1..brokerCount. Undefined on MSK Serverless, which has no broker metrics. */
  readonly brokerCount: number | undefined;
  /** Whether the cluster runs in KRaft mode (a `.kraft` Kafka version). */
  readonly kraft: boolean;
  /**
   * Whether the brokers are Express brokers, which manage their own storage (no KafkaDataLogsDiskUsed).
   * @default false
   */
  readonly express?: boolean;
  /**
   * The cluster's monitoring level. The IAM connection metrics (IAMTooManyConnections) exist from PER_BROKER on;
   * at DEFAULT there is nothing to alarm on.
   * @default 'DEFAULT'
   */
  readonly monitoringLevel?: EnhancedMonitoring;
  /**
   * The consumer group and topic whose lag to alarm on; omit when nothing consumes on a schedule.
   * @default - no consumer-lag alarm
   */
  readonly consumerLag?: { readonly group: string; readonly topic: string };
  /**
   * MSK Serverless only: the topic whose ingress to hold against its partitions' ingress quota.
   * @default - no ingress alarm
   */
  readonly serverlessIngress?: { readonly topic: string; readonly partitions: number };
  /**
   * SumOffsetLag (messages) that, held for 15 minutes, means the consumer is falling behind.
   * @default CLUSTER_ALARM_THRESHOLDS.consumerLagMessages
   */
  readonly consumerLagThreshold?: number;
}

/** Whether MSK publishes IAMTooManyConnections and IAMNumberOfConnectionRequests at this monitoring level. */
export function hasIamConnectionMetrics(level: EnhancedMonitoring | undefined): boolean {
  return (level ?? 'DEFAULT') !== 'DEFAULT';
}

interface AlarmSpec {
  readonly threshold: number;
  readonly comparisonOperator: cloudwatch.ComparisonOperator;
  readonly evaluationPeriods: number;
  readonly treatMissingData: cloudwatch.TreatMissingData;
  readonly description: string;
}

const GREATER = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD;

/**
 * The alarms that say an MSK cluster needs a person: no single active controller, offline partitions,
 * partitions under-replicated for 15 minutes or below min ISR, a data volume filling up, CPU above MSK's 60 %
 * guidance, and (optionally) a consumer group falling behind. Broker-level alarms exist once per broker, so the
 * alarm names the broker.
 */
export class ClusterAlarms extends Construct {
  readonly metrics: MskMetrics;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: ClusterAlarmsProps) {
    super(scope, id);
    const serverless = props.brokerCount === undefined;
    const m = (this.metrics = new MskMetrics(props.clusterName, props.brokerCount ?? 0, serverless));
    const name = props.clusterName;
    const notBreaching = cloudwatch.TreatMissingData.NOT_BREACHING;
    if (serverless) {
      this.serverlessAlarms(m, name, props);
      return;
    }

    // The per-minute sum is 1 when exactly one node is the active controller; 0 or 2+ is a broken control plane.
    const controllers = new cloudwatch.MathExpression({
      expression: 'ABS(controllers - 1)',
      usingMetrics: { controllers: m.activeControllers() },
      label: 'distance of the active controller count from 1',
      period: Duration.minutes(1),
    });
    this.add('ActiveControllers', controllers, {
      threshold: 0,
      comparisonOperator: GREATER,
      evaluationPeriods: 3,
      // ZooKeeper clusters: every broker reports this metric each minute, so silence is itself a failure.
      // KRaft clusters: the controllers are MSK-managed nodes apart from the brokers (in KRaft, broker-only
      // nodes do not expose controller metrics), and MSK does not document reporting it the same way there,
      // so missing data is not evidence of a problem; the alarm still fires on a reported 0 or 2+.
      treatMissingData: props.kraft ? notBreaching : cloudwatch.TreatMissingData.BREACHING,
      description: `${name}: ActiveControllerCount (Sum per minute) was not 1 for 3 minutes; the cluster has no (or more than one) active controller, so leader elections and topic changes stall.`,
    });

    this.add('OfflinePartitions', m.offlinePartitions(), {
      threshold: 0,
      comparisonOperator: GREATER,
      evaluationPeriods: 1,
      treatMissingData: notBreaching,
      description: `${name}: OfflinePartitionsCount > 0; partitions have no leader and can be neither written nor read.`,
    });

    for (const broker of m.brokerIds) {
      // The minimum over 5 minutes is above 0 only if the broker stayed under-replicated the whole period;
      // broker restarts during MSK patching cause short bursts that recover well within 15 minutes.
      this.add(
        `UnderReplicatedPartitionsBroker${broker}`,
        m.underReplicatedPartitions(broker, 'Minimum', Duration.minutes(5)),
        {
          threshold: 0,
          comparisonOperator: GREATER,
          evaluationPeriods: 3,
          treatMissingData: notBreaching,
          description: `${name} broker ${broker}: UnderReplicatedPartitions > 0 for 15 minutes; a replica is not catching up.`,
        },
      );
      this.add(`UnderMinIsrBroker${broker}`, m.underMinIsrPartitions(broker), {
        threshold: 0,
        comparisonOperator: GREATER,
        evaluationPeriods: 3,
        treatMissingData: notBreaching,
        description: `${name} broker ${broker}: UnderMinIsrPartitionCount > 0 for 3 minutes; acks=all producers (ours) fail with NOT_ENOUGH_REPLICAS.`,
      });
      if (!props.express) {
        this.add(`DiskUsedBroker${broker}`, m.dataLogsDiskUsed(broker), {
          threshold: CLUSTER_ALARM_THRESHOLDS.diskUsedPercent,
          comparisonOperator: GREATER,
          evaluationPeriods: 1,
          treatMissingData: notBreaching,
          description: `${name} broker ${broker}: KafkaDataLogsDiskUsed > ${CLUSTER_ALARM_THRESHOLDS.diskUsedPercent} %; raise ebsVolumeGiB / ebsMaxVolumeGiB or shorten retention before the volume fills and the broker stops.`,
        });
      }
      this.add(`CpuBroker${broker}`, m.cpuTotal(broker), {
        threshold: CLUSTER_ALARM_THRESHOLDS.cpuPercent,
        comparisonOperator: GREATER,
        evaluationPeriods: 3,
        treatMissingData: notBreaching,
        description: `${name} broker ${broker}: CpuUser + CpuSystem > ${CLUSTER_ALARM_THRESHOLDS.cpuPercent} % for 15 minutes; above this the cluster cannot absorb a broker restart. Use a larger instanceType or more brokers.`,
      });
      if (hasIamConnectionMetrics(props.monitoringLevel)) {
        // A refused sign-in costs a client a retry (at least 1 s) or an invocation; any is worth a look.
        this.add(`IamTooManyConnectionsBroker${broker}`, m.iamTooManyConnections(broker), {
          threshold: 0,
          comparisonOperator: GREATER,
          evaluationPeriods: 1,
          treatMissingData: notBreaching,
          description: `${name} broker ${broker}: IAMTooManyConnections > 0; the broker refused new IAM connections over its per-second quota (4/s on kafka.t3.small, 100/s on M5, M7g and Express). Look for clients that reconnect in a loop or many cold starts at once.`,
        });
      }
    }

    this.consumerLagAlarm(m, name, props);
  }

  /**
   * MSK Serverless runs the brokers and publishes no broker, controller or partition-health metrics: what a
   * person can act on is a topic nearing its partitions' ingress quota (add partitions) and consumer lag.
   */
  private serverlessAlarms(m: MskMetrics, name: string, props: ClusterAlarmsProps): void {
    if (props.serverlessIngress) {
      const { topic, partitions } = props.serverlessIngress;
      const share = CLUSTER_ALARM_THRESHOLDS.serverlessIngressShare;
      const quota = partitions * SERVERLESS.partitionIngressBytesPerSecond;
      this.add('IngressNearQuota', m.topicBytesIn(topic), {
        threshold: Math.round(share * quota),
        comparisonOperator: GREATER,
        evaluationPeriods: 5,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        description: `${name}: BytesInPerSec of ${topic} stayed above ${share * 100} % of its ${partitions} partitions' ingress quota (${partitions} x 5 MiB/s) for 5 minutes; MSK Serverless throttles producers above the quota. Add partitions.`,
      });
    }
    this.consumerLagAlarm(m, name, props);
  }

  private consumerLagAlarm(m: MskMetrics, name: string, props: ClusterAlarmsProps): void {
    if (!props.consumerLag) return;
    const { group, topic } = props.consumerLag;
    const threshold = props.consumerLagThreshold ?? CLUSTER_ALARM_THRESHOLDS.consumerLagMessages;
    this.add('ConsumerLag', m.sumOffsetLag(group, topic, 'Minimum', Duration.minutes(5)), {
      threshold,
      comparisonOperator: GREATER,
      evaluationPeriods: 3,
      // MSK publishes lag only once the group has committed offsets on the topic.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      description: `${name}: SumOffsetLag of group ${group} on ${topic} stayed above ${threshold} messages for 15 minutes; the consumer is falling behind.`,
    });
  }

  private add(id: string, metric: cloudwatch.IMetric, spec: AlarmSpec): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      metric,
      threshold: spec.threshold,
      comparisonOperator: spec.comparisonOperator,
      evaluationPeriods: spec.evaluationPeriods,
      datapointsToAlarm: spec.evaluationPeriods,
      treatMissingData: spec.treatMissingData,
      alarmDescription: spec.description,
    });
    this.alarms.push(alarm);
    return alarm;
  }
}
