import { Aws, CfnResource, Fn } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { ClusterKind } from '../config';

/**
 * What the rest of the app needs from an MSK cluster of either kind: its ARN and name (the topic and group ARNs
 * and the CloudWatch "Cluster Name" dimension derive from them), the replication it gives topics, and grant
 * methods that give Kafka clients exactly the data-plane actions they need.
 */
export abstract class KafkaCluster extends Construct {
  /** `provisioned` (Standard or Express brokers) or `serverless`. */
  abstract readonly kind: ClusterKind;
  /** Whether the brokers are Express brokers (provisioned only). */
  abstract readonly express: boolean;
  /** The CloudFormation resource of the cluster. */
  abstract readonly resource: CfnResource;
  /** The generated cluster name (also the middle of every topic and group ARN). */
  abstract readonly clusterName: string;
  abstract readonly clusterArn: string;
  /** Number of brokers; undefined on MSK Serverless, which has none to count. */
  abstract readonly brokerCount: number | undefined;
  /** Replication factor of a topic that declares none. */
  abstract readonly defaultReplicationFactor: number;
  /** Cluster-wide `min.insync.replicas`. */
  abstract readonly minInsyncReplicas: number;
  /** Changes whenever the cluster changes in place (a provisioned cluster's CurrentVersion); undefined if it never does. */
  abstract readonly currentVersion: string | undefined;
  /** Where the brokers log; undefined on MSK Serverless, which offers no broker logs. */
  abstract readonly brokerLogGroup: logs.ILogGroup | undefined;

  /** ARN of a topic in this cluster: `topic/NAME/UUID/TOPIC`. */
  topicArn(topic: string): string {
    return this.dataPlaneArn('topic', topic);
  }

  /** ARN of a consumer group in this cluster: `group/NAME/UUID/GROUP`. */
  groupArn(group: string): string {
    return this.dataPlaneArn('group', group);
  }

  /** Lets a client open IAM-authenticated connections to the brokers. */
  grantConnect(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: ['kafka-cluster:Connect'], resourceArns: [this.clusterArn] });
  }

  /** Producer: write (idempotently) to the named topics. */
  grantProduce(grantee: iam.IGrantable, topics: string[]): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['kafka-cluster:Connect', 'kafka-cluster:WriteDataIdempotently'],
      resourceArns: [this.clusterArn],
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'],
      resourceArns: topics.map((t) => this.topicArn(t)),
    });
  }

  /** Consumer: read the named topics as the named group and commit its offsets. */
  grantConsume(grantee: iam.IGrantable, topics: string[], group: string): void {
    this.grantConnect(grantee);
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'],
      resourceArns: topics.map((t) => this.topicArn(t)),
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup'],
      resourceArns: [this.groupArn(group)],
    });
  }

  /** Topic administration of exactly the named topics; deletion only when asked for. */
  grantTopicAdmin(grantee: iam.IGrantable, topics: string[], options: { allowDelete: boolean }): void {
    this.grantConnect(grantee);
    iam.Grant.addToPrincipal({
      grantee,
      actions: [
        'kafka-cluster:CreateTopic',
        'kafka-cluster:DescribeTopic',
        'kafka-cluster:AlterTopic',
        'kafka-cluster:DescribeTopicDynamicConfiguration',
        'kafka-cluster:AlterTopicDynamicConfiguration',
        ...(options.allowDelete ? ['kafka-cluster:DeleteTopic'] : []),
      ],
      resourceArns: topics.map((t) => this.topicArn(t)),
    });
  }

  /**
   * Read-only view for the kafka-admin function: describe the cluster, the named topics and their
   * configuration, and the named groups (members, committed offsets), never change them.
   */
  grantDescribe(grantee: iam.IGrantable, topics: string[], groups: string[]): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster'],
      resourceArns: [this.clusterArn],
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:DescribeTopicDynamicConfiguration'],
      resourceArns: topics.map((t) => this.topicArn(t)),
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['kafka-cluster:DescribeGroup'],
      resourceArns: groups.map((g) => this.groupArn(g)),
    });
  }

  private dataPlaneArn(kind: 'topic' | 'group', name: string): string {
    // Provisioned and serverless cluster ARNs alike are arn:PARTITION:kafka:REGION:ACCOUNT:cluster/NAME/UUID
    // (MSK developer guide, "IAM access control: resources"); data-plane ARNs share NAME/UUID.
    const uuid = Fn.select(2, Fn.split('/', this.clusterArn));
    return `arn:${Aws.PARTITION}:kafka:${Aws.REGION}:${Aws.ACCOUNT_ID}:${kind}/${this.clusterName}/${uuid}/${name}`;
  }
}
