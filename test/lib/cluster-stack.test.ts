import { Match } from 'aws-cdk-lib/assertions';
import { normalise, synthTemplates } from './synth';

function serverProperties(template: ReturnType<typeof synthTemplates>['cluster']): Record<string, string> {
  const [config] = Object.values(template.findResources('AWS::MSK::Configuration'));
  return Object.fromEntries(
    (config.Properties.ServerProperties as string).split('\n').map((line) => line.split('=') as [string, string]),
  );
}

describe('ClusterStack (dev profile)', () => {
  const { cluster } = synthTemplates();

  test('matches the snapshot', () => {
    expect(normalise(cluster)).toMatchSnapshot();
  });

  test('runs two kafka.t3.small brokers of Kafka 3.9.x in KRaft mode, one per AZ', () => {
    cluster.hasResourceProperties('AWS::MSK::Cluster', {
      KafkaVersion: '3.9.x.kraft',
      NumberOfBrokerNodes: 2,
      BrokerNodeGroupInfo: Match.objectLike({
        InstanceType: 'kafka.t3.small',
        ClientSubnets: [{ 'Fn::ImportValue': Match.anyValue() }, { 'Fn::ImportValue': Match.anyValue() }],
        StorageInfo: { EBSStorageInfo: { VolumeSize: 10 } },
        ConnectivityInfo: { PublicAccess: { Type: 'DISABLED' } },
      }),
    });
  });

  test('accepts only TLS clients authenticated with IAM', () => {
    cluster.hasResourceProperties('AWS::MSK::Cluster', {
      ClientAuthentication: {
        Sasl: { Iam: { Enabled: true }, Scram: { Enabled: false } },
        Tls: { Enabled: false },
        Unauthenticated: { Enabled: false },
      },
      EncryptionInfo: { EncryptionInTransit: { ClientBroker: 'TLS', InCluster: true } },
    });
  });

  test('encrypts at rest with the AWS managed key', () => {
    const [resource] = Object.values(cluster.findResources('AWS::MSK::Cluster'));
    // MSK always encrypts at rest; leaving EncryptionAtRest out selects the AWS managed key.
    expect(resource.Properties.EncryptionInfo.EncryptionAtRest).toBeUndefined();
  });

  test('sends broker logs to a CloudWatch log group with retention', () => {
    const groups = cluster.findResources('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 7 } });
    const [logGroupId] = Object.keys(groups);
    expect(logGroupId).toBeDefined();
    cluster.hasResourceProperties('AWS::MSK::Cluster', {
      LoggingInfo: { BrokerLogs: { CloudWatchLogs: { Enabled: true, LogGroup: { Ref: logGroupId } } } },
    });
  });

  test('uses the free DEFAULT monitoring level in dev and PER_BROKER in prod', () => {
    cluster.hasResourceProperties('AWS::MSK::Cluster', { EnhancedMonitoring: 'DEFAULT' });
    synthTemplates({ profile: 'prod' }).cluster.hasResourceProperties('AWS::MSK::Cluster', {
      EnhancedMonitoring: 'PER_BROKER',
    });
  });

  test('applies a broker configuration with durable topic defaults for two AZs', () => {
    cluster.hasResourceProperties('AWS::MSK::Cluster', {
      ConfigurationInfo: {
        Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('Configuration'), 'Arn'] },
        Revision: { 'Fn::GetAtt': [Match.stringLikeRegexp('Configuration'), 'LatestRevision.Revision'] },
      },
    });
    cluster.hasResourceProperties('AWS::MSK::Configuration', { KafkaVersionsList: ['3.9.x.kraft'] });
    expect(serverProperties(cluster)).toMatchObject({
      'auto.create.topics.enable': 'false',
      'unclean.leader.election.enable': 'false',
      'default.replication.factor': '2',
      'min.insync.replicas': '1',
    });
  });

  test('uses replication factor 3 and min.insync.replicas 2 on three AZs', () => {
    const t = synthTemplates({ azCount: 3 }).cluster;
    expect(serverProperties(t)).toMatchObject({ 'default.replication.factor': '3', 'min.insync.replicas': '2' });
    t.hasResourceProperties('AWS::MSK::Cluster', { NumberOfBrokerNodes: 3 });
  });

  test('merges brokerConfig over the defaults', () => {
    const t = synthTemplates({ brokerConfig: '{"log.retention.hours": 24, "num.partitions": "6"}' }).cluster;
    expect(serverProperties(t)).toMatchObject({
      'log.retention.hours': '24',
      'num.partitions': '6',
      'auto.create.topics.enable': 'false',
    });
  });

  test('deletes the cluster, configuration and logs on cdk destroy in dev', () => {
    for (const type of ['AWS::MSK::Cluster', 'AWS::MSK::Configuration', 'AWS::Logs::LogGroup']) {
      cluster.hasResource(type, { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
    }
  });

  test('retains the cluster, configuration and logs in prod', () => {
    const t = synthTemplates({ profile: 'prod' }).cluster;
    for (const type of ['AWS::MSK::Cluster', 'AWS::MSK::Configuration', 'AWS::Logs::LogGroup']) {
      t.hasResource(type, { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    }
  });

  test('has no storage auto scaling when the ceiling equals the volume size', () => {
    cluster.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 0);
  });

  test('scales broker storage up to the ceiling, never down, when the ceiling is above the volume size', () => {
    const t = synthTemplates({ profile: 'prod' }).cluster;
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ServiceNamespace: 'kafka',
      ScalableDimension: 'kafka:broker-storage:VolumeSize',
      ResourceId: { 'Fn::GetAtt': [Match.stringLikeRegexp('Cluster'), 'Arn'] },
      MaxCapacity: 1000,
    });
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: {
        PredefinedMetricSpecification: { PredefinedMetricType: 'KafkaBrokerStorageUtilization' },
        TargetValue: 60,
        DisableScaleIn: true,
      },
    });
  });

  test('generates the cluster name instead of hard-coding it', () => {
    cluster.hasResourceProperties('AWS::MSK::Cluster', {
      ClusterName: Match.stringLikeRegexp('^HelloMskdevCluster-[0-9A-F]{8}$'),
    });
  });

  test('runs Express brokers without EBS settings or replication overrides', () => {
    const t = synthTemplates({ instanceType: 'express.m7g.large', kafkaVersion: '3.8.x', azCount: 3 }).cluster;
    const [resource] = Object.values(t.findResources('AWS::MSK::Cluster'));
    expect(resource.Properties.BrokerNodeGroupInfo.StorageInfo).toBeUndefined();
    expect(resource.Properties.StorageMode).toBeUndefined();
    expect(serverProperties(t)).toEqual({ 'auto.create.topics.enable': 'false', 'num.partitions': '3' });
  });
});
