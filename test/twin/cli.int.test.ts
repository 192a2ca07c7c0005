/**
 * The msk-twin CLI on this app's own assembly, as the README shows it: `cdk synth -o DIR`, `msk-twin up` (which runs
 * the custom resources as a deploy would: the topic bootstrap creates the topic, the cluster endpoint's answer
 * becomes the SSM parameter), then `msk-twin invoke` of the producer and the consumer.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cdkSynth, twinCli, type CliResult } from '../../packages/msk-twin/test/cli/cli-helpers';

jest.setTimeout(300_000);

const ROOT = path.join(__dirname, '..', '..');
const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hello-msk-cli-state-'));
const cli = twinCli(stateDir);
let assembly: string;

beforeAll(() => {
  assembly = cdkSynth(ROOT);
}, 180_000);

afterAll(async () => {
  await cli(['down']);
  fs.rmSync(stateDir, { recursive: true, force: true });
  if (assembly) fs.rmSync(assembly, { recursive: true, force: true });
});

const payloadOf = (result: CliResult) => {
  if (result.code !== 0) throw new Error(`msk-twin failed (${result.code}): ${result.stdout}\n${result.stderr}`);
  return JSON.parse(result.stdout) as Record<string, unknown>;
};

test('up deploys the custom resources, then the producer and the consumer: Hello MSK goes through', async () => {
  const up = await cli(['up', '--assembly', assembly]);
  expect(up.code).toBe(0);
  const bootstrapBrokers = up.stdout.trim();
  // One address per broker the dev cluster declares (2).
  expect(bootstrapBrokers).toMatch(/^127\.0\.0\.1:\d+,127\.0\.0\.1:\d+$/);
  for (const name of ['Producer', 'Consumer', 'KafkaAdmin', 'Topics/OnEvent']) {
    expect(up.stderr).toContain(`  ${name} (Kafka)  `);
  }
  expect(up.stderr).toMatch(/HelloMsk-dev-Cluster\/Topics\w+ \(Custom::MskTopic\): test-topic in /);
  // The endpoint resource's answer, as MSK's APIs on the twin gave it, is the parameter the clients read.
  const parameter = /SSM parameter \/HelloMsk-dev-Cluster\/bootstrap-brokers-sasl-iam = (\S+)/.exec(up.stderr)?.[1];
  expect(parameter?.split(',').sort()).toEqual(bootstrapBrokers.split(',').sort());

  const sent = payloadOf(await cli(['invoke', 'Producer', '--payload', '{"message":"Hello MSK from the CLI"}']));
  expect(sent).toMatchObject({ topic: 'test-topic', count: 1 });

  const consumed = await cli(['invoke', 'Consumer', '--payload', '{"fromBeginning":true}']);
  expect(payloadOf(consumed)).toMatchObject({ count: 1, messages: [{ value: 'Hello MSK from the CLI' }] });
  expect(consumed.stderr).toMatch(/"message":"Hello MSK from the CLI"/);
});
