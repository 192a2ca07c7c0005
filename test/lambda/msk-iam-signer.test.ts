/**
 * The Kafka functions sign in to MSK with aws-msk-iam-sasl-signer-js itself, bundled with them: nothing under
 * lambda/ signs requests on its own.
 */
import { build } from 'esbuild';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { generateAuthToken } from 'aws-msk-iam-sasl-signer-js';
import { LAMBDA_ROOT } from '../../lib/bundling';
import { esbuildOptions } from '../../scripts/build-lambdas';

type KafkaModule = typeof import('../../lambda/shared/kafka');

const CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'ASIAEXAMPLEEXAMPLE12',
  AWS_SECRET_ACCESS_KEY: 'a/b+c=secret',
  AWS_SESSION_TOKEN: 'token/with+chars=',
};
const saved = { ...process.env };

afterEach(() => {
  jest.useRealTimers();
  process.env = { ...saved };
});

describe('lambda/shared/kafka.ts bundled with the functions’ esbuild settings', () => {
  let dir: string;
  let bundled: KafkaModule;
  let inputs: string[];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hello-msk-signer-'));
    const outfile = path.join(dir, 'kafka.js');
    const result = await build(esbuildOptions(path.join(LAMBDA_ROOT, 'shared', 'kafka.ts'), outfile));
    inputs = Object.keys(result.metafile?.inputs ?? {});
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    bundled = require(outfile) as KafkaModule;
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('carries aws-msk-iam-sasl-signer-js and its SigV4 signer', () => {
    expect(inputs).toContainEqual(expect.stringMatching(/node_modules\/aws-msk-iam-sasl-signer-js\/dist\/index\.js$/));
    expect(inputs).toContainEqual(expect.stringMatching(/node_modules\/@smithy\/signature-v4\//));
  });

  test('its kafkajs token provider gives the signer’s token as the OAUTHBEARER value', async () => {
    Object.assign(process.env, CREDENTIALS);
    delete process.env.AWS_PROFILE;
    jest.useFakeTimers({
      now: Date.UTC(2026, 10, 29, 12, 0, 0, 500),
      doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'],
    });
    const { token } = await generateAuthToken({ region: 'eu-west-1' });
    await expect(bundled.iamTokenProvider('eu-west-1')()).resolves.toEqual({ value: token });
    const url = new URL(Buffer.from(token, 'base64url').toString('utf8'));
    expect(url.origin).toBe('https://kafka.eu-west-1.amazonaws.com');
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      Action: 'kafka-cluster:Connect',
      'X-Amz-Credential': 'ASIAEXAMPLEEXAMPLE12/20261129/eu-west-1/kafka-cluster/aws4_request',
      'X-Amz-Date': '20261129T120000Z',
      'X-Amz-Expires': '900',
      'X-Amz-Security-Token': 'token/with+chars=',
    });
  });
});

test('no request signing of our own under lambda/', () => {
  const files = readdirSync(LAMBDA_ROOT, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'));
  expect(files.length).toBeGreaterThan(0);
  const signing = files.filter((file) =>
    /sigv4|createHmac|AWS4-HMAC-SHA256/i.test(readFileSync(path.join(LAMBDA_ROOT, file), 'utf8')),
  );
  expect(signing).toEqual([]);
});
