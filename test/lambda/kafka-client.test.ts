import { generateAuthToken } from 'aws-msk-iam-sasl-signer-js';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { lambdaNodeBinary } from 'msk-twin';
import { authorizationFailure } from '../../lambda/shared/authorization';
import {
  connectOnce,
  iamTokenProvider,
  isTooManyConnects,
  kafkaConfig,
  KAFKA_TIMEOUTS,
} from '../../lambda/shared/kafka';

const ROOT = join(__dirname, '..', '..');

const FAKE_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  AWS_SESSION_TOKEN: 'example-session-token',
};

describe('MSK IAM token provider', () => {
  const saved = { ...process.env };
  beforeEach(() => {
    Object.assign(process.env, FAKE_CREDENTIALS);
    delete process.env.AWS_PROFILE;
  });
  afterEach(() => {
    process.env = { ...saved };
  });

  test('returns { value: token } signed locally by the MSK signer', async () => {
    const provide = iamTokenProvider('eu-west-1');
    const response = await provide();
    expect(Object.keys(response)).toEqual(['value']);
    // The token is a base64url-encoded, SigV4-presigned kafka-cluster:Connect URL.
    const url = new URL(Buffer.from(response.value, 'base64url').toString('utf8'));
    expect(url.hostname).toBe('kafka.eu-west-1.amazonaws.com');
    expect(url.searchParams.get('Action')).toBe('kafka-cluster:Connect');
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(
      /^AKIAIOSFODNN7EXAMPLE\/\d{8}\/eu-west-1\/kafka-cluster\/aws4_request$/,
    );
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe('example-session-token');
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
  });

  test('passes only the token to kafkajs, not the signer response object', async () => {
    const generate = jest.fn(() => Promise.resolve({ token: 'signed-token', expiryTime: 1 }));
    await expect(iamTokenProvider('us-east-1', generate)()).resolves.toEqual({ value: 'signed-token' });
    expect(generate).toHaveBeenCalledWith({ region: 'us-east-1' });
  });

  test('signs with the real signer function by default', () => {
    expect(typeof generateAuthToken).toBe('function');
  });
});

describe('kafkaConfig', () => {
  test('uses TLS with SASL/OAUTHBEARER for iam', () => {
    const config = kafkaConfig({ brokers: ['b-1:9098'], auth: 'iam', region: 'eu-west-1' }, 'test');
    expect(config.ssl).toBe(true);
    expect(config.sasl).toMatchObject({ mechanism: 'oauthbearer' });
  });

  test('uses plaintext without SASL for a local broker', () => {
    const config = kafkaConfig({ brokers: ['127.0.0.1:9092'], auth: 'none' }, 'test');
    expect(config.ssl).toBeUndefined();
    expect(config.sasl).toBeUndefined();
  });

  test('bounds connection, request and retry time so a dead broker fails fast', () => {
    const config = kafkaConfig({ brokers: ['127.0.0.1:9092'], auth: 'none' }, 'test');
    expect(config).toMatchObject(KAFKA_TIMEOUTS);
    expect(KAFKA_TIMEOUTS.connectionTimeout).toBeLessThanOrEqual(5000);
    expect(KAFKA_TIMEOUTS.retry.retries).toBeLessThanOrEqual(3);
  });

  test("waits at least 1 s before a retry (AWS's reconnect back-off for MSK IAM clients)", () => {
    expect(KAFKA_TIMEOUTS.retry.initialRetryTime).toBeGreaterThanOrEqual(1000);
    expect(KAFKA_TIMEOUTS.retry.maxRetryTime).toBeGreaterThanOrEqual(KAFKA_TIMEOUTS.retry.initialRetryTime);
  });
});

describe('ignoreNegativeTimeoutWarnings', () => {
  // In its own Node.js 24 process (Lambda's runtime): jest's sandbox has its own `process` object, and Node.js
  // emits warnings through the real one.
  const warningsOf = (ignore: boolean): string[] => {
    const code = [
      "const { ignoreNegativeTimeoutWarnings } = require('./lambda/shared/kafka');",
      ignore ? 'ignoreNegativeTimeoutWarnings();' : '',
      // kafkajs' setTimeout(throttledUntil - Date.now()) before any broker throttled.
      'setTimeout(() => undefined, -1 - Date.now());',
      "process.emitWarning('something else', 'OtherWarning');",
    ].join(' ');
    const result = spawnSync(lambdaNodeBinary(), ['--import', 'tsx', '-e', code], { cwd: ROOT, encoding: 'utf8' });
    expect(result.status).toBe(0);
    return result.stderr.split('\n').flatMap((line) => /^\(node:\d+\) (\w+):/.exec(line)?.slice(1) ?? []);
  };

  test("Node.js 24 warns about kafkajs' negative timer; after the call only other warnings show", () => {
    expect(warningsOf(false)).toEqual(['TimeoutNegativeWarning', 'OtherWarning']);
    expect(warningsOf(true)).toEqual(['OtherWarning']);
  });
});

describe('sign-ins refused over MSK’s connection rate', () => {
  const tooMany = () =>
    new Error('SASL OAUTHBEARER authentication failed: [3f1c2e9a-1b2c-4d5e-8f90-123456789abc]: Too many connects');
  afterEach(() => jest.useRealTimers());

  test('connectOnce backs off at least 1 s and connects again; a refusal for another reason is not retried', async () => {
    jest.useFakeTimers();
    const attempts: number[] = [];
    const connect = jest.fn(async () => {
      attempts.push(Date.now());
      if (attempts.length < 3) throw tooMany();
    });
    const connected = connectOnce(connect, () => undefined)();
    await jest.advanceTimersByTimeAsync(10_000);
    await expect(connected).resolves.toBeUndefined();
    expect(connect).toHaveBeenCalledTimes(3);
    expect(attempts[1] - attempts[0]).toBeGreaterThanOrEqual(1000);
    expect(attempts[2] - attempts[1]).toBeGreaterThanOrEqual(2000);

    const denied = jest.fn(async () => {
      throw new Error('SASL OAUTHBEARER authentication failed: [3f1c2e9a-1b2c-4d5e-8f90-123456789abc]: Access denied');
    });
    await expect(connectOnce(denied, () => undefined)()).rejects.toThrow('Access denied');
    expect(denied).toHaveBeenCalledTimes(1);
  });

  test('gives up after about 15 s of refusals with MSK’s answer', async () => {
    jest.useFakeTimers();
    const connect = jest.fn(async () => {
      throw tooMany();
    });
    const connected = connectOnce(connect, () => undefined)();
    const settled = expect(connected).rejects.toThrow(/Too many connects$/);
    await jest.advanceTimersByTimeAsync(20_000);
    await settled;
    expect(connect.mock.calls.length).toBeGreaterThanOrEqual(3);
    expect(connect.mock.calls.length).toBeLessThanOrEqual(5);
  });

  test('is not reported as a missing kafka-cluster:Connect permission', () => {
    expect(isTooManyConnects(tooMany())).toBe(true);
    expect(
      authorizationFailure(Object.assign(tooMany(), { name: 'KafkaJSSASLAuthenticationError' }), {}),
    ).toBeUndefined();
  });
});
