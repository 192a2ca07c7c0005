import { CustomResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { HandlerFunction } from './handler-function';
import { oneStepProvider } from './waiting-provider';
import type { KafkaCluster } from './kafka-cluster';

export interface ClusterEndpointProps {
  /** The cluster whose brokers to read. */
  readonly cluster: KafkaCluster;
  /** Days to keep the handler's logs. */
  readonly logRetentionDays: number;
  /** What happens to the handler's log group on removal. */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * One call of the handler: three MSK API reads (two on MSK Serverless), each with the SDK's retries, and up to a
 * minute of retries of access denied while IAM does not yet show the function's grant on the new cluster.
 */
const ON_EVENT_TIMEOUT = Duration.seconds(120);
/**
 * How long CloudFormation waits for the resource's answer (at most one hour for any custom resource); the
 * Provider framework answers as soon as the one onEvent call returns or fails.
 */
export const ENDPOINT_SERVICE_TIMEOUT = Duration.minutes(5);

/**
 * Reads the cluster's IAM bootstrap brokers at deploy time, from outside the VPC, and publishes them in an SSM
 * parameter, which other stacks read as an SSM-typed CloudFormation parameter rather than a cross-stack export
 * (docs/deploy.md, "Bootstrap brokers"). Runs again whenever the cluster changes.
 */
export class ClusterEndpoint extends Construct {
  /** `b-1.…:9098,b-2.…:9098`, the IAM bootstrap brokers, for resources in this stack. */
  readonly bootstrapBrokers: string;
  /** Name of the SSM parameter that holds the bootstrap brokers: a plain string, known at synth. */
  readonly parameterName: string;
  readonly parameter: ssm.StringParameter;
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: ClusterEndpointProps) {
    super(scope, id);
    const { cluster } = props;
    const onEvent = new HandlerFunction(this, 'OnEvent', {
      handlerName: 'cluster-endpoint',
      exportName: 'onEvent',
      description: 'hello-msk: cluster endpoint custom resource (reads the IAM bootstrap brokers)',
      logRetentionDays: props.logRetentionDays,
      removalPolicy: props.removalPolicy,
      timeout: ON_EVENT_TIMEOUT,
    });
    onEvent.addToRolePolicy(
      new iam.PolicyStatement({
        // ListNodes takes the cluster ARN as its resource, like the other two: "Accessing one Amazon MSK
        // cluster", https://docs.aws.amazon.com/msk/latest/developerguide/security_iam_id-based-policy-examples-access-one-cluster.html
        // The handler never calls it on MSK Serverless, which has no brokers to list.
        actions: [
          'kafka:DescribeClusterV2',
          'kafka:GetBootstrapBrokers',
          ...(cluster.kind === 'provisioned' ? ['kafka:ListNodes'] : []),
        ],
        resources: [cluster.clusterArn],
      }),
    );

    // No isComplete waiter: CloudFormation starts this resource only after the cluster's create or update has
    // finished, so there is nothing to wait for, and an error fails the resource at once with its reason.
    const provider = oneStepProvider(this, {
      onEvent,
      logRetentionDays: props.logRetentionDays,
      removalPolicy: props.removalPolicy,
    });

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::MskClusterEndpoint',
      serviceTimeout: ENDPOINT_SERVICE_TIMEOUT,
      properties: {
        ClusterArn: cluster.clusterArn,
        // A serverless cluster never changes in place, so it has no version to follow.
        ...(cluster.currentVersion !== undefined ? { ClusterVersion: cluster.currentVersion } : {}),
      },
    });
    this.bootstrapBrokers = this.resource.getAttString('BootstrapBrokersSaslIam');

    this.parameterName = `/${Stack.of(this).stackName}/bootstrap-brokers-sasl-iam`;
    this.parameter = new ssm.StringParameter(this, 'BrokersParameter', {
      parameterName: this.parameterName,
      description: 'hello-msk: the MSK cluster IAM bootstrap brokers (host:port,...), read by the client stacks',
      stringValue: this.bootstrapBrokers,
      tier: ssm.ParameterTier.STANDARD,
    });
  }
}
