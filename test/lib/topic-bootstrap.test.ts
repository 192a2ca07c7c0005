import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as msk from 'aws-cdk-lib/aws-msk';
import { MskCluster } from '../../lib/constructs/msk-cluster';
import { TopicBootstrap, TOPIC_RESOURCE_TYPE } from '../../lib/constructs/topic-bootstrap';
import { encodeTopicConfigs } from '../../lib/kafka-rules';
import { buildTestApp, synthTemplates } from './synth';

interface Resource {
  Type: string;
  Properties?: {
    Role?: { 'Fn::GetAtt': string[] };
    PolicyDocument?: { Statement: Statement[] };
    VpcConfig?: { SecurityGroupIds: unknown[]; SubnetIds: unknown[] };
    Environment?: { Variables: Record<string, unknown> };
    Timeout?: number;
  };
  DependsOn?: string[];
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}
type Resources = Record<string, Resource>;
interface Statement {
  Action: string | string[];
  Resource: unknown;
}

function resourcesOf(template: Template): Resources {
  return (template.toJSON() as { Resources: Resources }).Resources;
}

function onlyKey(record: Record<string, unknown>): string {
  const keys = Object.keys(record);
  expect(keys).toHaveLength(1);
  return keys[0];
}

/** Logical ids a value refers to with Ref or Fn::GetAtt. */
function referencedIds(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    value.forEach((v) => referencedIds(v, out));
  } else if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (typeof record.Ref === 'string' && !record.Ref.startsWith('AWS::')) out.add(record.Ref);
    const getAtt = record['Fn::GetAtt'];
    if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') out.add(getAtt[0]);
    Object.values(record).forEach((v) => referencedIds(v, out));
  }
  return out;
}

/** Everything CloudFormation must create before `id` (and so delete after it): refs, GetAtts, DependsOn. */
function dependencyClosure(resources: Resources, id: string): Set<string> {
  const seen = new Set<string>();
  const queue = [id];
  while (queue.length > 0) {
    const resource = resources[queue.pop() as string];
    const direct = referencedIds(resource?.Properties);
    for (const d of resource?.DependsOn ?? []) direct.add(d);
    for (const d of direct) {
      if (!seen.has(d) && resources[d]) {
        seen.add(d);
        queue.push(d);
      }
    }
  }
  return seen;
}

function statementsOf(template: Template, policyId: string): Statement[] {
  return resourcesOf(template)[policyId].Properties?.PolicyDocument?.Statement ?? [];
}

const actionsOf = (s: { Action: string | string[] }): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);

/** The handler functions of the topic custom resource, by exported handler name. */
function topicFunctions(template: Template): Record<'onEvent' | 'isComplete', string> {
  const functions = template.findResources('AWS::Lambda::Function', {
    Properties: { Handler: Match.stringLikeRegexp('^index\\.(onEvent|isComplete)$') },
  });
  const byHandler = {} as Record<'onEvent' | 'isComplete', string>;
  for (const [id, fn] of Object.entries(functions)) {
    if (JSON.stringify(fn.Properties.Environment).includes('KAFKA_BROKERS')) {
      byHandler[(fn.Properties.Handler as string).replace('index.', '') as 'onEvent' | 'isComplete'] = id;
    }
  }
  expect(Object.keys(byHandler).sort()).toEqual(['isComplete', 'onEvent']);
  return byHandler;
}

function rolePolicyOf(template: Template, functionId: string): string {
  const role = resourcesOf(template)[functionId].Properties?.Role?.['Fn::GetAtt'][0];
  return onlyKey(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: role }] } }));
}

/** The ARN MskCluster.topicArn renders: arn:PARTITION:kafka:REGION:ACCOUNT:topic/NAME/UUID/TOPIC. */
function topicArn(clusterId: string, topic: string): unknown {
  return {
    'Fn::Join': [
      '',
      [
        'arn:',
        { Ref: 'AWS::Partition' },
        ':kafka:',
        { Ref: 'AWS::Region' },
        ':',
        { Ref: 'AWS::AccountId' },
        expect.stringMatching(/^:topic\/HelloMsk[a-z]+Cluster-[A-F0-9]+\/$/),
        { 'Fn::Select': [2, { 'Fn::Split': ['/', { 'Fn::GetAtt': [clusterId, 'Arn'] }] }] },
        `/${topic}`,
      ],
    ],
  };
}

describe('TopicBootstrap (dev profile)', () => {
  const { cluster, network } = synthTemplates();
  const resources = resourcesOf(cluster);
  const customResourceId = onlyKey(cluster.findResources(TOPIC_RESOURCE_TYPE));
  const customResource = resources[customResourceId];
  const functions = topicFunctions(cluster);

  test('declares each topic as a resource with the properties of AWS::MSK::Topic, retained under retain', () => {
    expect(customResource.Properties).toEqual({
      ServiceToken: { 'Fn::GetAtt': [expect.stringMatching(/^TopicsProviderframeworkonEvent/), 'Arn'] },
      ServiceTimeout: '900',
      ClusterArn: { 'Fn::GetAtt': [expect.stringMatching(/^Cluster[A-F0-9]+$/), 'Arn'] },
      TopicName: 'test-topic',
      PartitionCount: 3,
      ReplicationFactor: 2,
    });
    expect(customResource.DeletionPolicy).toBe('Retain');
    expect(customResource.UpdateReplacePolicy).toBe('Retain');
    // Moving to the native resource is a change of type: every property is one CfnTopic takes.
    const stack = new Stack();
    new msk.CfnTopic(stack, 'T', {
      clusterArn: 'a',
      topicName: 't',
      partitionCount: 1,
      replicationFactor: 1,
      configs: 'e30=',
    });
    const native = new Set(Object.keys(Template.fromStack(stack).toJSON().Resources.T.Properties as object));
    for (const key of Object.keys(customResource.Properties ?? {})) {
      if (!['ServiceToken', 'ServiceTimeout'].includes(key)) expect(native).toContain(key);
    }
    expect(cluster.findResources('Custom::KafkaTopics')).toEqual({});
  });

  test('runs both handlers in the VPC private subnets with the topic-admin security group only', () => {
    for (const id of Object.values(functions)) {
      const vpcConfig = resources[id].Properties?.VpcConfig;
      expect(vpcConfig?.SecurityGroupIds).toEqual([
        { 'Fn::ImportValue': expect.stringMatching(/TopicAdminSecurityGroup/) },
      ]);
      expect(vpcConfig?.SubnetIds).toEqual([
        { 'Fn::ImportValue': expect.stringMatching(/privateSubnet1/) },
        { 'Fn::ImportValue': expect.stringMatching(/privateSubnet2/) },
      ]);
    }
    // That group reaches the brokers' IAM port and nothing else.
    const [sgId] = Object.keys(
      network.findResources('AWS::EC2::SecurityGroup', {
        Properties: { GroupDescription: Match.stringLikeRegexp('^Topic-bootstrap') },
      }),
    );
    expect(network.toJSON().Resources[sgId].Properties.SecurityGroupEgress).toEqual([
      expect.objectContaining({ IpProtocol: 'tcp', FromPort: 9098, ToPort: 9098 }),
    ]);
  });

  test('connects to the bootstrap brokers from the cluster endpoint with IAM auth', () => {
    const endpointId = onlyKey(cluster.findResources('Custom::MskClusterEndpoint'));
    for (const id of Object.values(functions)) {
      expect(resources[id].Properties?.Environment?.Variables).toEqual({
        NODE_OPTIONS: '--enable-source-maps',
        KAFKA_BROKERS: { 'Fn::GetAtt': [endpointId, 'BootstrapBrokersSaslIam'] },
        KAFKA_AUTH: 'iam',
      });
    }
  });

  test('gives onEvent a longer timeout than one call needs and bounds the whole operation', () => {
    expect(resources[functions.onEvent].Properties?.Timeout).toBe(180);
    expect(resources[functions.isComplete].Properties?.Timeout).toBe(60);
    // The waiter polls every 10 s for 10 minutes; CloudFormation gives up 15 minutes after the request.
    const [waiter] = Object.values(cluster.findResources('AWS::StepFunctions::StateMachine')).filter((sm) =>
      JSON.stringify(sm.Properties.DefinitionString).includes('TopicsProviderframeworkisComplete'),
    );
    const definition = JSON.stringify(waiter.Properties.DefinitionString);
    expect(definition).toContain('\\"IntervalSeconds\\":10,\\"MaxAttempts\\":60');
  });

  test('grants onEvent topic administration of the declared topics only, without DeleteTopic under retain', () => {
    const clusterId = onlyKey(cluster.findResources('AWS::MSK::Cluster'));
    expect(statementsOf(cluster, rolePolicyOf(cluster, functions.onEvent))).toEqual([
      { Effect: 'Allow', Action: 'kafka-cluster:Connect', Resource: { 'Fn::GetAtt': [clusterId, 'Arn'] } },
      {
        Effect: 'Allow',
        Action: [
          'kafka-cluster:AlterTopic',
          'kafka-cluster:AlterTopicDynamicConfiguration',
          'kafka-cluster:CreateTopic',
          'kafka-cluster:DescribeTopic',
          'kafka-cluster:DescribeTopicDynamicConfiguration',
        ],
        Resource: topicArn(clusterId, 'test-topic'),
      },
    ]);
  });

  test('grants isComplete only Connect and DescribeTopic on the declared topics', () => {
    const clusterId = onlyKey(cluster.findResources('AWS::MSK::Cluster'));
    expect(statementsOf(cluster, rolePolicyOf(cluster, functions.isComplete))).toEqual([
      { Effect: 'Allow', Action: 'kafka-cluster:Connect', Resource: { 'Fn::GetAtt': [clusterId, 'Arn'] } },
      { Effect: 'Allow', Action: 'kafka-cluster:DescribeTopic', Resource: topicArn(clusterId, 'test-topic') },
    ]);
  });

  test('runs after the cluster, its configuration and the endpoint, and is deleted before them and its functions', () => {
    const clusterId = onlyKey(cluster.findResources('AWS::MSK::Cluster'));
    const configurationId = onlyKey(cluster.findResources('AWS::MSK::Configuration'));
    const endpointId = onlyKey(cluster.findResources('Custom::MskClusterEndpoint'));
    const before = dependencyClosure(resources, customResourceId);
    for (const id of [clusterId, configurationId, endpointId, functions.onEvent, functions.isComplete]) {
      expect(before).toContain(id);
    }
    expect(before).toContain(rolePolicyOf(cluster, functions.onEvent));
    // Nothing in the stack waits for the topics, so nothing runs after a change that a rollback cannot undo.
    const dependents = Object.keys(resources).filter((id) => dependencyClosure(resources, id).has(customResourceId));
    expect(dependents).toEqual([]);
    // The security group and subnets of the functions live in the network stack, deleted after this one.
    const { app, cluster: clusterStack, network: networkStack } = buildTestApp();
    const artifact = app.synth().getStackArtifact(clusterStack.artifactId);
    expect(artifact.dependencies.map((d) => d.id)).toContain(networkStack.artifactId);
  });

  test('keeps its logs for the configured retention, the provider framework included', () => {
    const logGroups = Object.entries(cluster.findResources('AWS::Logs::LogGroup')).filter(([id]) =>
      id.startsWith('Topics'),
    );
    expect(logGroups.map(([id]) => id.replace(/[A-F0-9]{8}$/, '')).sort()).toEqual([
      'TopicsIsCompleteLogs',
      'TopicsOnEventLogs',
      'TopicsProviderFrameworkLogs',
      'TopicsProviderWaiterLogs',
    ]);
    for (const [, group] of logGroups) expect(group.Properties.RetentionInDays).toBe(7);
  });
});

describe('TopicBootstrap options', () => {
  test('with the destroy removal policy, each topic resource is deleted with the stack, and onEvent may delete topics that left the template', () => {
    const { cluster } = synthTemplates({ topicRemovalPolicy: 'destroy' });
    const [resource] = Object.values(cluster.findResources(TOPIC_RESOURCE_TYPE));
    expect(resource.DeletionPolicy).toBe('Delete');
    expect(resource.UpdateReplacePolicy).toBe('Delete');
    const clusterId = onlyKey(cluster.findResources('AWS::MSK::Cluster'));
    const statements = statementsOf(cluster, rolePolicyOf(cluster, topicFunctions(cluster).onEvent));
    expect(statements).toHaveLength(3);
    expect(statements[1].Resource).toEqual(topicArn(clusterId, 'test-topic'));
    expect(statements[2]).toEqual({
      Effect: 'Allow',
      Action: ['kafka-cluster:DeleteTopic', 'kafka-cluster:DescribeTopic'],
      Resource: topicArn(clusterId, '*'),
    });
    expect(statements.flatMap(actionsOf).filter((a) => a.includes('*'))).toEqual([]);
  });

  test('with retain, no statement reaches beyond the declared topics', () => {
    const { cluster } = synthTemplates();
    const onEvent = topicFunctions(cluster).onEvent;
    const text = JSON.stringify(statementsOf(cluster, rolePolicyOf(cluster, onEvent)));
    expect(text).not.toContain('/*');
  });

  test('declares one resource per topic, Configs as base64 of the JSON overrides, in prod waiting for storage scaling too', () => {
    const topics = [
      {
        name: 'test-topic',
        partitions: 6,
        replicationFactor: 3,
        config: { 'retention.ms': '604800000', 'min.insync.replicas': '2' },
      },
      { name: 'orders.v1', partitions: 3 },
    ];
    const { cluster } = synthTemplates({ stage: 'prod', topics: JSON.stringify(topics) });
    const declared = Object.entries(cluster.findResources(TOPIC_RESOURCE_TYPE));
    expect(declared.map(([, r]) => r.Properties.TopicName as string)).toEqual(['test-topic', 'orders.v1']);
    expect(declared[0][1].Properties).toMatchObject({
      PartitionCount: 6,
      ReplicationFactor: 3,
      Configs: encodeTopicConfigs({ 'min.insync.replicas': '2', 'retention.ms': '604800000' }),
    });
    expect(JSON.parse(Buffer.from(declared[0][1].Properties.Configs as string, 'base64').toString())).toEqual({
      'min.insync.replicas': '2',
      'retention.ms': '604800000',
    });
    expect(declared[1][1].Properties.Configs).toBeUndefined();
    const resources = resourcesOf(cluster);
    const scaling = [
      ...Object.keys(cluster.findResources('AWS::ApplicationAutoScaling::ScalableTarget')),
      ...Object.keys(cluster.findResources('AWS::ApplicationAutoScaling::ScalingPolicy')),
    ];
    expect(scaling).toHaveLength(2);
    for (const [id] of declared) for (const s of scaling) expect(dependencyClosure(resources, id)).toContain(s);
  });

  test('topicResource native: AWS::MSK::Topic with the same properties, and no topic functions', () => {
    const custom = synthTemplates().cluster;
    const { cluster } = synthTemplates({ topicResource: 'native' });
    const [native] = Object.values(cluster.findResources('AWS::MSK::Topic'));
    const [ours] = Object.values(custom.findResources(TOPIC_RESOURCE_TYPE));
    const {
      ServiceToken: _token,
      ServiceTimeout: _timeout,
      ...properties
    } = ours.Properties as Record<string, unknown>;
    expect(native.Properties).toEqual(properties);
    expect(native.DeletionPolicy).toBe('Retain');
    expect(cluster.findResources(TOPIC_RESOURCE_TYPE)).toEqual({});
    expect(
      Object.values(cluster.findResources('AWS::Lambda::Function')).filter((fn) =>
        /topic custom resource|partition of a declared topic/.test(String(fn.Properties.Description)),
      ),
    ).toEqual([]);
  });

  test('rejects a removal policy other than destroy or retain', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Stack');
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
    const securityGroup = new ec2.SecurityGroup(stack, 'Sg', { vpc });
    const cluster = new MskCluster(stack, 'Cluster', {
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      azCount: 2,
      securityGroup,
      kafkaVersion: '3.9.x.kraft',
      instanceType: 'kafka.t3.small',
      brokersPerAz: 1,
      ebsVolumeGiB: 10,
      ebsMaxVolumeGiB: 10,
      logRetentionDays: 7,
    });
    expect(
      () =>
        new TopicBootstrap(stack, 'Topics', {
          cluster,
          bootstrapBrokers: 'b-1:9098',
          topics: [{ name: 't', partitions: 1 }],
          vpc,
          vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
          securityGroup,
          topicRemovalPolicy: RemovalPolicy.SNAPSHOT,
          logRetentionDays: 7,
          logRemovalPolicy: RemovalPolicy.DESTROY,
        }),
    ).toThrow('Stack/Topics: topicRemovalPolicy "snapshot" is not valid; allowed: destroy or retain');
  });
});
