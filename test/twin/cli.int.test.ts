/**
 * The msk-twin CLI on this app's own assembly, as the README shows it: `cdk synth -o DIR`, `msk-twin up`, then
 * `msk-twin invoke` of the topic bootstrap (with CloudFormation's Create event), the producer and the consumer.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { customResourceCreateEvent, describeTwinApp, readCloudAssembly } from 'msk-twin';
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

test('up, then invoke the topic bootstrap, the producer and the consumer: Hello MSK goes through', async () => {
  const up = await cli(['up', '--assembly', assembly]);
  expect(up.code).toBe(0);
  const bootstrapBrokers = up.stdout.trim();
  // One address per broker the dev cluster declares (2).
  expect(bootstrapBrokers).toMatch(/^127\.0\.0\.1:\d+,127\.0\.0\.1:\d+$/);
  for (const name of ['Producer', 'Consumer', 'KafkaAdmin', 'Topics/OnEvent']) {
    expect(up.stderr).toContain(`  ${name} (Kafka)  `);
  }

  const app = describeTwinApp(readCloudAssembly(assembly));
  const create = customResourceCreateEvent(app, 'Custom::MskTopic', { bootstrapBrokers });
  const topics = payloadOf(await cli(['invoke', 'Topics/OnEvent', '--payload', JSON.stringify(create)]));
  expect(topics.PhysicalResourceId).toBe('test-topic');

  const sent = payloadOf(await cli(['invoke', 'Producer', '--payload', '{"message":"Hello MSK from the CLI"}']));
  expect(sent).toMatchObject({ topic: 'test-topic', count: 1 });

  const consumed = await cli(['invoke', 'Consumer', '--payload', '{"fromBeginning":true}']);
  expect(payloadOf(consumed)).toMatchObject({ count: 1, messages: [{ value: 'Hello MSK from the CLI' }] });
  expect(consumed.stderr).toMatch(/"message":"Hello MSK from the CLI"/);
});
