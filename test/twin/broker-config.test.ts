import {
  brokerConfigFor,
  type BrokerSetting,
  clientListeners,
  type ClientAuthentication,
  type EncryptionInTransit,
  formatBrokerConfig,
  IAM_CONNECTION_RATE_KEY,
  IAM_MAX_CONNECTIONS_KEY,
  localBrokerCount,
  parseServerProperties,
  TOPIC_POLICY_CLASS,
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
    clientAuthentication: { iam: true, scram: false, tls: false, unauthenticated: false },
    encryptionInTransit: { clientBroker: 'TLS', inCluster: true },
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

  test.each<[string, string, string, string]>([
    [
      'a key MSK does not accept for Standard brokers',
      'kafka.t3.small',
      'num.partitions=3\nlisteners=PLAINTEXT://:9092',
      'S/Config ServerProperties: listeners=PLAINTEXT://:9092 is not a property MSK accepts for Standard brokers; allowed: allow.everyone.if.no.acl.found, auto.create.topics.enable,',
    ],
    [
      'a Standard key that Express brokers do not accept',
      'express.m7g.large',
      'min.insync.replicas=2',
      'S/Config ServerProperties: min.insync.replicas=2 is not a property MSK accepts for Express brokers; allowed: allow.everyone.if.no.acl.found,',
    ],
    [
      'a boolean that is not true or false',
      'kafka.t3.small',
      'auto.create.topics.enable=yes',
      'S/Config ServerProperties: auto.create.topics.enable=yes is not valid; allowed: true or false',
    ],
    [
      'a replication factor below 1',
      'kafka.t3.small',
      'default.replication.factor=0',
      'S/Config ServerProperties: default.replication.factor=0 is not valid; allowed: a whole number from 1 to 32767',
    ],
    [
      'a cleanup policy Kafka does not know',
      'kafka.t3.small',
      'log.cleanup.policy=forever',
      'S/Config ServerProperties: log.cleanup.policy=forever is not valid; allowed: one of delete, compact, compact,delete, delete,compact',
    ],
  ])('refuses %s, as CreateConfiguration would, in one line', (_name, instanceType, serverProperties, message) => {
    const custom = cluster(3, 3, { instanceType, serverProperties });
    let error: Error | undefined;
    try {
      brokerConfigFor(custom, { brokers: 3 });
    } catch (e) {
      error = e as Error;
    }
    expect(error?.name).toBe('TwinConfigurationError');
    expect(error?.message.startsWith(message)).toBe(true);
    expect(error?.message).not.toContain('\n');
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

  test.each<[number, number]>([
    [1, 1],
    [2, 2],
    [3, 3],
    [6, 6],
  ])('a deployed cluster of %s brokers runs locally on %s', (brokerCount, expected) => {
    expect(localBrokerCount(cluster(2, 2, { brokerCount }))).toBe(expected);
  });

  test('MSK Serverless runs on three local brokers, for the replication factor 3 it gives every topic', () => {
    expect(localBrokerCount(cluster(3, 3, { serverless: true, brokerCount: undefined }))).toBe(3);
  });

  test.each<[number | undefined, string]>([
    [7, 'S/Cluster NumberOfBrokerNodes: 7 brokers; the twin runs at most 6 on one machine'],
    [undefined, 'S/Cluster NumberOfBrokerNodes: undefined is not valid; allowed: a whole number >= 1'],
  ])('a provisioned cluster of %s brokers is refused: %s', (brokerCount, message) => {
    expect(() => localBrokerCount(cluster(2, 2, { brokerCount }))).toThrow(message);
  });

  test.each<[string, Partial<TwinCluster>, false | Record<string, string>]>([
    ['Standard brokers', {}, false],
    [
      'Express brokers',
      { instanceType: 'express.m7g.large', serverProperties: '' },
      {
        'create.topic.policy.class.name': TOPIC_POLICY_CLASS,
        'alter.config.policy.class.name': TOPIC_POLICY_CLASS,
        'msk.twin.topic.policy.kind': 'Express brokers',
        'msk.twin.topic.policy.replication.factor': '3',
        'msk.twin.topic.policy.min.insync.replicas': '2',
      },
    ],
    [
      'MSK Serverless',
      { serverless: true, instanceType: undefined, serverProperties: undefined, configuration: undefined },
      {
        'create.topic.policy.class.name': TOPIC_POLICY_CLASS,
        'alter.config.policy.class.name': TOPIC_POLICY_CLASS,
        'msk.twin.topic.policy.kind': 'MSK Serverless',
        'msk.twin.topic.policy.replication.factor': '3',
        'msk.twin.topic.policy.min.insync.replicas': '2',
        'msk.twin.topic.policy.configs':
          'cleanup.policy,compression.type,max.message.bytes,message.timestamp.difference.max.ms,message.timestamp.type,retention.bytes,retention.ms',
        'msk.twin.topic.policy.max.message.bytes': '8388608',
        'msk.twin.topic.policy.max.partitions': '2400',
      },
    ],
  ])("the brokers' topic policy on %s", (_kind, extra, expected) => {
    const { properties } = brokerConfigFor(cluster(3, 3, extra), { brokers: 3 });
    const policy = Object.fromEntries(
      Object.entries(properties).filter(([k]) => k.includes('.policy.') || k.startsWith('msk.twin.')),
    );
    expect(policy).toEqual(expected === false ? {} : expected);
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
      // Express brokers accept none of the Standard durability keys the fixture writes.
      const express = instanceType?.startsWith('express.') ?? false;
      const plan = brokerConfigFor(
        cluster(3, 3, { instanceType, serverless, ...(express ? { serverProperties: '' } : {}) }),
        { brokers: 3 },
      );
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
      // Express brokers take none of the Standard durability keys.
      const express = instanceType?.startsWith('express.') ? { serverProperties: '' } : {};
      const plan = brokerConfigFor(cluster(3, 3, { instanceType, serverless, ...express }), { brokers: 3 });
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

describe('clientListeners', () => {
  const auth = (set: Partial<ClientAuthentication>): ClientAuthentication => ({
    iam: false,
    scram: false,
    tls: false,
    unauthenticated: false,
    ...set,
  });
  const encryption = (clientBroker: EncryptionInTransit['clientBroker']): EncryptionInTransit => ({
    clientBroker,
    inCluster: true,
  });

  test.each<[string, Partial<TwinCluster>, string[]]>([
    ['IAM over TLS (the dev cluster)', {}, ['iam 9098']],
    [
      'IAM with TLS_PLAINTEXT: a plaintext client listener beside it',
      { encryptionInTransit: encryption('TLS_PLAINTEXT') },
      ['plaintext 9092', 'iam 9098'],
    ],
    ['SCRAM without IAM: no IAM listener', { clientAuthentication: auth({ scram: true }) }, ['scram 9096']],
    ['unauthenticated over TLS', { clientAuthentication: auth({ unauthenticated: true }) }, ['tls 9094 none']],
    [
      'mutual TLS, IAM and SCRAM',
      { clientAuthentication: auth({ tls: true, scram: true, iam: true }) },
      ['tls 9094 required', 'scram 9096', 'iam 9098'],
    ],
    [
      'unauthenticated plaintext only',
      { clientAuthentication: auth({ unauthenticated: true }), encryptionInTransit: encryption('PLAINTEXT') },
      ['plaintext 9092'],
    ],
    ['MSK Serverless: IAM only', { serverless: true }, ['iam 9098']],
  ])('%s', (_name, extra, expected) => {
    const listeners = clientListeners(cluster(2, 2, extra));
    expect(
      listeners.map((l) => `${l.kind} ${l.mskPort}${l.kind === 'tls' ? ` ${l.clientCertificates ?? 'none'}` : ''}`),
    ).toEqual(expected);
  });

  test('IAM over PLAINTEXT is refused in one line, as MSK authenticates over TLS only', () => {
    expect(() => clientListeners(cluster(2, 2, { encryptionInTransit: encryption('PLAINTEXT') }))).toThrow(
      'S/Cluster EncryptionInfo.EncryptionInTransit.ClientBroker: PLAINTEXT with ClientAuthentication.Sasl.Iam is not valid; allowed: TLS or TLS_PLAINTEXT (MSK authenticates clients over TLS only)',
    );
  });
});
