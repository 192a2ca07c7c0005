import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import {
  DEFAULT_E2E_PROFILE,
  DEFAULT_E2E_TIMEOUT_SECONDS,
  EXIT_FAIL,
  EXIT_PASS,
  parseE2eCli,
  runE2e,
  shellLine,
  type E2eOptions,
  type Step,
} from '../../scripts/e2e';

const OPTIONS: E2eOptions = { profile: 'e2e', timeoutSeconds: 300, keep: false, dryRun: false };

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
  );
  return { code, ran, lines };
}

describe('npm run e2e (deploy, npm run hello, destroy)', () => {
  test('deploys every stack of the profile, runs the smoke test, then destroys them', async () => {
    const { code, ran, lines } = await fakeRun({});
    expect(ran).toEqual([
      'npx cdk deploy --all -c profile=e2e --require-approval never',
      'npx tsx scripts/hello.ts --profile e2e --timeout 300',
      'npx cdk destroy --all -c profile=e2e --force',
    ]);
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
      'FAIL: the destroy failed; stacks may remain: run npx cdk destroy --all -c profile=e2e --force again',
    );
  });

  test('keeps the stacks with --keep and says how to remove them', async () => {
    const { code, ran, lines } = await fakeRun({}, { ...OPTIONS, keep: true });
    expect(ran).toHaveLength(2);
    expect(code).toBe(EXIT_PASS);
    expect(lines).toContain(
      '== keeping the HelloMsk-e2e-* stacks (--keep); remove them with: npx cdk destroy --all -c profile=e2e --force',
    );
  });

  test('parses its options, with the e2e profile (the dev settings under their own stack names) by default', () => {
    expect(parseE2eCli([])).toEqual({
      profile: DEFAULT_E2E_PROFILE,
      timeoutSeconds: DEFAULT_E2E_TIMEOUT_SECONDS,
      keep: false,
      dryRun: false,
    });
    expect(parseE2eCli(['--profile', 'prod', '--timeout', '600', '--keep', '--dry-run'])).toEqual({
      profile: 'prod',
      timeoutSeconds: 600,
      keep: true,
      dryRun: true,
    });
    expect(() => parseE2eCli(['--timeout', 'soon'])).toThrow(
      '--timeout "soon" is not valid; allowed: a number of seconds > 0',
    );
    expect(() => parseE2eCli(['--region', 'eu-west-1'])).toThrow(/Unknown option '--region'/);
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
      '  1. npx cdk deploy --all -c profile=e2e --require-approval never',
      '  2. npx tsx scripts/hello.ts --profile e2e --timeout 300',
      '  3. npx cdk destroy --all -c profile=e2e --force',
    ]);
    expect(result.status).toBe(0);
  }, 180000);
});
