import { Match, type Template } from 'aws-cdk-lib/assertions';
import { normalise, synthTemplates } from './synth';

type Statement = { Action: string | string[]; Resource: unknown };
type Dimension = { Name: string; Value: unknown };

function kafkaStatements(t: Template): Statement[] {
  return Object.values(t.findResources('AWS::IAM::Policy'))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[])
    .filter((s) => JSON.stringify(s.Action).includes('kafka-cluster:'));
}

/** Every alarm as `metric names -> dimensions`, whether single-metric or metric math. */
function alarmMetrics(t: Template): { id: string; names: string[]; dimensions: Record<string, unknown>[] }[] {
  return Object.entries(t.findResources('AWS::CloudWatch::Alarm')).map(([id, { Properties: p }]) => {
    const stats = ((p.Metrics ?? []) as { MetricStat?: { Metric: { MetricName: string; Dimensions: Dimension[] } } }[])
      .flatMap((q) => (q.MetricStat ? [q.MetricStat.Metric] : []))
      .concat(p.MetricName ? [{ MetricName: p.MetricName as string, Dimensions: p.Dimensions as Dimension[] }] : []);
    return {
      id,
      names: stats.map((m) => m.MetricName),
      dimensions: stats.map((m) => Object.fromEntries(m.Dimensions.map((d) => [d.Name, d.Value]))),
    };
  });
}

function dashboardText(t: Template): string {
  return JSON.stringify(Object.values(t.findResources('AWS::CloudWatch::Dashboard'))[0].Properties.DashboardBody);
}

describe('MSK Serverless (clusterKind serverless)', () => {
  const { cluster, clients, monitoring } = synthTemplates({ clusterKind: 'serverless' });
  const [clusterId] = Object.keys(cluster.findResources('AWS::MSK::ServerlessCluster'));
  const clusterName = cluster.findResources('AWS::MSK::ServerlessCluster')[clusterId].Properties.ClusterName as string;

  test('matches the snapshots of the Cluster and Monitoring stacks', () => {
    expect(normalise(cluster)).toMatchSnapshot('cluster');
    expect(normalise(monitoring)).toMatchSnapshot('monitoring');
  });

  test('is one AWS::MSK::ServerlessCluster with IAM only, in the private subnets and the brokers security group', () => {
    cluster.resourceCountIs('AWS::MSK::ServerlessCluster', 1);
    cluster.hasResourceProperties('AWS::MSK::ServerlessCluster', {
      ClusterName: Match.stringLikeRegexp('^HelloMskdevCluster-[0-9A-F]{8}$'),
      ClientAuthentication: { Sasl: { Iam: { Enabled: true } } },
      VpcConfigs: [
        {
          SubnetIds: [
            { 'Fn::ImportValue': Match.stringLikeRegexp('privateSubnet1') },
            { 'Fn::ImportValue': Match.stringLikeRegexp('privateSubnet2') },
          ],
          SecurityGroups: [{ 'Fn::ImportValue': Match.stringLikeRegexp('BrokerSecurityGroup') }],
        },
      ],
    });
  });

  test('has no provisioned cluster, broker configuration, broker logs or storage scaling', () => {
    for (const type of [
      'AWS::MSK::Cluster',
      'AWS::MSK::Configuration',
      'AWS::ApplicationAutoScaling::ScalableTarget',
      'AWS::SecretsManager::Secret',
    ]) {
      cluster.resourceCountIs(type, 0);
    }
    expect(Object.keys(cluster.toJSON().Outputs as object)).not.toContain('BrokerLogGroup');
  });

  test('is deleted with the stack in dev and kept under removalPolicy retain', () => {
    cluster.hasResource('AWS::MSK::ServerlessCluster', { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
    synthTemplates({ clusterKind: 'serverless', removalPolicy: 'retain' }).cluster.hasResource(
      'AWS::MSK::ServerlessCluster',
      { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' },
    );
  });

  test('reads the IAM bootstrap brokers of the serverless cluster ARN, with no cluster version to follow', () => {
    cluster.hasResourceProperties('Custom::MskClusterEndpoint', {
      ClusterArn: { 'Fn::GetAtt': [clusterId, 'Arn'] },
      ClusterVersion: Match.absent(),
    });
    cluster.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          Match.objectLike({
            Action: ['kafka:DescribeClusterV2', 'kafka:GetBootstrapBrokers'],
            Resource: { 'Fn::GetAtt': [clusterId, 'Arn'] },
          }),
        ],
      },
    });
  });

  test('creates the topics with replication factor 3, with the custom resource (AWS::MSK::Topic is provisioned only)', () => {
    cluster.hasResourceProperties('Custom::MskTopic', {
      ClusterArn: { 'Fn::GetAtt': [clusterId, 'Arn'] },
      TopicName: 'test-topic',
      PartitionCount: 3,
      ReplicationFactor: 3,
    });
    cluster.resourceCountIs('AWS::MSK::Topic', 0);
  });

  test('grants the functions topic and group ARNs derived from the serverless cluster ARN (cluster/NAME/UUID)', () => {
    const statements = kafkaStatements(clients);
    const clusterArn = { 'Fn::ImportValue': expect.stringMatching(/ClusterEB0386A7Arn/) as unknown };
    const dataPlane = (kind: string, name: string) => ({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':kafka:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          `:${kind}/${clusterName}/`,
          { 'Fn::Select': [2, { 'Fn::Split': ['/', clusterArn] }] },
          `/${name}`,
        ],
      ],
    });
    expect(statements.map((st) => ({ Action: st.Action, Resource: st.Resource }))).toEqual([
      { Action: ['kafka-cluster:Connect', 'kafka-cluster:WriteDataIdempotently'], Resource: clusterArn },
      {
        Action: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'],
        Resource: dataPlane('topic', 'test-topic'),
      },
      { Action: 'kafka-cluster:Connect', Resource: clusterArn },
      { Action: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'], Resource: dataPlane('topic', 'test-topic') },
      {
        Action: ['kafka-cluster:AlterGroup', 'kafka-cluster:DescribeGroup'],
        Resource: dataPlane('group', 'hello-msk-consumer'),
      },
      // The read-only kafka-admin function.
      { Action: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster'], Resource: clusterArn },
      {
        Action: ['kafka-cluster:DescribeTopic', 'kafka-cluster:DescribeTopicDynamicConfiguration'],
        Resource: dataPlane('topic', 'test-topic'),
      },
      { Action: 'kafka-cluster:DescribeGroup', Resource: dataPlane('group', 'hello-msk-consumer') },
    ]);
  });
  test('alarms only on what a serverless cluster publishes: topic ingress near its quota and consumer lag', () => {
    const kafka = alarmMetrics(monitoring).filter((a) => a.names.some((n) => !['Errors'].includes(n)));
    expect(kafka.map((a) => a.names).sort()).toEqual([['BytesInPerSec'], ['SumOffsetLag']]);
    for (const alarm of kafka) {
      expect(alarm.dimensions[0]).toMatchObject({ 'Cluster Name': clusterName, Topic: 'test-topic' });
      expect(alarm.dimensions[0]).not.toHaveProperty('Broker ID');
    }
  });

  test('raises the ingress alarm at 80 % of 3 partitions x 5 MiB/s, summed per minute, for 5 minutes', () => {
    monitoring.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: [
        Match.objectLike({
          MetricStat: {
            Metric: {
              Namespace: 'AWS/Kafka',
              MetricName: 'BytesInPerSec',
              Dimensions: [
                { Name: 'Cluster Name', Value: clusterName },
                { Name: 'Topic', Value: 'test-topic' },
              ],
            },
            Stat: 'Sum',
            Period: 60,
          },
        }),
      ],
      Threshold: Math.round(0.8 * 3 * 5 * 1024 * 1024),
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 5,
      DatapointsToAlarm: 5,
      TreatMissingData: 'notBreaching',
    });
  });

  test('graphs topic traffic and serverless lag, and no broker, controller or disk metric', () => {
    const body = dashboardText(monitoring);
    for (const metric of ['BytesInPerSec', 'BytesOutPerSec', 'MessagesInPerSec', 'SumOffsetLag', 'MaxOffsetLag']) {
      expect(body).toContain(`\\"AWS/Kafka\\",\\"${metric}\\"`);
    }
    expect(body).toContain('MaxEstimatedTimeLag');
    for (const metric of [
      'ActiveControllerCount',
      'OfflinePartitionsCount',
      'CpuUser',
      'KafkaDataLogsDiskUsed',
      'Broker ID',
    ]) {
      expect(body).not.toContain(metric);
    }
  });
});

describe('Express brokers (profile express)', () => {
  const { cluster, monitoring } = synthTemplates({ stage: 'express' });
  const [resource] = Object.values(cluster.findResources('AWS::MSK::Cluster'));

  test('matches the snapshots of the Cluster and Monitoring stacks', () => {
    expect(normalise(cluster)).toMatchSnapshot('cluster');
    expect(normalise(monitoring)).toMatchSnapshot('monitoring');
  });

  test('runs three express.m7g.large brokers of Kafka 3.9 in KRaft mode, one per AZ, without EBS settings', () => {
    expect(resource.Properties).toMatchObject({
      KafkaVersion: '3.9.x.kraft',
      NumberOfBrokerNodes: 3,
      BrokerNodeGroupInfo: { InstanceType: 'express.m7g.large' },
    });
    expect(resource.Properties.BrokerNodeGroupInfo.ClientSubnets).toHaveLength(3);
    expect(resource.Properties.BrokerNodeGroupInfo.StorageInfo).toBeUndefined();
    expect(resource.Properties.StorageMode).toBeUndefined();
    cluster.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 0);
  });

  test('leaves replication to Express (no replication keys in the broker configuration) and creates topics with RF 3', () => {
    const [config] = Object.values(cluster.findResources('AWS::MSK::Configuration'));
    expect(config.Properties.ServerProperties).not.toMatch(/replication|insync|unclean/);
    cluster.hasResourceProperties('Custom::MskTopic', {
      TopicName: 'test-topic',
      PartitionCount: 6,
      ReplicationFactor: 3,
      Configs: Match.absent(),
    });
  });

  test('alarms per broker 1..3 on health and CPU, but not on disk use, which Express brokers do not expose', () => {
    const alarms = alarmMetrics(monitoring);
    const brokersOf = (metric: string) =>
      alarms.filter((a) => a.names.includes(metric)).map((a) => a.dimensions[0]['Broker ID']);
    for (const metric of ['UnderReplicatedPartitions', 'UnderMinIsrPartitionCount', 'CpuUser']) {
      expect(brokersOf(metric)).toEqual(['1', '2', '3']);
    }
    expect(brokersOf('KafkaDataLogsDiskUsed')).toEqual([]);
    expect(dashboardText(monitoring)).not.toContain('KafkaDataLogsDiskUsed');
    expect(dashboardText(monitoring)).toContain('Express brokers');
  });
});
