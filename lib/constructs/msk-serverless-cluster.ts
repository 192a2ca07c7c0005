import { Names, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as msk from 'aws-cdk-lib/aws-msk';
import { Construct } from 'constructs';
import { SERVERLESS } from '../cluster-kinds';
import { KafkaCluster } from './kafka-cluster';

export interface MskServerlessClusterProps {
  /** The VPC the clients live in. */
  readonly vpc: ec2.IVpc;
  /** Subnets (two or three AZs) where MSK places the cluster's network interfaces. */
  readonly vpcSubnets: ec2.SubnetSelection;
  /** Security group of those interfaces (its ingress rules belong to whoever owns the clients). */
  readonly securityGroup: ec2.ISecurityGroup;
  /**
   * What happens to the cluster when removed from the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * An MSK Serverless cluster in the project's private subnets. MSK Serverless offers IAM authentication only, TLS
 * always, encryption at rest under a key MSK owns, and no broker settings, storage or broker logs: there is
 * nothing else to configure. Topics get replication factor 3 and `min.insync.replicas` 2, fixed by MSK.
 */
export class MskServerlessCluster extends KafkaCluster {
  readonly kind = 'serverless' as const;
  readonly express = false;
  readonly resource: msk.CfnServerlessCluster;
  readonly clusterName: string;
  readonly clusterArn: string;
  readonly brokerCount = undefined;
  readonly defaultReplicationFactor = SERVERLESS.replicationFactor;
  readonly minInsyncReplicas = SERVERLESS.minInsyncReplicas;
  // Every property of AWS::MSK::ServerlessCluster requires replacement: the cluster never changes in place.
  readonly currentVersion = undefined;
  readonly brokerLogGroup = undefined;

  constructor(scope: Construct, id: string, props: MskServerlessClusterProps) {
    super(scope, id);
    this.clusterName = Names.uniqueResourceName(this, { maxLength: 64, separator: '-' });
    const subnets = props.vpc.selectSubnets(props.vpcSubnets);
    this.resource = new msk.CfnServerlessCluster(this, 'Resource', {
      clusterName: this.clusterName,
      clientAuthentication: { sasl: { iam: { enabled: true } } },
      vpcConfigs: [{ subnetIds: subnets.subnetIds, securityGroups: [props.securityGroup.securityGroupId] }],
    });
    this.resource.applyRemovalPolicy(props.removalPolicy ?? RemovalPolicy.RETAIN);
    this.clusterArn = this.resource.attrArn;
  }
}
