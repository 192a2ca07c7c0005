import {
  brokerConfigFor,
  type BrokerSetting,
  formatBrokerConfig,
  IAM_CONNECTION_RATE_KEY,
  IAM_MAX_CONNECTIONS_KEY,
  localBrokerCount,
  parseServerProperties,
  type TwinCluster,
  twinClusterArn,
} from 'msk-twin';
import { durableServerProperties } from '../../lib/constructs/msk-cluster';
import { DEFAULT_IAM_CONNECTION_RATE, iamConnectionRate } from 'msk-catalog';

/** A cluster as the assembly describes it, with the broker configuration the stack writes for its size. */
function cluster(brokerCount: number, azCount: number, extra: Partial<TwinCluster> = {}): TwinCluster {
  const properties = durableServerProperties(brokerCount, {});
  return {
    stack: 'S',
    logicalId: 'Cluster',
    name: 'c1',
    arn: twinClusterArn('c1'),
    serverless: false,
    kafkaVersion: '3.9.x.kraft',
    instanceType: 'kafka.t3.small',
    brokerCount,
    azCount,
    serverProperties: Object.entries(properties)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
    configuration: 'S/Config',
    ...extra,
  };
}

const DEV = cluster(2, 2);
const PROD = cluster(3, 3, { kafkaVersion: '4.1.x.kraft', instanceType: 'kafka.m7g.large' });

function setting(settings: readonly BrokerSetting[], key: string): BrokerSetting | undefined {
  return settings.find((s) => s.key === key);
}

describe('parseServerProperties', () => {
  test.each<[string, string, Record<string, string>]>([
    ['key=value', 'a=b', { a: 'b' }],
    ['spaces around = and at the end', 'a = b  ', { a: 'b' }],
    ['key: value', 'a: b', { a: 'b' }],
    ['key value', 'a b', { a: 'b' }],
    ['comments and blank lines', '# one\n! two\n\n   a=b', { a: 'b' }],
    ['a continuation line', 'a=b\\\n    c', { a: 'bc' }],
    ['= inside the value', 'a=x=y', { a: 'x=y' }],
    ['an escaped = in the key', 'a\\=b=c', { 'a=b': 'c' }],
    ['an empty value', 'a=', { a: '' }],
    ['CRLF line ends', 'a=1\r\nb=2', { a: '1', b: '2' }],
  ])('reads %s', (_name, text, expected) => {
    expect(parseServerProperties(text)).toEqual(expected);
  });
});

describe('brokerConfigFor', () => {
  test('dev on three local brokers runs its deployed settings unchanged, over MSK defaults for the rest', () => {
    expect(brokerConfigFor(DEV, { brokers: 3 }).properties).toEqual({
      'auto.create.topics.enable': 'false',
      'auto.leader.rebalance.enable': 'true',
      'default.replication.factor': '2',
      'delete.topic.enable': 'true',
      'group.initial.rebalance.delay.ms': '3000',
      'hellomsk.twin.iam.connection.rate': '4',
      'listener.name.iam.max.connections': '3000',
      'min.insync.replicas': '1',
      'num.partitions': '3',
      'replica.lag.time.max.ms': '30000',
      'socket.request.max.bytes': '104857600',
      'transaction.state.log.min.isr': '1',
      'transaction.state.log.replication.factor': '2',
      'unclean.leader.election.enable': 'false',
    });
  });

  test('replication above the local broker count is capped, with the reason', () => {
    const { properties, settings } = brokerConfigFor(DEV, { brokers: 1 });
    expect(properties['default.replication.factor']).toBe('1');
    expect(setting(settings, 'default.replication.factor')).toEqual({
      key: 'default.replication.factor',
      deployed: '2',
      source: 'configuration',
      local: '1',
      reason: 'above the 1 local broker(s): capped to 1 (the deployed cluster has 2 brokers)',
    });
    expect(setting(settings, 'transaction.state.log.replication.factor')?.local).toBe('1');
    expect(setting(settings, 'min.insync.replicas')).toEqual({
      key: 'min.insync.replicas',
      deployed: '1',
      source: 'configuration',
      local: '1',
      reason: undefined,
    });
  });

  test('min.insync.replicas follows a capped replication factor down, or no acks=all write could succeed', () => {
    const { properties, settings } = brokerConfigFor(PROD, { brokers: 1 });
    expect(properties).toMatchObject({
      'default.replication.factor': '1',
      'min.insync.replicas': '1',
      'transaction.state.log.replication.factor': '1',
      'transaction.state.log.min.isr': '1',
    });
    expect(setting(settings, 'min.insync.replicas')?.reason).toBe(
      'above the local default.replication.factor 1: capped to 1, or no acks=all write could succeed',
    );
    expect(brokerConfigFor(PROD, { brokers: 3 }).properties).toMatchObject({
      'default.replication.factor': '3',
      'min.insync.replicas': '2',
    });
  });

  test.each<[string, string, string]>([
    [
      'allow.everyone.if.no.acl.found',
      'true',
      'MSK ignores it under IAM access control (MSK developer guide, "IAM access control"); the twin denies whatever no ACL allows',
    ],
    ['zookeeper.session.timeout.ms', '18000', 'the twin runs KRaft, without ZooKeeper'],
    [
      'num.io.threads',
      '8',
      'sized for a broker host; the local brokers share a small machine and keep their own (only throughput differs)',
    ],
  ])('lists %s (MSK default %s) as not applied: %s', (key, deployed, reason) => {
    const { properties, settings } = brokerConfigFor(DEV, { brokers: 3 });
    expect(properties[key]).toBeUndefined();
    expect(setting(settings, key)).toEqual({ key, deployed, source: 'msk-default', local: undefined, reason });
  });

  test('a key MSK does not accept in a custom configuration is listed, not applied', () => {
    const custom = cluster(2, 2, { serverProperties: 'num.partitions=3\nlisteners=PLAINTEXT://:9092' });
    const { properties, settings } = brokerConfigFor(custom, { brokers: 3 });
    expect(properties.listeners).toBeUndefined();
    expect(setting(settings, 'listeners')?.reason).toBe(
      'MSK does not accept it in a custom configuration (packages/msk-catalog)',
    );
  });

  test('without a configuration, the brokers run MSK defaults: unclean election on, one partition', () => {
    const bare = cluster(3, 3, { serverProperties: undefined, configuration: undefined });
    expect(brokerConfigFor(bare, { brokers: 3 }).properties).toMatchObject({
      'unclean.leader.election.enable': 'true',
      'num.partitions': '1',
      'default.replication.factor': '3',
      'min.insync.replicas': '2',
      'auto.create.topics.enable': 'false',
    });
  });

  test("the group join delay is Kafka's 3 s unless the configuration sets it; tests may shorten it", () => {
    expect(brokerConfigFor(DEV, { brokers: 3 }).properties['group.initial.rebalance.delay.ms']).toBe('3000');
    const short = brokerConfigFor(DEV, { brokers: 3, groupInitialRebalanceDelayMs: 0 });
    expect(setting(short.settings, 'group.initial.rebalance.delay.ms')).toEqual({
      key: 'group.initial.rebalance.delay.ms',
      deployed: '3000',
      source: 'kafka-default',
      local: '0',
      reason: 'shortened on request, for tests that create many groups',
    });
    const configured = cluster(2, 2, { serverProperties: 'group.initial.rebalance.delay.ms=500' });
    expect(
      brokerConfigFor(configured, { brokers: 3, groupInitialRebalanceDelayMs: 0 }).properties[
        'group.initial.rebalance.delay.ms'
      ],
    ).toBe('500');
  });

  test('Express brokers fix replication themselves', () => {
    const express = cluster(3, 3, { instanceType: 'express.m7g.large', serverProperties: 'num.partitions=6' });
    expect(brokerConfigFor(express, { brokers: 3 }).properties).toMatchObject({
      'default.replication.factor': '3',
      'min.insync.replicas': '2',
      'unclean.leader.election.enable': 'false',
      'num.partitions': '6',
    });
  });

  test.each<[string | undefined, { deployed?: string; local?: string; reason?: string }]>([
    ['3.9.x.kraft', { deployed: '3.9.x.kraft', local: '3.9.2' }],
    ['4.1.x.kraft', { deployed: '4.1.x.kraft', local: '4.1.2' }],
    [
      '3.7.x',
      { deployed: '3.7.x', reason: 'no local Apache Kafka release is tested for 3.7.x (tested: 3.9.2, 4.0.2, 4.1.2)' },
    ],
    [undefined, { reason: 'the cluster names no Kafka version (MSK picks it)' }],
  ])('maps MSK version %s to a local Apache Kafka release', (kafkaVersion, expected) => {
    expect(brokerConfigFor(cluster(2, 2, { kafkaVersion }), { brokers: 3 }).kafkaVersion).toEqual(expected);
  });

  test.each<[number | undefined, 1 | 3]>([
    [1, 1],
    [2, 3],
    [3, 3],
    [6, 3],
    [undefined, 3],
  ])('a deployed cluster of %s brokers runs locally on %s', (brokerCount, expected) => {
    expect(localBrokerCount(cluster(2, 2, { brokerCount }))).toBe(expected);
  });

  test.each<[string | undefined, boolean, number, boolean]>([
    ['kafka.t3.small', false, 4, true],
    ['kafka.m5.large', false, 100, true],
    ['kafka.m7g.xlarge', false, 100, true],
    ['express.m7g.large', false, 100, true],
    ['kafka.m8g.large', false, 4, false],
    [undefined, true, 4, false],
  ])(
    "the twin's sign-in validator takes new IAM connections at MSK's rate for %s (serverless %s): %d per second",
    (instanceType, serverless, perSecond, known) => {
      expect(iamConnectionRate(instanceType)).toEqual(
        serverless ? { perSecond: DEFAULT_IAM_CONNECTION_RATE, known: false } : { perSecond, known },
      );
      const plan = brokerConfigFor(cluster(3, 3, { instanceType, serverless }), { brokers: 3 });
      expect(plan.properties[IAM_CONNECTION_RATE_KEY]).toBe(String(perSecond));
      const entry = setting(plan.settings, IAM_CONNECTION_RATE_KEY);
      expect(entry).toMatchObject({ source: 'msk-quota', deployed: String(perSecond), local: String(perSecond) });
      if (known) expect(entry?.reason).toBeUndefined();
      else expect(entry?.reason).toContain('the strictest (4/s)');
    },
  );

  test("the rate is the twin validator's, not Kafka's KIP-612 rate, which delays connections instead of refusing them", () => {
    expect(IAM_CONNECTION_RATE_KEY).toBe('hellomsk.twin.iam.connection.rate');
    const { properties } = brokerConfigFor(PROD, { brokers: 3 });
    expect(
      Object.keys(properties).filter((k) => k.includes('connection.creation') || k.includes('quota.window')),
    ).toEqual([]);
  });

  test.each([
    ['kafka.t3.small', false, undefined],
    ['express.m7g.large', false, undefined],
    [undefined, true, 'MSK Serverless states its connection quotas per cluster'],
  ])(
    "the IAM listener holds MSK's 3000 connections per broker for %s (serverless %s)",
    (instanceType, serverless, reason) => {
      const plan = brokerConfigFor(cluster(3, 3, { instanceType, serverless }), { brokers: 3 });
      expect(IAM_MAX_CONNECTIONS_KEY).toBe('listener.name.iam.max.connections');
      expect(plan.properties[IAM_MAX_CONNECTIONS_KEY]).toBe('3000');
      const entry = setting(plan.settings, IAM_MAX_CONNECTIONS_KEY);
      expect(entry).toMatchObject({ source: 'msk-quota', deployed: '3000', local: '3000' });
      if (reason) expect(entry?.reason).toContain(reason);
      else expect(entry?.reason).toBeUndefined();
    },
  );

  test('formats the plan as a table with the reason for every difference', () => {
    const text = formatBrokerConfig(brokerConfigFor(DEV, { brokers: 1 }), 1);
    expect(text.split('\n')[0]).toBe('MSK 3.9.x.kraft runs locally as Apache Kafka 3.9.2. Local brokers: 1.');
    expect(text).toContain(
      '| default.replication.factor | 2 | configuration | 1 | above the 1 local broker(s): capped to 1 (the deployed cluster has 2 brokers) |',
    );
    expect(text).toContain('| auto.create.topics.enable | false | configuration | false |  |');
  });
});
