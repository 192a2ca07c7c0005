import { CfnResource, CustomResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as msk from 'aws-cdk-lib/aws-msk';
import { Construct } from 'constructs';
import { checkTopicsForKind } from '../cluster-kinds';
import { ConfigError, type TopicSpec } from '../config';
import { encodeTopicConfigs, topicsProblem, type TopicProperties } from '../kafka-rules';
import { invalid } from '../validation';
import { HandlerFunction } from './handler-function';
import type { KafkaCluster } from './kafka-cluster';
import { WaitingProvider } from './waiting-provider';
import { acknowledgeNag } from '../nag-acknowledgements';

export type TopicResourceKind = 'custom' | 'native';

export interface TopicBootstrapProps {
  /** The cluster the topics live in. */
  readonly cluster: KafkaCluster;
  /** The IAM bootstrap brokers (resolved at deploy time, once the cluster is ACTIVE). */
  readonly bootstrapBrokers: string;
  /** The topics to create and maintain, one resource each. */
  readonly topics: TopicSpec[];
  /** The VPC of the brokers; the handler runs there. */
  readonly vpc: ec2.IVpc;
  /** Subnets for the handler. */
  readonly vpcSubnets: ec2.SubnetSelection;
  /** The handler's own security group (allowed to the brokers' IAM port). */
  readonly securityGroup: ec2.ISecurityGroup;
  /**
   * What CloudFormation does with a topic whose resource leaves the template, is replaced (a new name), or
   * whose stack is deleted: retain keeps it, destroy deletes it. Applied as each resource's DeletionPolicy and
   * UpdateReplacePolicy, so under retain the handler never receives a Delete.
   * @default RemovalPolicy.RETAIN
   */
  readonly topicRemovalPolicy?: RemovalPolicy;
  /**
   * `custom`: this app's custom resource (kafkajs in the VPC); `native`: CloudFormation's `AWS::MSK::Topic`
   * (provisioned clusters only), with the same properties, and no functions.
   * @default 'custom'
   */
  readonly topicResource?: TopicResourceKind;
  /** Days to keep the handler's logs. */
  readonly logRetentionDays: number;
  /** What happens to the handler's log group on removal. */
  readonly logRemovalPolicy: RemovalPolicy;
}

/** How long the framework polls `isComplete` (every partition of the topic has a leader). */
export const TOPICS_TOTAL_TIMEOUT = Duration.minutes(10);
/**
 * One `onEvent` call: the checks, the change, each Kafka request bounded by the shared timeouts, and up to a
 * minute of retries while IAM does not yet show a new grant.
 */
const ON_EVENT_TIMEOUT = Duration.minutes(3);
/**
 * CloudFormation gives up on the resource after this; just above one `onEvent` plus the total polling time,
 * so that a response the framework never sends costs minutes, not CloudFormation's default hour.
 */
export const TOPICS_SERVICE_TIMEOUT = Duration.minutes(15);

/** The custom resource type; its properties are those of `AWS::MSK::Topic`, so a move there is a change of type. */
export const TOPIC_RESOURCE_TYPE = 'Custom::MskTopic';

/**
 * One resource per declared topic, with the properties of CloudFormation's `AWS::MSK::Topic`: by default a custom
 * resource whose handler runs the kafkajs admin client in the VPC (lambda/topic-bootstrap has its rules), or the
 * native resource itself on a provisioned cluster. CloudFormation owns each topic's create, update, delete and
 * rollback; the physical id is the topic name.
 */
export class TopicBootstrap extends Construct {
  /** The topics as declared, replication factor filled in. */
  readonly topics: TopicProperties[];
  /** The topic resources, one per topic, in declaration order. */
  readonly resources: CfnResource[];
  readonly onEventFunction?: HandlerFunction;
  readonly isCompleteFunction?: HandlerFunction;

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
    const kind = props.topicResource ?? 'custom';
    if (kind !== 'custom' && kind !== 'native')
      throw invalid(this.node.path, 'topicResource', kind, 'custom or native');
    if (kind === 'native' && props.cluster.kind === 'serverless') {
      throw invalid(
        this.node.path,
        'topicResource',
        kind,
        'custom with clusterKind serverless (AWS::MSK::Topic works on provisioned clusters only)',
      );
    }
    const { cluster } = props;
    const provider = kind === 'custom' ? this.customProvider(props, removalPolicy) : undefined;
    this.onEventFunction = provider?.onEvent;
    this.isCompleteFunction = provider?.isComplete;
    const serviceToken = provider?.serviceToken;

    this.resources = this.topics.map((topic) => {
      const properties = {
        // A replaced cluster has none of the topics; a new ARN makes CloudFormation run an Update there.
        ClusterArn: cluster.clusterArn,
        TopicName: topic.Name,
        PartitionCount: topic.Partitions,
        ReplicationFactor: topic.ReplicationFactor,
        ...(Object.keys(topic.Config).length > 0 ? { Configs: encodeTopicConfigs(topic.Config) } : {}),
      };
      const resource = serviceToken
        ? (new CustomResource(this, `Topic-${topic.Name}`, {
            serviceToken,
            resourceType: TOPIC_RESOURCE_TYPE,
            serviceTimeout: TOPICS_SERVICE_TIMEOUT,
            properties,
            removalPolicy,
          }).node.defaultChild as CfnResource)
        : new msk.CfnTopic(this, `Topic-${topic.Name}`, {
            clusterArn: properties.ClusterArn,
            topicName: properties.TopicName,
            partitionCount: properties.PartitionCount,
            replicationFactor: properties.ReplicationFactor,
            configs: properties.Configs,
          });
      if (!serviceToken) resource.applyRemovalPolicy(removalPolicy);
      // After everything else of the cluster, so nothing in this stack runs after a partition increase that a
      // rollback could not undo; on deletion the topics go first, while the functions and the cluster exist.
      resource.node.addDependency(...cluster.node.children.filter((child) => child !== cluster.resource));
      return resource;
    });
  }

  /** The onEvent and isComplete functions, their grants, and the Provider framework with its service token. */
  private customProvider(
    props: TopicBootstrapProps,
    removalPolicy: RemovalPolicy,
  ): { serviceToken: string; onEvent: HandlerFunction; isComplete: HandlerFunction } {
    const { cluster } = props;
    const names = this.topics.map((t) => t.Name);
    const destroy = removalPolicy === RemovalPolicy.DESTROY;
    const common = {
      handlerName: 'topic-bootstrap' as const,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: [props.securityGroup],
      environment: { KAFKA_BROKERS: props.bootstrapBrokers, KAFKA_AUTH: 'iam' },
      logRetentionDays: props.logRetentionDays,
      removalPolicy: props.logRemovalPolicy,
    };
    const onEvent = new HandlerFunction(this, 'OnEvent', {
      ...common,
      exportName: 'onEvent',
      description: 'hello-msk: topic custom resource (creates, grows, reconfigures, deletes a topic)',
      timeout: ON_EVENT_TIMEOUT,
    });
    const isComplete = new HandlerFunction(this, 'IsComplete', {
      ...common,
      exportName: 'isComplete',
      description: 'hello-msk: waits until every partition of a declared topic has a leader',
      timeout: Duration.minutes(1),
    });

    if (names.length > 0) {
      // No DeleteTopic here: a Create makes its topic in one request, so it has nothing to undo, and under
      // retain CloudFormation never sends a Delete.
      cluster.grantTopicAdmin(onEvent, names, { allowDelete: false });
      cluster.grantConnect(isComplete);
      iam.Grant.addToPrincipal({
        grantee: isComplete,
        actions: ['kafka-cluster:DescribeTopic'],
        resourceArns: names.map((n) => cluster.topicArn(n)),
      });
    } else {
      cluster.grantConnect(onEvent);
    }
    if (destroy) {
      // A topic whose resource leaves the template is deleted in the update's cleanup, after the policy has
      // lost its ARN. Under destroy only, the handler may delete any topic of this cluster (topic/NAME/UUID/*);
      // it deletes only the topic its resource's physical id names.
      iam.Grant.addToPrincipal({
        grantee: onEvent,
        actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:DeleteTopic'],
        resourceArns: [cluster.topicArn('*')],
      });
      const policy = onEvent.role?.node.tryFindChild('DefaultPolicy');
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
      onEvent,
      isComplete,
      queryInterval: Duration.seconds(10),
      totalTimeout: TOPICS_TOTAL_TIMEOUT,
      logRetentionDays: props.logRetentionDays,
      removalPolicy: props.logRemovalPolicy,
    });
    return { serviceToken: provider.serviceToken, onEvent, isComplete };
  }
}
