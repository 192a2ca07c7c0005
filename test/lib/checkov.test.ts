import { App, Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipCheckov } from '../../lib/checkov-suppressions';
import { buildTestApp } from './synth';
import { APP_VARIANTS, KIND_VARIANTS } from './variants';

// The pinned checkov that `scripts/setup-python-tools.sh` installs; CHECKOV points elsewhere if wanted.
const PINNED = join(__dirname, '..', '..', '.venv', 'bin', 'checkov');
const CHECKOV = process.env.CHECKOV ?? (existsSync(PINNED) ? PINNED : 'checkov');

interface Check {
  check_id: string;
  resource: string;
  file_path: string;
  check_result: { result: string; suppress_comment?: string };
}

interface CheckovReport {
  check_type: string;
  summary: { passed: number; failed: number; skipped: number; parsing_errors: number };
  results: { passed_checks: Check[]; failed_checks: Check[]; skipped_checks: Check[] };
}

/** Runs checkov over `templates` in one process, offline. */
function runCheckov(templates: readonly string[]): CheckovReport {
  const result = spawnSync(
    CHECKOV,
    ['--framework', 'cloudformation', '--skip-download', '--compact', '-o', 'json', '-f', ...templates],
    {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
      // Offline: no update check and no platform mapping download (--skip-download covers the rest).
      env: { ...process.env, CKV_SKIP_PACKAGE_UPDATE_CHECK: 'true', BC_SKIP_MAPPING: 'TRUE' },
    },
  );
  if (result.error) {
    throw new Error(`${CHECKOV} could not be run (${result.error.message}): run scripts/setup-python-tools.sh`);
  }
  const parsed = JSON.parse(result.stdout) as CheckovReport | CheckovReport[];
  const reports = Array.isArray(parsed) ? parsed : [parsed];
  expect(reports.map((r) => r.check_type)).toEqual(['cloudformation']);
  return reports[0];
}

/** Synthesizes the app that `build` makes and runs checkov over every template. */
function scan(build: (outdir: string) => App): CheckovReport {
  const outdir = mkdtempSync(join(tmpdir(), 'hello-msk-checkov-'));
  try {
    const assembly = build(outdir).synth({ force: true });
    return runCheckov(assembly.stacks.map((s) => s.templateFullPath));
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** The checks of one variant's templates, out of a report over the templates of every variant. */
interface VariantChecks {
  passed: number;
  failed: Check[];
  skipped: Check[];
}

const described = (checks: Check[]) => checks.map((c) => `${c.check_id} ${c.resource} (${c.file_path})`);

describe('checkov (CloudFormation checks, pinned, offline)', () => {
  const variants = [...APP_VARIANTS, ...KIND_VARIANTS];
  const byVariant = new Map<string, VariantChecks>();
  let root: string;
  let parsingErrors: number;

  // One checkov process for the templates of every variant: its start-up costs more than scanning a template.
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'hello-msk-checkov-'));
    const templatesOf = new Map<string, string>();
    variants.forEach(([name, context], index) => {
      const assembly = buildTestApp(context, join(root, `variant-${index}`)).app.synth({ force: true });
      for (const stack of assembly.stacks) templatesOf.set(stack.templateFullPath, name);
      byVariant.set(name, { passed: 0, failed: [], skipped: [] });
    });
    const report = runCheckov([...templatesOf.keys()]);
    parsingErrors = report.summary.parsing_errors;
    const variantOf = (check: Check) => {
      // checkov names a file by a path of its own making (`/../../tmp/…`): its last two parts are unique here.
      const lastTwo = (file: string) => file.split('/').slice(-2).join('/');
      const name = [...templatesOf].find(([file]) => lastTwo(file) === lastTwo(check.file_path))?.[1];
      if (name === undefined) throw new Error(`checkov reported a file no variant wrote: ${check.file_path}`);
      return byVariant.get(name)!;
    };
    for (const check of report.results.passed_checks) variantOf(check).passed += 1;
    for (const check of report.results.failed_checks) variantOf(check).failed.push(check);
    for (const check of report.results.skipped_checks) variantOf(check).skipped.push(check);
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test('reads every template of every variant', () => {
    expect(parsingErrors).toBe(0);
  });

  test.each(variants)('finds no failed check in any template of the %s app', (name) => {
    const checks = byVariant.get(name)!;
    expect(described(checks.failed)).toEqual([]);
    expect(checks.passed).toBeGreaterThan(100);
    // Every skip is a template metadata entry that carries its reason, as the cdk-nag acknowledgements do.
    const unexplained = checks.skipped.filter((c) => !c.check_result.suppress_comment?.trim());
    expect(described(unexplained)).toEqual([]);
  });

  test('reports a finding that is not skipped, and honours a skip with its reason', () => {
    const report = scan((outdir) => {
      const app = new App({ outdir });
      const stack = new Stack(app, 'Throwaway');
      new logs.LogGroup(stack, 'Plain', { retention: logs.RetentionDays.ONE_WEEK });
      const skipped = new logs.LogGroup(stack, 'Skipped', { retention: logs.RetentionDays.ONE_WEEK });
      skipCheckov(skipped, 'CKV_AWS_158', 'a reason');
      return app;
    });
    expect(report.results.failed_checks.map((c) => [c.check_id, c.resource])).toEqual([
      ['CKV_AWS_158', expect.stringMatching(/^AWS::Logs::LogGroup\.Plain/)],
    ]);
    expect(report.results.skipped_checks.map((c) => [c.check_id, c.resource, c.check_result.suppress_comment])).toEqual(
      [['CKV_AWS_158', expect.stringMatching(/^AWS::Logs::LogGroup\.Skipped/), 'a reason']],
    );
  });
});
