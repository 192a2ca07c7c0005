import { ConfigError } from '../../lib/config';
import { buildTestApp } from './synth';

/**
 * Every synth-time validation rule with its exact one-line message: the key, the bad value and what is
 * allowed. Values arrive as `-c key=value` strings, as they do from the command line.
 */
const cases: [string, Record<string, unknown>, string][] = [
  [
    'unknown stage',
    { stage: 'staging' },
    'Config: stage "staging" is not defined in hello-msk:stages; use one of dev, e2e, prod, express',
  ],
  [
    'bad stage name',
    { stage: 'dev env' },
    'Config: stage "dev env" is not valid; allowed: a letter then up to 30 letters, digits or -',
  ],
  [
    'unknown key in a stage',
    { 'hello-msk:stages': { dev: { brokerCount: 2 } } },
    'Config stage "dev" (cdk.json): brokerCount is not a configuration key; use one of clusterKind, kafkaVersion, instanceType, brokersPerAz, azCount, availabilityZones, vpcCidr, vpcId, privateSubnetIds, natGateways, ebsVolumeGiB, ebsMaxVolumeGiB, storageMode, enhancedMonitoring, removalPolicy, logRetentionDays, brokerConfig, topics, demoTopic, consumerGroup, consumer, consumerSchedule, consumerConcurrency, topicRemovalPolicy, topicResource, alarmEmail, encryptionKey, saslScram',
  ],
  [
    'misspelt -c key',
    { brokerPerAz: '2' },
    'Context -c brokerPerAz: brokerPerAz "2" is not a configuration key; did you mean brokersPerAz?',
  ],
  [
    'kebab-case -c key',
    { 'kafka-version': '3.9.x' },
    'Context -c kafka-version: kafka-version "3.9.x" is not a configuration key; did you mean kafkaVersion?',
  ],
  [
    'misspelt stage selector',
    { stag: 'prod' },
    'Context -c stag: stag "prod" is not a configuration key; did you mean stage?',
  ],
  [
    'misspelt stage selector under its former name',
    { profil: 'prod' },
    'Context -c profil: profil "prod" is not a configuration key; did you mean stage?',
  ],
  [
    '-c key that is nothing like a configuration key',
    { color: 'blue' },
    'Context -c color: color "blue" is not a configuration key; use one of stage, clusterKind, kafkaVersion, instanceType, brokersPerAz, azCount, availabilityZones, vpcCidr, vpcId, privateSubnetIds, natGateways, ebsVolumeGiB, ebsMaxVolumeGiB, storageMode, enhancedMonitoring, removalPolicy, logRetentionDays, brokerConfig, topics, demoTopic, consumerGroup, consumer, consumerSchedule, consumerConcurrency, topicRemovalPolicy, topicResource, alarmEmail, encryptionKey, saslScram',
  ],
  [
    'misspelt key in a stage',
    { 'hello-msk:stages': { dev: { kafkaVersoin: '3.9.x' } } },
    'Config stage "dev" (cdk.json): kafkaVersoin is not a configuration key; did you mean kafkaVersion?',
  ],
  [
    'misspelt topic field',
    { topics: '[{"name":"a","partition":1}]' },
    'Context -c topics: topics[0].partition is not a topic field; did you mean partitions?',
  ],
  [
    'number that is not a number',
    { brokersPerAz: 'two' },
    'Context -c brokersPerAz: brokersPerAz "two" is not valid; expected a number',
  ],
  [
    'topics that are not JSON',
    { topics: '[{name:test}]' },
    'Context -c topics: topics "[{name:test}]" is not valid; expected a JSON array of topics',
  ],
  [
    'topic with an unknown field',
    { topics: '[{"name":"a","partitions":1,"retention":"1d"}]' },
    'Context -c topics: topics[0].retention is not a topic field; use name, partitions, replicationFactor, config',
  ],
  [
    'topic without partitions',
    { topics: '[{"name":"a"}]' },
    'Context -c topics: topics[0].partitions is missing; expected a number',
  ],
  [
    'unsupported AZ count',
    { azCount: 4 },
    'HelloMsk-dev-Network: azCount 4 (from -c) is not valid; allowed: 2 or 3 (MSK places brokers in 2 or 3 AZs)',
  ],
  [
    'AZ names that do not match azCount',
    { availabilityZones: '["eu-west-1a"]' },
    'HelloMsk-dev-Network: availabilityZones ["eu-west-1a"] (from -c) is not valid; allowed: exactly azCount (2) AZ names, or [] to let CloudFormation pick',
  ],
  [
    'malformed AZ name',
    { availabilityZones: '["eu-west-1a","west"]' },
    'HelloMsk-dev-Network: availabilityZones "west" (from -c) is not valid; allowed: AZ names like eu-west-1a',
  ],
  [
    'an existing VPC id that is not one',
    {
      vpcId: 'vpc-1',
      availabilityZones: '["eu-west-1a","eu-west-1b"]',
      privateSubnetIds: '["subnet-0123456789abcdef0","subnet-0123456789abcdef1"]',
    },
    'HelloMsk-dev-Network: vpcId "vpc-1" (from -c) is not valid; allowed: a VPC id like vpc-0123456789abcdef0',
  ],
  [
    'an existing VPC without its AZs',
    { vpcId: 'vpc-0123456789abcdef0', privateSubnetIds: '["subnet-0123456789abcdef0","subnet-0123456789abcdef1"]' },
    'HelloMsk-dev-Network: availabilityZones [] (the default) is not valid; allowed: with vpcId, the azCount (2) AZs of privateSubnetIds',
  ],
  [
    'an existing VPC with one subnet for two AZs',
    {
      vpcId: 'vpc-0123456789abcdef0',
      availabilityZones: '["eu-west-1a","eu-west-1b"]',
      privateSubnetIds: '["subnet-0123456789abcdef0"]',
    },
    'HelloMsk-dev-Network: privateSubnetIds ["subnet-0123456789abcdef0"] (from -c) is not valid; allowed: with vpcId, exactly azCount (2) subnet ids, one per AZ',
  ],
  [
    'an existing VPC with a malformed subnet id',
    {
      vpcId: 'vpc-0123456789abcdef0',
      availabilityZones: '["eu-west-1a","eu-west-1b"]',
      privateSubnetIds: '["subnet-0123456789abcdef0","sn-2"]',
    },
    'HelloMsk-dev-Network: privateSubnetIds "sn-2" (from -c) is not valid; allowed: subnet ids like subnet-0123456789abcdef0',
  ],
  [
    'an existing VPC with NAT gateways',
    {
      vpcId: 'vpc-0123456789abcdef0',
      availabilityZones: '["eu-west-1a","eu-west-1b"]',
      privateSubnetIds: '["subnet-0123456789abcdef0","subnet-0123456789abcdef1"]',
      natGateways: 1,
    },
    'HelloMsk-dev-Network: natGateways 1 (from -c) is not valid; allowed: 0 with vpcId (the existing VPC keeps its routing)',
  ],
  [
    'subnet ids without a VPC id',
    { privateSubnetIds: '["subnet-0123456789abcdef0","subnet-0123456789abcdef1"]' },
    'HelloMsk-dev-Network: privateSubnetIds ["subnet-0123456789abcdef0","subnet-0123456789abcdef1"] (from -c) is not valid; allowed: [] unless vpcId names an existing VPC',
  ],
  [
    'VPC CIDR too small',
    { vpcCidr: '10.0.0.0/24' },
    'HelloMsk-dev-Network: vpcCidr "10.0.0.0/24" (from -c) is not valid; allowed: an IPv4 CIDR with a prefix from /16 to /20, e.g. 10.42.0.0/16',
  ],
  [
    'NAT gateways above the AZ count',
    { natGateways: 3 },
    'HelloMsk-dev-Network: natGateways 3 (from -c) is not valid; allowed: a whole number from 0 to azCount (2)',
  ],
  [
    'log retention CloudWatch does not offer',
    { logRetentionDays: 8 },
    'HelloMsk-dev-Network: logRetentionDays 8 (from -c) is not valid; allowed: a CloudWatch Logs retention in days (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)',
  ],
  [
    'unknown cluster kind',
    { clusterKind: 'kubernetes' },
    'HelloMsk-dev-Cluster: clusterKind "kubernetes" (from -c) is not valid; allowed: provisioned or serverless',
  ],
  [
    'serverless with a Kafka version',
    { clusterKind: 'serverless', kafkaVersion: '3.8.x' },
    'HelloMsk-dev-Cluster: kafkaVersion "3.8.x" (from -c) is not valid; allowed: unset ("3.9.x.kraft") with clusterKind serverless: MSK Serverless chooses the Kafka version itself',
  ],
  [
    'serverless with an instance type',
    { clusterKind: 'serverless', instanceType: 'kafka.m7g.large' },
    'HelloMsk-dev-Cluster: instanceType "kafka.m7g.large" (from -c) is not valid; allowed: unset ("kafka.t3.small") with clusterKind serverless: MSK Serverless has no brokers to size',
  ],
  [
    'serverless with brokers per AZ',
    { clusterKind: 'serverless', brokersPerAz: 2 },
    'HelloMsk-dev-Cluster: brokersPerAz 2 (from -c) is not valid; allowed: unset (1) with clusterKind serverless: MSK Serverless has no brokers to size',
  ],
  [
    'serverless with an EBS volume size',
    { clusterKind: 'serverless', ebsVolumeGiB: 100 },
    'HelloMsk-dev-Cluster: ebsVolumeGiB 100 (from -c) is not valid; allowed: unset (10) with clusterKind serverless: MSK Serverless manages storage itself',
  ],
  [
    'serverless with storage auto scaling',
    { clusterKind: 'serverless', ebsMaxVolumeGiB: 100 },
    'HelloMsk-dev-Cluster: ebsMaxVolumeGiB 100 (from -c) is not valid; allowed: unset (10) with clusterKind serverless: MSK Serverless manages storage itself',
  ],
  [
    'serverless with tiered storage',
    { clusterKind: 'serverless', storageMode: 'TIERED' },
    'HelloMsk-dev-Cluster: storageMode "TIERED" (from -c) is not valid; allowed: unset ("LOCAL") with clusterKind serverless: MSK Serverless manages storage itself',
  ],
  [
    'serverless with enhanced monitoring',
    { clusterKind: 'serverless', enhancedMonitoring: 'PER_BROKER' },
    'HelloMsk-dev-Cluster: enhancedMonitoring "PER_BROKER" (from -c) is not valid; allowed: unset ("DEFAULT") with clusterKind serverless: MSK Serverless publishes its DEFAULT-level metrics only',
  ],
  [
    'serverless with broker settings',
    { clusterKind: 'serverless', brokerConfig: '{"num.partitions":"6"}' },
    'HelloMsk-dev-Cluster: brokerConfig {"num.partitions":"6"} (from -c) is not valid; allowed: unset ({}) with clusterKind serverless: MSK Serverless sets every broker property itself',
  ],
  [
    'serverless with SASL/SCRAM and its customer-managed key: both named at once',
    { clusterKind: 'serverless', encryptionKey: 'customer-managed', saslScram: 'true' },
    'HelloMsk-dev-Cluster: 2 settings do not apply with clusterKind serverless (from -c); unset each (-c KEY=unset) or change it: saslScram true (from -c): MSK Serverless accepts IAM clients only; encryptionKey "customer-managed" (from -c): MSK Serverless encrypts at rest with a key MSK owns; AWS::MSK::ServerlessCluster takes none',
  ],
  [
    'serverless with a customer-managed key',
    { clusterKind: 'serverless', encryptionKey: 'customer-managed' },
    'HelloMsk-dev-Cluster: encryptionKey "customer-managed" (from -c) is not valid; allowed: unset ("aws-managed") with clusterKind serverless: MSK Serverless encrypts at rest with a key MSK owns; AWS::MSK::ServerlessCluster takes none',
  ],
  [
    'serverless topic with a replication factor other than 3',
    { clusterKind: 'serverless', topics: '[{"name":"t","partitions":1,"replicationFactor":2}]', demoTopic: 't' },
    'HelloMsk-dev-Cluster/Topics: topic "t": replicationFactor 2 is not valid; allowed: 3 (MSK Serverless replicates every topic three times)',
  ],
  [
    'serverless topic with a setting MSK Serverless does not let clients set',
    {
      clusterKind: 'serverless',
      topics: '[{"name":"t","partitions":1,"config":{"segment.bytes":"1048576"}}]',
      demoTopic: 't',
    },
    'HelloMsk-dev-Cluster/Topics: topic "t": config segment.bytes is not valid on MSK Serverless; allowed: cleanup.policy, compression.type, max.message.bytes, message.timestamp.difference.max.ms, message.timestamp.type, retention.bytes, retention.ms',
  ],
  [
    'serverless topic with its own min.insync.replicas',
    {
      clusterKind: 'serverless',
      topics: '[{"name":"t","partitions":1,"config":{"min.insync.replicas":"1"}}]',
      demoTopic: 't',
    },
    'HelloMsk-dev-Cluster/Topics: topic "t": config min.insync.replicas is not valid on MSK Serverless; allowed: cleanup.policy, compression.type, max.message.bytes, message.timestamp.difference.max.ms, message.timestamp.type, retention.bytes, retention.ms',
  ],
  [
    'serverless topic with messages above 8 MiB',
    {
      clusterKind: 'serverless',
      topics: '[{"name":"t","partitions":1,"config":{"max.message.bytes":"8388609"}}]',
      demoTopic: 't',
    },
    'HelloMsk-dev-Cluster/Topics: topic "t": config max.message.bytes "8388609" is not valid; allowed: up to 8388608 (8 MiB) on MSK Serverless',
  ],
  [
    'serverless topics above the partition quota',
    {
      clusterKind: 'serverless',
      topics: '[{"name":"t","partitions":2000},{"name":"u","partitions":401}]',
      demoTopic: 't',
    },
    'HelloMsk-dev-Cluster/Topics: topics: 2401 partitions of non-compacted topics is not valid; allowed: at most 2400 per MSK Serverless cluster (its quota)',
  ],
  [
    'serverless compacted topics above the compacted-partition quota',
    {
      clusterKind: 'serverless',
      topics:
        '[{"name":"t","partitions":100,"config":{"cleanup.policy":"compact"}},{"name":"u","partitions":21,"config":{"cleanup.policy":"compact,delete"}}]',
      demoTopic: 't',
    },
    'HelloMsk-dev-Cluster/Topics: topics: 121 partitions of compacted topics is not valid; allowed: at most 120 per MSK Serverless cluster (its quota)',
  ],
  [
    'Express brokers with an EBS volume size',
    { stage: 'express', ebsVolumeGiB: 100 },
    'HelloMsk-express-Cluster: ebsVolumeGiB 100 (from -c) is not valid; allowed: unset (10) on express.m7g.large: Express brokers manage their storage themselves',
  ],
  [
    'Express brokers on Kafka 3.9 in ZooKeeper mode',
    { stage: 'express', kafkaVersion: '3.9.x' },
    'HelloMsk-express-Cluster/Cluster: kafkaVersion "3.9.x" (from -c) is not valid; allowed: for Express brokers one of 3.6.0, 3.8.x, 3.9.x.kraft',
  ],
  [
    'Express topic with a replication factor other than 3',
    { stage: 'express', topics: '[{"name":"t","partitions":1,"replicationFactor":2}]', demoTopic: 't' },
    'HelloMsk-express-Cluster/Topics: topic "t": replicationFactor 2 is not valid; allowed: 3 (Express brokers replicate every topic three times)',
  ],
  [
    'Express topic with min.insync.replicas other than 2',
    {
      stage: 'express',
      topics: '[{"name":"t","partitions":1,"config":{"min.insync.replicas":"1"}}]',
      demoTopic: 't',
    },
    'HelloMsk-express-Cluster/Topics: topic "t": config min.insync.replicas "1" is not valid; allowed: 2 or unset (fixed by Express brokers)',
  ],
  [
    'a value a stage set, named as coming from that stage',
    { stage: 'prod', instanceType: 'kafka.t3.small' },
    'HelloMsk-prod-Cluster/Cluster: kafkaVersion "4.1.x.kraft" (from stage "prod" in cdk.json) is not valid; allowed: 3.9.x.kraft or earlier on kafka.t3.small (MSK offers Kafka 4 on kafka.m5 and kafka.m7g brokers)',
  ],
  [
    'the prod stage switched to MSK Serverless: every key that does not apply, in one message',
    { stage: 'prod', clusterKind: 'serverless' },
    'HelloMsk-prod-Cluster: 6 settings do not apply with clusterKind serverless (from -c); unset each (-c KEY=unset) or change it: kafkaVersion "4.1.x.kraft" (from stage "prod" in cdk.json): MSK Serverless chooses the Kafka version itself; instanceType "kafka.m7g.large" (from stage "prod" in cdk.json): MSK Serverless has no brokers to size; ebsVolumeGiB 100 (from stage "prod" in cdk.json): MSK Serverless manages storage itself; ebsMaxVolumeGiB 1000 (from stage "prod" in cdk.json): MSK Serverless manages storage itself; enhancedMonitoring "PER_BROKER" (from stage "prod" in cdk.json): MSK Serverless publishes its DEFAULT-level metrics only; topics (from stage "prod" in cdk.json): topic "test-topic": config min.insync.replicas is not valid on MSK Serverless; allowed: cleanup.policy, compression.type, max.message.bytes, message.timestamp.difference.max.ms, message.timestamp.type, retention.bytes, retention.ms',
  ],
  [
    'brokers not a whole number per AZ',
    { brokersPerAz: 1.5 },
    'HelloMsk-dev-Cluster/Cluster: brokersPerAz 1.5 (from -c) is not valid; allowed: a whole number >= 1 (MSK puts the same number of brokers in every AZ)',
  ],
  [
    'zero brokers per AZ',
    { brokersPerAz: 0 },
    'HelloMsk-dev-Cluster/Cluster: brokersPerAz 0 (from -c) is not valid; allowed: a whole number >= 1 (MSK puts the same number of brokers in every AZ)',
  ],
  [
    'too many brokers',
    { brokersPerAz: 31 },
    'HelloMsk-dev-Cluster/Cluster: brokersPerAz 31 (from -c) is not valid; allowed: at most 30 with 2 AZs (60 brokers per 3.9.x.kraft cluster)',
  ],
  [
    'Kafka 4 without kraft',
    { kafkaVersion: '4.0.x' },
    'HelloMsk-dev-Cluster/Cluster: kafkaVersion "4.0.x" (from -c) is not valid; allowed: a KRaft version for Kafka 4 (e.g. 4.0.x.kraft)',
  ],
  [
    'unknown Kafka version',
    { kafkaVersion: '3.5.1' },
    'HelloMsk-dev-Cluster/Cluster: kafkaVersion "3.5.1" (from -c) is not valid; allowed: one of 3.6.0, 3.7.x, 3.7.x.kraft, 3.8.x, 3.8.x.kraft, 3.9.x, 3.9.x.kraft, 4.0.x.kraft, 4.1.x.kraft',
  ],
  [
    'instance type without kafka. prefix',
    { instanceType: 'm5.large' },
    'HelloMsk-dev-Cluster/Cluster: instanceType "m5.large" (from -c) is not valid; allowed: a type starting with "kafka." (Standard) or "express." (Express), e.g. kafka.t3.small',
  ],
  [
    'unknown instance type',
    { instanceType: 'kafka.m5.huge' },
    'HelloMsk-dev-Cluster/Cluster: instanceType "kafka.m5.huge" (from -c) is not valid; allowed: one of kafka.t3.small, kafka.m5.large, kafka.m5.xlarge, kafka.m5.2xlarge, kafka.m5.4xlarge, kafka.m5.8xlarge, kafka.m5.12xlarge, kafka.m5.16xlarge, kafka.m5.24xlarge, kafka.m7g.large, kafka.m7g.xlarge, kafka.m7g.2xlarge, kafka.m7g.4xlarge, kafka.m7g.8xlarge, kafka.m7g.12xlarge, kafka.m7g.16xlarge, express.m7g.large, express.m7g.xlarge, express.m7g.2xlarge, express.m7g.4xlarge, express.m7g.8xlarge, express.m7g.12xlarge, express.m7g.16xlarge',
  ],
  [
    'EBS size below 1',
    { ebsVolumeGiB: 0 },
    'HelloMsk-dev-Cluster/Cluster: ebsVolumeGiB 0 (from -c) is not valid; allowed: a whole number from 1 to 16384',
  ],
  [
    'EBS size above 16384',
    { ebsVolumeGiB: 16385 },
    'HelloMsk-dev-Cluster/Cluster: ebsVolumeGiB 16385 (from -c) is not valid; allowed: a whole number from 1 to 16384',
  ],
  [
    'storage ceiling below the volume size',
    { ebsVolumeGiB: 100, ebsMaxVolumeGiB: 50 },
    'HelloMsk-dev-Cluster/Cluster: ebsMaxVolumeGiB 50 (from -c) is not valid; allowed: a whole number from ebsVolumeGiB (100) to 16384',
  ],
  [
    'unknown storage mode',
    { storageMode: 'S3' },
    'HelloMsk-dev-Cluster/Cluster: storageMode "S3" (from -c) is not valid; allowed: LOCAL or TIERED',
  ],
  [
    'tiered storage on kafka.t3.small',
    { storageMode: 'TIERED' },
    'HelloMsk-dev-Cluster/Cluster: storageMode "TIERED" (from -c) is not valid; allowed: LOCAL on kafka.t3.small (tiered storage needs a kafka.m5 or kafka.m7g broker)',
  ],
  [
    'Express brokers in two AZs',
    { instanceType: 'express.m7g.large', kafkaVersion: '3.8.x' },
    'HelloMsk-dev-Cluster/Cluster: azCount 2 (the default) is not valid; allowed: 3 for Express brokers',
  ],
  [
    'Express brokers with tiered storage',
    {
      instanceType: 'express.m7g.large',
      kafkaVersion: '3.8.x',
      azCount: 3,
      storageMode: 'TIERED',
    },
    'HelloMsk-dev-Cluster/Cluster: storageMode "TIERED" (from -c) is not valid; allowed: LOCAL for Express brokers (they manage storage themselves)',
  ],
  [
    'Express brokers on a version Express does not run',
    { instanceType: 'express.m7g.large', kafkaVersion: '3.7.x', azCount: 3 },
    'HelloMsk-dev-Cluster/Cluster: kafkaVersion "3.7.x" (from -c) is not valid; allowed: for Express brokers one of 3.6.0, 3.8.x, 3.9.x.kraft',
  ],
  [
    'Express brokers with storage auto scaling',
    {
      instanceType: 'express.m7g.large',
      kafkaVersion: '3.8.x',
      azCount: 3,
      ebsMaxVolumeGiB: 100,
    },
    'HelloMsk-dev-Cluster/Cluster: ebsMaxVolumeGiB 100 (from -c) is not valid; allowed: equal to ebsVolumeGiB (10): Express brokers have no EBS to scale',
  ],
  [
    'unknown enhanced monitoring level',
    { enhancedMonitoring: 'FULL' },
    'HelloMsk-dev-Cluster/Cluster: enhancedMonitoring "FULL" (from -c) is not valid; allowed: DEFAULT, PER_BROKER, PER_TOPIC_PER_BROKER, PER_TOPIC_PER_PARTITION',
  ],
  [
    'broker setting MSK does not accept',
    { brokerConfig: '{"log.dirs":"/tmp"}' },
    'HelloMsk-dev-Cluster/Cluster: brokerConfig "log.dirs" (from -c) is not valid; allowed: a property MSK accepts in a custom configuration for Standard brokers (listed in packages/msk-catalog)',
  ],
  [
    'broker setting Express does not accept',
    {
      instanceType: 'express.m7g.large',
      kafkaVersion: '3.8.x',
      azCount: 3,
      brokerConfig: '{"min.insync.replicas":"1"}',
    },
    'HelloMsk-dev-Cluster/Cluster: brokerConfig "min.insync.replicas" (from -c) is not valid; allowed: a property MSK accepts in a custom configuration for Express brokers (listed in packages/msk-catalog)',
  ],
  [
    'default replication factor above the broker count',
    { brokerConfig: '{"default.replication.factor":"3"}' },
    'HelloMsk-dev-Cluster/Cluster: brokerConfig.default.replication.factor "3" (from -c) is not valid; allowed: 1 to the broker count (2)',
  ],
  [
    'min.insync.replicas not below the replication factor',
    { brokerConfig: '{"min.insync.replicas":"2"}' },
    'HelloMsk-dev-Cluster/Cluster: brokerConfig.min.insync.replicas "2" (from -c) is not valid; allowed: 1 (below the replication factor 2, so one broker may be down)',
  ],
  [
    'topic name Kafka rejects',
    { topics: '[{"name":"hello msk","partitions":1}]' },
    'HelloMsk-dev-Cluster/Topics: topic name "hello msk" has characters Kafka rejects; use only a-z A-Z 0-9 . _ -',
  ],
  [
    'topic name longer than 249',
    { topics: JSON.stringify([{ name: 'a'.repeat(250), partitions: 1 }]) },
    `HelloMsk-dev-Cluster/Topics: topic name "${'a'.repeat(250)}" is 250 characters; at most 249 are allowed`,
  ],
  [
    'topic name reserved for internal topics',
    { topics: '[{"name":"__consumer_offsets","partitions":1}]' },
    'HelloMsk-dev-Cluster/Topics: topic name "__consumer_offsets" starts with "__", which Kafka reserves for internal topics',
  ],
  [
    'partitions below 1',
    { topics: '[{"name":"t","partitions":0}]' },
    'HelloMsk-dev-Cluster/Topics: topic "t": partitions 0 is not valid; allowed: a whole number >= 1',
  ],
  [
    'replication factor above the broker count',
    { topics: '[{"name":"t","partitions":1,"replicationFactor":3}]' },
    'HelloMsk-dev-Cluster/Topics: topic "t": replicationFactor 3 is above the broker count 2; allowed: 1 to 2',
  ],
  [
    'duplicate topic names',
    { topics: '[{"name":"t","partitions":1},{"name":"t","partitions":2}]' },
    'HelloMsk-dev-Cluster/Topics: topic "t" is declared twice (or collides with another name that differs only in . and _)',
  ],
  [
    'topic names colliding on . and _',
    { topics: '[{"name":"a.b","partitions":1},{"name":"a_b","partitions":1}]' },
    'HelloMsk-dev-Cluster/Topics: topic "a_b" is declared twice (or collides with another name that differs only in . and _)',
  ],
  [
    'unknown topic config key',
    { topics: '[{"name":"t","partitions":1,"config":{"retention.days":"7"}}]' },
    'HelloMsk-dev-Cluster/Topics: topic "t": config retention.days is not a topic-level configuration key (see the Kafka topic configs; e.g. retention.ms, cleanup.policy)',
  ],
  [
    'invalid topic config value',
    {
      topics: '[{"name":"t","partitions":1,"config":{"cleanup.policy":"archive"}}]',
    },
    'HelloMsk-dev-Cluster/Topics: topic "t": config cleanup.policy has value "archive"; allowed: delete, compact or compact,delete',
  ],
  [
    'topic min.insync.replicas not below its replication factor',
    {
      topics: '[{"name":"t","partitions":1,"config":{"min.insync.replicas":"2"}}]',
    },
    'HelloMsk-dev-Cluster/Topics: topic "t": min.insync.replicas 2 is not valid; allowed: 1 (below the replication factor 2, so one broker may be down)',
  ],
  [
    'unknown removal policy',
    { removalPolicy: 'snapshot' },
    'Config: removalPolicy "snapshot" (from -c) is not valid; allowed: destroy or retain',
  ],
  [
    'unknown topic removal policy',
    { topicRemovalPolicy: 'delete' },
    'HelloMsk-dev-Cluster: topicRemovalPolicy "delete" (from -c) is not valid; allowed: destroy or retain',
  ],
  [
    'unknown topic resource',
    { topicResource: 'cfn' },
    'HelloMsk-dev-Cluster/Topics: topicResource "cfn" (from -c) is not valid; allowed: custom or native',
  ],
  [
    'the native topic resource on MSK Serverless',
    { clusterKind: 'serverless', topicResource: 'native' },
    'HelloMsk-dev-Cluster/Topics: topicResource "native" (from -c) is not valid; allowed: custom with clusterKind serverless (AWS::MSK::Topic works on provisioned clusters only)',
  ],
  [
    'demo topic that is not declared',
    { demoTopic: 'orders' },
    'HelloMsk-dev-Clients: demoTopic "orders" (from -c) is not valid; allowed: one of the declared topics (test-topic)',
  ],
  [
    'consumer group with a colon',
    { consumerGroup: 'team:demo' },
    'HelloMsk-dev-Clients: consumerGroup "team:demo" (from -c) is not valid; allowed: letters, digits, . _ - (up to 249 characters)',
  ],
  [
    'consumer schedule EventBridge rejects',
    { consumerSchedule: 'every 5 minutes' },
    'HelloMsk-dev-Clients: consumerSchedule "every 5 minutes" (from -c) is not valid; allowed: rate(1 minute), rate(N minutes), rate(1 hour), rate(N hours), cron(...) or off',
  ],
  [
    'consumer schedule with a wrong unit',
    { consumerSchedule: 'rate(5 minute)' },
    'HelloMsk-dev-Clients: consumerSchedule "rate(5 minute)" (from -c) is not valid; allowed: rate(1 minute), rate(N minutes), rate(1 hour), rate(N hours), cron(...) or off',
  ],
  [
    'consumer concurrency out of range',
    { consumerConcurrency: 11 },
    'HelloMsk-dev-Clients: consumerConcurrency 11 (from -c) is not valid; allowed: a whole number from 0 (unreserved) to 10',
  ],
  [
    'Kafka 4 on kafka.t3.small',
    { kafkaVersion: '4.1.x.kraft' },
    'HelloMsk-dev-Cluster/Cluster: kafkaVersion "4.1.x.kraft" (from -c) is not valid; allowed: 3.9.x.kraft or earlier on kafka.t3.small (MSK offers Kafka 4 on kafka.m5 and kafka.m7g brokers)',
  ],
  [
    'unknown encryption key choice',
    { encryptionKey: 'mine' },
    'HelloMsk-dev-Cluster: encryptionKey "mine" (from -c) is not valid; allowed: aws-managed or customer-managed',
  ],
  [
    'SASL/SCRAM with the AWS managed key',
    { saslScram: 'true' },
    'HelloMsk-dev-Cluster: saslScram true (from -c) is not valid; allowed: false, or true with encryptionKey customer-managed (MSK refuses SCRAM secrets under the AWS managed key)',
  ],
];

function errorOf(context: Record<string, unknown>): Error | undefined {
  try {
    buildTestApp(context);
    return undefined;
  } catch (e) {
    return e as Error;
  }
}

describe('synth-time validation', () => {
  test.each(cases)('rejects %s', (_name, context, message) => {
    const error = errorOf(context);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error?.message).toBe(message);
  });

  test.each(cases)('gives a one-line message for %s', (_name, context) => {
    expect(errorOf(context)?.message).toMatch(/^[^\n]+$/);
  });

  test('accepts the dev, prod and express stages as shipped', () => {
    expect(errorOf({ stage: 'dev' })).toBeUndefined();
    expect(errorOf({ stage: 'prod' })).toBeUndefined();
    expect(errorOf({ stage: 'express' })).toBeUndefined();
  });

  test('accepts the prod stage on MSK Serverless once the keys it names are unset with -c KEY=unset', () => {
    const unset = ['kafkaVersion', 'instanceType', 'ebsVolumeGiB', 'ebsMaxVolumeGiB', 'enhancedMonitoring', 'topics'];
    const context = { stage: 'prod', clusterKind: 'serverless', ...Object.fromEntries(unset.map((k) => [k, 'unset'])) };
    expect(errorOf(context)).toBeUndefined();
  });

  test('accepts MSK Serverless with the dev settings, and with its own topic settings', () => {
    expect(errorOf({ clusterKind: 'serverless' })).toBeUndefined();
    const topics = [
      { name: 'events', partitions: 2400, config: { 'retention.ms': '-1', 'max.message.bytes': '8388608' } },
      { name: 'state', partitions: 120, replicationFactor: 3, config: { 'cleanup.policy': 'compact' } },
    ];
    expect(errorOf({ clusterKind: 'serverless', topics: JSON.stringify(topics), demoTopic: 'events' })).toBeUndefined();
  });
});
