import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { checkClusterKind } from './cluster-kinds';
import type { AppConfig } from './config';
import { ClusterEndpoint } from './constructs/cluster-endpoint';
import type { KafkaCluster } from './constructs/kafka-cluster';
import { MskCluster } from './constructs/msk-cluster';
import { MskServerlessCluster } from './constructs/msk-serverless-cluster';
import { TopicBootstrap } from './constructs/topic-bootstrap';
import { invalid, removalPolicyOf } from './validation';

export interface ClusterStackProps extends StackProps {
  readonly config: AppConfig;
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly brokerSecurityGroup: ec2.ISecurityGroup;
  /** Security group of the topic-bootstrap function. */
  readonly topicAdminSecurityGroup: ec2.ISecurityGroup;
  /**
   * Customer-managed key for the cluster's data and the SCRAM secret.
   * @default - AWS managed keys
   */
  readonly encryptionKey?: kms.IKey;
}

/**
 * The MSK cluster (provisioned with its configuration and logs, or serverless), the custom resource that reads
 * its bootstrap brokers, and the one that keeps the declared topics.
 */
export class ClusterStack extends Stack {
  readonly msk: KafkaCluster;
  readonly topics: TopicBootstrap;
  readonly endpoint: ClusterEndpoint;

  constructor(scope: Construct, id: string, props: ClusterStackProps) {
    super(scope, id, props);
    const { config } = props;
    if (config.encryptionKey !== 'aws-managed' && config.encryptionKey !== 'customer-managed') {
      throw invalid(this.node.path, 'encryptionKey', config.encryptionKey, 'aws-managed or customer-managed');
    }
    checkClusterKind(this.node.path, config);
    if (config.saslScram && !props.encryptionKey) {
      throw invalid(
        this.node.path,
        'saslScram',
        config.saslScram,
        'false, or true with encryptionKey customer-managed (MSK refuses SCRAM secrets under the AWS managed key)',
      );
    }
    const removalPolicy = removalPolicyOf(this.node.path, 'removalPolicy', config.removalPolicy);

    this.msk =
      config.clusterKind === 'serverless'
        ? new MskServerlessCluster(this, 'Cluster', {
            vpc: props.vpc,
            vpcSubnets: props.vpcSubnets,
            securityGroup: props.brokerSecurityGroup,
            removalPolicy,
          })
        : new MskCluster(this, 'Cluster', {
            vpc: props.vpc,
            vpcSubnets: props.vpcSubnets,
            azCount: config.azCount,
            securityGroup: props.brokerSecurityGroup,
            kafkaVersion: config.kafkaVersion,
            instanceType: config.instanceType,
            brokersPerAz: config.brokersPerAz,
            ebsVolumeGiB: config.ebsVolumeGiB,
            ebsMaxVolumeGiB: config.ebsMaxVolumeGiB,
            storageMode: config.storageMode,
            enhancedMonitoring: config.enhancedMonitoring,
            logRetentionDays: config.logRetentionDays,
            brokerConfig: config.brokerConfig,
            removalPolicy,
            encryptionKey: props.encryptionKey,
            saslScram: config.saslScram && props.encryptionKey ? { secretKey: props.encryptionKey } : undefined,
          });

    this.endpoint = new ClusterEndpoint(this, 'Endpoint', {
      cluster: this.msk,
      logRetentionDays: config.logRetentionDays,
      removalPolicy,
    });

    this.topics = new TopicBootstrap(this, 'Topics', {
      cluster: this.msk,
      bootstrapBrokers: this.endpoint.bootstrapBrokers,
      topics: config.topics,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroup: props.topicAdminSecurityGroup,
      topicRemovalPolicy: removalPolicyOf(this.node.path, 'topicRemovalPolicy', config.topicRemovalPolicy),
      topicResource: config.topicResource,
      logRetentionDays: config.logRetentionDays,
      logRemovalPolicy: removalPolicy,
    });

    new CfnOutput(this, 'ClusterArn', { value: this.msk.clusterArn, description: 'MSK cluster ARN' });
    new CfnOutput(this, 'ClusterName', { value: this.msk.clusterName, description: 'MSK cluster name' });
    if (this.msk.brokerLogGroup) {
      new CfnOutput(this, 'BrokerLogGroup', {
        value: this.msk.brokerLogGroup.logGroupName,
        description: 'Broker logs',
      });
    }
  }
}
