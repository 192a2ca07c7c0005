import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lambdaInvokeCommand } from '../../lib/cli-commands';
import { normalise, synthTemplates } from './synth';

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

function functionsByHandler(t: ReturnType<typeof synthTemplates>['clients']) {
  const fns = t.findResources('AWS::Lambda::Function');
  const find = (topicDescription: RegExp) => {
    const entry = Object.entries(fns).find(([, f]) => topicDescription.test(f.Properties.Description as string));
    if (!entry) throw new Error(`no function matches ${topicDescription}`);
    return { id: entry[0], fn: entry[1] };
  };
  return { producer: find(/sends "Hello MSK"/), consumer: find(/logs what is new/), admin: find(/read-only view/) };
}

function statementsOf(t: ReturnType<typeof synthTemplates>['clients'], functionId: string): Statement[] {
  const fn = t.findResources('AWS::Lambda::Function')[functionId];
  const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const policies = Object.values(t.findResources('AWS::IAM::Policy')).filter((p) =>
    (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId),
  );
  return policies.flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

describe('ClientsStack', () => {
  const { clients } = synthTemplates();
  const { producer, consumer, admin } = functionsByHandler(clients);
  /** The one SSM-typed template parameter: the bootstrap brokers the cluster stack writes. */
  const brokersParameterId = (): string => {
    const parameters = clients.toJSON().Parameters as Record<string, { Type: string }>;
    const ids = Object.keys(parameters).filter((id) => parameters[id].Type === 'AWS::SSM::Parameter::Value<String>');
    expect(ids).toHaveLength(1);
    return ids[0];
  };

  test('matches the snapshot', () => {
    expect(normalise(clients)).toMatchSnapshot();
  });

  test('runs every function on the newest Node.js runtime, arm64, with source maps', () => {
    for (const { fn } of [producer, consumer, admin]) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Environment: { Variables: expect.objectContaining({ NODE_OPTIONS: '--enable-source-maps' }) },
        LoggingConfig: expect.objectContaining({ LogFormat: 'JSON' }),
      });
    }
  });

  test('puts both functions in the VPC private subnets with their own security groups', () => {
    const ownGroup = (description: string) => {
      const groups = clients.findResources('AWS::EC2::SecurityGroup', {
        Properties: { GroupDescription: description },
      });
      expect(Object.keys(groups)).toHaveLength(1);
      return { 'Fn::GetAtt': [Object.keys(groups)[0], 'GroupId'] };
    };
    expect(producer.fn.Properties.VpcConfig).toEqual({
      SubnetIds: [
        { 'Fn::ImportValue': expect.stringMatching(/privateSubnet1/) },
        { 'Fn::ImportValue': expect.stringMatching(/privateSubnet2/) },
      ],
      SecurityGroupIds: [ownGroup('Producer function: to the brokers IAM port only')],
    });
    expect(consumer.fn.Properties.VpcConfig.SecurityGroupIds).toEqual([
      ownGroup('Consumer function: to the brokers IAM port only'),
    ]);
    expect(admin.fn.Properties.VpcConfig.SecurityGroupIds).toEqual([
      { 'Fn::ImportValue': expect.stringMatching(/KafkaAdminSecurityGroup/) },
    ]);
    expect(admin.fn.Properties.VpcConfig.SubnetIds).toEqual(producer.fn.Properties.VpcConfig.SubnetIds);
  });

  test("opens the brokers' IAM port to each function's group, which reaches nothing else, in rules of this stack", () => {
    const brokers = { 'Fn::ImportValue': expect.stringMatching(/BrokerSecurityGroup/) };
    const groups = clients.findResources('AWS::EC2::SecurityGroup');
    expect(Object.keys(groups)).toHaveLength(2);
    const ingress = Object.values(clients.findResources('AWS::EC2::SecurityGroupIngress'));
    expect(ingress).toHaveLength(2);
    for (const [id, group] of Object.entries(groups)) {
      // Inline, so that EC2 drops its default allow-all egress (a separate egress resource would not).
      expect(group.Properties.SecurityGroupEgress).toEqual([
        {
          IpProtocol: 'tcp',
          FromPort: 9098,
          ToPort: 9098,
          DestinationSecurityGroupId: brokers,
          Description: expect.stringMatching(/^(producer|consumer) to MSK brokers \(IAM\)$/),
        },
      ]);
      expect(ingress).toContainEqual(
        expect.objectContaining({
          Properties: expect.objectContaining({
            GroupId: brokers,
            SourceSecurityGroupId: { 'Fn::GetAtt': [id, 'GroupId'] },
            IpProtocol: 'tcp',
            FromPort: 9098,
            ToPort: 9098,
          }),
        }),
      );
    }
    clients.resourceCountIs('AWS::EC2::SecurityGroupEgress', 0);
  });

  test('gives the functions the IAM bootstrap brokers, IAM auth, the topic and the group', () => {
    const brokers = { Ref: brokersParameterId() };
    expect(producer.fn.Properties.Environment.Variables).toMatchObject({
      KAFKA_BROKERS: brokers,
      KAFKA_AUTH: 'iam',
      TOPIC: 'test-topic',
      MAX_MESSAGE_BYTES: '1048588',
    });
    expect(consumer.fn.Properties.Environment.Variables).toMatchObject({
      KAFKA_BROKERS: brokers,
      KAFKA_AUTH: 'iam',
      TOPIC: 'test-topic',
      GROUP_ID: 'hello-msk-consumer',
      CONSUMER_SESSION_TIMEOUT_MS: '45000',
    });
  });

  test('grants the producer exactly Connect and WriteDataIdempotently on the cluster, DescribeTopic and WriteData on its topic', () => {
    const statements = statementsOf(clients, producer.id);
    const kafka = statements.filter((s) => JSON.stringify(s.Action).includes('kafka-cluster:'));
    expect(kafka.map((s) => s.Action)).toEqual([
      ['kafka-cluster:Connect', 'kafka-cluster:WriteDataIdempotently'],
      ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'],
    ]);
    expect(kafka[0].Resource).toEqual({ 'Fn::ImportValue': expect.stringMatching(/ClusterEB0386A7Arn/) });
    expect(JSON.stringify(kafka[1].Resource)).toMatch(/:topic\/HelloMskdevCluster-[0-9A-F]{8}\/.*\/test-topic"/);
  });

  test('grants the consumer Connect, DescribeTopic and ReadData on its topic, DescribeGroup and AlterGroup on its group', () => {
    const statements = statementsOf(clients, consumer.id).filter((s) =>
      JSON.stringify(s.Action).includes('kafka-cluster:'),
    );
    expect(statements.map((s) => s.Action)).toEqual([
      'kafka-cluster:Connect',
      ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'],
      ['kafka-cluster:AlterGroup', 'kafka-cluster:DescribeGroup'],
    ]);
    expect(JSON.stringify(statements[1].Resource)).toMatch(/:topic\/HelloMskdevCluster-[0-9A-F]{8}\/.*\/test-topic"/);
    expect(JSON.stringify(statements[2].Resource)).toMatch(
      /:group\/HelloMskdevCluster-[0-9A-F]{8}\/.*\/hello-msk-consumer"/,
    );
  });

  test('gives the kafka-admin function the IAM bootstrap brokers and IAM auth, and no topic of its own', () => {
    expect(admin.fn.Properties.Environment.Variables).toEqual({
      NODE_OPTIONS: '--enable-source-maps',
      // The same SSM-backed template parameter as the producer and consumer, resolved on every deploy.
      KAFKA_BROKERS: { Ref: brokersParameterId() },
      KAFKA_AUTH: 'iam',
    });
  });

  test('grants the kafka-admin function only describe actions: the cluster, the declared topics and the consumer group', () => {
    const statements = statementsOf(clients, admin.id).filter((s) =>
      JSON.stringify(s.Action).includes('kafka-cluster:'),
    );
    expect(statements.map((s) => s.Action)).toEqual([
      ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster'],
      ['kafka-cluster:DescribeTopic', 'kafka-cluster:DescribeTopicDynamicConfiguration'],
      'kafka-cluster:DescribeGroup',
    ]);
    expect(statements[0].Resource).toEqual({ 'Fn::ImportValue': expect.stringMatching(/ClusterEB0386A7Arn/) });
    expect(JSON.stringify(statements[1].Resource)).toMatch(/:topic\/HelloMskdevCluster-[0-9A-F]{8}\/.*\/test-topic"/);
    expect(JSON.stringify(statements[2].Resource)).toMatch(
      /:group\/HelloMskdevCluster-[0-9A-F]{8}\/.*\/hello-msk-consumer"/,
    );
  });

  test('lets the kafka-admin function describe every declared topic, one exact ARN each', () => {
    const t = synthTemplates({
      topics: '[{"name":"test-topic","partitions":3},{"name":"orders","partitions":12}]',
    }).clients;
    const fn = functionsByHandler(t).admin;
    const topicGrant = statementsOf(t, fn.id).find((s) => JSON.stringify(s.Action).includes('DescribeTopic'));
    const resources = ([] as unknown[]).concat(topicGrant?.Resource).map((r) => JSON.stringify(r));
    expect(resources.map((r) => /\/([a-z-]+)"\]\]\}$/.exec(r)?.[1]).sort()).toEqual(['orders', 'test-topic']);
  });

  test('has no wildcard actions and no wildcard Kafka resources in any policy of the stack', () => {
    for (const policy of Object.values(clients.findResources('AWS::IAM::Policy'))) {
      for (const s of policy.Properties.PolicyDocument.Statement as Statement[]) {
        for (const action of ([] as string[]).concat(s.Action)) expect(action).not.toContain('*');
        if (JSON.stringify(s.Action).includes('kafka-cluster:'))
          expect(JSON.stringify(s.Resource)).not.toMatch(/\/\*"|"\*"/);
      }
    }
  });

  test('keeps function logs for the configured retention and deletes them with the stack in dev', () => {
    clients.resourcePropertiesCountIs('AWS::Logs::LogGroup', { RetentionInDays: 7 }, 3);
    clients.allResources('AWS::Logs::LogGroup', { DeletionPolicy: 'Delete' });
    for (const { fn } of [producer, consumer, admin]) {
      expect(fn.Properties.LoggingConfig.LogGroup).toEqual({ Ref: expect.stringMatching(/Logs/) });
    }
  });

  test('runs the consumer every 15 minutes, each run listening for its whole period, with no reserved concurrency', () => {
    clients.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(15 minutes)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [consumer.id, 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 0 },
          Input: '{"listen":true}',
        }),
      ],
    });
    expect(consumer.fn.Properties.Timeout).toBe(900);
    // Reserving any concurrency fails on new accounts whose quota is 10 or 50 (Lambda keeps 100 unreserved).
    expect(consumer.fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
    expect(producer.fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
  });

  test('reserves the consumer’s concurrency only when consumerConcurrency asks for it', () => {
    const t = synthTemplates({ consumerConcurrency: 1 }).clients;
    expect(functionsByHandler(t).consumer.fn.Properties.ReservedConcurrentExecutions).toBe(1);
  });

  test('has no schedule when consumerSchedule is off, and a reading consumer of one minute', () => {
    const t = synthTemplates({ consumerSchedule: 'off' }).clients;
    t.resourceCountIs('AWS::Events::Rule', 0);
    const { fn } = functionsByHandler(t).consumer;
    expect(fn.Properties.Timeout).toBe(60);
  });

  test('a schedule longer than Lambda’s 15-minute timeout runs reading consumers, not listening ones', () => {
    const t = synthTemplates({ consumerSchedule: 'rate(1 hour)' }).clients;
    const { fn, id } = functionsByHandler(t).consumer;
    expect(fn.Properties.Timeout).toBe(60);
    t.hasResourceProperties('AWS::Events::Rule', {
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [id, 'Arn'] }, Input: Match.absent() })],
    });
  });

  test('never retries a failed asynchronous consumer run, and drops an event older than one schedule period', () => {
    const eventConfig = (t: typeof clients, functionId: string): Record<string, unknown> | undefined =>
      (
        Object.values(t.findResources('AWS::Lambda::EventInvokeConfig')).find(
          (c) => JSON.stringify(c.Properties.FunctionName) === JSON.stringify({ Ref: functionId }),
        ) as { Properties: Record<string, unknown> } | undefined
      )?.Properties;
    expect(eventConfig(clients, consumer.id)).toEqual({
      FunctionName: { Ref: consumer.id },
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 900,
    });
    const hourly = synthTemplates({ consumerSchedule: 'rate(2 hours)' }).clients;
    expect(eventConfig(hourly, functionsByHandler(hourly).consumer.id)).toMatchObject({
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 7200,
    });
    // Invoked asynchronously, a producer retry would send the whole batch again.
    expect(eventConfig(clients, producer.id)).toMatchObject({ MaximumRetryAttempts: 0 });
  });

  test('reads the bootstrap brokers at deploy time from the cluster stack’s SSM parameter, never from an export', () => {
    // An imported export would make CloudFormation refuse any cluster stack update that changes the brokers.
    expect(JSON.stringify(clients.toJSON())).not.toMatch(/"Fn::ImportValue":"[^"]*(Endpoint|BootstrapBrokers)/);
    const parameters = clients.toJSON().Parameters as Record<string, { Type: string; Default: string }>;
    expect(parameters[brokersParameterId()]).toEqual({
      Type: 'AWS::SSM::Parameter::Value<String>',
      Default: '/HelloMsk-dev-Cluster/bootstrap-brokers-sasl-iam',
    });
    // A logical id CDK derives from the parameter name, not a fixed one of ours.
    expect(brokersParameterId()).toMatch(/^SsmParameterValueHelloMskdevClusterbootstrapbrokerssasliam/);
    const { cluster } = synthTemplates();
    cluster.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/HelloMsk-dev-Cluster/bootstrap-brokers-sasl-iam',
      Type: 'String',
      Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Endpoint'), 'BootstrapBrokersSaslIam'] },
    });
    // Nothing the cluster stack exports comes from the endpoint resource, so no import can pin its value.
    const exported = Object.values(
      (cluster.toJSON().Outputs ?? {}) as Record<string, { Value: unknown; Export?: unknown }>,
    )
      .filter((o) => o.Export)
      .map((o) => JSON.stringify(o.Value));
    expect(exported.length).toBeGreaterThan(0);
    for (const value of exported) expect(value).not.toMatch(/Endpoint|BootstrapBrokers/);
  });

  test('outputs the function names, the demo topic and group, and the exact invoke and log-tail commands', () => {
    const outputs = clients.toJSON().Outputs as Record<string, { Value: unknown }>;
    // Each command as the CLI user sees it, with the function or log group name in place of its reference.
    const rendered = (name: string, ref: string, placeholder: string) =>
      (outputs[name].Value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1]
        .map((part) => (JSON.stringify(part) === JSON.stringify({ Ref: ref }) ? placeholder : part))
        .join('');
    const logGroupId = Object.keys(clients.findResources('AWS::Logs::LogGroup')).find((id) =>
      id.startsWith('ConsumerLogs'),
    ) as string;
    expect(rendered('InvokeProducerCommand', producer.id, '<ProducerFunctionName>')).toBe(
      `AWS_MAX_ATTEMPTS=1 aws lambda invoke --function-name <ProducerFunctionName> --cli-binary-format raw-in-base64-out --cli-read-timeout 90 --cli-connect-timeout 10 --payload '{"message":"Hello MSK"}' /dev/stdout`,
    );
    expect(rendered('InvokeConsumerCommand', consumer.id, '<ConsumerFunctionName>')).toBe(
      `AWS_MAX_ATTEMPTS=1 aws lambda invoke --function-name <ConsumerFunctionName> --cli-binary-format raw-in-base64-out --cli-read-timeout 90 --cli-connect-timeout 10 --payload '{}' /dev/stdout`,
    );
    expect(rendered('TailConsumerLogsCommand', logGroupId, '<ConsumerLogGroup>')).toBe(
      'aws logs tail <ConsumerLogGroup> --follow --format short',
    );
    expect(outputs.ProducerFunctionName.Value).toEqual({ Ref: producer.id });
    expect(outputs.ConsumerFunctionName.Value).toEqual({ Ref: consumer.id });
    expect(outputs.AdminFunctionName.Value).toEqual({ Ref: admin.id });
    expect(outputs.DemoTopic.Value).toBe('test-topic');
    expect(outputs.ConsumerGroup.Value).toBe('hello-msk-consumer');
  });

  test('reads outlast each function’s timeout and the CLI does not retry an invocation (a duplicate send)', () => {
    for (const { fn } of [producer, consumer]) {
      const command = lambdaInvokeCommand('f', '{}', Duration.seconds(fn.Properties.Timeout as number));
      expect(Number(/--cli-read-timeout (\d+)/.exec(command)?.[1])).toBeGreaterThan(fn.Properties.Timeout as number);
    }
    expect(lambdaInvokeCommand('f', '{}', Duration.seconds(60))).toMatch(/^AWS_MAX_ATTEMPTS=1 aws lambda invoke /);
  });

  test('docs/deploy.md shows exactly the commands the stack prints', () => {
    const deployDoc = readFileSync(join(__dirname, '..', '..', 'docs', 'deploy.md'), 'utf8').replace(/ \\\n\s*/g, ' ');
    const outputs = clients.toJSON().Outputs as Record<string, { Value: unknown }>;
    const producerCommand = (outputs.InvokeProducerCommand.Value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1]
      .map((part) => (typeof part === 'string' ? part : '<ProducerFunctionName>'))
      .join('');
    expect(deployDoc).toContain(producerCommand);
    expect(deployDoc).toContain('aws logs tail <ConsumerLogGroup> --follow --format short');
    // What the CLI prints: the function's result, then the CLI's own JSON.
    expect(deployDoc).toContain(
      '{"topic":"test-topic","count":1,"messages":[{"partition":2,"offset":"0"}]}{\n    "StatusCode": 200,\n    "ExecutedVersion": "$LATEST"\n}',
    );
  });

  test('README shows the command the stack prints to follow the consumer log', () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    const outputs = clients.toJSON().Outputs as Record<string, { Value: unknown }>;
    const tailCommand = (outputs.TailConsumerLogsCommand.Value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1]
      .map((part) => (typeof part === 'string' ? part : '<ConsumerLogGroup>'))
      .join('');
    expect(tailCommand).toBe('aws logs tail <ConsumerLogGroup> --follow --format short');
    expect(readme).toContain(`\`${tailCommand}\``);
  });
});

describe('ClientsStack with consumer event-source-mapping', () => {
  const { clients, network } = synthTemplates({ consumer: 'event-source-mapping' });
  const functions = clients.findResources('AWS::Lambda::Function');
  const [consumerId, consumer] = Object.entries(functions).find(([, f]) =>
    /that Lambda reads/.test(f.Properties.Description as string),
  )!;

  test('matches the snapshot', () => {
    expect(normalise(clients)).toMatchSnapshot();
  });

  test('maps the cluster’s demo topic to the consumer as its group: from the latest offset, no batching window', () => {
    clients.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    clients.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: consumerId },
      EventSourceArn: { 'Fn::ImportValue': Match.stringLikeRegexp('Cluster') },
      Topics: ['test-topic'],
      AmazonManagedKafkaEventSourceConfig: { ConsumerGroupId: 'hello-msk-consumer' },
      StartingPosition: 'LATEST',
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 0,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ConsumerFailures'), 'Arn'] } },
      },
    });
  });

  test('runs a handler typed for MSK events outside the VPC, with no schedule and no manual invoke command', () => {
    expect(consumer.Properties.VpcConfig).toBeUndefined();
    expect(consumer.Properties.Environment.Variables).toEqual({
      NODE_OPTIONS: '--enable-source-maps',
      TOPIC: 'test-topic',
    });
    clients.resourceCountIs('AWS::Events::Rule', 0);
    expect(Object.keys(clients.toJSON().Outputs)).not.toContain('InvokeConsumerCommand');
  });

  test('grants the mapping exactly what the Lambda guide lists, Kafka actions on exact ARNs', () => {
    const statements = statementsOf(clients, consumerId);
    const actions = (s: Statement) => ([] as string[]).concat(s.Action).sort();
    expect(statements.map(actions)).toEqual([
      [
        'kafka-cluster:Connect',
        'kafka-cluster:DescribeClusterDynamicConfiguration',
        'kafka:DescribeClusterV2',
        'kafka:GetBootstrapBrokers',
      ],
      ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'],
      ['kafka-cluster:AlterGroup', 'kafka-cluster:DescribeGroup'],
      [
        'ec2:CreateNetworkInterface',
        'ec2:DeleteNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeSecurityGroups',
        'ec2:DescribeSubnets',
        'ec2:DescribeVpcs',
      ],
      ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
    ]);
    for (const s of statements.filter((x) => JSON.stringify(x.Action).includes('kafka'))) {
      expect(JSON.stringify(s.Resource)).not.toMatch(/"\*"|\/\*"/);
    }
  });

  test('keeps failed batches in an encrypted queue for 14 days', () => {
    clients.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: 'alias/aws/sqs',
      MessageRetentionPeriod: 1209600,
    });
  });

  test('the network lets the mapping reach the brokers and Lambda and STS endpoints, with no NAT gateway', () => {
    network.resourceCountIs('AWS::EC2::NatGateway', 0);
    const endpoints = Object.values(network.findResources('AWS::EC2::VPCEndpoint'));
    expect(endpoints.map((e) => JSON.stringify(e.Properties.ServiceName)).sort()).toEqual([
      expect.stringContaining('.lambda'),
      expect.stringContaining('.sts'),
    ]);
    for (const endpoint of endpoints) expect(endpoint.Properties.PrivateDnsEnabled).toBe(true);
    network.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp',
      FromPort: 9098,
      ToPort: 9098,
      Description: 'event source mapping pollers to brokers (IAM)',
    });
    network.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { IpProtocol: 'tcp', FromPort: 443, ToPort: 443 });
  });

  test('the default kafkajs consumer adds no endpoint and no mapping', () => {
    const dev = synthTemplates();
    dev.network.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    dev.clients.resourceCountIs('AWS::Lambda::EventSourceMapping', 0);
  });

  test('another consumer value fails at synth naming the key, the value and what is allowed', () => {
    expect(() => synthTemplates({ consumer: 'esm' })).toThrow(/consumer.*"esm".*kafkajs or event-source-mapping/);
  });
});
