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
  results: { failed_checks: Check[]; skipped_checks: Check[] };
}

/** Synthesizes the app that `build` makes and runs checkov over every template, offline. */
function scan(build: (outdir: string) => App): CheckovReport {
  const outdir = mkdtempSync(join(tmpdir(), 'hello-msk-checkov-'));
  try {
    const assembly = build(outdir).synth({ force: true });
    const templates = assembly.stacks.map((s) => s.templateFullPath);
    const result = spawnSync(
      CHECKOV,
      ['--framework', 'cloudformation', '--skip-download', '--compact', '-o', 'json', '-f', ...templates],
      {
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
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
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

const described = (checks: Check[]) => checks.map((c) => `${c.check_id} ${c.resource} (${c.file_path})`);

describe('checkov (CloudFormation checks, pinned, offline)', () => {
  test.each([...APP_VARIANTS, ...KIND_VARIANTS])(
    'finds no failed check in any template of the %s app',
    (_name, context) => {
      const report = scan((outdir) => buildTestApp(context, outdir).app);
      expect(described(report.results.failed_checks)).toEqual([]);
      expect(report.summary.parsing_errors).toBe(0);
      expect(report.summary.passed).toBeGreaterThan(100);
      // Every skip is a template metadata entry that carries its reason, as the cdk-nag acknowledgements do.
      const unexplained = report.results.skipped_checks.filter((c) => !c.check_result.suppress_comment?.trim());
      expect(described(unexplained)).toEqual([]);
    },
  );

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
