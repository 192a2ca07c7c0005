import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTestApp } from './synth';
import { KIND_VARIANTS, PROFILE_VARIANTS } from './variants';

// The pinned cfn-lint that `scripts/setup-python-tools.sh` installs; CFN_LINT points elsewhere if wanted.
const PINNED = join(__dirname, '..', '..', '.venv', 'bin', 'cfn-lint');
const CFN_LINT = process.env.CFN_LINT ?? (existsSync(PINNED) ? PINNED : 'cfn-lint');

function lint(
  name: string,
  context: Record<string, unknown>,
): { templates: string[]; output: string; status: number | null } {
  const outdir = mkdtempSync(join(tmpdir(), `hello-msk-cfnlint-${name}-`));
  try {
    const { app } = buildTestApp(context, outdir);
    const assembly = app.synth({ force: true });
    const templates = assembly.stacks.map((s) => s.templateFullPath);
    const result = spawnSync(CFN_LINT, ['--format', 'parseable', '--', ...templates], { encoding: 'utf8' });
    if (result.error) {
      throw new Error(`${CFN_LINT} could not be run (${result.error.message}): run scripts/setup-python-tools.sh`);
    }
    return { templates, output: `${result.stdout}${result.stderr}`.trim(), status: result.status };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

describe('cfn-lint', () => {
  test.each([...PROFILE_VARIANTS, ...KIND_VARIANTS])(
    'finds no errors and no warnings in any %s template',
    (name, context) => {
      const { templates, output, status } = lint(name, context);
      expect(templates.length).toBeGreaterThanOrEqual(2);
      expect(output).toBe('');
      expect(status).toBe(0);
    },
  );
});
