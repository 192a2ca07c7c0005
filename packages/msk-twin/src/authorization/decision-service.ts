/**
 * The twin's IAM decision service: a small HTTP server on 127.0.0.1 that the brokers' authorizer and sign-in
 * validator (src/iam, Java) ask whether a role may make a Kafka request. It evaluates the policy set in the registry
 * directory (policies.json, re-read when it changes) with evaluator.ts. It runs as a process of its own, so that it
 * outlives the process that started a detached twin; it writes its port and PID beside the policies, and exits
 * when the registry directory is removed (the twin stopped) or on SIGTERM.
 *
 * Protocol: POST /decide with one line per question, `roleArn TAB OPERATION TAB RESOURCE_TYPE TAB PATTERN TAB name`
 * (the name form-urlencoded); the answer has one line per question, `ALLOW` or `DENY TAB reason`. POST /signature
 * with an MSK IAM sign-in token: `MATCH`, or `MISMATCH TAB reason` (aws-api/sigv4.ts, tokenSignatureMatches).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { isOurProcess } from '../broker/local-kafka';
import { PolicyEvaluator, type Decision } from './evaluator';
import { policiesFile, readPolicySet } from './policies';
import { tokenSignatureMatches } from '../aws-api/sigv4';

export function decisionServicePortFile(registryDir: string): string {
  return path.join(registryDir, 'decision-service.port');
}

export function decisionServicePidFile(registryDir: string): string {
  return path.join(registryDir, 'decision-service.pid');
}

/** The evaluator of the current policies.json: a new one whenever the file is replaced. */
export function currentEvaluator(registryDir: string): () => PolicyEvaluator {
  let stamp = '';
  let evaluator = new PolicyEvaluator({ roles: {} });
  return () => {
    let now = 'none';
    try {
      const stat = fs.statSync(policiesFile(registryDir), { bigint: true });
      now = `${stat.mtimeNs}/${stat.ino}`;
    } catch {
      // No policies yet: every IAM request is refused.
    }
    if (now !== stamp) {
      stamp = now;
      evaluator = new PolicyEvaluator(readPolicySet(registryDir));
    }
    return evaluator;
  };
}

async function answer(evaluator: PolicyEvaluator, line: string): Promise<Decision> {
  const [roleArn, operation, resourceType, patternType, encoded] = line.split('\t');
  if (encoded === undefined) return { allowed: false, reason: `malformed question ${JSON.stringify(line)}` };
  const name = decodeURIComponent(encoded.replace(/\+/g, ' '));
  return evaluator.decide(roleArn, { operation, resourceType, patternType, name });
}

/** Serves decisions for the policies of `registryDir` on 127.0.0.1 (port 0: any free one). */
export async function serveDecisions(registryDir: string): Promise<http.Server> {
  const evaluatorNow = currentEvaluator(registryDir);
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.url === '/signature') {
        tokenSignatureMatches(Buffer.concat(chunks).toString('utf8').trim(), registryDir).then(
          ({ matches, reason }) => {
            response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
            response.end(matches ? 'MATCH' : `MISMATCH\t${reason ?? ''}`);
          },
          (error: unknown) => {
            response.writeHead(500);
            response.end(String(error));
          },
        );
        return;
      }
      const evaluator = evaluatorNow();
      const lines = Buffer.concat(chunks).toString('utf8').split('\n').filter(Boolean);
      Promise.all(lines.map((line) => answer(evaluator, line))).then(
        (decisions) => {
          response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
          response.end(
            decisions.map((d) => (d.allowed ? 'ALLOW' : `DENY\t${(d.reason ?? '').replace(/\n/g, ' ')}`)).join('\n'),
          );
        },
        (error: unknown) => {
          response.writeHead(500);
          response.end(String(error));
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** Runs the service for `registryDir` in this process until the directory goes or SIGTERM. */
async function main(registryDir: string): Promise<void> {
  const server = await serveDecisions(registryDir);
  const { port } = server.address() as { port: number };
  fs.writeFileSync(decisionServicePidFile(registryDir), `${process.pid}\n`);
  const portFile = decisionServicePortFile(registryDir);
  fs.writeFileSync(`${portFile}.tmp`, `${port}\n`);
  fs.renameSync(`${portFile}.tmp`, portFile);
  const exit = () => {
    server.close();
    process.exit(0);
  };
  process.on('SIGTERM', exit);
  setInterval(() => {
    if (!fs.existsSync(registryDir)) exit();
  }, 1000);
}

/**
 * Starts the decision service of `registryDir` as a detached process (its output to `logFile`) and resolves with
 * its PID once it listens.
 */
export async function startDecisionService(registryDir: string, logFile: string, timeoutMs = 30_000): Promise<number> {
  const portFile = decisionServicePortFile(registryDir);
  fs.rmSync(portFile, { force: true });
  const out = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', __filename, registryDir], {
    detached: true,
    stdio: ['ignore', out, out],
  });
  fs.closeSync(out);
  child.unref();
  if (child.pid === undefined) throw new Error(`Could not start the IAM decision service with ${process.execPath}`);
  const deadline = Date.now() + timeoutMs;
  while (!fs.existsSync(portFile)) {
    if (child.exitCode !== null) {
      throw new Error(`The IAM decision service exited with code ${child.exitCode}; see ${logFile}`);
    }
    if (Date.now() > deadline) throw new Error(`The IAM decision service did not listen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return child.pid;
}

/** The PID the decision service of `registryDir` recorded, if it started. */
export function decisionServicePid(registryDir: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(decisionServicePidFile(registryDir), 'utf8'));
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Ends the decision service `pid` of `registryDir`, if that PID is still a process of it. */
export function stopDecisionService(pid: number, registryDir: string): void {
  if (!isOurProcess(pid, registryDir)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // Already gone.
  }
}

if (require.main === module) {
  const registryDir = process.argv[2];
  if (!registryDir) {
    process.stderr.write('usage: decision-service.ts REGISTRY_DIR\n');
    process.exit(2);
  }
  main(path.resolve(registryDir)).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
