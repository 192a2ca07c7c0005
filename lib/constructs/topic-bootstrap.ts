import { CustomResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { checkTopicsForKind } from '../cluster-kinds';
import { ConfigError, type TopicSpec } from '../config';
import { topicsProblem, type TopicProperties } from '../kafka-rules';
import { invalid } from '../validation';
import { HandlerFunction } from './handler-function';
import type { KafkaCluster } from './kafka-cluster';
import { WaitingProvider } from './waiting-provider';
import { acknowledgeNag } from '../nag-acknowledgements';

export interface TopicBootstrapProps {
  /** The cluster the topics live in. */
  readonly cluster: KafkaCluster;
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
   * What happens to a topic removed from the list, or on stack deletion: destroy deletes it only when this
   * resource created it (the handler marks the topics it creates), never an adopted one.
   * @default RemovalPolicy.RETAIN
   */
  readonly topicRemovalPolicy?: RemovalPolicy;
  /**
   * Adopt a topic that already exists, was not created by this resource, and has the declared partitions and
   * replication factor; otherwise such a topic fails the deploy.
   * @default true
   */
  readonly adoptExisting?: boolean;
  /** Days to keep the handler's logs. */
  readonly logRetentionDays: number;
  /** What happens to the handler's log group on removal. */
  readonly logRemovalPolicy: RemovalPolicy;
}

/** How long the framework polls `isComplete` (every partition of the declared topics has a leader). */
export const TOPICS_TOTAL_TIMEOUT = Duration.minutes(10);
/** One `onEvent` call: every check, then the changes, each Kafka request bounded by the shared timeouts. */
const ON_EVENT_TIMEOUT = Duration.minutes(3);
/**
 * CloudFormation gives up on the resource after this; just above one `onEvent` plus the total polling time,
 * so that a response the framework never sends costs minutes, not CloudFormation's default hour.
 */
export const TOPICS_SERVICE_TIMEOUT = Duration.minutes(15);

/**
 * Creates and maintains the declared Kafka topics with a custom resource whose handler runs the kafkajs
 * admin client in the VPC: creates new topics, grows partitions, applies configuration overrides, and
 * deletes topics only under the destroy removal policy (lambda/topic-bootstrap has the full rules).
 */
export class TopicBootstrap extends Construct {
  /** The topics in the form the custom resource receives them. */
  readonly topics: TopicProperties[];
  readonly onEventFunction: HandlerFunction;
  readonly isCompleteFunction: HandlerFunction;
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: TopicBootstrapProps) {
    super(scope, id);
    this.topics = props.topics.map((t) => ({
      Name: t.name,
      Partitions: t.partitions,
      ReplicationFactor: t.replicationFactor ?? props.cluster.defaultReplicationFactor,
      Config: t.config ?? {},
    }));
    // What the kind of cluster fixes (replication, allowed settings) is the more useful message, so it goes first.
    checkTopicsForKind(this.node.path, props.cluster, this.topics);
    const problem = topicsProblem(this.topics, props.cluster.brokerCount, props.cluster.minInsyncReplicas);
    if (problem) throw new ConfigError(`${this.node.path}: ${problem}`);
    const removalPolicy = props.topicRemovalPolicy ?? RemovalPolicy.RETAIN;
    if (removalPolicy !== RemovalPolicy.RETAIN && removalPolicy !== RemovalPolicy.DESTROY) {
      throw invalid(this.node.path, 'topicRemovalPolicy', removalPolicy, 'destroy or retain');
    }
    const destroy = removalPolicy === RemovalPolicy.DESTROY;
    const { cluster } = props;
    const names = this.topics.map((t) => t.Name);

    const common = {
      handlerName: 'topic-bootstrap' as const,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: [props.securityGroup],
      environment: { KAFKA_BROKERS: props.bootstrapBrokers, KAFKA_AUTH: 'iam' },
      logRetentionDays: props.logRetentionDays,
      removalPolicy: props.logRemovalPolicy,
    };
    this.onEventFunction = new HandlerFunction(this, 'OnEvent', {
      ...common,
      exportName: 'onEvent',
      description: 'hello-msk: topic bootstrap custom resource (checks, creates, grows, reconfigures topics)',
      timeout: ON_EVENT_TIMEOUT,
    });
    this.isCompleteFunction = new HandlerFunction(this, 'IsComplete', {
      ...common,
      exportName: 'isComplete',
      description: 'hello-msk: waits until every partition of the declared topics has a leader',
      timeout: Duration.minutes(1),
    });

    if (names.length > 0) {
      // DeleteTopic on the declared topics even under retain: a failed Create or Update deletes the topics it
      // created moments before, because CloudFormation sends no usable Delete after a failed Create. The
      // handler deletes nothing else unless the removal policy is destroy.
      cluster.grantTopicAdmin(this.onEventFunction, names, { allowDelete: true });
      cluster.grantConnect(this.isCompleteFunction);
      iam.Grant.addToPrincipal({
        grantee: this.isCompleteFunction,
        actions: ['kafka-cluster:DescribeTopic'],
        resourceArns: names.map((n) => cluster.topicArn(n)),
      });
    } else {
      cluster.grantConnect(this.onEventFunction);
    }
    if (destroy) {
      // A topic that leaves the list is deleted by the Update that no longer declares it, so its ARN is no
      // longer in this template. Under destroy only, the handler may see and delete any topic of this
      // cluster (topic/NAME/UUID/*); it deletes only names its previous properties declared, and of those
      // only the ones whose configuration carries this resource's mark.
      iam.Grant.addToPrincipal({
        grantee: this.onEventFunction,
        actions: [
          'kafka-cluster:DescribeTopic',
          'kafka-cluster:DescribeTopicDynamicConfiguration',
          'kafka-cluster:DeleteTopic',
        ],
        resourceArns: [cluster.topicArn('*')],
      });
      const policy = this.onEventFunction.role?.node.tryFindChild('DefaultPolicy');
      if (policy) {
        const clusterId = Stack.of(cluster).getLogicalId(cluster.resource);
        const uuid = `{"Fn::Select":[2,{"Fn::Split":["/",{"Fn::GetAtt":["${clusterId}","Arn"]}]}]}`;
        acknowledgeNag(
          policy,
          `IAM5[Resource::arn:<AWS::Partition>:kafka:<AWS::Region>:<AWS::AccountId>:topic/${cluster.clusterName}/${uuid}/*]`,
          "topicRemovalPolicy destroy only: deleting a topic removed from the config needs DeleteTopic on an ARN no longer in the template, so it is granted on this cluster's topics (topic/NAME/UUID/*); actions stay exact",
        );
      }
    }

    const provider = new WaitingProvider(this, 'Provider', {
      onEvent: this.onEventFunction,
      isComplete: this.isCompleteFunction,
      queryInterval: Duration.seconds(10),
      totalTimeout: TOPICS_TOTAL_TIMEOUT,
      logRetentionDays: props.logRetentionDays,
      removalPolicy: props.logRemovalPolicy,
    });

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::KafkaTopics',
      serviceTimeout: TOPICS_SERVICE_TIMEOUT,
      properties: {
        // A replaced cluster has none of the topics; a new ARN makes CloudFormation run an Update there.
        ClusterArn: cluster.clusterArn,
        Topics: this.topics,
        RemovalPolicy: destroy ? 'destroy' : 'retain',
        AdoptExisting: props.adoptExisting ?? true,
        // MSK Serverless places replicas itself, so the handler does not hold them to the brokers it can see.
        ...(cluster.kind === 'serverless' ? { ClusterKind: 'serverless' } : {}),
      },
    });
    // Order. Create/Update run after the whole cluster construct (the cluster ACTIVE, its configuration,
    // storage scaling) and after the ClusterEndpoint: the functions' KAFKA_BROKERS comes from it, and the
    // resource's service token leads to them. Nothing else in this stack then runs after a partition
    // increase that a rollback could not undo. Deletion runs in reverse: this resource goes first, while
    // its functions, their security group rules and the cluster still exist. The security groups and
    // subnets (the functions' VPC ENIs) live in the network stack, which this stack depends on, so
    // CloudFormation deletes them only after this whole stack.
    // (The ClusterArn property already orders the resource after the MSK cluster resource itself.)
    this.resource.node.addDependency(...cluster.node.children.filter((child) => child !== cluster.resource));
  }
}
