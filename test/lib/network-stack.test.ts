import { Match } from 'aws-cdk-lib/assertions';
import { CLIENT_ROLES } from '../../lib/network-stack';
import { normalise, synthTemplates } from './synth';

function onlyKey(resources: Record<string, unknown>): string {
  const keys = Object.keys(resources);
  expect(keys).toHaveLength(1);
  return keys[0];
}

describe('NetworkStack', () => {
  const { network } = synthTemplates();

  test('matches the snapshot', () => {
    expect(normalise(network)).toMatchSnapshot();
  });

  test('has private isolated subnets in two AZs, no public subnets, no NAT gateway and no internet gateway', () => {
    network.resourceCountIs('AWS::EC2::Subnet', 2);
    network.resourceCountIs('AWS::EC2::NatGateway', 0);
    network.resourceCountIs('AWS::EC2::InternetGateway', 0);
    network.allResourcesProperties('AWS::EC2::Subnet', { MapPublicIpOnLaunch: false });
    network.resourceCountIs('AWS::EC2::Route', 0);
  });

  test.each([2, 3])(
    'puts its %i subnets in the AZs a deploy-time custom resource chose among those MSK accepts, never Fn::GetAZs',
    (azCount) => {
      const t = azCount === 2 ? network : synthTemplates({ azCount }).network;
      // Fn::GetAZs can name a zone MSK refuses (use1-az3), and synth cannot tell which: no account, no region.
      expect(JSON.stringify(t.toJSON())).not.toContain('Fn::GetAZs');
      const chooserId = Object.keys(t.findResources('Custom::AvailabilityZones'))[0];
      t.hasResourceProperties('Custom::AvailabilityZones', { AzCount: azCount, ServiceTimeout: '300' });
      t.resourceCountIs('AWS::EC2::Subnet', azCount);
      for (let index = 0; index < azCount; index++) {
        t.hasResourceProperties('AWS::EC2::Subnet', {
          AvailabilityZone: { 'Fn::Select': [index, { 'Fn::Split': [',', { 'Fn::GetAtt': [chooserId, 'Names'] }] }] },
        });
      }
    },
  );

  test('uses the configured AZ names when given, and chooses none at deploy time', () => {
    const t = synthTemplates({ availabilityZones: '["eu-west-1a","eu-west-1b"]' }).network;
    t.hasResourceProperties('AWS::EC2::Subnet', { AvailabilityZone: 'eu-west-1a' });
    t.hasResourceProperties('AWS::EC2::Subnet', { AvailabilityZone: 'eu-west-1b' });
    t.resourceCountIs('Custom::AvailabilityZones', 0);
  });

  test('lets the AZ chooser only describe availability zones (an action with no resource-level permissions)', () => {
    network.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [{ Effect: 'Allow', Action: 'ec2:DescribeAvailabilityZones', Resource: '*' }] },
    });
  });

  test('records all VPC traffic in flow logs kept for the configured retention', () => {
    network.hasResourceProperties('AWS::EC2::FlowLog', {
      ResourceType: 'VPC',
      TrafficType: 'ALL',
      LogDestinationType: 'cloud-watch-logs',
    });
    network.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
    network.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Delete' });
  });

  test('locks down the default security group', () => {
    network.resourceCountIs('Custom::VpcRestrictDefaultSG', 1);
  });

  test('brokers accept only the IAM port (9098), and only from the client security groups', () => {
    const ingress = network.findResources('AWS::EC2::SecurityGroupIngress');
    expect(Object.keys(ingress)).toHaveLength(CLIENT_ROLES.length);
    for (const rule of Object.values(ingress)) {
      expect(rule.Properties).toMatchObject({ IpProtocol: 'tcp', FromPort: 9098, ToPort: 9098 });
      expect(rule.Properties.SourceSecurityGroupId).toEqual({
        'Fn::GetAtt': [expect.stringMatching(/SecurityGroup/), 'GroupId'],
      });
      expect(rule.Properties.CidrIp).toBeUndefined();
    }
    const groups = network.findResources('AWS::EC2::SecurityGroup');
    for (const group of Object.values(groups)) {
      expect(group.Properties.SecurityGroupIngress).toBeUndefined();
    }
  });

  test('client security groups reach only the brokers IAM port, in rules of their own; nothing is open to the internet', () => {
    // EC2 keeps a group's default allow-all egress unless the group lists an egress rule itself: separate
    // SecurityGroupEgress resources would leave it open.
    network.resourceCountIs('AWS::EC2::SecurityGroupEgress', 0);
    const text = JSON.stringify(network.toJSON());
    expect(text).not.toContain('0.0.0.0/0');
    expect(text).not.toContain('::/0');
    const groups = Object.values(network.findResources('AWS::EC2::SecurityGroup'));
    const brokers = onlyKey(
      network.findResources('AWS::EC2::SecurityGroup', {
        Properties: { GroupDescription: Match.stringLikeRegexp('^MSK brokers') },
      }),
    );
    for (const group of groups) {
      const inline = group.Properties.SecurityGroupEgress as unknown[] | undefined;
      if ((group.Properties.GroupDescription as string).startsWith('MSK brokers')) {
        // CDK's placeholder that matches no traffic: the brokers open nothing outward.
        expect(inline).toEqual([expect.objectContaining({ CidrIp: '255.255.255.255/32', IpProtocol: 'icmp' })]);
      } else {
        expect(inline).toEqual([
          {
            IpProtocol: 'tcp',
            FromPort: 9098,
            ToPort: 9098,
            DestinationSecurityGroupId: { 'Fn::GetAtt': [brokers, 'GroupId'] },
            Description: expect.stringMatching(/ to MSK brokers \(IAM\)$/),
          },
        ]);
      }
    }
  });

  test('keeps the flow logs when the removal policy is retain', () => {
    const t = synthTemplates({ removalPolicy: 'retain' }).network;
    t.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });
});

describe('NetworkStack in an existing VPC', () => {
  const existing = {
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: ['eu-west-1a', 'eu-west-1b'],
    privateSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
  };
  const { network, cluster, clients } = synthTemplates(existing);

  test('creates no VPC, subnets, flow logs or AZ chooser: only the security groups, in the given VPC', () => {
    for (const type of ['AWS::EC2::VPC', 'AWS::EC2::Subnet', 'AWS::EC2::FlowLog', 'AWS::Logs::LogGroup']) {
      network.resourceCountIs(type, 0);
    }
    expect(JSON.stringify(network.toJSON())).not.toMatch(/AvailabilityZones|VpcRestrictDefaultSG/);
    const types = new Set(
      Object.values(network.toJSON().Resources as Record<string, { Type: string }>).map((r) => r.Type),
    );
    expect([...types].sort()).toEqual(['AWS::EC2::SecurityGroup', 'AWS::EC2::SecurityGroupIngress']);
    network.allResourcesProperties('AWS::EC2::SecurityGroup', { VpcId: existing.vpcId });
  });

  test('puts the brokers and the functions in the given private subnets, by id (no lookup, no credentials)', () => {
    const [msk] = Object.values(cluster.findResources('AWS::MSK::Cluster'));
    expect(msk.Properties.BrokerNodeGroupInfo.ClientSubnets).toEqual(existing.privateSubnetIds);
    for (const fn of Object.values(clients.findResources('AWS::Lambda::Function'))) {
      expect(fn.Properties.VpcConfig.SubnetIds).toEqual(existing.privateSubnetIds);
    }
  });

  test('keeps the broker security group on retain, and leaves the VPC alone', () => {
    const t = synthTemplates({ ...existing, removalPolicy: 'retain' }).network;
    t.hasResource('AWS::EC2::SecurityGroup', {
      DeletionPolicy: 'Retain',
      Properties: { GroupDescription: Match.stringLikeRegexp('^MSK brokers') },
    });
    t.resourceCountIs('AWS::EC2::VPC', 0);
  });
});
