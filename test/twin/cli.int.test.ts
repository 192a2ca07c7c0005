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

test("up fails in one line, naming kafka:ListNodes, when the endpoint resource's role lacks it", async () => {
  // The assembly as synthesized, but the endpoint role's policy without kafka:ListNodes.
  const edited = fs.mkdtempSync(path.join(os.tmpdir(), 'hello-msk-cli-edited-'));
  const otherState = fs.mkdtempSync(path.join(os.tmpdir(), 'hello-msk-cli-state-'));
  try {
    fs.cpSync(assembly, edited, { recursive: true });
    const file = path.join(edited, 'HelloMsk-dev-Cluster.template.json');
    const template = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      Resources: Record<
        string,
        { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, unknown> }
      >;
    };
    let removed = 0;
    for (const resource of Object.values(template.Resources)) {
      if (resource.Type === 'AWS::IAM::Policy') {
        const document = resource.Properties.PolicyDocument as { Statement: { Action: string | string[] }[] };
        for (const statement of document.Statement) {
          const actions = [statement.Action].flat();
          statement.Action = actions.filter((a) => a !== 'kafka:ListNodes');
          removed += actions.length - statement.Action.length;
        }
      }
      // The handler retries AccessDenied for a minute, as IAM may not show a new grant yet; not needed here.
      if (resource.Metadata?.['aws:cdk:path'] === 'HelloMsk-dev-Cluster/Endpoint/OnEvent/Resource') {
        const environment = resource.Properties.Environment as { Variables: Record<string, string> };
        environment.Variables.AUTHORIZATION_RETRY_MS = '1';
      }
    }
    expect(removed).toBe(1);
    fs.writeFileSync(file, JSON.stringify(template));

    const other = twinCli(otherState);
    const up = await other(['up', '--assembly', edited]);
    expect(up.code).toBe(1);
    expect(up.stderr.trimEnd().split('\n').at(-1)).toMatch(
      /^HelloMsk-dev-Cluster\/Endpoint\w+ \(Custom::MskClusterEndpoint\) failed to create: MSK cluster \S+: ListNodes failed: AccessDeniedException: User: arn:aws:sts::111122223333:assumed-role\/HelloMsk-dev-Cluster-EndpointOnEventServiceRole\w+\/\w+ is not authorized to perform: kafka:ListNodes on resource: arn:aws:kafka:us-east-1:111122223333:cluster\/\S+ because no identity-based policy allows the kafka:ListNodes action \(Logs: \/aws\/lambda\/\S+\)$/,
    );
    // The topics after it were never created, and nothing is left running.
    expect(up.stderr).not.toContain('(Custom::MskTopic)');
    const down = await other(['down']);
    expect(down.stderr).toContain('No twin is running here');
  } finally {
    fs.rmSync(edited, { recursive: true, force: true });
    fs.rmSync(otherState, { recursive: true, force: true });
  }
});
