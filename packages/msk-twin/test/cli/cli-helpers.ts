/** Runs the msk-twin CLI as a user would (the `msk-twin` that npm links), with a state directory of the test's own. */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const BIN = path.join(__dirname, '..', '..', 'bin', 'msk-twin.cjs');
/** The CDK CLI of the workspace, run directly: `npx` inside a workspace package would run from that package's root. */
const CDK = path.join(__dirname, '..', '..', '..', '..', 'node_modules', '.bin', 'cdk');

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function twinCli(stateDir: string): (args: string[]) => Promise<CliResult> {
  return (args) =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], {
        env: { ...process.env, MSK_TWIN_STATE_DIR: stateDir },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
}

/** `cdk synth -o <temp dir>` in `appDir`, with the CDK CLI of this repository: the assembly directory. */
export function cdkSynth(appDir: string, args: string[] = []): string {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'msk-twin-cli-assembly-'));
  execFileSync(CDK, ['synth', '--quiet', '-o', out, ...args], {
    cwd: appDir,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, CDK_DISABLE_VERSION_CHECK: 'true' },
  });
  return out;
}
