import { CustomResource, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { HandlerFunction } from './handler-function';
import type { KafkaCluster } from './kafka-cluster';
import { WaitingProvider } from './waiting-provider';

export interface ClusterEndpointProps {
  /** The cluster to wait for. */
  readonly cluster: KafkaCluster;
  /** Days to keep the handler's logs. */
  readonly logRetentionDays: number;
  /** What happens to the handler's log group on removal. */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Waits until the cluster is ACTIVE and reads its IAM bootstrap brokers at deploy time, from outside the
 * VPC, so that the functions get their brokers as plain configuration. Runs again whenever the cluster changes.
 */
export class ClusterEndpoint extends Construct {
  /** `b-1.…:9098,b-2.…:9098`, the IAM bootstrap brokers. */
  readonly bootstrapBrokers: string;
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: ClusterEndpointProps) {
    super(scope, id);
    const { cluster } = props;
    const common = {
      handlerName: 'cluster-endpoint' as const,
      logRetentionDays: props.logRetentionDays,
      removalPolicy: props.removalPolicy,
      timeout: Duration.seconds(30),
    };
    const onEvent = new HandlerFunction(this, 'OnEvent', {
      ...common,
      exportName: 'onEvent',
      description: 'hello-msk: cluster endpoint custom resource (start)',
    });
    const isComplete = new HandlerFunction(this, 'IsComplete', {
      ...common,
      exportName: 'isComplete',
      description: 'hello-msk: waits for the MSK cluster to be ACTIVE and reads its bootstrap brokers',
    });
    isComplete.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['kafka:DescribeClusterV2', 'kafka:GetBootstrapBrokers'],
        resources: [cluster.clusterArn],
      }),
    );

    const provider = new WaitingProvider(this, 'Provider', {
      onEvent,
      isComplete,
      queryInterval: Duration.seconds(30),
      totalTimeout: Duration.hours(2),
      logRetentionDays: props.logRetentionDays,
      removalPolicy: props.removalPolicy,
    });
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::MskClusterEndpoint',
      properties: {
        ClusterArn: cluster.clusterArn,
        // A serverless cluster never changes in place, so it has no version to follow.
        ...(cluster.currentVersion !== undefined ? { ClusterVersion: cluster.currentVersion } : {}),
      },
    });
    this.bootstrapBrokers = this.resource.getAttString('BootstrapBrokersSaslIam');
  }
}
