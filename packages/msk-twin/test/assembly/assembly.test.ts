import {
  type CfnTemplate,
  type CloudAssemblyView,
  describeTwinApp,
  functionEnvironment,
  type MetadataEntry,
  TWIN_ACCOUNT,
  TWIN_CLUSTER_UUID,
  TWIN_REGION,
  TwinAssemblyError,
  twinClusterArn,
  twinPhysicalName,
  TwinResolver,
  twinRoleArn,
} from 'msk-twin';

const ENDPOINT = { bootstrapBrokers: '127.0.0.1:29098,127.0.0.1:29099' };

function assembly(
  stacks: Record<string, CfnTemplate>,
  metadata: Record<string, Record<string, MetadataEntry[]>> = {},
): CloudAssemblyView {
  return {
    dir: '(in memory)',
    stacks: Object.entries(stacks).map(([name, template]) => ({
      name,
      template,
      metadata: metadata[name] ?? {},
      fileAssets: {},
    })),
  };
}

/** A cluster stack and a clients stack wired the way CDK wires them: exports, an SSM parameter, a custom resource. */
const CLUSTER_STACK: CfnTemplate = {
  Parameters: {
    BrokersParam: { Type: 'AWS::SSM::Parameter::Value<String>', Default: '/hello-msk/brokers' },
    Plain: { Type: 'String', Default: 'plain-default' },
  },
  Conditions: {
    InTwinRegion: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'us-east-1'] },
    Never: { 'Fn::Not': [{ Condition: 'InTwinRegion' }] },
  },
  Mappings: { Sizes: { 'us-east-1': { memory: 512 } } },
  Resources: {
    Cluster: { Type: 'AWS::MSK::Cluster', Properties: { ClusterName: 'demo-cluster' } },
    Endpoint: { Type: 'Custom::MskClusterEndpoint', Properties: { ClusterArn: { 'Fn::GetAtt': ['Cluster', 'Arn'] } } },
    BrokersParameter: {
      Type: 'AWS::SSM::Parameter',
      Properties: {
        Name: '/hello-msk/brokers',
        Type: 'String',
        Value: { 'Fn::GetAtt': ['Endpoint', 'BootstrapBrokersSaslIam'] },
      },
    },
    Role: { Type: 'AWS::IAM::Role', Properties: {} },
    NamedRole: { Type: 'AWS::IAM::Role', Properties: { RoleName: 'named', Path: '/service/' } },
    Fn: { Type: 'AWS::Lambda::Function', Properties: { Handler: 'index.handler', Role: 'x' } },
    Logs: { Type: 'AWS::Logs::LogGroup', Properties: { LogGroupName: 'explicit-logs' } },
    Queue: { Type: 'AWS::SQS::Queue', Properties: {} },
    Ghost: { Type: 'AWS::SQS::Queue', Condition: 'Never', Properties: {} },
  },
  Outputs: {
    ClusterArnExport: {
      Value: { 'Fn::GetAtt': ['Cluster', 'Arn'] },
      Export: { Name: { 'Fn::Sub': '${AWS::StackName}:ClusterArn' } },
    },
  },
};

describe('TwinResolver', () => {
  const view = assembly({ S: CLUSTER_STACK, Other: { Resources: {} } });
  const resolver = new TwinResolver(view);
  const stack = view.stacks[0];
  const other = view.stacks[1];
  const resolve = (value: unknown, endpoint: typeof ENDPOINT | undefined) =>
    resolver.resolve(value, { stack, where: 'S/Fn Prop', endpoint });
  const clusterArn = twinClusterArn('demo-cluster');

  test.each<[string, unknown, unknown]>([
    [
      'pseudo parameters (a plain string is left as it is)',
      [{ Ref: 'AWS::Region' }, { Ref: 'AWS::AccountId' }, { Ref: 'AWS::Partition' }, '${AWS::Region}'],
      [TWIN_REGION, TWIN_ACCOUNT, 'aws', '${AWS::Region}'],
    ],
    ['the cluster ARN by GetAtt', { 'Fn::GetAtt': ['Cluster', 'Arn'] }, clusterArn],
    ['the cluster ARN by Ref', { Ref: 'Cluster' }, clusterArn],
    ['the cluster ARN by GetAtt string form', { 'Fn::GetAtt': 'Cluster.Arn' }, clusterArn],
    [
      'the cluster UUID the way CDK derives topic ARNs',
      { 'Fn::Select': [2, { 'Fn::Split': ['/', { 'Fn::GetAtt': ['Cluster', 'Arn'] }] }] },
      TWIN_CLUSTER_UUID,
    ],
    [
      'a topic ARN joined from parts',
      {
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':kafka:',
            { Ref: 'AWS::Region' },
            ':',
            { Ref: 'AWS::AccountId' },
            ':topic/demo-cluster/',
            { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'Cluster' }] }] },
            '/orders',
          ],
        ],
      },
      `arn:aws:kafka:${TWIN_REGION}:${TWIN_ACCOUNT}:topic/demo-cluster/${TWIN_CLUSTER_UUID}/orders`,
    ],
    ['a role without a name: stack and logical id', { Ref: 'Role' }, 'S-Role'],
    ['a role ARN', { 'Fn::GetAtt': ['Role', 'Arn'] }, twinRoleArn('S-Role')],
    ['a named role ARN with its path', { 'Fn::GetAtt': ['NamedRole', 'Arn'] }, twinRoleArn('named', '/service/')],
    [
      'Fn::Sub with pseudo parameters, a resource and an attribute',
      { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${Role} ${Cluster.Arn}' },
      `arn:aws:iam::${TWIN_ACCOUNT}:role/S-Role ${clusterArn}`,
    ],
    [
      'Fn::Sub with variables and an escaped ${!...}',
      { 'Fn::Sub': ['${Name}-${!Literal}', { Name: 'x' }] },
      'x-${Literal}',
    ],
    ['Fn::ImportValue through the exporting stack', { 'Fn::ImportValue': 'S:ClusterArn' }, clusterArn],
    [
      'the bootstrap brokers attribute of the endpoint resource',
      { 'Fn::GetAtt': ['Endpoint', 'BootstrapBrokersSaslIam'] },
      ENDPOINT.bootstrapBrokers,
    ],
    [
      'an SSM dynamic reference to a parameter of the app',
      '{{resolve:ssm:/hello-msk/brokers}}',
      ENDPOINT.bootstrapBrokers,
    ],
    [
      'an SSM dynamic reference with a version',
      'b={{resolve:ssm:/hello-msk/brokers:3}}',
      `b=${ENDPOINT.bootstrapBrokers}`,
    ],
    ['an SSM-typed template parameter', { Ref: 'BrokersParam' }, ENDPOINT.bootstrapBrokers],
    ['a plain parameter default', { Ref: 'Plain' }, 'plain-default'],
    ['Fn::If on a condition', { 'Fn::If': ['InTwinRegion', 'yes', 'no'] }, 'yes'],
    ['Fn::If on a negated condition', { 'Fn::If': ['Never', 'yes', 'no'] }, 'no'],
    ['Fn::FindInMap', { 'Fn::FindInMap': ['Sizes', { Ref: 'AWS::Region' }, 'memory'] }, 512],
    ['AWS::NoValue dropped from a list', ['a', { Ref: 'AWS::NoValue' }], ['a']],
    [
      'a function name and ARN',
      [{ Ref: 'Fn' }, { 'Fn::GetAtt': ['Fn', 'Arn'] }],
      ['S-Fn', `arn:aws:lambda:${TWIN_REGION}:${TWIN_ACCOUNT}:function:S-Fn`],
    ],
    ['a log group with its own name', { Ref: 'Logs' }, 'explicit-logs'],
  ])('resolves %s', (_name, value, expected) => {
    expect(resolve(value, ENDPOINT)).toEqual(expected);
  });

  test('resolves an import in the exporting stack, whatever stack the value sits in', () => {
    expect(resolver.resolve({ 'Fn::ImportValue': 'S:ClusterArn' }, { stack: other, where: 'Other/X Y' })).toBe(
      clusterArn,
    );
  });

  test.each<[string, unknown, typeof ENDPOINT | undefined, string]>([
    [
      'an intrinsic the twin does not evaluate',
      { 'Fn::GetAZs': '' },
      ENDPOINT,
      'S/Fn Prop: cannot resolve {"Fn::GetAZs":""} for the local twin (Fn::GetAZs is not supported by the twin)',
    ],
    [
      'an import nobody exports',
      { 'Fn::ImportValue': 'Nope' },
      ENDPOINT,
      'S/Fn Prop: cannot resolve {"Fn::ImportValue":"Nope"} for the local twin (no stack of this app exports Nope)',
    ],
    [
      'the bootstrap brokers without a twin address',
      { 'Fn::GetAtt': ['Endpoint', 'BootstrapBrokersSaslIam'] },
      undefined,
      `S/Fn Prop: cannot resolve {"Fn::GetAtt":["Endpoint","BootstrapBrokersSaslIam"]} for the local twin (it is the cluster's bootstrap brokers and no twin address was given)`,
    ],
    [
      'the SCRAM bootstrap brokers',
      { 'Fn::GetAtt': ['Endpoint', 'BootstrapBrokersSaslScram'] },
      ENDPOINT,
      'S/Fn Prop: cannot resolve {"Fn::GetAtt":["Endpoint","BootstrapBrokersSaslScram"]} for the local twin (the twin listens only for TLS with IAM, as the cluster does)',
    ],
    [
      'an SSM parameter the app does not create',
      '{{resolve:ssm:/elsewhere}}',
      ENDPOINT,
      'S/Fn Prop: cannot resolve "{{resolve:ssm:/elsewhere}}" for the local twin (SSM parameter /elsewhere is not created by this app)',
    ],
    [
      'a Secrets Manager reference',
      '{{resolve:secretsmanager:db:SecretString:password}}',
      ENDPOINT,
      'S/Fn Prop: cannot resolve "{{resolve:secretsmanager:db:SecretString:password}}" for the local twin (the twin resolves only ssm dynamic references, not secretsmanager)',
    ],
    [
      'a Ref to a resource type without a twin value',
      { Ref: 'Queue' },
      ENDPOINT,
      'S/Fn Prop: cannot resolve {"Ref":"Queue"} for the local twin (the twin has no value for a Ref to AWS::SQS::Queue)',
    ],
    [
      'an attribute without a twin value',
      { 'Fn::GetAtt': ['Role', 'RoleId'] },
      ENDPOINT,
      'S/Fn Prop: cannot resolve {"Fn::GetAtt":["Role","RoleId"]} for the local twin (the twin has no value for AWS::IAM::Role attribute RoleId)',
    ],
    [
      'a Ref to nothing',
      { Ref: 'Missing' },
      ENDPOINT,
      'S/Fn Prop: cannot resolve {"Ref":"Missing"} for the local twin (no resource or parameter Missing in S)',
    ],
  ])('fails in one line naming the resource and property for %s', (_name, value, endpoint, message) => {
    expect(() => resolve(value, endpoint)).toThrow(new TwinAssemblyError(message));
  });

  test('skips resources whose condition is false', () => {
    expect(resolver.resourcesOfType(['AWS::SQS::Queue']).map((r) => r.logicalId)).toEqual(['Queue']);
  });

  test('refuses an assembly with two clusters: the twin runs one', () => {
    const two = assembly({
      A: { Resources: { C: { Type: 'AWS::MSK::Cluster', Properties: { ClusterName: 'a' } } } },
      B: { Resources: { C: { Type: 'AWS::MSK::ServerlessCluster', Properties: { ClusterName: 'b' } } } },
    });
    expect(() => new TwinResolver(two)).toThrow(
      'The local twin runs one MSK cluster; the assembly declares 2: A/C, B/C',
    );
  });
});

describe('twin names', () => {
  test('a physical name is stack-logicalId while it fits, else shortened with a stable hash', () => {
    expect(twinPhysicalName('Stack', 'Role1234')).toBe('Stack-Role1234');
    const long = twinPhysicalName('HelloMsk-dev-Cluster', 'TopicsProviderframeworkisCompleteServiceRoleED47A478');
    expect(long).toHaveLength(64);
    expect(long).toMatch(/^HelloMsk-dev-Cluster-TopicsProviderframeworkisCompleteS-[0-9a-f]{8}$/);
    expect(twinPhysicalName('HelloMsk-dev-Cluster', 'TopicsProviderframeworkisCompleteServiceRoleED47A478')).toBe(long);
  });

  test('the cluster ARN has the twin account, region and fixed UUID', () => {
    expect(twinClusterArn('c')).toBe(`arn:aws:kafka:us-east-1:111122223333:cluster/c/${TWIN_CLUSTER_UUID}`);
  });
});

describe('describeTwinApp on a hand-written assembly', () => {
  const stack: CfnTemplate = {
    Resources: {
      Cluster: {
        Type: 'AWS::MSK::Cluster',
        Properties: {
          ClusterName: 'c1',
          KafkaVersion: '3.9.x.kraft',
          NumberOfBrokerNodes: 3,
          BrokerNodeGroupInfo: { InstanceType: 'kafka.m7g.large', ClientSubnets: ['a', 'b', 'c'] },
          ConfigurationInfo: { Arn: { 'Fn::GetAtt': ['Config', 'Arn'] }, Revision: 1 },
        },
      },
      Config: { Type: 'AWS::MSK::Configuration', Properties: { ServerProperties: 'num.partitions=6' } },
      ProducerRole: {
        Type: 'AWS::IAM::Role',
        Properties: {
          ManagedPolicyArns: [
            {
              'Fn::Join': [
                '',
                ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
              ],
            },
            { Ref: 'Managed' },
          ],
          Policies: [
            {
              PolicyName: 'inline',
              PolicyDocument: {
                Statement: { Effect: 'Allow', Action: 'kafka-cluster:Connect', Resource: { Ref: 'Cluster' } },
              },
            },
          ],
        },
      },
      Attached: {
        Type: 'AWS::IAM::Policy',
        Properties: {
          Roles: [{ Ref: 'ProducerRole' }],
          PolicyDocument: {
            Statement: [
              {
                Sid: 'Write',
                Effect: 'Allow',
                Action: ['kafka-cluster:WriteData'],
                Resource: '*',
                Condition: { Bool: {} },
              },
            ],
          },
        },
      },
      Managed: {
        Type: 'AWS::IAM::ManagedPolicy',
        Properties: { PolicyDocument: { Statement: [{ Effect: 'Deny', NotAction: 's3:*', NotResource: 'x' }] } },
      },
      Producer: {
        Type: 'AWS::Lambda::Function',
        Properties: {
          Handler: 'index.handler',
          Role: { 'Fn::GetAtt': ['ProducerRole', 'Arn'] },
          Environment: { Variables: { KAFKA_BROKERS: 'literal:9098', TOPIC: 'orders' } },
        },
      },
      Helper: {
        Type: 'AWS::Lambda::Function',
        Properties: {
          Handler: 'framework.onEvent',
          Role: 'arn:aws:iam::111122223333:role/outside',
          Timeout: 900,
          MemorySize: 1024,
          LoggingConfig: { LogGroup: { Ref: 'Logs' }, LogFormat: 'JSON', ApplicationLogLevel: 'FATAL' },
        },
      },
      Logs: { Type: 'AWS::Logs::LogGroup', Properties: {} },
      AdminRole: {
        Type: 'AWS::IAM::Role',
        Properties: {
          Policies: [
            { PolicyName: 'all', PolicyDocument: { Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] } },
          ],
        },
      },
      Admin: {
        Type: 'AWS::Lambda::Function',
        Properties: { Handler: 'index.handler', Role: { 'Fn::GetAtt': ['AdminRole', 'Arn'] } },
      },
    },
  };
  const app = describeTwinApp(
    assembly(
      { S: stack },
      {
        S: {
          '/S/Producer/Resource': [{ type: 'aws:cdk:logicalId', data: 'Producer' }],
          '/S/Helper/Resource': [{ type: 'aws:cdk:logicalId', data: 'Helper' }],
        },
      },
    ),
  );

  test('reads the cluster, its size and the ServerProperties of its configuration', () => {
    expect(app.cluster).toEqual({
      stack: 'S',
      logicalId: 'Cluster',
      name: 'c1',
      arn: twinClusterArn('c1'),
      serverless: false,
      kafkaVersion: '3.9.x.kraft',
      instanceType: 'kafka.m7g.large',
      brokerCount: 3,
      azCount: 3,
      serverProperties: 'num.partitions=6',
      configuration: 'S/Config',
      // Without ClientAuthentication and EncryptionInfo, MSK's defaults: unauthenticated clients, TLS.
      clientAuthentication: { iam: false, scram: false, tls: false, unauthenticated: true },
      encryptionInTransit: { clientBroker: 'TLS', inCluster: true },
    });
  });

  test('reads how clients sign in and whether they may use plaintext', () => {
    const secured = describeTwinApp(
      assembly({
        S: {
          Resources: {
            Cluster: {
              Type: 'AWS::MSK::Cluster',
              Properties: {
                ClusterName: 'c2',
                NumberOfBrokerNodes: 2,
                ClientAuthentication: { Sasl: { Iam: { Enabled: true }, Scram: { Enabled: false } } },
                EncryptionInfo: { EncryptionInTransit: { ClientBroker: 'TLS_PLAINTEXT', InCluster: false } },
              },
            },
          },
        },
      }),
    ).cluster;
    expect(secured.clientAuthentication).toEqual({ iam: true, scram: false, tls: false, unauthenticated: false });
    expect(secured.encryptionInTransit).toEqual({ clientBroker: 'TLS_PLAINTEXT', inCluster: false });
  });

  test('reads each function: name, construct path, handler, Lambda defaults for Timeout and MemorySize, log group, role', () => {
    const [producer, helper] = app.functions;
    expect(producer).toMatchObject({
      name: 'S-Producer',
      path: 'Producer',
      handler: 'index.handler',
      codeDir: undefined,
      timeoutSeconds: 3,
      memoryMb: 128,
      logGroupName: '/aws/lambda/S-Producer',
      roleArn: twinRoleArn('S-ProducerRole'),
      kafka: true,
    });
    expect(helper).toMatchObject({
      path: 'Helper',
      timeoutSeconds: 900,
      memoryMb: 1024,
      logGroupName: 'S-Logs',
      logFormat: 'JSON',
      applicationLogLevel: 'FATAL',
      kafka: false,
    });
    // The admin function's role may use Kafka through a wildcard action, although its environment does not say so.
    expect(app.kafkaFunctions.map((f) => f.logicalId)).toEqual(['Producer', 'Admin']);
    expect(functionEnvironment(app, producer, ENDPOINT)).toEqual({ KAFKA_BROKERS: 'literal:9098', TOPIC: 'orders' });
  });

  test("collects a role's inline, attached and managed policies, and lists the managed ones outside the app", () => {
    const role = app.roles.find((r) => r.logicalId === 'ProducerRole');
    expect(role?.externalManagedPolicyArns).toEqual([
      'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
    ]);
    expect(
      role?.statements.map(({ where, policy, sid, effect, actions, notActions, hasCondition, hasNotResource }) => ({
        where,
        policy,
        sid,
        effect,
        actions,
        notActions,
        hasCondition,
        hasNotResource,
      })),
    ).toEqual([
      {
        where: 'S/ProducerRole Policies[0].PolicyDocument.Statement[0]',
        policy: 'inline policy inline of ProducerRole',
        sid: undefined,
        effect: 'Allow',
        actions: ['kafka-cluster:Connect'],
        notActions: undefined,
        hasCondition: false,
        hasNotResource: false,
      },
      {
        where: 'S/Attached PolicyDocument.Statement[0]',
        policy: 'AWS::IAM::Policy Attached',
        sid: 'Write',
        effect: 'Allow',
        actions: ['kafka-cluster:WriteData'],
        notActions: undefined,
        hasCondition: true,
        hasNotResource: false,
      },
      {
        where: 'S/Managed PolicyDocument.Statement[0]',
        policy: 'AWS::IAM::ManagedPolicy Managed',
        sid: undefined,
        effect: 'Deny',
        actions: undefined,
        notActions: ['s3:*'],
        hasCondition: false,
        hasNotResource: true,
      },
    ]);
    expect(role?.statements[0].resources()).toEqual([twinClusterArn('c1')]);
    expect(role?.statements[1].resources()).toEqual(['*']);
  });
});

describe('the variable that carries the bootstrap brokers', () => {
  const app = describeTwinApp(
    assembly({
      S: {
        Parameters: { Brokers: { Type: 'String' } },
        Resources: {
          Cluster: { Type: 'AWS::MSK::Cluster', Properties: { ClusterName: 'c' } },
          Role: { Type: 'AWS::IAM::Role', Properties: {} },
          Fn: {
            Type: 'AWS::Lambda::Function',
            Properties: {
              Handler: 'index.handler',
              Role: { 'Fn::GetAtt': ['Role', 'Arn'] },
              Environment: { Variables: { SERVERS: { Ref: 'Brokers' }, TOPIC: 'orders' } },
            },
          },
        },
      },
    }),
  );
  const [fn] = app.functions;

  test('is refused in one line when the template does not say where the value comes from', () => {
    expect(() => functionEnvironment(app, fn, ENDPOINT)).toThrow(
      'S/Fn Environment.Variables.SERVERS: cannot resolve {"Ref":"Brokers"} for the local twin (parameter Brokers has no default and the twin passes no parameters)',
    );
  });

  test('gets the twin’s brokers when an option names it, whatever the template says', () => {
    expect(functionEnvironment(app, fn, { ...ENDPOINT, brokersVariable: 'SERVERS' })).toEqual({
      SERVERS: ENDPOINT.bootstrapBrokers,
      TOPIC: 'orders',
    });
  });
});
