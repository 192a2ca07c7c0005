/**
 * Kafka's own Java command-line tools, signing in to the twin with AWS's MSK IAM library for Java
 * (software.amazon.msk:aws-msk-iam-auth, resolved from Maven Central by java-client/pom.xml): an implementation of
 * MSK's token format independent of aws-msk-iam-sasl-signer-js.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
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
    fetching: `Fetching aws-msk-iam-auth ${version} and its AWS SDK jars from Maven Central`,
    // Into an empty local repository, Maven's plugins included (measured for 2.3.x: docs/twin.md).
    aboutMb: 33,
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

/** Kafka's command-line tools by their script name: the main class and the option that takes client properties. */
export const KAFKA_TOOL_SCRIPTS = [
  'kafka-topics',
  'kafka-console-producer',
  'kafka-console-consumer',
  'kafka-consumer-groups',
] as const;
export type KafkaToolScript = (typeof KAFKA_TOOL_SCRIPTS)[number];

/** The main class of `script` in Kafka `kafkaVersion`'s jars, and its option for a client properties file. */
export function kafkaToolClass(
  script: KafkaToolScript,
  kafkaVersion: string,
): { mainClass: string; configOption: string } {
  const console = consoleToolClasses(kafkaVersion);
  switch (script) {
    case 'kafka-topics':
      return { mainClass: 'org.apache.kafka.tools.TopicCommand', configOption: '--command-config' };
    case 'kafka-consumer-groups':
      return {
        mainClass: 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
        configOption: '--command-config',
      };
    case 'kafka-console-producer':
      return { mainClass: console.producer, configOption: '--producer.config' };
    case 'kafka-console-consumer':
      return { mainClass: console.consumer, configOption: '--consumer.config' };
  }
}

/** The logging of Kafka's `bin/` scripts for tools (config/tools-log4j): warnings and errors on stderr. */
function toolsLogConfig(dir: string, kafkaVersion: string): string {
  if (Number(kafkaVersion.split('.')[0]) >= 4) {
    const file = writeProperties(path.join(dir, 'tools-log4j2.properties'), {
      'appender.stderr.type': 'Console',
      'appender.stderr.name': 'STDERR',
      'appender.stderr.target': 'SYSTEM_ERR',
      'appender.stderr.layout.type': 'PatternLayout',
      'appender.stderr.layout.pattern': '[%d] %p %m (%c)%n',
      'rootLogger.level': 'WARN',
      'rootLogger.appenderRef.stderr.ref': 'STDERR',
    });
    return `-Dlog4j2.configurationFile=${file}`;
  }
  const file = writeProperties(path.join(dir, 'tools-log4j.properties'), {
    'log4j.rootLogger': 'WARN, stderr',
    'log4j.appender.stderr': 'org.apache.log4j.ConsoleAppender',
    'log4j.appender.stderr.layout': 'org.apache.log4j.PatternLayout',
    'log4j.appender.stderr.layout.ConversionPattern': '[%d] %p %m (%c)%n',
    'log4j.appender.stderr.Target': 'System.err',
  });
  return `-Dlog4j.configuration=file:${file}`;
}

/** How a tool signs in to an MSK IAM listener (TLS + SASL/OAUTHBEARER with aws-msk-iam-auth). */
export interface KafkaToolIamSignIn {
  /** The role whose credentials sign in (passed as Lambda would: AWS_ACCESS_KEY_ID, ... in the environment). */
  readonly credentials: IssuedCredentials;
  readonly region: string;
  /** PEM file of the CA the brokers' certificates chain to. */
  readonly caFile: string;
  /** More client properties, e.g. shorter timeouts. @default none */
  readonly properties?: Readonly<Record<string, string>>;
}

export interface KafkaToolClassOptions {
  readonly kafkaVersion: string;
  readonly script: KafkaToolScript;
  /** The tool's own arguments; the client properties option is added when `iam` is given. */
  readonly args: readonly string[];
  /** @default plaintext, no sign-in */
  readonly iam?: KafkaToolIamSignIn;
  /** Lines written to the tool's stdin, which is then closed. @default closed at once */
  readonly input?: AsyncIterable<string>;
  /** Called with the tool's stdout and stderr as they come. */
  readonly stdout: (chunk: string) => void;
  readonly stderr: (chunk: string) => void;
  /** Aborting it ends the tool as Ctrl-C does (SIGTERM: the JVM runs the tool's shutdown hooks). */
  readonly signal?: AbortSignal;
  /** @default a small heap and quick start-up (-Xmx256m, C1 only) */
  readonly jvmOptions?: readonly string[];
  readonly log?: Logger;
}

/**
 * Runs one of Kafka's own command-line tools from the broker's jars, as its `bin/` script does, signing in with
 * aws-msk-iam-auth when `iam` is given; resolves with its exit status.
 */
export async function runKafkaToolClass(options: KafkaToolClassOptions): Promise<number> {
  const { mainClass, configOption } = kafkaToolClass(options.script, options.kafkaVersion);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'msk-twin-tool-'));
  try {
    const args = [...options.args];
    if (options.iam) {
      const file = writeProperties(path.join(dir, 'client.properties'), {
        ...mskIamClientProperties(options.iam.caFile),
        ...options.iam.properties,
      });
      args.push(configOption, file);
    }
    const child = await spawnKafkaJava({
      kafkaVersion: options.kafkaVersion,
      jvmOptions: [...(options.jvmOptions ?? DEFAULT_TOOL_JVM_OPTIONS), toolsLogConfig(dir, options.kafkaVersion)],
      mainClass,
      args,
      signIn: options.iam,
      log: options.log,
    });
    child.stdout.setEncoding('utf8').on('data', options.stdout);
    child.stderr.setEncoding('utf8').on('data', options.stderr);
    const onAbort = () => child.kill('SIGTERM');
    options.signal?.addEventListener('abort', onAbort);
    const exited = new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => resolve(code ?? (signal === 'SIGTERM' ? 143 : 1)));
    });
    child.stdin.on('error', () => undefined);
    void feed(child.stdin, options.input);
    try {
      return await exited;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function feed(stdin: NodeJS.WritableStream, input?: AsyncIterable<string>): Promise<void> {
  try {
    for await (const line of input ?? []) {
      if (!stdin.write(`${line}\n`)) await new Promise((resolve) => stdin.once('drain', resolve));
    }
  } catch {
    // The tool stopped reading (it exited); its exit status tells.
  } finally {
    stdin.end();
  }
}

/** A small heap and quick start-up (C1 only), for tools that run for seconds. */
const DEFAULT_TOOL_JVM_OPTIONS: readonly string[] = ['-Xmx256m', '-XX:TieredStopAtLevel=1'];

/**
 * Starts `mainClass` from Kafka's jars, with aws-msk-iam-auth on the classpath and only the role's credentials
 * and region in its environment when `signIn` is given (nothing of this process's AWS settings either way).
 */
async function spawnKafkaJava(options: {
  readonly kafkaVersion: string;
  readonly jvmOptions: readonly string[];
  readonly mainClass: string;
  readonly args: readonly string[];
  readonly signIn?: { readonly credentials: IssuedCredentials; readonly region: string };
  readonly log?: Logger;
}): Promise<ChildProcessWithoutNullStreams> {
  const classpath = [await ensureKafkaJars(options.kafkaVersion, options.log)];
  if (options.signIn) classpath.push(await ensureMskIamAuthClasspath(options.log));
  return spawn(
    requireJava().bin,
    [...options.jvmOptions, '-cp', classpath.join(path.delimiter), options.mainClass, ...options.args],
    {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        ...(options.signIn
          ? { ...credentialsEnvironment(options.signIn.credentials), AWS_REGION: options.signIn.region }
          : {}),
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
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
  const child = await spawnKafkaJava({
    kafkaVersion: options.kafkaVersion,
    jvmOptions: options.jvmOptions ?? DEFAULT_TOOL_JVM_OPTIONS,
    mainClass: options.mainClass,
    args: options.args,
    signIn: { credentials: options.credentials, region: options.region },
    log: options.log,
  });
  return new Promise((resolve, reject) => {
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
