import { EnvironmentError, intEnv, readKafkaSettings, requireEnv } from '../../lambda/shared/env';

describe('readKafkaSettings', () => {
  test('reads brokers and plaintext auth for a local broker', () => {
    expect(readKafkaSettings({ KAFKA_BROKERS: '127.0.0.1:9092, localhost:9093', KAFKA_AUTH: 'none' })).toEqual({
      brokers: ['127.0.0.1:9092', 'localhost:9093'],
      auth: 'none',
    });
  });

  test('reads IAM auth with the function region', () => {
    expect(
      readKafkaSettings({
        KAFKA_BROKERS: 'b-1.c.kafka.eu-west-1.amazonaws.com:9098',
        KAFKA_AUTH: 'iam',
        AWS_REGION: 'eu-west-1',
      }),
    ).toEqual({ brokers: ['b-1.c.kafka.eu-west-1.amazonaws.com:9098'], auth: 'iam', region: 'eu-west-1' });
  });

  test.each([
    [{}, 'Environment variable KAFKA_BROKERS is not set'],
    [{ KAFKA_BROKERS: '  ' }, 'Environment variable KAFKA_BROKERS is not set'],
    [
      { KAFKA_BROKERS: 'localhost' },
      'Environment variable KAFKA_BROKERS has "localhost"; expected host:port[,host:port...]',
    ],
    [
      { KAFKA_BROKERS: 'a:9092,b:99999' },
      'Environment variable KAFKA_BROKERS has "b:99999"; expected host:port[,host:port...]',
    ],
    [{ KAFKA_BROKERS: 'a:9092' }, 'Environment variable KAFKA_AUTH is not set'],
    [
      { KAFKA_BROKERS: 'a:9092', KAFKA_AUTH: 'scram' },
      'Environment variable KAFKA_AUTH is "scram"; expected iam or none',
    ],
    [{ KAFKA_BROKERS: 'a:9098', KAFKA_AUTH: 'iam' }, 'Environment variable AWS_REGION is not set'],
  ])('fails fast on %j', (env, message) => {
    expect(() => readKafkaSettings(env)).toThrow(new EnvironmentError(message));
  });
});

describe('requireEnv and intEnv', () => {
  test('requireEnv names the missing variable', () => {
    expect(() => requireEnv('TOPIC', {})).toThrow('Environment variable TOPIC is not set');
    expect(requireEnv('TOPIC', { TOPIC: 'test-topic' })).toBe('test-topic');
  });

  test('intEnv takes the default, a whole number, or fails naming the variable', () => {
    expect(intEnv('N', 7, {})).toBe(7);
    expect(intEnv('N', 7, { N: '12' })).toBe(12);
    expect(() => intEnv('N', 7, { N: '1.5' })).toThrow('Environment variable N is "1.5"; expected a whole number >= 1');
  });
});
