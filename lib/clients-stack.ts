import { CfnOutput, Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { lambdaInvokeCommand } from './cli-commands';
import type { AppConfig } from './config';
import { CHECKOV_REASONS, skipCheckov } from './checkov-suppressions';
import { acknowledgeNag } from './nag-acknowledgements';
import { HandlerFunction } from './constructs/handler-function';
import { KafkaClientFunction, type KafkaClientFunctionProps } from './constructs/kafka-client-function';
import type { KafkaCluster } from './constructs/kafka-cluster';
import { DEFAULT_MAX_MESSAGE_BYTES, topicNameProblem } from './kafka-rules';
import { invalid, removalPolicyOf } from './validation';

export interface ClientsStackProps extends StackProps {
  readonly config: AppConfig;
  readonly cluster: KafkaCluster;
  /**
   * Name of the SSM parameter in which the cluster stack publishes the IAM bootstrap brokers (a plain string:
   * the value is resolved at deploy time, never imported).
   */
  readonly bootstrapBrokersParameterName: string;
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  /** The brokers' security group: each Kafka client function opens it to its own group on the IAM port. */
  readonly brokerSecurityGroup: ec2.ISecurityGroup;
  readonly adminSecurityGroup: ec2.ISecurityGroup;
  /**
   * Adds more Kafka client functions (KafkaClientFunction, with `stack.clientDefaults`) after the producer and the
   * consumer, before the kafka-admin function is allowed to describe their groups and the monitoring stack alarms
   * on them. Editing this file does the same (docs/extending.md).
   * @default - none
   */
  readonly moreClients?: (stack: ClientsStack) => void;
}

/** What every Kafka client function of the stack shares: spread it into a KafkaClientFunction's props. */
export type KafkaClientDefaults = Pick<
  KafkaClientFunctionProps,
  'cluster' | 'bootstrapBrokers' | 'network' | 'logRetentionDays' | 'removalPolicy'
>;

const PRODUCER_TIMEOUT = Duration.seconds(60);
const CONSUMER_TIMEOUT = Duration.seconds(60);

/**
 * The demo clients: a producer function that sends `Hello MSK` and a consumer function that logs what it
 * reads, both in the VPC beside the brokers, each allowed exactly its topic (and group); and a read-only
 * kafka-admin function that lets `npm run kafka -- topics|groups --stage S` describe them from a laptop.
 */
export class ClientsStack extends Stack {
  readonly producer: KafkaClientFunction;
  readonly consumer: KafkaClientFunction;
  readonly admin: HandlerFunction;
  /** Cluster, brokers, network, log retention and removal policy of the stack's Kafka client functions. */
  readonly clientDefaults: KafkaClientDefaults;

  constructor(scope: Construct, id: string, props: ClientsStackProps) {
    super(scope, id, props);
    const { config, cluster } = props;
    const scheduleMinutes = validateClientConfig(this.node.path, config);
    const removalPolicy = removalPolicyOf(this.node.path, 'removalPolicy', config.removalPolicy);
    const topic = config.topics.find((t) => t.name === config.demoTopic);
    const maxMessageBytes =
      topic?.config?.['max.message.bytes'] ??
      config.brokerConfig['message.max.bytes'] ??
      String(DEFAULT_MAX_MESSAGE_BYTES);

    // Resolved by CloudFormation on every deploy of this stack (and the CDK CLI never skips a stack with such a
    // parameter), so the functions follow the cluster's brokers without a cross-stack export that the cluster
    // stack could then not change, and without any call from the VPC to SSM.
    // CDK's own SSM-typed template parameter, with a logical id it derives from the parameter name: no id of ours
    // that a second parameter, or a user's --parameters, could collide with.
    const brokers = ssm.StringParameter.valueForStringParameter(this, props.bootstrapBrokersParameterName);
    this.clientDefaults = {
      cluster,
      bootstrapBrokers: brokers,
      network: { vpc: props.vpc, vpcSubnets: props.vpcSubnets, brokerSecurityGroup: props.brokerSecurityGroup },
      logRetentionDays: config.logRetentionDays,
      removalPolicy,
    };

    this.producer = new KafkaClientFunction(this, 'Producer', {
      ...this.clientDefaults,
      handlerName: 'producer',
      description: `hello-msk: sends "Hello MSK" (or the event's message) to ${config.demoTopic}`,
      produce: { topic: config.demoTopic },
      environment: { MAX_MESSAGE_BYTES: maxMessageBytes },
      // A hung partition leader can hold a send for three 10 s request timeouts; the handler gives up 2 s
      // before this timeout with a clear error rather than let Lambda cut it off.
      timeout: PRODUCER_TIMEOUT,
      // Invoked asynchronously, a retry would send the whole batch again under a new producer id: duplicates.
      // The caller decides whether to send again.
      retryAttempts: 0,
    });

    this.consumer =
      config.consumer === 'event-source-mapping'
        ? this.eventSourceMappingConsumer(props, removalPolicy)
        : this.kafkajsConsumer(props, scheduleMinutes);

    // More Kafka client functions go here, before the admin's grants (docs/extending.md).
    props.moreClients?.(this);
    const declared = config.topics.map((t) => t.name);
    for (const client of this.kafkaClients) {
      if (!declared.includes(client.topic)) {
        throw invalid(client.node.path, 'topic', client.topic, `one of the declared topics (${declared.join(', ')})`);
      }
    }

    this.admin = new HandlerFunction(this, 'KafkaAdmin', {
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      logRetentionDays: config.logRetentionDays,
      removalPolicy,
      handlerName: 'kafka-admin',
      description: 'hello-msk: read-only view of the topics and consumer groups (npm run kafka -- topics|groups)',
      securityGroups: [props.adminSecurityGroup],
      environment: { KAFKA_BROKERS: brokers, KAFKA_AUTH: 'iam' },
    });
    const groups = this.kafkaClients.flatMap((c) => (c.consumerGroup === undefined ? [] : [c.consumerGroup]));
    cluster.grantDescribe(this.admin, declared, [...new Set(groups)]);

    const producerName = this.producer.functionName;
    const consumerName = this.consumer.functionName;
    new CfnOutput(this, 'ProducerFunctionName', { value: producerName });
    new CfnOutput(this, 'ConsumerFunctionName', { value: consumerName });
    new CfnOutput(this, 'ConsumerLogGroup', { value: this.consumer.logGroup.logGroupName });
    new CfnOutput(this, 'AdminFunctionName', { value: this.admin.functionName });
    new CfnOutput(this, 'DemoTopic', {
      description: 'The topic the producer and consumer functions use',
      value: config.demoTopic,
    });
    new CfnOutput(this, 'ConsumerGroup', { description: "The consumer function's group", value: config.consumerGroup });
    new CfnOutput(this, 'InvokeProducerCommand', {
      description: 'Send Hello MSK',
      value: lambdaInvokeCommand(producerName, '{"message":"Hello MSK"}', PRODUCER_TIMEOUT),
    });
    if (config.consumer === 'kafkajs') {
      new CfnOutput(this, 'InvokeConsumerCommand', {
        description: 'Read what is new now, without waiting for the schedule',
        value: lambdaInvokeCommand(consumerName, '{}', CONSUMER_TIMEOUT),
      });
    }
    new CfnOutput(this, 'TailConsumerLogsCommand', {
      description: "Follow the consumer's log, where each message's value is the log line's message",
      value: `aws logs tail ${this.consumer.logGroup.logGroupName} --follow --format short`,
    });
  }
  /** Every Kafka client function of the stack, the producer and the consumer first. */
  get kafkaClients(): KafkaClientFunction[] {
    return this.node.findAll().filter((c): c is KafkaClientFunction => c instanceof KafkaClientFunction);
  }

  /**
   * The kafkajs consumer in the VPC, run by the schedule. With a rate of up to 15 minutes each run listens for the
   * whole period (the function's timeout), so a message is logged as it arrives; the container stays in its group
   * between runs. A manual run's container holds its share of the partitions until its session (45 s) ends.
   */
  private kafkajsConsumer(props: ClientsStackProps, scheduleMinutes: number | undefined): KafkaClientFunction {
    const { config } = props;
    const listenMinutes =
      scheduleMinutes !== undefined && scheduleMinutes <= MAX_LISTEN_MINUTES ? scheduleMinutes : undefined;
    // Its session must outlast the gap between invocations: seconds when the runs listen, else the schedule's rate.
    const sessionTimeoutMs = listenMinutes
      ? 45000
      : Math.min(1800000, Math.max(45000, ((scheduleMinutes ?? 2) * 2 * 60 + 30) * 1000));
    const consumer = new KafkaClientFunction(this, 'Consumer', {
      ...this.clientDefaults,
      handlerName: 'consumer',
      description: `hello-msk: logs what is new in ${config.demoTopic} as group ${config.consumerGroup}`,
      consume: { topic: config.demoTopic, group: config.consumerGroup },
      environment: { CONSUMER_SESSION_TIMEOUT_MS: String(sessionTimeoutMs) },
      timeout: consumerTimeout(listenMinutes),
      reservedConcurrentExecutions: config.consumerConcurrency > 0 ? config.consumerConcurrency : undefined,
      // A scheduled run that failed, or waited, is superseded by the next one, which reads from the committed
      // offsets: no retry, and no event older than one schedule period (the EventBridge target's retryAttempts
      // covers only delivery to Lambda, not Lambda's own asynchronous retries and six-hour event age).
      retryAttempts: 0,
      maxEventAge: consumerEventAge(scheduleMinutes),
      noDeadLetterQueueReason:
        'Scheduled reader: a failed run is not retried and its event expires after one schedule period, because the next run reads from the committed offsets; the messages stay in Kafka, so a dead-letter queue would hold only an empty schedule event',
    });
    if (config.consumerSchedule !== 'off') {
      new events.Rule(this, 'ConsumerSchedule', {
        description: 'hello-msk: runs the consumer so that new messages show up in its log',
        schedule: events.Schedule.expression(config.consumerSchedule),
        targets: [
          new targets.LambdaFunction(consumer, {
            retryAttempts: 0,
            event: listenMinutes ? events.RuleTargetInput.fromObject({ listen: true }) : undefined,
          }),
        ],
      });
    }
    return consumer;
  }

  /**
   * The consumer as Lambda's event source mapping runs it: Lambda polls the topic as the consumer group, from
   * network interfaces in the brokers' subnets and security group (the network stack opens them), and invokes
   * the function, which needs no VPC. The role holds what the mapping needs (Lambda developer guide, "Configuring
   * Lambda permissions for Amazon MSK event source mappings"), on the exact ARNs where IAM allows it.
   */
  private eventSourceMappingConsumer(props: ClientsStackProps, removalPolicy: RemovalPolicy): KafkaClientFunction {
    const { config, cluster } = props;
    const consumer = new KafkaClientFunction(this, 'Consumer', {
      cluster,
      handlerName: 'consumer-esm',
      description: `hello-msk: logs each batch of ${config.demoTopic} that Lambda reads as group ${config.consumerGroup}`,
      logRetentionDays: config.logRetentionDays,
      removalPolicy,
      consume: { topic: config.demoTopic, group: config.consumerGroup },
      timeout: CONSUMER_TIMEOUT,
      reservedConcurrentExecutions: config.consumerConcurrency > 0 ? config.consumerConcurrency : undefined,
      noDeadLetterQueueReason:
        'Invoked by its event source mapping, whose on-failure destination keeps the batches that failed every retry',
      outsideVpcReason: CHECKOV_REASONS.invokedByEventSourceMapping,
    });
    consumer.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [
          'kafka-cluster:DescribeClusterDynamicConfiguration',
          'kafka:DescribeClusterV2',
          'kafka:GetBootstrapBrokers',
        ],
        resources: [cluster.clusterArn],
      }),
    );
    // The mapping's network interfaces, as Lambda's guide and AWSLambdaMSKExecutionRole grant them.
    const eniReason =
      "Lambda's event source mapping creates and describes its network interfaces in the brokers' subnets with the function's role; Lambda's guide and the AWSLambdaMSKExecutionRole managed policy grant these EC2 actions on all resources";
    acknowledgeNag(consumer, 'IAM5[Resource::*]', eniReason);
    consumer.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [
          'ec2:CreateNetworkInterface',
          'ec2:DeleteNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSecurityGroups',
          'ec2:DescribeSubnets',
          'ec2:DescribeVpcs',
        ],
        resources: ['*'],
      }),
    );
    const policy = consumer.role?.node.tryFindChild('DefaultPolicy');
    if (policy) skipCheckov(policy, 'CKV_AWS_111', eniReason);
    const failures = new sqs.Queue(this, 'ConsumerFailures', {
      encryption: sqs.QueueEncryption.KMS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy,
    });
    acknowledgeNag(failures, 'SQS3', 'It is the on-failure destination of the event source mapping itself');
    new lambda.EventSourceMapping(this, 'ConsumerEventSource', {
      target: consumer,
      eventSourceArn: cluster.clusterArn,
      kafkaTopic: config.demoTopic,
      kafkaConsumerGroupId: config.consumerGroup,
      startingPosition: lambda.StartingPosition.LATEST,
      batchSize: 100,
      maxBatchingWindow: Duration.seconds(0),
      onFailure: new SqsDlq(failures),
    });
    new CfnOutput(this, 'ConsumerFailuresQueue', {
      description: 'Batches the consumer failed on every retry (the event source mapping sends them here)',
      value: failures.queueUrl,
    });
    return consumer;
  }
}

const RATE = /^rate\((\d+) (minute|minutes|hour|hours)\)$/;

/** Lambda's longest timeout: the longest schedule period a run can listen through. */
const MAX_LISTEN_MINUTES = 15;

/** A listening run lasts its period; a reading run needs a minute at most. */
function consumerTimeout(listenMinutes: number | undefined): Duration {
  return listenMinutes ? Duration.minutes(listenMinutes) : CONSUMER_TIMEOUT;
}

/**
 * The consumer's asynchronous event age: one schedule period, within what Lambda allows (60 s to 6 h); the
 * shortest for cron schedules and manual runs, whose period is not known.
 */
function consumerEventAge(scheduleMinutes: number | undefined): Duration {
  return Duration.seconds(Math.min(6 * 3600, Math.max(60, (scheduleMinutes ?? 1) * 60)));
}

/** Returns the schedule's period in minutes (undefined when off or a cron expression). */
function validateClientConfig(path: string, config: AppConfig): number | undefined {
  if (!config.topics.some((t) => t.name === config.demoTopic)) {
    throw invalid(
      path,
      'demoTopic',
      config.demoTopic,
      `one of the declared topics (${config.topics.map((t) => t.name).join(', ') || 'none'})`,
    );
  }
  if (config.consumer !== 'kafkajs' && config.consumer !== 'event-source-mapping') {
    throw invalid(path, 'consumer', config.consumer, 'kafkajs or event-source-mapping');
  }
  const groupProblem = topicNameProblem(config.consumerGroup);
  if (groupProblem || config.consumerGroup.includes(':')) {
    // The same characters keep the group's IAM ARN and MSK's consumer-lag metrics well-formed.
    throw invalid(path, 'consumerGroup', config.consumerGroup, 'letters, digits, . _ - (up to 249 characters)');
  }
  if (
    !Number.isInteger(config.consumerConcurrency) ||
    config.consumerConcurrency < 0 ||
    config.consumerConcurrency > 10
  ) {
    throw invalid(path, 'consumerConcurrency', config.consumerConcurrency, 'a whole number from 0 (unreserved) to 10');
  }
  if (config.consumerSchedule === 'off') return undefined;
  const m = RATE.exec(config.consumerSchedule);
  if (m) {
    const n = Number(m[1]);
    const minutes = m[2].startsWith('hour') ? n * 60 : n;
    if (n < 1 || (n === 1) !== !m[2].endsWith('s')) {
      throw invalid(
        path,
        'consumerSchedule',
        config.consumerSchedule,
        'rate(1 minute), rate(N minutes), rate(1 hour), rate(N hours), cron(...) or off',
      );
    }
    return minutes;
  }
  if (/^cron\(.+\)$/.test(config.consumerSchedule)) return undefined;
  throw invalid(
    path,
    'consumerSchedule',
    config.consumerSchedule,
    'rate(1 minute), rate(N minutes), rate(1 hour), rate(N hours), cron(...) or off',
  );
}
