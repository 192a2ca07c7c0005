import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { ConfigError, type TopicSpec } from '../config';
import { topicsProblem, type TopicProperties } from '../kafka-rules';
import type { MskCluster } from './msk-cluster';

export interface TopicBootstrapProps {
  /** The cluster the topics live in. */
  readonly cluster: MskCluster;
  /** The IAM bootstrap brokers (resolved at deploy time, once the cluster is ACTIVE). */
  readonly bootstrapBrokers: string;
  /** The topics to create and maintain. */
  readonly topics: TopicSpec[];
  /** The VPC of the brokers; the handler runs there. */
  readonly vpc: ec2.IVpc;
  /** Subnets for the handler. */
  readonly vpcSubnets: ec2.SubnetSelection;
  /** The handler's own security group (allowed to the brokers' IAM port). */
  readonly securityGroup: ec2.ISecurityGroup;
  /**
   * What happens to a topic removed from the list, or on stack deletion.
   * @default RemovalPolicy.RETAIN
   */
  readonly topicRemovalPolicy?: RemovalPolicy;
  /**
   * Adopt a topic that already exists with the declared partitions and replication factor.
   * @default true
   */
  readonly adoptExisting?: boolean;
  /** Days to keep the handler's logs. */
  readonly logRetentionDays: number;
  /** What happens to the handler's log group on removal. */
  readonly logRemovalPolicy: RemovalPolicy;
}

/** Creates and maintains the declared Kafka topics. */
export class TopicBootstrap extends Construct {
  /** The topics in the form the custom resource receives them. */
  readonly topics: TopicProperties[];

  constructor(scope: Construct, id: string, props: TopicBootstrapProps) {
    super(scope, id);
    this.topics = props.topics.map((t) => ({
      Name: t.name,
      Partitions: t.partitions,
      ReplicationFactor: t.replicationFactor ?? props.cluster.defaultReplicationFactor,
      Config: t.config ?? {},
    }));
    const problem = topicsProblem(this.topics, props.cluster.brokerCount, props.cluster.minInsyncReplicas);
    if (problem) throw new ConfigError(`${this.node.path}: ${problem}`);
  }
}
