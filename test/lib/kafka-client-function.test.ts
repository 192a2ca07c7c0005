import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { KafkaClientFunction, type KafkaClientFunctionProps } from '../../lib/constructs/kafka-client-function';
import type { ClientsStack } from '../../lib/clients-stack';
import { buildTestApp } from './synth';

type Statement = { Action: string | string[]; Resource: unknown };

/** Two topics, so that a second consumer can read the one the demo does not use. */
const TOPICS = {
  topics: [
    { name: 'test-topic', partitions: 3, config: {} },
    { name: 'audit', partitions: 1, config: {} },
  ],
};

/** The few lines a second consumer takes. */
function auditConsumer(clients: ClientsStack): KafkaClientFunction {
  return new KafkaClientFunction(clients, 'AuditConsumer', {
    ...clients.clientDefaults,
    handlerName: 'consumer',
    description: 'hello-msk: logs what is new in audit as group audit-readers',
    consume: { topic: 'audit', group: 'audit-readers' },
    timeout: Duration.seconds(60),
  });
}

function build(moreClients: (clients: ClientsStack) => void, context: Record<string, unknown> = TOPICS) {
  return buildTestApp(context, undefined, { moreClients });
}

function functionId(t: Template, description: RegExp): string {
  const [id] = Object.entries(t.findResources('AWS::Lambda::Function')).find(([, f]) =>
    description.test(f.Properties.Description as string),
  ) ?? [undefined];
  if (!id) throw new Error(`no function matches ${description}`);
  return id;
}

function statementsOf(t: Template, fnId: string): Statement[] {
  const fn = t.findResources('AWS::Lambda::Function')[fnId];
  const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  return Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

describe('KafkaClientFunction', () => {
  const stacks = build(auditConsumer);
  const clients = Template.fromStack(stacks.clients);
  const monitoring = Template.fromStack(stacks.monitoring);
  const audit = functionId(clients, /as group audit-readers/);

  test('a second consumer in a few lines runs in the VPC with a security group of its own that reaches only the brokers IAM port', () => {
    const groups = clients.findResources('AWS::EC2::SecurityGroup', {
      Properties: { GroupDescription: 'Audit consumer function: to the brokers IAM port only' },
    });
    const [groupId] = Object.keys(groups);
    expect(Object.keys(groups)).toHaveLength(1);
    const brokers = { 'Fn::ImportValue': Match.stringLikeRegexp('BrokerSecurityGroup') };
    expect(groups[groupId].Properties.SecurityGroupEgress).toEqual([
      {
        IpProtocol: 'tcp',
        FromPort: 9098,
        ToPort: 9098,
        DestinationSecurityGroupId: { 'Fn::ImportValue': expect.stringMatching(/BrokerSecurityGroup/) },
        Description: 'audit consumer to MSK brokers (IAM)',
      },
    ]);
    clients.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: brokers,
      SourceSecurityGroupId: { 'Fn::GetAtt': [groupId, 'GroupId'] },
      IpProtocol: 'tcp',
      FromPort: 9098,
      ToPort: 9098,
    });
    const fn = clients.findResources('AWS::Lambda::Function')[audit];
    expect(fn.Properties.VpcConfig.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [groupId, 'GroupId'] }]);
    expect(fn.Properties.Environment.Variables).toMatchObject({
      KAFKA_AUTH: 'iam',
      TOPIC: 'audit',
      GROUP_ID: 'audit-readers',
      NODE_OPTIONS: '--enable-source-maps',
      KAFKA_BROKERS: { Ref: expect.any(String) },
    });
    expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Timeout: 60 });
  });

  test('grants the consumer its topic and group on their exact ARNs, and nothing to write', () => {
    const statements = statementsOf(clients, audit);
    const actions = statements.flatMap((s) => ([] as string[]).concat(s.Action));
    expect(actions.sort()).toEqual([
      'kafka-cluster:AlterGroup',
      'kafka-cluster:Connect',
      'kafka-cluster:DescribeGroup',
      'kafka-cluster:DescribeTopic',
      'kafka-cluster:ReadData',
    ]);
    const resources = JSON.stringify(statements.map((s) => s.Resource));
    expect(resources).toContain('/audit"');
    expect(resources).toContain('/audit-readers"');
    expect(resources).not.toContain('*');
  });

  test('keeps its log group for the configured days, deleted with the stack', () => {
    const fn = clients.findResources('AWS::Lambda::Function')[audit];
    const logGroupId = (fn.Properties.LoggingConfig.LogGroup as { Ref: string }).Ref;
    expect(clients.findResources('AWS::Logs::LogGroup')[logGroupId]).toMatchObject({
      Properties: { RetentionInDays: 7 },
      DeletionPolicy: 'Delete',
    });
  });

  test('gets the errors alarm, beside the producer and consumer ones, and a line on the dashboard', () => {
    const alarms = monitoring.findResources('AWS::CloudWatch::Alarm', {
      Properties: { MetricName: 'Errors', Namespace: 'AWS/Lambda' },
    });
    expect(Object.keys(alarms).sort()).toEqual([
      expect.stringMatching(/^AuditConsumerErrors/),
      expect.stringMatching(/^ConsumerErrors/),
      expect.stringMatching(/^ProducerErrors/),
    ]);
    const auditAlarm = Object.entries(alarms).find(([id]) => id.startsWith('AuditConsumer'))?.[1];
    expect(auditAlarm?.Properties).toMatchObject({
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmDescription:
        'hello-msk dev: the audit consumer function failed at least once in 5 minutes; its log group has the error line.',
    });
    expect(JSON.stringify(monitoring.toJSON())).toContain('\\"label\\":\\"audit consumer\\"');
  });

  test('lets the read-only kafka-admin function describe the new group', () => {
    const admin = functionId(clients, /read-only view/);
    const describeGroup = statementsOf(clients, admin).find((s) => s.Action === 'kafka-cluster:DescribeGroup');
    const text = JSON.stringify(describeGroup?.Resource);
    expect(text).toContain('/hello-msk-consumer"');
    expect(text).toContain('/audit-readers"');
  });

  test('leaves the default app as it was without more clients', () => {
    const plain = Template.fromStack(buildTestApp(TOPICS).clients);
    const added = Object.keys(clients.toJSON().Resources).filter((id) => !(id in plain.toJSON().Resources));
    expect(added.every((id) => id.startsWith('AuditConsumer'))).toBe(true);
    expect(added.length).toBeGreaterThanOrEqual(5);
  });

  const base = (clients: ClientsStack): KafkaClientFunctionProps => ({
    ...clients.clientDefaults,
    handlerName: 'consumer',
    description: 'a client',
  });
  test.each<[string, (clients: ClientsStack) => KafkaClientFunctionProps, string]>([
    [
      'neither produce nor consume',
      (c) => base(c),
      'HelloMsk-dev-Clients/Extra: produce/consume {} is not valid; allowed: exactly one of produce: { topic } and consume: { topic, group }',
    ],
    [
      'both produce and consume',
      (c) => ({ ...base(c), produce: { topic: 'audit' }, consume: { topic: 'audit', group: 'g' } }),
      'HelloMsk-dev-Clients/Extra: produce/consume {"produce":{"topic":"audit"},"consume":{"topic":"audit","group":"g"}} is not valid; allowed: exactly one of produce: { topic } and consume: { topic, group }',
    ],
    [
      'a group with a colon',
      (c) => ({ ...base(c), consume: { topic: 'audit', group: 'a:b' } }),
      'HelloMsk-dev-Clients/Extra: consume.group "a:b" is not valid; allowed: letters, digits, . _ - (up to 249 characters)',
    ],
    [
      'a topic Kafka refuses',
      (c) => ({ ...base(c), produce: { topic: 'no spaces' } }),
      'HelloMsk-dev-Clients/Extra: produce.topic "no spaces" is not valid; allowed: letters, digits, . _ - (up to 249 characters)',
    ],
    [
      'brokers without the network',
      (c) => ({ ...base(c), network: undefined, produce: { topic: 'audit' } }),
      'HelloMsk-dev-Clients/Extra: bootstrapBrokers/network {"bootstrapBrokers":true,"network":false} is not valid; allowed: both (a function that connects runs in the brokers VPC) or neither (an event source mapping reads for it)',
    ],
    [
      'a topic the config does not declare',
      (c) => ({ ...base(c), consume: { topic: 'orders', group: 'g' } }),
      'HelloMsk-dev-Clients/Extra: topic "orders" is not valid; allowed: one of the declared topics (test-topic, audit)',
    ],
  ])('refuses %s in one line', (_, props, message) => {
    expect(() => build((c) => new KafkaClientFunction(c, 'Extra', props(c)))).toThrow(message);
  });
});
