import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/** CloudWatch namespace of MSK's broker metrics. */
export const MSK_NAMESPACE = 'AWS/Kafka';

/**
 * The MSK metrics the dashboard and the alarms read, free (DEFAULT monitoring level) except the IAM connection
 * metrics, which MSK publishes from the PER_BROKER level on.
 * ActiveControllerCount and OfflinePartitionsCount are cluster-level ("Cluster Name"); the broker metrics carry
 * "Cluster Name" and "Broker ID" (1 to the broker count); consumer lag carries "Cluster Name", "Consumer Group"
 * and "Topic". MSK Serverless publishes no broker or controller metrics, only per-topic traffic ("Cluster Name",
 * "Topic", one data point per partition, so summed) and consumer lag (MSK developer guide, "Monitoring MSK
 * Serverless clusters").
 */
export class MskMetrics {
  constructor(
    /** The cluster's name, known at synth. */
    readonly clusterName: string,
    /** Number of brokers; MSK numbers them 1..brokerCount. 0 on MSK Serverless. */
    readonly brokerCount: number,
    /** Whether the cluster is MSK Serverless, whose lag-time metric has its own name. */
    readonly serverless = false,
  ) {}

  /** Broker IDs, 1..brokerCount. */
  get brokerIds(): number[] {
    return Array.from({ length: this.brokerCount }, (_, i) => i + 1);
  }

  /** Active controllers per minute, summed over the reporting nodes: exactly 1 when healthy. */
  activeControllers(): cloudwatch.Metric {
    return this.cluster('ActiveControllerCount', 'Sum', 'active controllers');
  }

  offlinePartitions(): cloudwatch.Metric {
    return this.cluster('OfflinePartitionsCount', 'Maximum', 'offline partitions');
  }

  underReplicatedPartitions(brokerId: number, statistic = 'Maximum', period = Duration.minutes(1)): cloudwatch.Metric {
    return this.broker('UnderReplicatedPartitions', brokerId, statistic, period);
  }

  underMinIsrPartitions(brokerId: number, statistic = 'Maximum', period = Duration.minutes(1)): cloudwatch.Metric {
    return this.broker('UnderMinIsrPartitionCount', brokerId, statistic, period);
  }

  /** Percent of the broker's data volume in use. */
  dataLogsDiskUsed(brokerId: number, period = Duration.minutes(5)): cloudwatch.Metric {
    return this.broker('KafkaDataLogsDiskUsed', brokerId, 'Maximum', period);
  }

  cpuUser(brokerId: number, period = Duration.minutes(5)): cloudwatch.Metric {
    return this.broker('CpuUser', brokerId, 'Average', period);
  }

  cpuSystem(brokerId: number, period = Duration.minutes(5)): cloudwatch.Metric {
    return this.broker('CpuSystem', brokerId, 'Average', period);
  }

  /** CpuUser + CpuSystem, the CPU figure MSK's guidance keeps under 60 %. */
  cpuTotal(brokerId: number, period = Duration.minutes(5)): cloudwatch.MathExpression {
    return new cloudwatch.MathExpression({
      expression: `user${brokerId} + system${brokerId}`,
      usingMetrics: {
        [`user${brokerId}`]: this.cpuUser(brokerId, period),
        [`system${brokerId}`]: this.cpuSystem(brokerId, period),
      },
      label: `broker ${brokerId} CPU user + system`,
      period,
    });
  }

  /**
   * IAM sign-ins per second on the broker (new connections and re-authentications). PER_BROKER level and above
   * (MSK developer guide, "Amazon MSK metrics for monitoring Standard brokers with CloudWatch" and its Express
   * counterpart: "The number of IAM authentication requests per second"; dimensions Cluster Name, Broker ID).
   */
  iamConnectionRequests(brokerId: number): cloudwatch.Metric {
    return this.broker('IAMNumberOfConnectionRequests', brokerId, 'Maximum', Duration.minutes(1));
  }

  /**
   * IAM connection attempts the broker refused over its quota ("The number of connections attempted beyond 100.
   * 0 means the number of connections is within the limit", ibid.; the quota is 4 per second on T3). PER_BROKER
   * level and above; dimensions Cluster Name, Broker ID.
   */
  iamTooManyConnections(brokerId: number): cloudwatch.Metric {
    return this.broker('IAMTooManyConnections', brokerId, 'Maximum', Duration.minutes(1));
  }

  /** Lag of a consumer group on a topic, summed over its partitions (messages). */
  sumOffsetLag(group: string, topic: string, statistic = 'Maximum', period = Duration.minutes(1)): cloudwatch.Metric {
    return this.lag('SumOffsetLag', group, topic, statistic, period);
  }

  /** The largest partition lag of a consumer group on a topic (messages). */
  maxOffsetLag(group: string, topic: string): cloudwatch.Metric {
    return this.lag('MaxOffsetLag', group, topic, 'Maximum', Duration.minutes(1));
  }

  /** Estimated seconds to drain MaxOffsetLag (MaxEstimatedTimeLag on MSK Serverless). */
  estimatedMaxTimeLag(group: string, topic: string): cloudwatch.Metric {
    const name = this.serverless ? 'MaxEstimatedTimeLag' : 'EstimatedMaxTimeLag';
    return this.lag(name, group, topic, 'Maximum', Duration.minutes(1));
  }

  /**
   * Bytes per second producers write to a topic. Published per partition once a minute, so the sum over one
   * minute is the topic's rate (MSK developer guide, "Monitoring MSK Serverless clusters").
   */
  topicBytesIn(topic: string, period = Duration.minutes(1)): cloudwatch.Metric {
    return this.topic('BytesInPerSec', topic, period);
  }

  /** Bytes per second consumers read from a topic (summed over its partitions). */
  topicBytesOut(topic: string): cloudwatch.Metric {
    return this.topic('BytesOutPerSec', topic, Duration.minutes(1));
  }

  /** Messages per second written to a topic (summed over its partitions). */
  topicMessagesIn(topic: string): cloudwatch.Metric {
    return this.topic('MessagesInPerSec', topic, Duration.minutes(1));
  }

  private topic(metricName: string, topic: string, period: Duration): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: MSK_NAMESPACE,
      metricName,
      dimensionsMap: { 'Cluster Name': this.clusterName, Topic: topic },
      statistic: 'Sum',
      period,
      label: `${metricName} ${topic}`,
    });
  }

  private cluster(metricName: string, statistic: string, label: string): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: MSK_NAMESPACE,
      metricName,
      dimensionsMap: { 'Cluster Name': this.clusterName },
      statistic,
      period: Duration.minutes(1),
      label,
    });
  }

  private broker(metricName: string, brokerId: number, statistic: string, period: Duration): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: MSK_NAMESPACE,
      metricName,
      dimensionsMap: { 'Cluster Name': this.clusterName, 'Broker ID': String(brokerId) },
      statistic,
      period,
      label: `broker ${brokerId} ${metricName}`,
    });
  }

  private lag(
    metricName: string,
    group: string,
    topic: string,
    statistic: string,
    period: Duration,
  ): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: MSK_NAMESPACE,
      metricName,
      dimensionsMap: { 'Cluster Name': this.clusterName, 'Consumer Group': group, Topic: topic },
      statistic,
      period,
      label: `${metricName} ${group} on ${topic}`,
    });
  }
}
