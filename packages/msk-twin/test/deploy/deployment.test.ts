import {
  creationOrder,
  emptyDeployment,
  TWIN_CLUSTER_CURRENT_VERSION,
  TwinResolver,
  type CfnTemplate,
  type CloudAssemblyView,
  type TwinDeployment,
} from 'msk-twin';

const ENDPOINT = { bootstrapBrokers: '127.0.0.1:29098' };

function assembly(stacks: Record<string, CfnTemplate>): CloudAssemblyView {
  return {
    dir: '(in memory)',
    stacks: Object.entries(stacks).map(([name, template]) => ({ name, template, metadata: {}, fileAssets: {} })),
  };
}

const CLUSTER: CfnTemplate = {
  Resources: {
    Cluster: { Type: 'AWS::MSK::Cluster', Properties: { ClusterName: 'demo-cluster' } },
    Endpoint: {
      Type: 'Custom::MskClusterEndpoint',
      Properties: { ClusterVersion: { 'Fn::GetAtt': ['Cluster', 'CurrentVersion'] } },
    },
    Skipped: { Type: 'Custom::VpcRestrictDefaultSG', Properties: {} },
    BrokersParameter: {
      Type: 'AWS::SSM::Parameter',
      Properties: {
        Name: '/demo/brokers',
        Type: 'String',
        Value: { 'Fn::GetAtt': ['Endpoint', 'BootstrapBrokersSaslIam'] },
      },
    },
  },
};
const CLIENTS: CfnTemplate = {
  Parameters: { Brokers: { Type: 'AWS::SSM::Parameter::Value<String>', Default: '/demo/brokers' } },
  Resources: {},
};

describe('a resolver reading a deployment', () => {
  const view = assembly({ Cluster: CLUSTER, Clients: CLIENTS });
  const [cluster, clients] = view.stacks;
  const deployment: TwinDeployment = {
    answers: {
      'Cluster/Endpoint': { physicalResourceId: 'endpoint-1', data: { BootstrapBrokersSaslIam: 'b-1:9098,b-2:9098' } },
    },
    notRun: { 'Cluster/Skipped': 'the twin does not model it' },
    parameters: { '/demo/brokers': 'from-the-parameter:9098' },
  };
  const resolver = new TwinResolver(view, undefined, deployment);
  const resolve = (value: unknown, stack = cluster) =>
    resolver.resolve(value, { stack, where: 'X Prop', endpoint: ENDPOINT });

  test("a custom resource's attribute is its answer's Data, not the twin's address", () => {
    expect(resolve({ 'Fn::GetAtt': ['Endpoint', 'BootstrapBrokersSaslIam'] })).toBe('b-1:9098,b-2:9098');
    expect(resolve({ 'Fn::Sub': '${Endpoint.BootstrapBrokersSaslIam}' })).toBe('b-1:9098,b-2:9098');
  });

  test("a Ref to a custom resource is its answer's physical id", () => {
    expect(resolve({ Ref: 'Endpoint' })).toBe('endpoint-1');
  });

  test('an attribute the answer lacks fails naming it and the ones it has', () => {
    expect(() => resolve({ 'Fn::GetAtt': ['Endpoint', 'BootstrapBrokerString'] })).toThrow(
      'X Prop: cannot resolve {"Fn::GetAtt":["Endpoint","BootstrapBrokerString"]} for the local twin (the resource\'s answer has no attribute BootstrapBrokerString; it has: BootstrapBrokersSaslIam)',
    );
  });

  test('a resource the twin did not run, or has not run yet, fails saying which', () => {
    expect(() => resolve({ 'Fn::GetAtt': ['Skipped', 'Id'] })).toThrow(
      'the twin did not run Cluster/Skipped: the twin does not model it',
    );
    const early = new TwinResolver(view, undefined, emptyDeployment());
    expect(() =>
      early.resolve({ 'Fn::GetAtt': ['Endpoint', 'BootstrapBrokersSaslIam'] }, { stack: cluster, where: 'X Prop' }),
    ).toThrow('custom resource Cluster/Endpoint has not been created');
  });

  test('an SSM-typed stack parameter reads the parameter the deploy wrote', () => {
    expect(resolve({ Ref: 'Brokers' }, clients)).toBe('from-the-parameter:9098');
    expect(resolve('{{resolve:ssm:/demo/brokers}}', clients)).toBe('from-the-parameter:9098');
  });

  test('an SSM parameter no deployed stack wrote fails naming it', () => {
    const none = new TwinResolver(view, undefined, emptyDeployment());
    expect(() => none.resolve({ Ref: 'Brokers' }, { stack: clients, where: 'Clients/Fn Environment' })).toThrow(
      'SSM parameter /demo/brokers does not exist: no stack deployed before this one creates it',
    );
  });

  test("the cluster's CurrentVersion is the twin's, as DescribeClusterV2 answers it", () => {
    expect(resolve({ 'Fn::GetAtt': ['Cluster', 'CurrentVersion'] })).toBe(TWIN_CLUSTER_CURRENT_VERSION);
  });
});

describe('creationOrder', () => {
  const stackOf = (template: CfnTemplate) => assembly({ S: template }).stacks[0];

  test('puts each resource after what it references: Ref, GetAtt, Sub and DependsOn', () => {
    const order = creationOrder(
      stackOf({
        Resources: {
          Topics: { Type: 'Custom::MskTopic', Properties: { ServiceToken: { 'Fn::GetAtt': ['Handler', 'Arn'] } } },
          Handler: {
            Type: 'AWS::Lambda::Function',
            Properties: { Environment: { Variables: { B: { 'Fn::Sub': '${Endpoint.Brokers}' } } } },
          },
          Parameter: { Type: 'AWS::SSM::Parameter', Properties: { Value: { Ref: 'Endpoint' } } },
          Endpoint: { Type: 'Custom::Endpoint', Properties: {}, DependsOn: ['Zones'] } as never,
          Zones: { Type: 'Custom::Zones', Properties: {} },
        },
      }),
    );
    const before = (a: string, b: string) => expect(order.indexOf(a)).toBeLessThan(order.indexOf(b));
    before('Zones', 'Endpoint');
    before('Endpoint', 'Handler');
    before('Handler', 'Topics');
    before('Endpoint', 'Parameter');
    expect(order).toHaveLength(5);
  });

  test('a circular dependency fails naming the cycle', () => {
    expect(() =>
      creationOrder(
        stackOf({
          Resources: {
            A: { Type: 'Custom::A', Properties: { X: { Ref: 'B' } } },
            B: { Type: 'Custom::B', Properties: { X: { 'Fn::GetAtt': ['A', 'Y'] } } },
          },
        }),
      ),
    ).toThrow('S: circular dependency between resources A -> B -> A');
  });
});
