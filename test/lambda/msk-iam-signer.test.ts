/**
 * The function bundles sign MSK IAM tokens with lambda/shared/msk-iam-signer.ts instead of aws-msk-iam-sasl-signer-js
 * (an esbuild alias). Its tokens must be the signer's, byte for byte, for the same credentials, region and clock:
 * compared here over many generated inputs, on the module and on a bundle built with the functions' settings.
 */
import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { generateAuthToken as signerToken } from 'aws-msk-iam-sasl-signer-js';
import signerPackage from 'aws-msk-iam-sasl-signer-js/package.json';
import { generateAuthToken, SIGNER_VERSION } from '../../lambda/shared/msk-iam-signer';
import { esbuildOptions } from '../../scripts/build-lambdas';

type KafkaModule = typeof import('../../lambda/shared/kafka');

const CREDENTIAL_VARIABLES = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'] as const;
const saved = Object.fromEntries(CREDENTIAL_VARIABLES.map((name) => [name, process.env[name]]));

afterEach(() => {
  jest.useRealTimers();
  for (const name of CREDENTIAL_VARIABLES) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

interface Case {
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly now: number;
}

/** A small deterministic generator, so that a failure names a case that can be run again. */
function generator(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state % n;
  };
}

const REGIONS = [
  'us-east-1',
  'eu-west-1',
  'ap-southeast-2',
  'eu-central-2',
  'cn-north-1',
  'us-gov-west-1',
  'il-central-1',
];
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
/** Secrets and session tokens are base64: `+`, `/` and `=` must be encoded as the signer encodes them. */
const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function cases(count: number): Case[] {
  const next = generator(14);
  const text = (alphabet: string, length: number) =>
    Array.from({ length }, () => alphabet[next(alphabet.length)]).join('');
  return Array.from({ length: count }, (_, i) => ({
    region: REGIONS[i % REGIONS.length],
    accessKeyId: `${i % 3 === 0 ? 'AKIA' : 'ASIA'}${text(UPPER, 16)}`,
    secretAccessKey: text(BASE64, 40),
    sessionToken: i % 3 === 0 ? undefined : `${text(BASE64, 200 + next(600))}${'='.repeat(next(3))}`,
    // Any millisecond from 2024 to 2034, the signer's clock truncated to the second included.
    now: Date.UTC(2024, 0, 1) + next(2 ** 31 - 1) * 150 + next(1000),
  }));
}

/** Sets the case's credentials in the environment and its clock, as Lambda and time would. */
function arrange(c: Case): void {
  process.env.AWS_ACCESS_KEY_ID = c.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = c.secretAccessKey;
  if (c.sessionToken === undefined) delete process.env.AWS_SESSION_TOKEN;
  else process.env.AWS_SESSION_TOKEN = c.sessionToken;
  jest.useFakeTimers({ now: c.now, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
}

describe('the MSK IAM signer inside the bundles', () => {
  test('names the signer release installed beside it (the token carries it in its User-Agent)', () => {
    expect(SIGNER_VERSION).toBe(signerPackage.version);
  });

  test.each(cases(60).map((c, i) => [i, c] as const))(
    'case %i: the same token and expiry as aws-msk-iam-sasl-signer-js',
    async (_i, c) => {
      arrange(c);
      const expected = await signerToken({ region: c.region });
      const actual = await generateAuthToken({ region: c.region });
      expect(actual).toEqual(expected);
    },
  );

  test('at a second boundary and just before it, and with an empty session token, as the signer', async () => {
    for (const now of [Date.UTC(2028, 1, 29, 23, 59, 59, 999), Date.UTC(2029, 0, 1, 0, 0, 0, 0)]) {
      for (const sessionToken of ['', 'IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ==']) {
        arrange({ region: 'us-east-1', accessKeyId: 'ASIAEXAMPLEEXAMPLE12', secretAccessKey: 'a/b+c=', now });
        process.env.AWS_SESSION_TOKEN = sessionToken;
        expect(await generateAuthToken({ region: 'us-east-1' })).toEqual(await signerToken({ region: 'us-east-1' }));
      }
    }
  });

  test('the token is a presigned kafka-cluster:Connect URL for the region, valid 900 seconds', async () => {
    arrange({
      region: 'eu-west-1',
      accessKeyId: 'ASIAEXAMPLEEXAMPLE12',
      secretAccessKey: 'secret',
      sessionToken: 'token/with+chars=',
      now: Date.UTC(2026, 10, 29, 12, 0, 0, 500),
    });
    const { token, expiryTime } = await generateAuthToken({ region: 'eu-west-1' });
    expect(token).not.toMatch(/[=+/]/);
    const url = new URL(Buffer.from(token, 'base64url').toString('utf8'));
    expect(url.origin).toBe('https://kafka.eu-west-1.amazonaws.com');
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      Action: 'kafka-cluster:Connect',
      'X-Amz-Credential': 'ASIAEXAMPLEEXAMPLE12/20261129/eu-west-1/kafka-cluster/aws4_request',
      'X-Amz-Date': '20261129T120000Z',
      'X-Amz-Expires': '900',
      'X-Amz-Security-Token': 'token/with+chars=',
      'X-Amz-SignedHeaders': 'host',
      'User-Agent': `aws-msk-iam-sasl-signer-js/${SIGNER_VERSION}`,
    });
    expect(expiryTime).toBe(Date.UTC(2026, 10, 29, 12, 15, 0));
  });

  test('without credentials in the environment it fails naming the variables', async () => {
    for (const name of CREDENTIAL_VARIABLES) delete process.env[name];
    process.env.AWS_ACCESS_KEY_ID = 'AKIAEXAMPLEEXAMPLE12';
    await expect(generateAuthToken({ region: 'us-east-1' })).rejects.toThrow(
      'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set; cannot sign the MSK IAM token',
    );
  });

  test('without a region it fails as the signer does', async () => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIAEXAMPLEEXAMPLE12';
    process.env.AWS_SECRET_ACCESS_KEY = 'secret';
    await expect(signerToken({ region: '' })).rejects.toThrow('Region cannot be empty to generate auth token.');
    await expect(generateAuthToken({ region: '' })).rejects.toThrow('Region cannot be empty to generate auth token.');
  });

  test('refuses the signer options it does not implement instead of ignoring them', async () => {
    const options = { region: 'us-east-1', awsDebugCreds: true } as { region: string };
    await expect(generateAuthToken(options)).rejects.toThrow(
      'The MSK IAM signer inside the function bundle takes only a region, not awsDebugCreds',
    );
  });
});

describe('lambda/shared/kafka.ts bundled with the functions’ esbuild settings', () => {
  let dir: string;
  let bundled: KafkaModule;
  let inputs: string[];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hello-msk-signer-'));
    const outfile = path.join(dir, 'kafka.js');
    const result = await build(
      esbuildOptions(path.join(__dirname, '..', '..', 'lambda', 'shared', 'kafka.ts'), outfile),
    );
    inputs = Object.keys(result.metafile?.inputs ?? {});
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    bundled = require(outfile) as KafkaModule;
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('carries the stand-in, and none of the signer package or its SigV4, SHA-256 and credential dependencies', () => {
    expect(inputs).toContain('lambda/shared/msk-iam-signer.ts');
    expect(inputs.filter((input) => /aws-msk-iam-sasl-signer-js|@smithy|@aws-crypto|@aws-sdk/.test(input))).toEqual([]);
  });

  test.each(cases(12).map((c, i) => [i, c] as const))(
    'case %i: its kafkajs token provider gives the signer’s token as the OAUTHBEARER value',
    async (_i, c) => {
      arrange(c);
      const expected = await signerToken({ region: c.region });
      await expect(bundled.iamTokenProvider(c.region)()).resolves.toEqual({ value: expected.token });
    },
  );
});
