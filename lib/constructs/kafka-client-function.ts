import { Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { topicNameProblem } from '../kafka-rules';
import { allowOnlyTo } from '../security-group-rules';
import { invalid } from '../validation';
import { HandlerFunction, type HandlerFunctionProps } from './handler-function';
import type { KafkaCluster } from './kafka-cluster';
import { MSK_IAM_PORT } from './msk-cluster';

/** Where a Kafka client function runs: in the brokers' VPC. */
export interface KafkaClientNetwork {
  readonly vpc: ec2.IVpc;
  /** The subnets the function's network interfaces use (the brokers' private subnets). */
  readonly vpcSubnets: ec2.SubnetSelection;
  /** The brokers' security group; it gets an ingress rule from the function's own group on the IAM port. */
  readonly brokerSecurityGroup: ec2.ISecurityGroup;
}

/** Write to one topic. */
export interface ProduceAccess {
  /** The topic, given to the function as TOPIC. */
  readonly topic: string;
}

/** Read one topic as one consumer group. */
export interface ConsumeAccess {
  /** The topic, given to the function as TOPIC. */
  readonly topic: string;
  /** The consumer group, given to the function as GROUP_ID when it connects itself (`bootstrapBrokers`). */
  readonly group: string;
}

export interface KafkaClientFunctionProps extends Omit<HandlerFunctionProps, 'vpc' | 'vpcSubnets' | 'securityGroups'> {
  /** The cluster whose topic (and group) the function is granted, on their exact ARNs. */
  readonly cluster: KafkaCluster;
  /**
   * Produce to a topic (`kafka-cluster:WriteData`, idempotently). Exactly one of `produce` and `consume`.
   * @default - not a producer
   */
  readonly produce?: ProduceAccess;
  /**
   * Consume a topic as a group (`ReadData`, `DescribeGroup`, `AlterGroup`). Exactly one of `produce` and `consume`.
   * @default - not a consumer
   */
  readonly consume?: ConsumeAccess;
  /**
   * The bootstrap brokers, given to the function as KAFKA_BROKERS with KAFKA_AUTH `iam`; with `network` only.
   * @default - none: the function does not connect itself (an event source mapping reads for it)
   */
  readonly bootstrapBrokers?: string;
  /**
   * The brokers' VPC: the function runs in its subnets with a security group of its own whose only egress is the
   * brokers' IAM port.
   * @default - outside any VPC (an event source mapping's function)
   */
  readonly network?: KafkaClientNetwork;
  /**
   * How security groups, alarms and graphs name the function.
   * @default - the construct id in lower-case words (`AuditConsumer`: `audit consumer`)
   */
  readonly label?: string;
}

/**
 * A Kafka client Lambda function with the project's defaults (HandlerFunction): its log group with retention and
 * removal policy; in the brokers' VPC, a security group of its own that reaches only the brokers' IAM port, and the
 * brokers' ingress from it; produce or consume grants on the exact topic and group ARNs; the connection and its
 * topic and group as environment variables. `errorsAlarm` gives it the project's errors alarm. It extends the
 * function so that its construct path, logical ids and twin name stay the construct id (`Producer`).
 */
export class KafkaClientFunction extends HandlerFunction {
  /** The function's own security group; undefined outside a VPC. */
  readonly securityGroup?: ec2.SecurityGroup;
  readonly label: string;
  /** The topic it produces to or consumes. */
  readonly topic: string;
  /** Its consumer group; undefined for a producer. */
  readonly consumerGroup?: string;

  constructor(scope: Construct, id: string, props: KafkaClientFunctionProps) {
    const path = scope.node.path ? `${scope.node.path}/${id}` : id;
    validateClientProps(path, props);
    const label = props.label ?? wordsOf(id);
    const network = props.network;
    const securityGroup = network
      ? new ec2.SecurityGroup(scope, `${id}SecurityGroup`, {
          vpc: network.vpc,
          description: `${label[0].toUpperCase()}${label.slice(1)} function: to the brokers IAM port only`,
          allowAllOutbound: false,
        })
      : undefined;
    if (securityGroup && network) {
      allowOnlyTo(securityGroup, network.brokerSecurityGroup, MSK_IAM_PORT, `${label} to MSK brokers (IAM)`);
    }
    const access = props.produce ?? props.consume;
    super(scope, id, {
      ...props,
      vpc: network?.vpc,
      vpcSubnets: network?.vpcSubnets,
      securityGroups: securityGroup ? [securityGroup] : undefined,
      environment: {
        ...(props.bootstrapBrokers !== undefined ? { KAFKA_BROKERS: props.bootstrapBrokers, KAFKA_AUTH: 'iam' } : {}),
        TOPIC: access?.topic ?? '',
        // An event source mapping's function reads no group itself: the mapping names it.
        ...(props.consume && props.bootstrapBrokers !== undefined ? { GROUP_ID: props.consume.group } : {}),
        ...props.environment,
      },
    });
    this.securityGroup = securityGroup;
    this.label = label;
    this.topic = access?.topic ?? '';
    this.consumerGroup = props.consume?.group;
    if (props.produce) props.cluster.grantProduce(this, [props.produce.topic]);
    if (props.consume) props.cluster.grantConsume(this, [props.consume.topic], props.consume.group);
  }

  /**
   * The project's function alarm: any error in 5 minutes. Made in `scope` (the stack whose SNS topic notifies),
   * with id `<construct id>Errors`; `subject` starts its description, e.g. `hello-msk dev`.
   */
  errorsAlarm(scope: Construct, subject: string): cloudwatch.Alarm {
    return new cloudwatch.Alarm(scope, `${this.node.id}Errors`, {
      metric: this.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      // A function that was not invoked reports no Errors datapoint, and that is not an error.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `${subject}: the ${this.label} function failed at least once in 5 minutes; its log group has the error line.`,
    });
  }
}

/** `AuditConsumer` → `audit consumer`. */
function wordsOf(id: string): string {
  return id
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[-_]+/g, ' ')
    .toLowerCase();
}

const NAME_ALLOWED = 'letters, digits, . _ - (up to 249 characters)';

function validateClientProps(path: string, props: KafkaClientFunctionProps): void {
  if ((props.produce === undefined) === (props.consume === undefined)) {
    throw invalid(
      path,
      'produce/consume',
      { produce: props.produce, consume: props.consume },
      'exactly one of produce: { topic } and consume: { topic, group }',
    );
  }
  const connects = { bootstrapBrokers: props.bootstrapBrokers !== undefined, network: props.network !== undefined };
  if (connects.bootstrapBrokers !== connects.network) {
    throw invalid(
      path,
      'bootstrapBrokers/network',
      connects,
      'both (a function that connects runs in the brokers VPC) or neither (an event source mapping reads for it)',
    );
  }
  const key = props.produce ? 'produce' : 'consume';
  const topic = (props.produce ?? props.consume)?.topic ?? '';
  if (!Token.isUnresolved(topic) && topicNameProblem(topic)) throw invalid(path, `${key}.topic`, topic, NAME_ALLOWED);
  const group = props.consume?.group;
  // The same characters keep the group's IAM ARN and MSK's consumer-lag metrics well-formed.
  if (group !== undefined && !Token.isUnresolved(group) && (topicNameProblem(group) || group.includes(':'))) {
    throw invalid(path, 'consume.group', group, NAME_ALLOWED);
  }
}
