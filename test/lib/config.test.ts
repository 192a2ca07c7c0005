import { BASE_CONFIG, closestKey, loadConfig, PROFILES_KEY, type ContextReader } from '../../lib/config';

function reader(context: Record<string, unknown>): ContextReader {
  return { tryGetContext: (key: string) => context[key], getAllContext: () => context };
}

const profiles = { dev: {}, prod: { azCount: 3, instanceType: 'kafka.m7g.large', removalPolicy: 'retain' } };

describe('loadConfig', () => {
  test('uses the dev profile and the base defaults when nothing is given', () => {
    const config = loadConfig(reader({ [PROFILES_KEY]: profiles }));
    expect(config).toEqual({ ...BASE_CONFIG, profile: 'dev' });
  });

  test('the base defaults are the cheap, deletable development cluster', () => {
    expect(BASE_CONFIG).toMatchObject({
      clusterKind: 'provisioned',
      instanceType: 'kafka.t3.small',
      brokersPerAz: 1,
      azCount: 2,
      natGateways: 0,
      ebsVolumeGiB: 10,
      enhancedMonitoring: 'DEFAULT',
      removalPolicy: 'destroy',
    });
  });

  test('applies the named profile over the defaults', () => {
    const config = loadConfig(reader({ [PROFILES_KEY]: profiles, profile: 'prod' }));
    expect(config).toMatchObject({
      profile: 'prod',
      azCount: 3,
      instanceType: 'kafka.m7g.large',
      removalPolicy: 'retain',
    });
    expect(config.ebsVolumeGiB).toBe(BASE_CONFIG.ebsVolumeGiB);
  });

  test('single-key -c overrides win over the profile and are parsed from strings', () => {
    const config = loadConfig(
      reader({
        [PROFILES_KEY]: profiles,
        profile: 'prod',
        azCount: '2',
        availabilityZones: '["eu-west-1a","eu-west-1b"]',
        brokerConfig: '{"log.retention.hours": 24}',
        topics: '[{"name":"orders","partitions":6,"config":{"retention.ms":"86400000"}}]',
      }),
    );
    expect(config.azCount).toBe(2);
    expect(config.availabilityZones).toEqual(['eu-west-1a', 'eu-west-1b']);
    expect(config.brokerConfig).toEqual({ 'log.retention.hours': '24' });
    expect(config.topics).toEqual([
      { name: 'orders', partitions: 6, replicationFactor: undefined, config: { 'retention.ms': '86400000' } },
    ]);
  });

  test('typed values from cdk.json are taken as they are', () => {
    const config = loadConfig(
      reader({ [PROFILES_KEY]: { dev: { ebsVolumeGiB: 20, brokerConfig: { 'num.partitions': 6 } } } }),
    );
    expect(config.ebsVolumeGiB).toBe(20);
    expect(config.brokerConfig).toEqual({ 'num.partitions': '6' });
  });

  test('leaves the context keys of the CDK CLI, feature flags and cached lookups alone', () => {
    const config = loadConfig(
      reader({
        [PROFILES_KEY]: profiles,
        '@aws-cdk/core:enablePartitionLiterals': true,
        'aws:cdk:bundling-stacks': [],
        'aws:cdk:version-reporting': false,
        'acknowledged-issue-numbers': [32775],
        'availability-zones:account=123456789012:region=eu-west-1': ['eu-west-1a'],
      }),
    );
    expect(config.profile).toBe('dev');
  });
});

describe('closestKey', () => {
  const keys = ['profile', 'brokersPerAz', 'kafkaVersion', 'alarmEmail', 'topics', 'azCount'];

  test.each([
    ['brokerPerAz', 'brokersPerAz'],
    ['brokersperaz', 'brokersPerAz'],
    ['brokers-per-az', 'brokersPerAz'],
    ['kafkaVersoin', 'kafkaVersion'],
    ['kafka_version', 'kafkaVersion'],
    ['alarmMail', 'alarmEmail'],
    ['topic', 'topics'],
    ['profil', 'profile'],
    ['azcount', 'azCount'],
  ])('suggests the key meant by %s', (typo, meant) => {
    expect(closestKey(typo, keys)).toBe(meant);
  });

  test.each(['color', 'acknowledged-issue-numbers', 'brokerCount', 'x'])('suggests nothing for %s', (key) => {
    expect(closestKey(key, keys)).toBeUndefined();
  });
});
