import {
  BASE_CONFIG,
  closestKey,
  ConfigError,
  loadConfig,
  sourceOf,
  STAGES_KEY,
  type ContextReader,
} from '../../lib/config';

function reader(context: Record<string, unknown>): ContextReader {
  return { tryGetContext: (key: string) => context[key], getAllContext: () => context };
}

const stages = { dev: {}, prod: { azCount: 3, instanceType: 'kafka.m7g.large', removalPolicy: 'retain' } };

describe('loadConfig', () => {
  test('uses the dev stage and the base defaults when nothing is given', () => {
    const config = loadConfig(reader({ [STAGES_KEY]: stages }));
    expect(config).toEqual({ ...BASE_CONFIG, stage: 'dev' });
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

  test('applies the named stage over the defaults', () => {
    const config = loadConfig(reader({ [STAGES_KEY]: stages, stage: 'prod' }));
    expect(config).toMatchObject({
      stage: 'prod',
      azCount: 3,
      instanceType: 'kafka.m7g.large',
      removalPolicy: 'retain',
    });
    expect(config.ebsVolumeGiB).toBe(BASE_CONFIG.ebsVolumeGiB);
  });

  test('single-key -c overrides win over the stage and are parsed from strings', () => {
    const config = loadConfig(
      reader({
        [STAGES_KEY]: stages,
        stage: 'prod',
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
      reader({ [STAGES_KEY]: { dev: { ebsVolumeGiB: 20, brokerConfig: { 'num.partitions': 6 } } } }),
    );
    expect(config.ebsVolumeGiB).toBe(20);
    expect(config.brokerConfig).toEqual({ 'num.partitions': '6' });
  });

  test('leaves the context keys of the CDK CLI, feature flags and cached lookups alone', () => {
    const config = loadConfig(
      reader({
        [STAGES_KEY]: stages,
        '@aws-cdk/core:enablePartitionLiterals': true,
        'aws:cdk:bundling-stacks': [],
        'aws:cdk:version-reporting': false,
        'acknowledged-issue-numbers': [32775],
        'availability-zones:account=123456789012:region=eu-west-1': ['eu-west-1a'],
      }),
    );
    expect(config.stage).toBe('dev');
  });
});

describe('the stage under its former name', () => {
  test('reads -c profile as the stage, with a one-line notice', () => {
    const notices: string[] = [];
    const config = loadConfig(reader({ [STAGES_KEY]: stages, profile: 'prod' }), {
      notice: (line) => notices.push(line),
    });
    expect(config.stage).toBe('prod');
    expect(notices).toEqual(['-c profile is now -c stage; using stage prod']);
  });

  test('reads the stages of a cdk.json that still calls them hello-msk:profiles', () => {
    const notices: string[] = [];
    const config = loadConfig(reader({ 'hello-msk:profiles': stages, stage: 'prod' }), {
      notice: (line) => notices.push(line),
    });
    expect(config.azCount).toBe(3);
    expect(notices).toEqual(['cdk.json: hello-msk:profiles is now hello-msk:stages; reading both']);
  });

  test('refuses -c profile and -c stage that disagree', () => {
    expect(() => loadConfig(reader({ [STAGES_KEY]: stages, stage: 'dev', profile: 'prod' }))).toThrow(
      new ConfigError(
        'Context -c profile: "prod" disagrees with -c stage "dev"; profile is the old name of stage: give only -c stage',
      ),
    );
  });
});

describe('where each value came from', () => {
  test('names the default, the stage in cdk.json, cdk.json and -c', () => {
    const config = loadConfig(reader({ [STAGES_KEY]: stages, stage: 'prod', azCount: '2', vpcCidr: '10.9.0.0/16' }), {
      fileContext: { vpcCidr: '10.9.0.0/16' },
    });
    expect(sourceOf(config, 'ebsVolumeGiB')).toBe('the default');
    expect(sourceOf(config, 'instanceType')).toBe('from stage "prod" in cdk.json');
    expect(sourceOf(config, 'vpcCidr')).toBe('from cdk.json');
    expect(sourceOf(config, 'azCount')).toBe('from -c');
    expect(sourceOf(config, 'stage')).toBe('from -c');
  });

  test('-c key=unset gives a key its default back, whatever the stage set', () => {
    const config = loadConfig(reader({ [STAGES_KEY]: stages, stage: 'prod', instanceType: 'unset' }));
    expect(config.instanceType).toBe(BASE_CONFIG.instanceType);
    expect(config.azCount).toBe(3);
    expect(sourceOf(config, 'instanceType')).toBe('the default');
  });

  test('null in a stage leaves the key at its default', () => {
    const config = loadConfig(reader({ [STAGES_KEY]: { dev: { availabilityZones: null, azCount: 3 } } }));
    expect(config.availabilityZones).toEqual([]);
    expect(sourceOf(config, 'availabilityZones')).toBe('the default');
    expect(sourceOf(config, 'azCount')).toBe('from stage "dev" in cdk.json');
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
