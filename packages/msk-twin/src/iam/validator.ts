/**
 * Builds the twin's MSK IAM token validator and authorizer (the Java sources and pom beside this file) with Maven,
 * once per source hash, into ~/.cache/hello-msk/iam-validator-<hash>/: nothing is written inside the repository.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { cacheRoot, mavenFailure, requireJava, requireMaven, withLock, type Logger } from '../broker/local-kafka';
import { MavenProgress, runMaven } from '../broker/maven-progress';

/** The class the broker loads as `listener.name.<name>.oauthbearer.sasl.server.callback.handler.class`. */
export const VALIDATOR_CLASS = 'hellomsk.twin.iam.MskIamValidatorCallbackHandler';
/** The class the broker loads as `authorizer.class.name`: IAM evaluation for IAM principals. */
export const AUTHORIZER_CLASS = 'hellomsk.twin.iam.MskIamAuthorizer';

const PROJECT_DIR = __dirname;
const JAR_NAME = 'twin-iam-validator.jar';
/** What the build downloads into an empty local repository (Maven's build plugins, kafka-clients): docs/twin.md. */
export const VALIDATOR_DOWNLOAD_MB = 38;

function sourceFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return sourceFiles(full);
      return entry.name.endsWith('.java') ? [full] : [];
    })
    .sort();
}

/** Hash of the pom and every Java source (names and contents): a change to any of them builds a new jar. */
export function validatorSourceHash(): string {
  const hash = crypto.createHash('sha256');
  for (const file of [path.join(PROJECT_DIR, 'pom.xml'), ...sourceFiles(path.join(PROJECT_DIR, 'src'))]) {
    hash.update(path.relative(PROJECT_DIR, file)).update('\0').update(fs.readFileSync(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

/** Where the jar of the current sources lives (whether or not it is built yet). */
export function validatorJarPath(): string {
  return path.join(cacheRoot(), `iam-validator-${validatorSourceHash()}`, JAR_NAME);
}

/** Returns the validator jar of the current sources, building it with Maven first if needed. */
export async function ensureValidatorJar(log?: Logger): Promise<string> {
  const jar = validatorJarPath();
  if (fs.existsSync(jar)) return jar;
  requireJava();
  requireMaven();
  const cacheDir = path.dirname(jar);
  fs.mkdirSync(cacheDir, { recursive: true });
  return withLock(path.join(cacheDir, '.lock'), async () => {
    if (fs.existsSync(jar)) return jar;
    const started = Date.now();
    log?.('Building the MSK IAM token validator with Maven (once per change of its sources)...');
    const buildDir = path.join(cacheDir, `build-${process.pid}`);
    const progress = new MavenProgress(log, {
      fetching: "fetching Maven's build plugins and kafka-clients from Maven Central",
      aboutMb: VALIDATOR_DOWNLOAD_MB,
      indent: '  ',
    });
    try {
      const result = await runMaven(
        ['-f', path.join(PROJECT_DIR, 'pom.xml'), 'package', `-Dvalidator.buildDir=${buildDir}`],
        progress,
      );
      const built = path.join(buildDir, JAR_NAME);
      if (result.code !== 0 || !fs.existsSync(built)) {
        throw new Error(`Maven could not build the MSK IAM token validator: ${mavenFailure(result.output)}`);
      }
      fs.renameSync(built, jar);
      log?.(`  built in ${Math.round((Date.now() - started) / 1000)} s`);
      return jar;
    } finally {
      fs.rmSync(buildDir, { recursive: true, force: true });
    }
  });
}
