/**
 * The CLI on an app it was not written for: the orders-app fixture (one cluster, one function that finds the
 * brokers in BOOTSTRAP_SERVERS and signs in with a customer-managed policy), synthesized with the CDK CLI.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cdkSynth, twinCli, type CliResult } from './cli-helpers';

jest.setTimeout(240_000);

const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'msk-twin-cli-state-'));
const cli = twinCli(stateDir);
let assembly: string;

beforeAll(() => {
  assembly = cdkSynth(path.join(__dirname, '..', 'fixtures', 'orders-app'));
});

afterAll(async () => {
  await cli(['down']);
  fs.rmSync(stateDir, { recursive: true, force: true });
  fs.rmSync(assembly, { recursive: true, force: true });
});

const json = (result: CliResult) => JSON.parse(result.stdout) as Record<string, unknown>;

test('policy prints what the role of each function may do on the twin', async () => {
  const result = await cli(['policy', '--assembly', assembly]);
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(
    /\| OrdersFn \| OrdersApp-OrdersFnServiceRole\w+ \| AWS::IAM::ManagedPolicy \w+ \| Allow \| kafka-cluster:CreateTopic, kafka-cluster:DescribeTopic, kafka-cluster:WriteData \| topic\/orders-cluster\/\*\/orders \| {2}\|/,
  );
});

test('config prints the brokers’ settings as deployed and on the twin', async () => {
  const result = await cli(['config', '--assembly', assembly, '--brokers', '1']);
  expect(result.code).toBe(0);
  expect(result.stdout).toContain('| Key | Deployed | From | Twin | Why different |');
});

test('up, invoke and down: the function reads its brokers from BOOTSTRAP_SERVERS, signs in and writes', async () => {
  const sized = await cli(['up', '--assembly', assembly, '--brokers', '1']);
  expect(sized.code).toBe(1);
  expect(sized.stderr.trim()).toBe(
    '--brokers: up runs as many brokers as the cluster declares (NumberOfBrokerNodes); msk-twin config --brokers N shows another count',
  );

  const up = await cli(['up', '--assembly', assembly]);
  expect(up.code).toBe(0);
  // The two brokers the cluster declares, on their IAM listener (MSK's port 9098).
  expect(up.stdout.trim()).toMatch(/^127\.0\.0\.1:\d+,127\.0\.0\.1:\d+$/);
  expect(up.stderr).toContain('Twin of orders-cluster ready');
  expect(up.stderr).toMatch(/, 2 broker\(s\), /);
  expect(up.stderr).toMatch(/^Client listener IAM \(MSK port 9098\): 127\.0\.0\.1:\d+,127\.0\.0\.1:\d+$/m);
  expect(up.stderr).toMatch(/^ {2}OrdersFn \(Kafka\) {2}OrdersApp-OrdersFn\w+ {2}nodejs24\.x index\.handler$/m);

  const again = await cli(['up', '--assembly', assembly]);
  expect(again.code).toBe(1);
  expect(again.stderr.trim()).toMatch(/^A twin is already running on port \d+ \(.*\): msk-twin down first$/);

  const sent = await cli(['invoke', 'OrdersFn', '--payload', '{"orderId":"o-1"}']);
  expect(sent.code).toBe(0);
  expect(json(sent)).toEqual({ topic: 'orders', partition: 0, offset: '0' });
  expect(sent.stderr).toMatch(/^REPORT RequestId: \S+\tDuration: [\d.]+ ms/m);

  const refused = await cli(['invoke', 'OrdersFn', '--payload', '{"orderId":""}']);
  expect(refused.code).toBe(1);
  expect(json(refused)).toMatchObject({ errorType: 'Error', errorMessage: 'orderId must be a non-empty string' });

  const unknown = await cli(['invoke', 'Nope']);
  expect(unknown.code).toBe(1);
  expect(unknown.stderr.trim()).toMatch(/^No function of the assembly is named Nope; known: .*OrdersFn/);

  const down = await cli(['down']);
  expect(down.code).toBe(0);
  expect(down.stderr).toMatch(/^Stopped the twin on port \d+$/m);
  const after = await cli(['invoke', 'OrdersFn']);
  expect(after.code).toBe(1);
  expect(after.stderr).toContain('No twin is running here');
});

test('up refuses a directory that is not a cloud assembly, in one line', async () => {
  const result = await cli(['up', '--assembly', stateDir]);
  expect(result.code).toBe(1);
  expect(result.stderr.trim()).toBe(
    `${stateDir} is not a cloud assembly (no manifest.json): synthesize the app first (cdk synth)`,
  );
});
