import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { checkAwsAccount } from '../../scripts/aws-account';
import {
  DEFAULT_E2E_STAGE,
  DEFAULT_E2E_TIMEOUT_SECONDS,
  EXIT_FAIL,
  EXIT_NO_ACCOUNT,
  EXIT_PASS,
  parseE2eCli,
  runE2e,
  shellLine,
  type E2eOptions,
  type Step,
} from '../../scripts/e2e';

const OPTIONS: E2eOptions = { stage: 'e2e', timeoutSeconds: 300, keep: false, dryRun: false };
const ARN = 'arn:aws:sts::123456789012:assumed-role/Developer/alice';
const NO_NAMES = { stages: [], awsProfiles: [] };

const stsMock = mockClient(STSClient);
beforeEach(() => {
  stsMock.reset();
  stsMock.on(GetCallerIdentityCommand).resolves({ Account: '123456789012', Arn: ARN });
});

/** Runs the e2e flow with fake steps that exit with the given codes, recording what ran. */
async function fakeRun(codes: Partial<Record<'deploy' | 'smoke test' | 'destroy', number>>, options = OPTIONS) {
  const ran: string[] = [];
  const lines: string[] = [];
  const code = await runE2e(
    options,
    async (step: Step) => {
      ran.push(shellLine(step));
      return codes[step.title as keyof typeof codes] ?? 0;
    },
    (line) => lines.push(line),
    () => checkAwsAccount(new STSClient({ region: 'eu-west-1' })),
  );
  return { code, ran, lines };
}

describe('npm run e2e (deploy, npm run hello, destroy)', () => {
  test('deploys every stack of the stage, runs the smoke test, then destroys them', async () => {
    const { code, ran, lines } = await fakeRun({});
    expect(ran).toEqual([
      'npx cdk deploy --all -c stage=e2e --require-approval never',
      'npx tsx scripts/hello.ts --stage e2e --timeout 300',
      'npx cdk destroy --all -c stage=e2e --force',
    ]);
    expect(lines[0]).toBe(`== AWS account 123456789012 in eu-west-1 as ${ARN}`);
    expect(code).toBe(EXIT_PASS);
    expect(lines.at(-1)).toBe('PASS: deployed, sent and read "Hello MSK" through MSK, and destroyed');
  });

  test('destroys the stacks even when the smoke test fails, and fails', async () => {
    const { code, ran, lines } = await fakeRun({ 'smoke test': 1 });
    expect(ran.map((r) => r.split(' ')[2])).toEqual(['deploy', 'scripts/hello.ts', 'destroy']);
    expect(code).toBe(EXIT_FAIL);
    expect(lines.at(-1)).toBe('FAIL: the smoke test failed (see above)');
  });

  test('destroys what a failed deploy left behind, skips the smoke test, and fails', async () => {
    const { code, ran } = await fakeRun({ deploy: 1 });
    expect(ran.map((r) => r.split(' ')[2])).toEqual(['deploy', 'destroy']);
    expect(code).toBe(EXIT_FAIL);
  });

  test('fails, saying how to remove the stacks, when the destroy fails', async () => {
    const { code, lines } = await fakeRun({ destroy: 1 });
    expect(code).toBe(EXIT_FAIL);
    expect(lines.at(-1)).toBe(
      'FAIL: the destroy failed; stacks may remain: run npx cdk destroy --all -c stage=e2e --force again',
    );
  });

  test('keeps the stacks with --keep and says how to remove them', async () => {
    const { code, ran, lines } = await fakeRun({}, { ...OPTIONS, keep: true });
    expect(ran).toHaveLength(2);
    expect(code).toBe(EXIT_PASS);
    expect(lines).toContain(
      '== keeping the HelloMsk-e2e-* stacks (--keep); remove them with: npx cdk destroy --all -c stage=e2e --force',
    );
  });

  test.each([
    [
      'no credentials',
      Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }),
      'FAIL: no AWS credentials (Could not load credentials from any providers); set AWS_PROFILE or use --aws-profile, run aws configure or aws sso login, then retry; nothing was deployed',
    ],
    [
      'an AWS API it cannot reach',
      Object.assign(new Error('connect ETIMEDOUT 52.94.0.1:443'), { code: 'ETIMEDOUT' }),
      'FAIL: cannot reach sts.eu-west-1.amazonaws.com: ETIMEDOUT (the AWS API itself; check the network, a proxy or the region eu-west-1); nothing was deployed',
    ],
  ])('runs no synth, deploy or destroy with %s, and says so in one line', async (_name, error, line) => {
    stsMock.on(GetCallerIdentityCommand).rejects(error);
    const { code, ran, lines } = await fakeRun({});
    expect(ran).toEqual([]);
    expect(lines).toEqual([line]);
    expect(code).toBe(EXIT_NO_ACCOUNT);
  });

  test('parses its options, with the e2e stage (the dev settings under their own stack names) by default', () => {
    expect(parseE2eCli([], NO_NAMES)).toEqual({
      stage: DEFAULT_E2E_STAGE,
      timeoutSeconds: DEFAULT_E2E_TIMEOUT_SECONDS,
      keep: false,
      dryRun: false,
    });
    expect(parseE2eCli(['--stage', 'prod', '--timeout', '600', '--keep', '--dry-run'], NO_NAMES)).toEqual({
      stage: 'prod',
      timeoutSeconds: 600,
      keep: true,
      dryRun: true,
    });
    expect(parseE2eCli(['--profile', 'work'], NO_NAMES)).toMatchObject({ stage: 'e2e', awsProfile: 'work' });
    expect(parseE2eCli(['--profile', 'prod'], { stages: ['prod'], awsProfiles: [] })).toMatchObject({
      stage: 'prod',
      notice: '--profile is now --stage; using stage prod (an AWS profile is --aws-profile)',
    });
    expect(() => parseE2eCli(['--timeout', 'soon'], NO_NAMES)).toThrow(
      '--timeout "soon" is not valid; allowed: a number of seconds > 0',
    );
    expect(() => parseE2eCli(['--region', 'eu-west-1'], NO_NAMES)).toThrow(/Unknown option '--region'/);
  });

  test('dry run: the pinned CDK CLI synthesizes the app and reads its cloud assembly, with no AWS account', () => {
    // What `cdk deploy` does first, with the same CLI: a cloud assembly schema newer than the CLI fails here.
    const root = join(__dirname, '..', '..');
    const env = { ...process.env };
    for (const key of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'])
      delete env[key];
    const result = spawnSync(
      join(root, 'node_modules', '.bin', 'tsx'),
      [join(root, 'scripts', 'e2e.ts'), '--dry-run'],
      {
        cwd: root,
        env,
        encoding: 'utf8',
      },
    );
    expect(result.stderr).not.toMatch(/schema version mismatch|not compatible/i);
    expect(result.stdout.split('\n').filter(Boolean)).toEqual([
      'dry run: the pinned CDK CLI synthesized and read the cloud assembly of 4 stacks:',
      '  HelloMsk-e2e-Network',
      '  HelloMsk-e2e-Cluster',
      '  HelloMsk-e2e-Clients',
      '  HelloMsk-e2e-Monitoring',
      'a real run would:',
      '  1. npx cdk deploy --all -c stage=e2e --require-approval never',
      '  2. npx tsx scripts/hello.ts --stage e2e --timeout 300',
      '  3. npx cdk destroy --all -c stage=e2e --force',
    ]);
    expect(result.status).toBe(0);
  }, 180000);
});
