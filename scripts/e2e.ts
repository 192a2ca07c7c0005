/**
 * `npm run e2e`: the deploy-time end-to-end test, in your account. It checks the AWS account first (one STS
 * GetCallerIdentity call), deploys every stack of a stage (`e2e` by default: the dev settings under their own
 * stack names, beside any dev you run), runs `npm run hello` against them, and destroys them again, also when the
 * deploy or the smoke test failed, so nothing is left billing.
 *
 *   npm run e2e -- [--stage S] [--aws-profile A] [--timeout SECONDS] [--keep] [--dry-run]
 *
 * `--dry-run` needs no AWS account: it synthesizes the app with the pinned CDK CLI, lists the stacks in deploy
 * order and prints the commands a real run would run. Exit codes: 0 PASS, 1 FAIL, 2 bad arguments or no AWS
 * account to run in (no credentials, no region, AWS unreachable), before anything is deployed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import {
  AwsUnavailable,
  checkAwsAccount,
  chooseStage,
  knownNames,
  stsClient,
  type AwsIdentity,
  type KnownNames,
} from './aws-account';

export const DEFAULT_E2E_STAGE = 'e2e';
/** Deploying and creating the cluster takes most of it; the smoke test waits this long for its log line. */
export const DEFAULT_E2E_TIMEOUT_SECONDS = 300;

const ROOT = path.join(__dirname, '..');
const CDK = path.join(ROOT, 'node_modules', '.bin', 'cdk');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

export interface E2eOptions {
  /** hello-msk stage: the `HelloMsk-<stage>-*` stacks. */
  readonly stage: string;
  /** AWS profile for every step (AWS_PROFILE). @default the environment's */
  readonly awsProfile?: string;
  /** A line printed first (`--profile` taken as the stage, its former meaning). */
  readonly notice?: string;
  /** How long the smoke test waits for the consumer's log line. */
  readonly timeoutSeconds: number;
  /** Leave the stacks deployed afterwards. */
  readonly keep: boolean;
  /** Synthesize and list only; deploy nothing. */
  readonly dryRun: boolean;
}

/** One command of the run. */
export interface Step {
  readonly title: string;
  readonly command: string;
  readonly args: readonly string[];
}

/** The three commands of a real run. */
export function plan(
  options: Pick<E2eOptions, 'stage' | 'timeoutSeconds'>,
): Record<'deploy' | 'hello' | 'destroy', Step> {
  const context = ['-c', `stage=${options.stage}`];
  return {
    deploy: {
      title: 'deploy',
      command: CDK,
      args: ['deploy', '--all', ...context, '--require-approval', 'never'],
    },
    hello: {
      title: 'smoke test',
      command: TSX,
      args: [
        path.join(ROOT, 'scripts', 'hello.ts'),
        '--stage',
        options.stage,
        '--timeout',
        String(options.timeoutSeconds),
      ],
    },
    destroy: { title: 'destroy', command: CDK, args: ['destroy', '--all', ...context, '--force'] },
  };
}

/** Runs a step and resolves with its exit code. */
export type Runner = (step: Step) => Promise<number>;

export const EXIT_PASS = 0;
export const EXIT_FAIL = 1;
export const EXIT_BAD_ARGUMENTS = 2;
export const EXIT_NO_ACCOUNT = 2;

/** How a command line would look in a shell, for the log. */
export function shellLine(step: Step): string {
  const program = `npx ${path.basename(step.command)}`;
  const args = step.args
    .map((a) => (a.startsWith(ROOT) ? path.relative(ROOT, a) : a))
    .map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a}'`));
  return [program, ...args].join(' ');
}

/**
 * Account check, deploy, smoke test, destroy. Without an account to run in, nothing is run. The destroy runs
 * whatever happened before (a failed deploy may have created stacks that bill) unless `keep`; the result is the
 * first failure.
 */
export async function runE2e(
  options: E2eOptions,
  run: Runner,
  out: (line: string) => void,
  account: () => Promise<AwsIdentity>,
): Promise<number> {
  const steps = plan(options);
  try {
    const identity = await account();
    out(`== AWS account ${identity.account} in ${identity.region} as ${identity.arn}`);
  } catch (error) {
    if (!(error instanceof AwsUnavailable)) throw error;
    out(`FAIL: ${error.message}; nothing was deployed`);
    return EXIT_NO_ACCOUNT;
  }
  const step = async (s: Step): Promise<number> => {
    out(`== ${s.title}: ${shellLine(s)}`);
    const code = await run(s);
    out(`== ${s.title}: ${code === 0 ? 'done' : `failed (exit code ${code})`}`);
    return code;
  };
  const deployed = await step(steps.deploy);
  const tested = deployed === 0 ? await step(steps.hello) : undefined;
  if (options.keep) {
    out(`== keeping the HelloMsk-${options.stage}-* stacks (--keep); remove them with: ${shellLine(steps.destroy)}`);
  }
  const destroyed = options.keep ? 0 : await step(steps.destroy);
  if (deployed !== 0) {
    out('FAIL: the deploy failed (see above)');
  } else if (tested !== 0) {
    out('FAIL: the smoke test failed (see above)');
  } else if (destroyed !== 0) {
    out(`FAIL: the destroy failed; stacks may remain: run ${shellLine(steps.destroy)} again`);
  } else {
    out(`PASS: deployed, sent and read "Hello MSK" through MSK${options.keep ? '' : ', and destroyed'}`);
    return EXIT_PASS;
  }
  return EXIT_FAIL;
}

/**
 * The dry run: synthesizes into a temporary directory with the pinned CDK CLI, lists the assembly's stacks with
 * the same CLI, and prints what a real run would do. Needs no AWS credentials.
 */
export function dryRun(options: E2eOptions, out: (line: string) => void): number {
  const outdir = mkdtempSync(path.join(tmpdir(), 'hello-msk-e2e-'));
  // No instance metadata lookups for credentials or a region: synth needs neither.
  const env = { ...process.env, AWS_EC2_METADATA_DISABLED: 'true' };
  try {
    const cli = (args: string[]) => spawnSync(CDK, args, { cwd: ROOT, env, encoding: 'utf8' });
    const synth = cli(['synth', '--quiet', '-c', `stage=${options.stage}`, '-o', outdir]);
    if (synth.status !== 0) {
      out(`FAIL: cdk synth failed: ${`${synth.stderr}${synth.stdout}`.trim() || synth.error?.message}`);
      return EXIT_FAIL;
    }
    const list = cli(['list', '--app', outdir]);
    if (list.status !== 0) {
      out(`FAIL: the CDK CLI cannot read the cloud assembly: ${`${list.stderr}${list.stdout}`.trim()}`);
      return EXIT_FAIL;
    }
    const stacks = list.stdout
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    out(`dry run: the pinned CDK CLI synthesized and read the cloud assembly of ${stacks.length} stacks:`);
    for (const stack of stacks) out(`  ${stack}`);
    const steps = plan(options);
    out('a real run would:');
    out(`  1. ${shellLine(steps.deploy)}`);
    out(`  2. ${shellLine(steps.hello)}`);
    out(`  3. ${options.keep ? '(keep the stacks)' : shellLine(steps.destroy)}`);
    return EXIT_PASS;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

const USAGE =
  'usage: npm run e2e -- [--stage S] [--aws-profile A] [--timeout SECONDS] [--keep] [--dry-run]\n' +
  `  --stage        hello-msk stage from cdk.json, the HelloMsk-<stage>-* stacks (default ${DEFAULT_E2E_STAGE})\n` +
  '  --aws-profile  AWS profile (also --profile); default: AWS_PROFILE / the default chain as usual\n' +
  `  --timeout      seconds the smoke test waits for the consumer's log line (default ${DEFAULT_E2E_TIMEOUT_SECONDS})\n` +
  '  --keep         leave the stacks deployed afterwards\n' +
  '  --dry-run      synthesize and list the stacks with the pinned CDK CLI; deploy nothing (no AWS account needed)';

/**
 * Parses the command line; throws a one-line error for a bad argument. `known` tells `--profile` the AWS profile
 * from `--profile` the stage (its former meaning).
 */
export function parseE2eCli(argv: string[], known: KnownNames): E2eOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      stage: { type: 'string' },
      profile: { type: 'string' },
      'aws-profile': { type: 'string' },
      timeout: { type: 'string' },
      keep: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const timeoutSeconds = values.timeout === undefined ? DEFAULT_E2E_TIMEOUT_SECONDS : Number(values.timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
    throw new Error(`--timeout ${JSON.stringify(values.timeout)} is not valid; allowed: a number of seconds > 0`);
  }
  const { stage, awsProfile, notice } = chooseStage(values, known, DEFAULT_E2E_STAGE);
  return {
    stage,
    ...(awsProfile !== undefined ? { awsProfile } : {}),
    ...(notice !== undefined ? { notice } : {}),
    timeoutSeconds,
    keep: values.keep ?? false,
    dryRun: values['dry-run'] ?? false,
  };
}

/** Runs a step with the terminal attached, as if typed. */
const runInTerminal: Runner = (step) =>
  new Promise((resolve) => {
    const child = spawn(step.command, [...step.args], { cwd: ROOT, stdio: 'inherit' });
    child.on('error', (error) => {
      console.error(`${step.title}: ${error.message}`);
      resolve(EXIT_FAIL);
    });
    child.on('exit', (code) => resolve(code ?? EXIT_FAIL));
  });

async function main(): Promise<void> {
  let options: E2eOptions | 'help';
  try {
    options = parseE2eCli(process.argv.slice(2), await knownNames());
  } catch (error) {
    console.error(`e2e: ${(error as Error).message}`);
    console.error(USAGE);
    process.exitCode = EXIT_BAD_ARGUMENTS;
    return;
  }
  if (options === 'help') {
    console.log(USAGE);
    return;
  }
  const out = (line: string) => console.log(line);
  if (options.notice) out(`e2e: ${options.notice}`);
  // The CDK CLI and the smoke test inherit it.
  if (options.awsProfile) process.env.AWS_PROFILE = options.awsProfile;
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  process.exitCode = options.dryRun
    ? dryRun(options, out)
    : await runE2e(options, runInTerminal, out, () => checkAwsAccount(stsClient()));
}

if (require.main === module) {
  void main();
}
