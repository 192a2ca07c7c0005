/**
 * The app as `cdk synth` runs it (cdk.json's "app" command), end to end: a configuration mistake prints its one
 * line on stderr and exits 1, with no stack trace, no Node.js banner and no bundling output (the functions are
 * bundled, and esbuild prints, only once the whole configuration has passed).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import cdkJson from '../../cdk.json';

const ROOT = join(__dirname, '..', '..');
const CDK = join(ROOT, 'node_modules', '.bin', 'cdk');
/** Nothing here may need AWS or the network: no instance metadata lookups, notices or telemetry. */
const OFFLINE_ENV = {
  ...process.env,
  AWS_EC2_METADATA_DISABLED: 'true',
  CDK_DISABLE_CLI_TELEMETRY: 'true',
  AWS_ACCESS_KEY_ID: '',
  AWS_SECRET_ACCESS_KEY: '',
  AWS_PROFILE: '',
};

let outdir: string;
beforeEach(() => {
  outdir = mkdtempSync(join(tmpdir(), 'hello-msk-app-'));
});
afterEach(() => rmSync(outdir, { recursive: true, force: true }));

/** Runs cdk.json's app command directly, with context as the CDK CLI passes it. */
function runApp(context: Record<string, unknown>) {
  const [command, ...args] = cdkJson.app.split(' ');
  return spawnSync(command, args, {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...OFFLINE_ENV, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify({ ...cdkJson.context, ...context }) },
  });
}

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line.trim() !== '');
}

jest.setTimeout(60000);

describe('bin/app.ts', () => {
  test.each([
    [
      { brokerPerAz: '2' },
      'Context -c brokerPerAz: brokerPerAz "2" is not a configuration key; did you mean brokersPerAz?',
    ],
    [{ brokersPerAz: 'abc' }, 'Context -c brokersPerAz: brokersPerAz "abc" is not valid; expected a number'],
    [
      { kafkaVersion: '4.0.x' },
      'HelloMsk-dev-Cluster/Cluster: kafkaVersion "4.0.x" (from -c) is not valid; allowed: a KRaft version for Kafka 4 (e.g. 4.0.x.kraft)',
    ],
    // Checked by the last stack with functions: every other stack's functions come first.
    [
      { consumerSchedule: 'every minute' },
      'HelloMsk-dev-Clients: consumerSchedule "every minute" (from -c) is not valid; allowed: rate(1 minute), rate(N minutes), rate(1 hour), rate(N hours), cron(...) or off',
    ],
  ])('prints exactly one line for a configuration mistake (%j) and exits 1', (context, message) => {
    const result = runApp(context);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(`${message}\n`);
    expect(result.stdout).toBe('');
  });

  test('synthesizes the dev stage with no output on stderr', () => {
    const result = runApp({ 'aws:cdk:bundling-stacks': [] });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  test('takes -c profile, the stage under its former name, with a one-line notice', () => {
    const result = runApp({ 'aws:cdk:bundling-stacks': [], profile: 'prod' });
    expect(result.stderr).toBe('-c profile is now -c stage; using stage prod\n');
    expect(result.status).toBe(0);
    const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as { artifacts: object };
    expect(Object.keys(manifest.artifacts)).toContain('HelloMsk-prod-Cluster');
  });

  test('through the CDK CLI, a misspelt -c key stops synth with that line and the CLI’s own exit note only', () => {
    const result = spawnSync(CDK, ['synth', '--no-notices', '-o', outdir, '-c', 'brokerPerAz=2'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: OFFLINE_ENV,
    });
    expect(result.status).toBe(1);
    expect(lines(result.stderr)).toEqual([
      'Context -c brokerPerAz: brokerPerAz "2" is not a configuration key; did you mean brokersPerAz?',
      `${cdkJson.app}: Subprocess exited with error 1`,
    ]);
  });
});
