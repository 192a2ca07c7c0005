import { App, Aspects, Tags } from 'aws-cdk-lib';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { SkipCheckovForAwsManagedEncryption } from './checkov-suppressions';
import { CfnLintSuppressions } from './cfn-lint-suppressions';
import { ClientsStack, type ClientsStackProps } from './clients-stack';
import { ClusterStack } from './cluster-stack';
import { EncryptLogGroups } from './constructs/encryption';
import { loadConfig, withSourceOf, type AppConfig, type LoadOptions } from './config';
import { MonitoringStack } from './monitoring-stack';
import { NetworkStack } from './network-stack';
import { removalPolicyOf } from './validation';

export interface HelloMskStacks {
  readonly config: AppConfig;
  readonly network: NetworkStack;
  readonly cluster: ClusterStack;
  readonly clients: ClientsStack;
  readonly monitoring: MonitoringStack;
}

/**
 * Runs every configuration check before anything is bundled: builds the stacks once in a throwaway App that
 * bundles nothing (CDK's `bundling-stacks` context), with the same context as `app`, and throws the first
 * ConfigError. `app` stays untouched.
 */
export function checkConfiguration(app: App): void {
  buildApp(
    new App({
      autoSynth: false,
      context: app.node.getAllContext() as Record<string, unknown>,
      postCliContext: { [cxapi.BUNDLING_STACKS]: [] },
      analyticsReporting: false,
    }),
  );
}

export interface BuildAppOptions extends Pick<LoadOptions, 'notice'> {
  /** More Kafka client functions in the Clients stack (ClientsStackProps.moreClients). @default none */
  readonly moreClients?: ClientsStackProps['moreClients'];
}

/**
 * Builds every stack of the app from the configuration in the app's context. Stacks are env-agnostic
 * (no account or region lookups), so synth needs no AWS credentials. A ConfigError names where the bad value
 * came from (the default, the stage in cdk.json, cdk.json or `-c`).
 */
export function buildApp(app: App, options: BuildAppOptions = {}): HelloMskStacks {
  const config = loadConfig(app.node, { notice: options.notice });
  try {
    return buildStacks(app, config, options);
  } catch (error) {
    throw withSourceOf(error, config);
  }
}

function buildStacks(app: App, config: AppConfig, options: BuildAppOptions): HelloMskStacks {
  const prefix = `HelloMsk-${config.stage}`;
  const removalPolicy = removalPolicyOf('Config', 'removalPolicy', config.removalPolicy);

  const network = new NetworkStack(app, `${prefix}-Network`, {
    description: 'hello-msk: VPC with private subnets, flow logs and the Kafka security groups',
    azCount: config.azCount,
    availabilityZones: config.availabilityZones,
    vpcCidr: config.vpcCidr,
    vpcId: config.vpcId,
    privateSubnetIds: config.privateSubnetIds,
    natGateways: config.natGateways,
    logRetentionDays: config.logRetentionDays,
    removalPolicy,
    customerManagedKey: config.encryptionKey === 'customer-managed',
    saslScram: config.saslScram,
    eventSourceMapping: config.consumer === 'event-source-mapping',
  });

  const cluster = new ClusterStack(app, `${prefix}-Cluster`, {
    description: 'hello-msk: MSK cluster (TLS + IAM only) and its topics',
    config,
    vpc: network.vpc,
    vpcSubnets: network.brokerSubnets,
    brokerSecurityGroup: network.brokerSecurityGroup,
    topicAdminSecurityGroup: network.clientSecurityGroups.topicAdmin,
    encryptionKey: network.encryptionKey,
  });

  const clients = new ClientsStack(app, `${prefix}-Clients`, {
    description: 'hello-msk: producer and consumer functions (kafkajs) beside the brokers',
    config,
    cluster: cluster.msk,
    bootstrapBrokersParameterName: cluster.endpoint.parameterName,
    vpc: network.vpc,
    vpcSubnets: network.brokerSubnets,
    brokerSecurityGroup: network.brokerSecurityGroup,
    adminSecurityGroup: network.clientSecurityGroups.kafkaAdmin,
    moreClients: options.moreClients,
  });
  // The functions start only after their topic exists.
  clients.addStackDependency(cluster);

  const monitoring = new MonitoringStack(app, `${prefix}-Monitoring`, {
    description: 'hello-msk: CloudWatch dashboard and alarms for the cluster and the functions',
    config,
    cluster: cluster.msk,
    functions: clients.kafkaClients,
    encryptionKey: network.encryptionKey,
  });
  monitoring.addStackDependency(clients);

  Tags.of(app).add('project', 'hello-msk');
  // The tag keeps the stage's former name, so that deployed resources do not change.
  Tags.of(app).add('hello-msk:profile', config.stage);
  Aspects.of(app).add(new CfnLintSuppressions());
  if (network.encryptionKey) Aspects.of(app).add(new EncryptLogGroups(network.encryptionKey));
  else Aspects.of(app).add(new SkipCheckovForAwsManagedEncryption());
  return { config, network, cluster, clients, monitoring };
}
