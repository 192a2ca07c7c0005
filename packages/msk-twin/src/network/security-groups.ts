/**
 * Whether a function of the app can open a TCP connection to the cluster's brokers, as the template's security groups
 * decide in the VPC: the function's groups must allow the traffic out (egress) and the brokers' groups must allow it
 * in (ingress), on MSK's port for TLS with IAM. A connection the rules do not allow is dropped in a VPC, so the
 * client's connect times out; the runner (lambda-bootstrap.cts) does the same to a function that may not connect.
 */
import { TwinResolver, type StackView, type TwinApp, type TwinFunction } from '../assembly/assembly';

/** MSK's port for TLS with IAM inside the VPC (MSK developer guide, "Port information"). */
export const MSK_IAM_PORT = 9098;

/** What the security groups allow a function. */
export interface BrokerReach {
  readonly reachable: boolean;
  /** Why, in one line naming the groups. */
  readonly reason: string;
}

interface Rule {
  readonly protocol: string;
  readonly fromPort?: number;
  readonly toPort?: number;
  /** The other side: a security group id, or a CIDR. */
  readonly peerGroup?: string;
  readonly cidr?: string;
}

interface Group {
  readonly id: string;
  readonly ingress: Rule[];
  readonly egress: Rule[];
  /** Declared with no SecurityGroupEgress: EC2 adds rules that allow all outbound traffic. */
  readonly allOutbound: boolean;
}

/**
 * The security groups of the app and their rules: inline ones and AWS::EC2::SecurityGroupIngress/Egress resources.
 * An AWS::EC2::SecurityGroup "with no egress rules" at creation gets rules that allow all outbound traffic
 * (CloudFormation template reference, AWS::EC2::SecurityGroup); separate egress resources do not remove them.
 */
function securityGroups(app: TwinApp): Map<string, Group> {
  const groups = new Map<string, Group>();
  const scope = (stack: StackView, logicalId: string, property: string) => ({
    stack,
    where: `${stack.name}/${logicalId} ${property}`,
  });
  const rule = (raw: Record<string, unknown>, peerKey: string): Rule => ({
    protocol: String(raw.IpProtocol),
    fromPort: raw.FromPort === undefined ? undefined : Number(raw.FromPort),
    toPort: raw.ToPort === undefined ? undefined : Number(raw.ToPort),
    peerGroup: typeof raw[peerKey] === 'string' ? raw[peerKey] : undefined,
    cidr: [raw.CidrIp, raw.CidrIpv6].find((c): c is string => typeof c === 'string'),
  });
  for (const { stack, logicalId, resource } of app.resolver.resourcesOfType(['AWS::EC2::SecurityGroup'])) {
    const id = app.resolver.resolveString({ 'Fn::GetAtt': [logicalId, 'GroupId'] }, scope(stack, logicalId, 'GroupId'));
    const raw = resource.Properties ?? {};
    const list = (key: string): Record<string, unknown>[] => {
      const value = app.resolver.resolve(raw[key] ?? [], scope(stack, logicalId, key));
      return Array.isArray(value) ? (value as Record<string, unknown>[]) : [];
    };
    groups.set(id, {
      id,
      ingress: list('SecurityGroupIngress').map((r) => rule(r, 'SourceSecurityGroupId')),
      egress: list('SecurityGroupEgress').map((r) => rule(r, 'DestinationSecurityGroupId')),
      allOutbound: raw.SecurityGroupEgress === undefined,
    });
  }
  for (const { stack, logicalId, resource } of app.resolver.resourcesOfType([
    'AWS::EC2::SecurityGroupIngress',
    'AWS::EC2::SecurityGroupEgress',
  ])) {
    const props = app.resolver.resolve(resource.Properties ?? {}, scope(stack, logicalId, 'Properties')) as Record<
      string,
      unknown
    >;
    const group = groups.get(String(props.GroupId));
    if (!group) continue;
    if (resource.Type === 'AWS::EC2::SecurityGroupIngress') group.ingress.push(rule(props, 'SourceSecurityGroupId'));
    else group.egress.push(rule(props, 'DestinationSecurityGroupId'));
  }
  return groups;
}

function coversPort(rule: Rule, port: number): boolean {
  if (rule.protocol === '-1') return true;
  if (rule.protocol !== 'tcp' && rule.protocol !== '6') return false;
  return (rule.fromPort ?? 0) <= port && port <= (rule.toPort ?? 65535);
}

/** A CIDR that holds every address: the only kind the twin can place a function's address in. */
function anyAddress(cidr: string | undefined): boolean {
  return cidr === '0.0.0.0/0' || cidr === '::/0';
}

function resolvedIds(app: TwinApp, stackName: string, logicalId: string, value: unknown, property: string): string[] {
  const stack = app.assembly.stacks.find((s) => s.name === stackName);
  if (!stack || value === undefined) return [];
  const resolved = app.resolver.resolve(value, { stack, where: `${stackName}/${logicalId} ${property}` });
  return Array.isArray(resolved) ? resolved.map(String) : [];
}

/** The cluster's security groups (provisioned: BrokerNodeGroupInfo; serverless: VpcConfigs). */
function clusterGroupIds(app: TwinApp): string[] {
  const { stack, logicalId } = app.cluster;
  const props = app.assembly.stacks.find((s) => s.name === stack)?.template.Resources?.[logicalId]?.Properties ?? {};
  if (app.cluster.serverless) {
    const configs = (props.VpcConfigs ?? []) as { SecurityGroups?: unknown }[];
    return configs.flatMap((c, i) => resolvedIds(app, stack, logicalId, c.SecurityGroups, `VpcConfigs[${i}]`));
  }
  const nodeGroup = (props.BrokerNodeGroupInfo ?? {}) as { SecurityGroups?: unknown };
  return resolvedIds(app, stack, logicalId, nodeGroup.SecurityGroups, 'BrokerNodeGroupInfo.SecurityGroups');
}

/** Whether `fn` can connect to the brokers' IAM port, as the template's security groups decide. */
export function brokerReach(app: TwinApp, fn: TwinFunction, port = MSK_IAM_PORT): BrokerReach {
  const resource = app.assembly.stacks.find((s) => s.name === fn.stack)?.template.Resources?.[fn.logicalId];
  const vpcConfig = (resource?.Properties?.VpcConfig ?? {}) as { SecurityGroupIds?: unknown };
  const own = resolvedIds(app, fn.stack, fn.logicalId, vpcConfig.SecurityGroupIds, 'VpcConfig.SecurityGroupIds');
  if (own.length === 0) {
    return { reachable: false, reason: `${fn.path} is not in a VPC; the brokers are reachable only inside theirs` };
  }
  const brokers = clusterGroupIds(app);
  if (brokers.length === 0) {
    return {
      reachable: false,
      reason: "the cluster names no security group (MSK then uses the VPC's default group, which the twin cannot read)",
    };
  }
  const groups = securityGroups(app);
  const out = own.some((id) => {
    const group = groups.get(id);
    return (
      group !== undefined &&
      (group.allOutbound ||
        group.egress.some(
          (r) =>
            coversPort(r, port) && (anyAddress(r.cidr) || (r.peerGroup !== undefined && brokers.includes(r.peerGroup))),
        ))
    );
  });
  const into = brokers.some((id) =>
    (groups.get(id)?.ingress ?? []).some(
      (r) => coversPort(r, port) && (anyAddress(r.cidr) || (r.peerGroup !== undefined && own.includes(r.peerGroup))),
    ),
  );
  const names = `${fn.path} (${own.join(', ')}) to the brokers (${brokers.join(', ')}) on port ${port}`;
  if (!out) return { reachable: false, reason: `no egress rule allows ${names}` };
  if (!into) return { reachable: false, reason: `no ingress rule allows ${names}` };
  return { reachable: true, reason: `the security groups allow ${names}` };
}

/**
 * The app without the ingress rules that let `fn`'s security groups reach the brokers (a test's variant: the
 * function must then fail to connect, as it would in the VPC).
 */
export function withoutBrokerIngress(app: TwinApp, fn: TwinFunction): TwinApp {
  const resource = app.assembly.stacks.find((s) => s.name === fn.stack)?.template.Resources?.[fn.logicalId];
  const vpcConfig = (resource?.Properties?.VpcConfig ?? {}) as { SecurityGroupIds?: unknown };
  const own = resolvedIds(app, fn.stack, fn.logicalId, vpcConfig.SecurityGroupIds, 'VpcConfig.SecurityGroupIds');
  const stacks = app.assembly.stacks.map((stack) => {
    const resources = Object.entries(stack.template.Resources ?? {}).filter(([logicalId, r]) => {
      if (r.Type !== 'AWS::EC2::SecurityGroupIngress') return true;
      const source = app.resolver.resolve(r.Properties?.SourceSecurityGroupId, {
        stack,
        where: `${stack.name}/${logicalId} SourceSecurityGroupId`,
      });
      return !own.includes(String(source));
    });
    return { ...stack, template: { ...stack.template, Resources: Object.fromEntries(resources) } };
  });
  const assembly = { ...app.assembly, stacks };
  return { ...app, assembly, resolver: new TwinResolver(assembly) };
}
