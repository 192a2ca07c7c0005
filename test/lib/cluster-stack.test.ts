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
    synthTemplates({ stage: 'prod' }).cluster.hasResourceProperties('AWS::MSK::Cluster', {
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
    expect(serverProperties(cluster)).toMatchObject({
      'auto.create.topics.enable': 'false',
      'unclean.leader.election.enable': 'false',
      'default.replication.factor': '2',
      'min.insync.replicas': '1',
    });
  });

  test('keeps one broker configuration across Kafka version upgrades, so an upgrade replaces nothing', () => {
    const configurationOf = (t: typeof cluster) => {
      const entries = Object.entries(t.findResources('AWS::MSK::Configuration'));
      expect(entries).toHaveLength(1);
      return { id: entries[0][0], properties: entries[0][1].Properties as Record<string, unknown> };
    };
    const before = configurationOf(synthTemplates({ instanceType: 'kafka.m7g.large' }).cluster);
    const after = configurationOf(
      synthTemplates({ instanceType: 'kafka.m7g.large', kafkaVersion: '4.1.x.kraft' }).cluster,
    );
    // Bound to no Kafka version (KafkaVersionsList would force a replacement on every upgrade), and the same
    // name: CloudFormation updates it in place, and a changed server property becomes its next revision.
    expect(before.properties.KafkaVersionsList).toBeUndefined();
    expect(after.id).toBe(before.id);
    expect(after.properties).toEqual(before.properties);
    expect(before.properties.Name).toEqual({
      'Fn::Join': ['-', [expect.stringMatching(/^HelloMskdevCluster-[0-9A-F]{8}-config$/), expect.anything()]],
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
    const t = synthTemplates({ stage: 'prod' }).cluster;
    for (const type of ['AWS::MSK::Cluster', 'AWS::MSK::Configuration', 'AWS::Logs::LogGroup']) {
      t.hasResource(type, { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    }
  });

  test('has no storage auto scaling when the ceiling equals the volume size', () => {
    cluster.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 0);
  });

  test('scales broker storage up to the ceiling, never down, when the ceiling is above the volume size', () => {
    const t = synthTemplates({ stage: 'prod' }).cluster;
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

describe('ClusterEndpoint (the bootstrap brokers at deploy time)', () => {
  const { cluster } = synthTemplates();
  const json = cluster.toJSON() as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
  const endpointId = Object.keys(cluster.findResources('Custom::MskClusterEndpoint'))[0];
  const serviceToken = json.Resources[endpointId].Properties.ServiceToken as { 'Fn::GetAtt': [string, string] };
  const frameworkId = serviceToken['Fn::GetAtt'][0];

  test('answers from one onEvent call, with no waiter: the cluster is done before the resource starts', () => {
    const variables = (json.Resources[frameworkId].Properties.Environment as { Variables: Record<string, unknown> })
      .Variables;
    expect(Object.keys(variables)).toContain('USER_ON_EVENT_FUNCTION_ARN');
    expect(Object.keys(variables)).not.toContain('USER_IS_COMPLETE_FUNCTION_ARN');
    expect(Object.keys(variables)).not.toContain('WAITER_STATE_MACHINE_ARN');
    // The only waiter in the stack is the topic bootstrap's.
    const machines = Object.values(cluster.findResources('AWS::StepFunctions::StateMachine'));
    expect(machines).toHaveLength(1);
    expect(JSON.stringify(machines[0].Properties.DefinitionString)).toContain('TopicsProviderframeworkisComplete');
  });

  test('sets every time limit explicitly and within CloudFormation’s hour for a custom resource', () => {
    cluster.hasResourceProperties('Custom::MskClusterEndpoint', {
      ServiceTimeout: '300',
      ClusterArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Cluster'), 'Arn'] },
      ClusterVersion: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Cluster'), 'CurrentVersion'] },
    });
    const handlerArn = JSON.stringify(
      (json.Resources[frameworkId].Properties.Environment as { Variables: Record<string, unknown> }).Variables
        .USER_ON_EVENT_FUNCTION_ARN,
    );
    const handlerId = /"Fn::GetAtt":\["([^"]+)","Arn"\]/.exec(handlerArn)?.[1] as string;
    expect(json.Resources[handlerId].Properties.Timeout).toBe(120);
    expect(json.Resources[frameworkId].Properties.Timeout).toBeLessThanOrEqual(900);
  });

  test('may only describe the cluster, read its bootstrap brokers and list its nodes', () => {
    cluster.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: ['kafka:DescribeClusterV2', 'kafka:GetBootstrapBrokers', 'kafka:ListNodes'],
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Cluster'), 'Arn'] },
          },
        ],
      },
    });
  });
});
