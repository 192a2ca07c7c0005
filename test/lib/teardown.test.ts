import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ProjectKey } from '../../lib/constructs/encryption';
import { synthTemplates } from './synth';

type Resource = {
  Type: string;
  Properties?: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
};
type Templates = ReturnType<typeof synthTemplates>;

/** Resource types that a cluster's existence keeps from being deleted, and the links between them. */
const PINNED_TYPES = [
  'AWS::EC2::VPC',
  'AWS::EC2::Subnet',
  'AWS::EC2::SecurityGroup',
  'AWS::MSK::Configuration',
  'AWS::Logs::LogGroup',
  'AWS::KMS::Key',
];

function resourcesOf(t: Template): Record<string, Resource> {
  return (t.toJSON() as { Resources: Record<string, Resource> }).Resources;
}

/** Logical ids a value refers to in its own stack, and export names it imports from another. */
function references(value: unknown, refs = new Set<string>(), imports = new Set<string>()) {
  if (Array.isArray(value)) value.forEach((v) => references(v, refs, imports));
  else if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.Ref === 'string' && !o.Ref.startsWith('AWS::')) refs.add(o.Ref);
    if (Array.isArray(o['Fn::GetAtt'])) refs.add(String(o['Fn::GetAtt'][0]));
    if (typeof o['Fn::ImportValue'] === 'string') imports.add(o['Fn::ImportValue']);
    Object.values(o).forEach((v) => references(v, refs, imports));
  }
  return { refs, imports };
}

/**
 * The resources, in any stack, that the cluster pins: those it refers to (in its stack or through a cross-stack
 * import), followed through the pinned types only (a subnet pins its VPC; an AZ-choosing custom resource pins
 * nothing).
 */
function pinnedByCluster(templates: Templates, clusterType: string): Array<Resource & { id: string }> {
  const stacks = Object.values(templates).map((t) => ({ t, resources: resourcesOf(t) }));
  const exports = new Map<string, { stack: (typeof stacks)[number]; value: unknown }>();
  for (const stack of stacks) {
    const outputs = (stack.t.toJSON() as { Outputs?: Record<string, { Value: unknown; Export?: { Name: string } }> })
      .Outputs;
    for (const o of Object.values(outputs ?? {})) if (o.Export) exports.set(o.Export.Name, { stack, value: o.Value });
  }
  const clusterStack = stacks.find((s) => Object.values(s.resources).some((r) => r.Type === clusterType))!;
  const [clusterId] = Object.entries(clusterStack.resources).find(([, r]) => r.Type === clusterType)!;
  const found = new Map<string, Resource & { id: string }>();
  const visit = (stack: (typeof stacks)[number], value: unknown) => {
    const { refs, imports } = references(value);
    for (const id of refs) {
      const r = stack.resources[id];
      const key = `${stack.t === clusterStack.t ? 'cluster' : 'other'}:${id}`;
      if (!r || !PINNED_TYPES.includes(r.Type) || found.has(key)) continue;
      found.set(key, { ...r, id });
      visit(stack, r.Properties);
    }
    for (const name of imports) {
      const exported = exports.get(name);
      if (exported) visit(exported.stack, exported.value);
    }
  };
  visit(clusterStack, clusterStack.resources[clusterId].Properties);
  return [...found.values()];
}

describe('teardown under removalPolicy retain (prod)', () => {
  test.each([
    ['prod', { stage: 'prod' }, 'AWS::MSK::Cluster', 3],
    ['prod with a customer-managed key', { stage: 'prod', encryptionKey: 'customer-managed' }, 'AWS::MSK::Cluster', 3],
    ['serverless, retain', { clusterKind: 'serverless', removalPolicy: 'retain' }, 'AWS::MSK::ServerlessCluster', 2],
  ])('%s: everything the retained cluster pins is retained too', (_name, context, clusterType, azCount) => {
    const templates = synthTemplates(context);
    const [cluster] = Object.values(templates.cluster.findResources(clusterType)) as Resource[];
    expect(cluster.DeletionPolicy).toBe('Retain');

    const pinned = pinnedByCluster(templates, clusterType);
    const types = pinned.map((r) => r.Type);
    expect(types.filter((t) => t === 'AWS::EC2::Subnet')).toHaveLength(azCount);
    expect(types).toEqual(expect.arrayContaining(['AWS::EC2::VPC', 'AWS::EC2::SecurityGroup']));
    if (clusterType === 'AWS::MSK::Cluster') {
      expect(types).toEqual(expect.arrayContaining(['AWS::MSK::Configuration', 'AWS::Logs::LogGroup']));
    }
    if ('encryptionKey' in context) expect(types).toContain('AWS::KMS::Key');
    for (const r of pinned) {
      expect({ id: r.id, DeletionPolicy: r.DeletionPolicy, UpdateReplacePolicy: r.UpdateReplacePolicy }).toEqual({
        id: r.id,
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    }
  });

  test('keeps only the broker security group of all security groups, and deletes route tables and flow logs', () => {
    const { network } = synthTemplates({ stage: 'prod' });
    const groups = Object.values(network.findResources('AWS::EC2::SecurityGroup')) as Resource[];
    expect(groups.filter((g) => g.DeletionPolicy === 'Retain')).toHaveLength(1);
    for (const type of ['AWS::EC2::RouteTable', 'AWS::EC2::FlowLog', 'AWS::Lambda::Function']) {
      for (const r of Object.values(network.findResources(type)) as Resource[]) {
        expect(r.DeletionPolicy).toBeUndefined();
      }
    }
  });

  test("ends the configuration's name with the stack's own id, so a retained one never blocks a redeploy", () => {
    const { cluster } = synthTemplates({ stage: 'prod' });
    const [config] = Object.values(cluster.findResources('AWS::MSK::Configuration')) as Resource[];
    expect(config.Properties?.Name).toEqual({
      'Fn::Join': [
        '-',
        [
          expect.stringMatching(/^HelloMskprodCluster-[0-9A-F]{8}-config$/),
          {
            'Fn::Select': [
              0,
              { 'Fn::Split': ['-', { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] }] },
            ],
          },
        ],
      ],
    });
  });
});

describe('teardown under removalPolicy destroy (dev)', () => {
  test('retains nothing but the topic resources, which go with the cluster', () => {
    const templates = synthTemplates();
    const retained = Object.values(templates).flatMap((t) =>
      Object.values(resourcesOf(t)).filter((r) => r.DeletionPolicy === 'Retain' || r.UpdateReplacePolicy === 'Retain'),
    );
    expect(retained.map((r) => r.Type)).toEqual(['Custom::MskTopic']);
  });
});

describe('CloudWatch Logs principal of the customer-managed key', () => {
  /** Evaluates Ref of pseudo parameters and Fn::Join the way CloudFormation does in the given partition. */
  function evaluate(value: unknown, pseudo: Record<string, string>): unknown {
    if (Array.isArray(value)) return value.map((v) => evaluate(v, pseudo));
    if (value && typeof value === 'object') {
      const o = value as Record<string, unknown>;
      if (typeof o.Ref === 'string' && o.Ref in pseudo) return pseudo[o.Ref];
      if (Array.isArray(o['Fn::Join'])) {
        const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
        return parts.map((p) => evaluate(p, pseudo)).join(sep);
      }
      return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, evaluate(v, pseudo)]));
    }
    return value;
  }

  function logsPrincipal(t: Template): unknown {
    const [key] = Object.values(t.findResources('AWS::KMS::Key')) as Resource[];
    const statements = (key.Properties!.KeyPolicy as { Statement: Array<{ Sid?: string; Principal?: unknown }> })
      .Statement;
    return statements.find((s) => s.Sid === 'CloudWatchLogsForThisAccount')!.Principal;
  }

  test.each([
    ['aws', 'eu-west-1', 'amazonaws.com', 'logs.eu-west-1.amazonaws.com'],
    ['aws-cn', 'cn-north-1', 'amazonaws.com.cn', 'logs.cn-north-1.amazonaws.com.cn'],
    ['aws-us-gov', 'us-gov-west-1', 'amazonaws.com', 'logs.us-gov-west-1.amazonaws.com'],
  ])('the app, deployed in %s, names the regional logs principal %s', (_partition, region, suffix, principal) => {
    const { network } = synthTemplates({ encryptionKey: 'customer-managed' });
    expect(
      evaluate(logsPrincipal(network), {
        'AWS::Region': region,
        'AWS::URLSuffix': suffix,
        'AWS::Partition': _partition,
      }),
    ).toEqual({ Service: principal });
  });

  test('a stack pinned to cn-north-1 names logs.cn-north-1.amazonaws.com.cn', () => {
    const stack = new Stack(new App(), 'China', { env: { account: '123456789012', region: 'cn-north-1' } });
    new ProjectKey(stack, 'Key', { removalPolicy: RemovalPolicy.DESTROY });
    const principal = evaluate(logsPrincipal(Template.fromStack(stack)), { 'AWS::URLSuffix': 'amazonaws.com.cn' });
    expect(principal).toEqual({ Service: 'logs.cn-north-1.amazonaws.com.cn' });
  });
});
