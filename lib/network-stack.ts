import { CfnResource, Validations, RemovalPolicy, Stack, StackProps, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { skipCheckovForFrameworkFunction } from './checkov-suppressions';
import { AvailabilityZones } from './constructs/availability-zones';
import { ProjectKey } from './constructs/encryption';
import { MSK_IAM_PORT } from './constructs/msk-cluster';
import { MSK_PORTS } from 'msk-catalog';
import { allowOnlyTo } from './security-group-rules';
import { checkRetention, invalid } from './validation';

export interface NetworkStackProps extends StackProps {
  /** Availability zones, and so private subnets, for the brokers: 2 or 3. */
  readonly azCount: number;
  /** Explicit AZ names; empty lets a custom resource choose `azCount` AZs that MSK accepts, at deploy time. */
  readonly availabilityZones: string[];
  /** IPv4 CIDR of the VPC. */
  readonly vpcCidr: string;
  /**
   * An existing VPC to use, by attributes (no lookup, so synth needs no credentials); with `privateSubnetIds` and
   * `availabilityZones`. The stack then makes only the security groups (and the ESM's endpoints), no flow logs.
   * @default - a new VPC
   */
  readonly vpcId?: string;
  /**
   * The existing VPC's private subnets for the brokers and functions: one per AZ of `availabilityZones`, in order.
   * @default []
   */
  readonly privateSubnetIds?: string[];
  /**
   * NAT gateways. Nothing in this project needs one: the functions talk only to the brokers.
   * @default 0
   */
  readonly natGateways?: number;
  /** Days to keep VPC flow logs. */
  readonly logRetentionDays: number;
  /** Whether `cdk destroy` deletes the flow log group (and the customer-managed key, if any). */
  readonly removalPolicy: RemovalPolicy;
  /**
   * Create a customer-managed KMS key (rotated yearly) for the cluster, the SCRAM secret and the log groups.
   * @default false
   */
  readonly customerManagedKey?: boolean;
  /**
   * Open the brokers' SASL/SCRAM port (9096) to a security group for the team's own SCRAM clients.
   * @default false
   */
  readonly saslScram?: boolean;
  /**
   * Let a Lambda event source mapping poll the brokers: its network interfaces take the brokers' security group,
   * reach the brokers on the IAM port and call Lambda and STS through interface endpoints.
   * @default false
   */
  readonly eventSourceMapping?: boolean;
}

/**
 * The Kafka clients whose security groups this stack makes; each KafkaClientFunction (the producer, the consumer)
 * makes its own in its stack.
 */
export const CLIENT_ROLES = ['topicAdmin', 'kafkaAdmin'] as const;
export type ClientRole = (typeof CLIENT_ROLES)[number];

/**
 * The VPC (private subnets only, no NAT by default), its flow logs, and the security groups of the brokers
 * and of each Kafka client. The brokers accept the IAM port from the client groups and nothing else.
 */
export class NetworkStack extends Stack {
  readonly vpc: ec2.IVpc;
  readonly brokerSecurityGroup: ec2.SecurityGroup;
  readonly clientSecurityGroups: Record<ClientRole, ec2.SecurityGroup>;
  /** For SASL/SCRAM clients of your own: attach it to them to reach the brokers on 9096. */
  readonly scramClientSecurityGroup?: ec2.SecurityGroup;
  /** The customer-managed key, when asked for. */
  readonly encryptionKey?: kms.Key;
  private readonly azs: string[];

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, props);
    validateNetworkProps(this.node.path, props);

    if (props.vpcId) {
      // By attributes: an existing VPC's subnets are known from config, and synth stays credential-free.
      this.azs = props.availabilityZones;
      this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
        vpcId: props.vpcId,
        availabilityZones: props.availabilityZones,
        privateSubnetIds: props.privateSubnetIds,
      });
      for (const subnet of this.vpc.privateSubnets) {
        Validations.of(subnet).acknowledge({
          id: 'Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId',
          reason:
            'Nothing here reads route tables: the functions and brokers talk inside the VPC, no gateway endpoints',
        });
      }
    } else {
      this.azs = this.chooseAvailabilityZones(props);
      this.vpc = this.newVpc(props);
    }

    this.brokerSecurityGroup = new ec2.SecurityGroup(this, 'BrokerSecurityGroup', {
      vpc: this.vpc,
      description: 'MSK brokers: IAM/TLS port from the project functions only',
      allowAllOutbound: false,
    });
    // No egress: brokers reach each other and MSK's controllers outside this group.

    const descriptions: Record<ClientRole, string> = {
      topicAdmin: 'Topic-bootstrap function: to the brokers IAM port only',
      kafkaAdmin: 'Read-only kafka-admin function: to the brokers IAM port only',
    };
    const groups = {} as Record<ClientRole, ec2.SecurityGroup>;
    for (const role of CLIENT_ROLES) {
      const sg = new ec2.SecurityGroup(this, `${role[0].toUpperCase()}${role.slice(1)}SecurityGroup`, {
        vpc: this.vpc,
        description: descriptions[role],
        allowAllOutbound: false,
      });
      allowOnlyTo(sg, this.brokerSecurityGroup, MSK_IAM_PORT, `${role} to MSK brokers (IAM)`);
      groups[role] = sg;
    }
    this.clientSecurityGroups = groups;

    if (props.saslScram) {
      this.scramClientSecurityGroup = new ec2.SecurityGroup(this, 'ScramClientSecurityGroup', {
        vpc: this.vpc,
        description: 'Your SASL/SCRAM clients: to the brokers SCRAM port only',
        allowAllOutbound: false,
      });
      allowOnlyTo(
        this.scramClientSecurityGroup,
        this.brokerSecurityGroup,
        MSK_PORTS.saslScram,
        'SCRAM clients to MSK brokers',
      );
    }
    if (props.eventSourceMapping) this.addEventSourceMappingNetwork();
    if (props.customerManagedKey) {
      this.encryptionKey = new ProjectKey(this, 'EncryptionKey', { removalPolicy: props.removalPolicy }).key;
    }
    if (props.removalPolicy === RemovalPolicy.RETAIN) this.retainWhatTheClusterPins();
  }

  /** Chosen at deploy time: Fn::GetAZs could pick a zone MSK refuses (use1-az3) (docs/deploy.md). */
  private chooseAvailabilityZones(props: NetworkStackProps): string[] {
    return props.availabilityZones.length > 0
      ? props.availabilityZones
      : new AvailabilityZones(this, 'AvailabilityZones', {
          azCount: props.azCount,
          logRetentionDays: props.logRetentionDays,
          removalPolicy: props.removalPolicy,
        }).names;
  }

  /** The project's own VPC: private subnets only (public ones with NAT when asked), flow logs of all traffic. */
  private newVpc(props: NetworkStackProps): ec2.Vpc {
    const natGateways = props.natGateways ?? 0;
    const vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(props.vpcCidr),
      maxAzs: props.azCount,
      natGateways,
      subnetConfiguration: [
        ...(natGateways > 0 ? [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }] : []),
        {
          name: 'private',
          subnetType: natGateways > 0 ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PRIVATE_ISOLATED,
          cidrMask: 22,
        },
      ],
      restrictDefaultSecurityGroup: true,
    });

    if (props.availabilityZones.length > 0) {
      for (const subnet of vpc.privateSubnets.concat(vpc.isolatedSubnets, vpc.publicSubnets)) {
        Validations.of(subnet).acknowledge({
          id: 'CloudFormation-Validate::W3010',
          reason: 'AZ names are set in config on purpose',
        });
      }
    }

    this.keepDefaultSecurityGroupLogs(props);

    const flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: props.removalPolicy,
    });
    vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });

    return vpc;
  }

  /**
   * A retained cluster keeps its network interfaces in the broker subnets and security group, which would fail
   * this stack's deletion with DependencyViolation; they and their VPC stay with it (an existing VPC is not this
   * stack's to delete).
   */
  private retainWhatTheClusterPins(): void {
    const subnets = this.vpc.selectSubnets(this.brokerSubnets).subnets;
    for (const scope of [this.vpc, this.brokerSecurityGroup, ...subnets]) {
      const resource = scope.node.defaultChild;
      if (resource instanceof CfnResource) resource.applyRemovalPolicy(RemovalPolicy.RETAIN);
    }
  }

  /**
   * Gives the CDK-written function behind restrictDefaultSecurityGroup a log group of this stack, with retention
   * and the removal policy, instead of the /aws/lambda/ group Lambda would create and `cdk destroy` leave behind.
   */
  private keepDefaultSecurityGroupLogs(props: NetworkStackProps): void {
    const provider = this.node.tryFindChild('Custom::VpcRestrictDefaultSGCustomResourceProvider');
    const handler = provider?.node.tryFindChild('Handler');
    if (!(handler instanceof CfnResource)) return;
    const logGroup = new logs.LogGroup(this, 'DefaultSecurityGroupRestrictionLogs', {
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: props.removalPolicy,
    });
    handler.addPropertyOverride('LoggingConfig', { LogGroup: logGroup.logGroupName });
    skipCheckovForFrameworkFunction(handler);
  }

  /**
   * An event source mapping in on-demand mode polls from network interfaces in the brokers' subnets and security
   * group, and invokes the function through Lambda's and STS's endpoints (Lambda developer guide, "Configuring your
   * Amazon MSK cluster and Amazon VPC network for Lambda"): no NAT gateway.
   */
  private addEventSourceMappingNetwork(): void {
    const brokers = this.brokerSecurityGroup;
    const description = 'event source mapping pollers to brokers (IAM)';
    brokers.addIngressRule(brokers, ec2.Port.tcp(MSK_IAM_PORT), description);
    // A group cannot name itself in its own properties: this rule is a resource of its own.
    new ec2.CfnSecurityGroupEgress(this, 'BrokerSecurityGroupSelfEgress', {
      groupId: brokers.securityGroupId,
      destinationSecurityGroupId: brokers.securityGroupId,
      ipProtocol: 'tcp',
      fromPort: MSK_IAM_PORT,
      toPort: MSK_IAM_PORT,
      description,
    });
    const endpoints = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.vpc,
      description: 'Lambda and STS interface endpoints: HTTPS from the event source mapping pollers only',
      allowAllOutbound: false,
    });
    allowOnlyTo(brokers, endpoints, 443, 'event source mapping pollers to Lambda and STS');
    for (const [id, service] of [
      ['LambdaEndpoint', ec2.InterfaceVpcEndpointAwsService.LAMBDA],
      ['StsEndpoint', ec2.InterfaceVpcEndpointAwsService.STS],
    ] as const) {
      this.vpc.addInterfaceEndpoint(id, {
        service,
        subnets: this.brokerSubnets,
        securityGroups: [endpoints],
        privateDnsEnabled: true,
        open: false,
      });
    }
  }

  get availabilityZones(): string[] {
    return this.azs;
  }

  /** The private subnets the brokers and functions use. */
  get brokerSubnets(): ec2.SubnetSelection {
    return {
      subnetType:
        this.vpc.isolatedSubnets.length > 0 ? ec2.SubnetType.PRIVATE_ISOLATED : ec2.SubnetType.PRIVATE_WITH_EGRESS,
    };
  }
}

const VPC_ID = /^vpc-([0-9a-f]{8}|[0-9a-f]{17})$/;
const SUBNET_ID = /^subnet-([0-9a-f]{8}|[0-9a-f]{17})$/;
const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
const AZ_NAME = /^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$/;

function validateNetworkProps(path: string, p: NetworkStackProps): void {
  const fail = (key: string, value: unknown, allowed: string): never => {
    throw invalid(path, key, value, allowed);
  };
  if (p.azCount !== 2 && p.azCount !== 3) fail('azCount', p.azCount, '2 or 3 (MSK places brokers in 2 or 3 AZs)');
  validateExistingVpc(fail, p);
  if (p.availabilityZones.length > 0) {
    if (p.availabilityZones.length !== p.azCount) {
      fail(
        'availabilityZones',
        p.availabilityZones,
        `exactly azCount (${p.azCount}) AZ names, or [] to let CloudFormation pick`,
      );
    }
    const bad = p.availabilityZones.find((az) => !AZ_NAME.test(az));
    if (bad !== undefined) fail('availabilityZones', bad, 'AZ names like eu-west-1a');
    if (new Set(p.availabilityZones).size !== p.availabilityZones.length) {
      fail('availabilityZones', p.availabilityZones, 'distinct AZ names');
    }
  }
  if (!Token.isUnresolved(p.vpcCidr)) {
    const m = CIDR.exec(p.vpcCidr);
    const prefix = m ? Number(m[5]) : NaN;
    if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || !(prefix >= 16 && prefix <= 20)) {
      fail('vpcCidr', p.vpcCidr, 'an IPv4 CIDR with a prefix from /16 to /20, e.g. 10.42.0.0/16');
    }
  }
  const nat = p.natGateways ?? 0;
  if (!Number.isInteger(nat) || nat < 0 || nat > p.azCount)
    fail('natGateways', nat, `a whole number from 0 to azCount (${p.azCount})`);
  checkRetention(path, 'logRetentionDays', p.logRetentionDays);
}

/** An existing VPC by attributes: every value is needed at synth, since nothing is looked up. */
function validateExistingVpc(
  fail: (key: string, value: unknown, allowed: string) => never,
  p: NetworkStackProps,
): void {
  const subnets = p.privateSubnetIds ?? [];
  if (!p.vpcId) {
    if (subnets.length > 0) fail('privateSubnetIds', subnets, '[] unless vpcId names an existing VPC');
    return;
  }
  if (!Token.isUnresolved(p.vpcId) && !VPC_ID.test(p.vpcId))
    fail('vpcId', p.vpcId, 'a VPC id like vpc-0123456789abcdef0');
  if (p.availabilityZones.length === 0) {
    fail('availabilityZones', p.availabilityZones, `with vpcId, the azCount (${p.azCount}) AZs of privateSubnetIds`);
  }
  if (subnets.length !== p.azCount) {
    fail('privateSubnetIds', subnets, `with vpcId, exactly azCount (${p.azCount}) subnet ids, one per AZ`);
  }
  const bad = subnets.find((id) => !Token.isUnresolved(id) && !SUBNET_ID.test(id));
  if (bad !== undefined) fail('privateSubnetIds', bad, 'subnet ids like subnet-0123456789abcdef0');
  if (new Set(subnets).size !== subnets.length) fail('privateSubnetIds', subnets, 'distinct subnet ids');
  if ((p.natGateways ?? 0) !== 0)
    fail('natGateways', p.natGateways, '0 with vpcId (the existing VPC keeps its routing)');
}
