/**
 * Kafka's own Java command-line clients, signing in to the twin with AWS's MSK IAM library for Java
 * (software.amazon.msk:aws-msk-iam-auth, resolved from Maven Central by java-client/pom.xml): a second, independent
 * implementation of MSK's token format, beside aws-msk-iam-sasl-signer-js.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import {
  cacheRoot,
  ensureKafkaJars,
  requireJava,
  resolveMavenClasspath,
  type Logger,
  type RunResult,
} from '../broker/local-kafka';
import { credentialsEnvironment, type IssuedCredentials } from './credentials';

const POM = path.join(__dirname, 'java-client', 'pom.xml');

/** The aws-msk-iam-auth version the pom names (its `aws-msk-iam-auth.version` property). */
export function mskIamAuthVersion(): string {
  const match = /<aws-msk-iam-auth\.version>([^<]+)</.exec(fs.readFileSync(POM, 'utf8'));
  if (!match) throw new Error(`${POM} names no aws-msk-iam-auth.version`);
  return match[1];
}

/** The classpath of aws-msk-iam-auth and its AWS SDK dependencies (without Kafka and SLF4J), resolved once. */
export async function ensureMskIamAuthClasspath(log?: Logger): Promise<string> {
  const version = mskIamAuthVersion();
  const cacheDir = path.join(cacheRoot(), `aws-msk-iam-auth-${version}`);
  return resolveMavenClasspath({
    pom: POM,
    cacheDir,
    what: `aws-msk-iam-auth ${version}`,
    downloading: `Downloading aws-msk-iam-auth ${version} and its AWS SDK jars from Maven Central (once)...`,
    log,
  });
}

/**
 * The client properties of aws-msk-iam-auth's README for SASL/OAUTHBEARER, with the twin CA as a PEM truststore
 * (Kafka's Java clients read PEM; hostname verification stays at its default, https).
 */
export function mskIamClientProperties(caFile: string): Record<string, string> {
  return {
    'security.protocol': 'SASL_SSL',
    'sasl.mechanism': 'OAUTHBEARER',
    'sasl.jaas.config': 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;',
    'sasl.login.callback.handler.class': 'software.amazon.msk.auth.iam.IAMOAuthBearerLoginCallbackHandler',
    'sasl.client.callback.handler.class': 'software.amazon.msk.auth.iam.IAMOAuthBearerLoginCallbackHandler',
    'ssl.truststore.type': 'PEM',
    'ssl.truststore.location': caFile,
  };
}

/** Writes `properties` as a Java properties file. */
export function writeProperties(file: string, properties: Record<string, string>): string {
  fs.writeFileSync(
    file,
    `${Object.entries(properties)
      .map(([key, value]) => `${key}=${value}`)
      .join('\n')}\n`,
  );
  return file;
}

/** Kafka's console producer and consumer classes, which moved between Kafka 3.x and 4.x. */
export function consoleToolClasses(kafkaVersion: string): { producer: string; consumer: string } {
  return Number(kafkaVersion.split('.')[0]) >= 4
    ? {
        producer: 'org.apache.kafka.tools.ConsoleProducer',
        consumer: 'org.apache.kafka.tools.consumer.ConsoleConsumer',
      }
    : { producer: 'kafka.tools.ConsoleProducer', consumer: 'org.apache.kafka.tools.consumer.ConsoleConsumer' };
}

export interface JavaToolOptions {
  readonly kafkaVersion: string;
  /** The tool's main class, e.g. from consoleToolClasses(). */
  readonly mainClass: string;
  readonly args: readonly string[];
  /** The role whose credentials sign in (passed as Lambda would: AWS_ACCESS_KEY_ID, ... in the environment). */
  readonly credentials: IssuedCredentials;
  readonly region: string;
  /** Written to the tool's stdin, then closed. */
  readonly input?: string;
  readonly timeoutMs?: number;
  /** JVM options. @default a small heap and quick start-up (-Xmx256m, C1 only) */
  readonly jvmOptions?: readonly string[];
  readonly log?: Logger;
}

/** Runs a Kafka Java tool with aws-msk-iam-auth on its classpath and only the role's credentials in its environment. */
export async function runJavaTool(options: JavaToolOptions): Promise<RunResult> {
  const java = requireJava();
  const classpath = [
    await ensureKafkaJars(options.kafkaVersion, options.log),
    await ensureMskIamAuthClasspath(options.log),
  ].join(path.delimiter);
  return new Promise((resolve, reject) => {
    const child = spawn(
      java.bin,
      [
        ...(options.jvmOptions ?? ['-Xmx256m', '-XX:TieredStopAtLevel=1']),
        '-cp',
        classpath,
        options.mainClass,
        ...options.args,
      ],
      {
        // Nothing from this process's AWS settings: the tool finds exactly the issued credentials and the region.
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          ...credentialsEnvironment(options.credentials),
          AWS_REGION: options.region,
        },
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
    child.stdin.end(options.input ?? '');
  });
}
