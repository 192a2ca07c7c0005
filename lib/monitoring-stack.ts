import { CfnOutput, Duration, Stack, StackProps, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { AppConfig } from './config';
import { SERVERLESS } from './cluster-kinds';
import { CLUSTER_ALARM_THRESHOLDS, ClusterAlarms, hasIamConnectionMetrics } from './constructs/cluster-alarms';
import { iamConnectionRate } from 'msk-catalog';
import type { KafkaClientFunction } from './constructs/kafka-client-function';
import type { KafkaCluster } from './constructs/kafka-cluster';
import { invalid } from './validation';

export interface MonitoringStackProps extends StackProps {
  /** The app's configuration: stage, Kafka version, demo topic and group, schedule and `alarmEmail`. */
  readonly config: AppConfig;
  /** The cluster to watch; its name is known at synth, so no cross-stack reference is needed for it. */
  readonly cluster: KafkaCluster;
  /** The Kafka client functions (graphs and an errors alarm each), the producer and the consumer first. */
  readonly functions: readonly KafkaClientFunction[];
  /**
   * The project's customer-managed key, which encrypts the alarm topic; its policy lets CloudWatch alarms use it.
   * @default - the topic is not encrypted at rest (the AWS managed key would refuse CloudWatch)
   */
  readonly encryptionKey?: kms.IKey;
}

/** One dashboard and the alarms for the cluster and the demo functions, e-mailed when `alarmEmail` is set. */
export class MonitoringStack extends Stack {
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: cloudwatch.Alarm[];
  /** The SNS topic the alarms notify; only when `alarmEmail` is set. */
  readonly alarmTopic?: sns.Topic;

  constructor(scope: Construct, id: string, props: MonitoringStackProps) {
    super(scope, id, props);
    const { config, cluster } = props;
    validateAlarmEmail(this.node.path, config.alarmEmail);
    // Without a schedule the consumer runs only when invoked, so lag is expected, not a fault.
    const lagAlarm = config.consumerSchedule !== 'off';

    const serverless = cluster.kind === 'serverless';
    const demoPartitions = config.topics.find((t) => t.name === config.demoTopic)?.partitions ?? 1;
    const clusterAlarms = new ClusterAlarms(this, 'ClusterAlarms', {
      clusterName: cluster.clusterName,
      brokerCount: cluster.brokerCount,
      kraft: config.kafkaVersion.endsWith('.kraft'),
      express: cluster.express,
      monitoringLevel: config.enhancedMonitoring,
      consumerLag: lagAlarm ? { group: config.consumerGroup, topic: config.demoTopic } : undefined,
      serverlessIngress: serverless ? { topic: config.demoTopic, partitions: demoPartitions } : undefined,
    });
    const m = clusterAlarms.metrics;

    const functions = props.functions.map((fn) => ({ label: fn.label, fn }));
    const functionAlarms = props.functions.map((fn) => fn.errorsAlarm(this, `hello-msk ${config.stage}`));
    this.alarms = [...clusterAlarms.alarms, ...functionAlarms];

    if (config.alarmEmail !== '') {
      this.alarmTopic = this.notificationTopic(config.alarmEmail, config.stage, props.encryptionKey);
      const action = new actions.SnsAction(this.alarmTopic);
      for (const alarm of this.alarms) {
        alarm.addAlarmAction(action);
        alarm.addOkAction(action);
      }
    }

    const brokers = m.brokerIds;
    const graph = (
      title: string,
      metrics: cloudwatch.IMetric[],
      width: number,
      extra: Partial<cloudwatch.GraphWidgetProps> = {},
    ) => new cloudwatch.GraphWidget({ title, left: metrics, width, height: 6, leftYAxis: { min: 0 }, ...extra });
    const line = (value: number, label: string): cloudwatch.HorizontalAnnotation => ({
      value,
      label,
      color: '#d62728',
    });

    const clusterRows: cloudwatch.IWidget[][] = serverless
      ? [
          [
            graph(`Bytes in per second, ${config.demoTopic}`, [m.topicBytesIn(config.demoTopic)], 8, {
              leftAnnotations: [
                line(
                  Math.round(
                    CLUSTER_ALARM_THRESHOLDS.serverlessIngressShare *
                      demoPartitions *
                      SERVERLESS.partitionIngressBytesPerSecond,
                  ),
                  'alarm (5 min)',
                ),
              ],
            }),
            graph(`Bytes out per second, ${config.demoTopic}`, [m.topicBytesOut(config.demoTopic)], 8),
            graph(`Messages in per second, ${config.demoTopic}`, [m.topicMessagesIn(config.demoTopic)], 8),
          ],
        ]
      : [
          [
            graph('Active controllers (sum per minute, should be 1)', [m.activeControllers()], 6, {
              leftAnnotations: [{ value: 1, label: 'healthy', color: '#2ca02c' }],
            }),
            graph('Offline partitions (cluster)', [m.offlinePartitions()], 6, {
              leftAnnotations: [line(0, 'alarm above')],
            }),
            graph(
              'Under-replicated partitions per broker',
              brokers.map((b) => m.underReplicatedPartitions(b)),
              6,
            ),
            graph(
              'Under-min-ISR partitions per broker',
              brokers.map((b) => m.underMinIsrPartitions(b)),
              6,
            ),
          ],
          [
            ...(cluster.express
              ? []
              : [
                  graph(
                    'Data log disk used % per broker',
                    brokers.map((b) => m.dataLogsDiskUsed(b)),
                    8,
                    {
                      leftYAxis: { min: 0, max: 100 },
                      leftAnnotations: [line(CLUSTER_ALARM_THRESHOLDS.diskUsedPercent, 'alarm')],
                    },
                  ),
                ]),
            graph(
              'CPU user + system % per broker',
              brokers.map((b) => m.cpuTotal(b)),
              cluster.express ? 12 : 8,
              {
                leftYAxis: { min: 0, max: 100 },
                leftAnnotations: [line(CLUSTER_ALARM_THRESHOLDS.cpuPercent, 'alarm (15 min)')],
              },
            ),
            graph(
              'CpuUser and CpuSystem per broker',
              brokers.flatMap((b) => [m.cpuUser(b), m.cpuSystem(b)]),
              cluster.express ? 12 : 8,
              {
                stacked: true,
              },
            ),
          ],
        ];

    // MSK Serverless publishes no broker metrics; provisioned clusters publish these from PER_BROKER on.
    const iamRate = iamConnectionRate(config.instanceType).perSecond;
    const iamRows: cloudwatch.IWidget[][] = serverless
      ? []
      : hasIamConnectionMetrics(config.enhancedMonitoring)
        ? [
            [
              graph(
                'IAM sign-ins per second per broker (IAMNumberOfConnectionRequests)',
                brokers.map((b) => m.iamConnectionRequests(b)),
                12,
                { leftAnnotations: [line(iamRate, `new-connection quota (${iamRate}/s)`)] },
              ),
              graph(
                'IAM connections refused over the quota (IAMTooManyConnections)',
                brokers.map((b) => m.iamTooManyConnections(b)),
                12,
                { leftAnnotations: [line(0, 'alarm above')] },
              ),
            ],
          ]
        : [
            [
              new cloudwatch.TextWidget({
                markdown: `IAM sign-ins (IAMNumberOfConnectionRequests) and refused IAM connections (IAMTooManyConnections) are published from the PER_BROKER monitoring level on; this cluster runs ${config.enhancedMonitoring}. The brokers take ${iamRate} new IAM connections per second each.`,
                width: 24,
                height: 2,
              }),
            ],
          ];

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
      widgets: [
        [
          new cloudwatch.TextWidget({
            markdown: [
              `# hello-msk \`${config.stage}\`: cluster \`${cluster.clusterName}\``,
              `${
                serverless
                  ? 'MSK Serverless (no broker metrics; traffic per topic)'
                  : `${cluster.brokerCount} ${cluster.express ? 'Express' : 'Standard'} brokers (IDs ${brokers.join(', ')}), Kafka ${config.kafkaVersion}`
              }, topic \`${config.demoTopic}\`, consumer group \`${config.consumerGroup}\`. ` +
                (hasIamConnectionMetrics(config.enhancedMonitoring) && !serverless
                  ? `Red lines are alarm thresholds; the IAM connection metrics are ${config.enhancedMonitoring}-level (paid), the others free (DEFAULT level).`
                  : 'Red lines are alarm thresholds; all MSK metrics here are free (DEFAULT level).'),
            ].join('\n\n'),
            width: 24,
            height: 3,
          }),
        ],
        // An alarm status widget shows at most 100 alarms; large clusters get several.
        ...chunks(this.alarms, 100).map((alarms, i, all) => [
          new cloudwatch.AlarmStatusWidget({
            title: all.length > 1 ? `Alarms (${i + 1} of ${all.length})` : 'Alarms',
            alarms,
            width: 24,
            height: 4,
            sortBy: cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
          }),
        ]),
        ...clusterRows,
        ...iamRows,
        [
          graph(
            'Function invocations',
            functions.map(({ label, fn }) =>
              fn.metricInvocations({ label, statistic: 'Sum', period: Duration.minutes(5) }),
            ),
            8,
          ),
          graph(
            'Function errors',
            functions.map(({ label, fn }) => fn.metricErrors({ label, statistic: 'Sum', period: Duration.minutes(5) })),
            8,
            {
              leftAnnotations: [line(0, 'alarm above')],
            },
          ),
          graph(
            'Function duration (ms)',
            functions.flatMap(({ label, fn }) => [
              fn.metricDuration({ label: `${label} average`, statistic: 'Average', period: Duration.minutes(5) }),
              fn.metricDuration({ label: `${label} maximum`, statistic: 'Maximum', period: Duration.minutes(5) }),
            ]),
            8,
          ),
        ],
        [
          graph(
            `Consumer lag of ${config.consumerGroup} on ${config.demoTopic} (messages)`,
            [
              m.sumOffsetLag(config.consumerGroup, config.demoTopic),
              m.maxOffsetLag(config.consumerGroup, config.demoTopic),
            ],
            12,
            lagAlarm ? { leftAnnotations: [line(CLUSTER_ALARM_THRESHOLDS.consumerLagMessages, 'alarm (15 min)')] } : {},
          ),
          graph(
            'Estimated time to catch up (seconds)',
            [m.estimatedMaxTimeLag(config.consumerGroup, config.demoTopic)],
            12,
          ),
        ],
      ],
    });

    new CfnOutput(this, 'DashboardUrl', {
      description: 'The CloudWatch dashboard of the cluster and the functions',
      value: `https://console.aws.amazon.com/cloudwatch/home?region=${this.region}#dashboards:name=${this.dashboard.dashboardName}`,
    });
    if (this.alarmTopic) {
      new CfnOutput(this, 'AlarmTopicArn', {
        description: 'SNS topic of the alarms; confirm the e-mail subscription it sent you',
        value: this.alarmTopic.topicArn,
      });
    }
  }

  /**
   * The alarms' SNS topic with an e-mail subscription. TLS is enforced for every publisher. Not encrypted with
   * the AWS managed key alias/aws/sns: CloudWatch alarms cannot publish to a topic under that key (its policy
   * cannot grant cloudwatch.amazonaws.com), and notifications would silently fail.
   */
  private notificationTopic(email: string, stage: string, key: kms.IKey | undefined): sns.Topic {
    const topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: `hello-msk ${stage} alarms`,
      enforceSSL: true,
      masterKey: key,
    });
    // The topic policy replaces SNS's default one, so CloudWatch needs its own statement, limited to this
    // account's alarms.
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsOfThisAccount',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': this.account },
          ArnLike: { 'aws:SourceArn': `arn:${this.partition}:cloudwatch:${this.region}:${this.account}:alarm:*` },
        },
      }),
    );
    topic.addSubscription(new subscriptions.EmailSubscription(email));
    return topic;
  }
}

function chunks<T>(items: T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));
}

const EMAIL =
  /^[^\s@"'<>(),;:\\[\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

/** `alarmEmail` is '' (no notifications) or one plain e-mail address. */
export function validateAlarmEmail(path: string, email: string): void {
  if (Token.isUnresolved(email) || email === '') return;
  if (email.length > 254 || !EMAIL.test(email)) {
    throw invalid(path, 'alarmEmail', email, 'an e-mail address such as ops@example.com, or "" for no notifications');
  }
}
