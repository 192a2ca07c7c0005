/**
 * `npm run hello`: the post-deploy smoke test. With your AWS credentials it reads the Clients stack's outputs,
 * sends a message that carries a fresh run id through the producer function, runs the consumer function, and
 * follows the consumer's CloudWatch log group until a log line whose `message` is exactly that value appears.
 *
 *   npm run hello -- [--message M] [--stage S] [--aws-profile A] [--timeout S] [--wait-for-schedule]
 *
 * It first asks STS who the credentials are (one GetCallerIdentity call), so that no credentials, no region or an
 * unreachable AWS API is named as such. Exit codes: 0 PASS, 1 FAIL, 2 nothing to test (no credentials, no region,
 * AWS unreachable, no deployed stack, bad arguments).
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { CloudFormationClient, DescribeStacksCommand, type Output } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  AwsUnavailable,
  checkAwsAccount,
  chooseStage,
  knownNames,
  regionFromEnvironment,
  stsClient,
  type KnownNames,
  type StsLike,
} from './aws-account';

export { regionFromEnvironment } from './aws-account';

export const DEFAULT_MESSAGE = 'Hello MSK';
export const DEFAULT_STAGE = 'dev';
export const DEFAULT_TIMEOUT_SECONDS = 120;
/** Milliseconds between two looks at the consumer's log group. */
export const POLL_INTERVAL_MS = 3000;
/** The search starts this long before the send, in case this machine's clock runs ahead of AWS's. */
export const CLOCK_SKEW_MS = 60000;
/** Pages of log events read per look; a run id matches one or two lines, so one page is the normal case. */
const MAX_PAGES_PER_POLL = 10;
const MAX_DETAIL_CHARS = 300;

export const EXIT_PASS = 0;
export const EXIT_FAIL = 1;
export const EXIT_NOTHING_TO_TEST = 2;

/** The clients `runHello` needs; anything with the SDK clients' `send` will do. */
export interface HelloClients {
  readonly cfn: Pick<CloudFormationClient, 'send'>;
  readonly lambda: Pick<LambdaClient, 'send'>;
  readonly logs: Pick<CloudWatchLogsClient, 'send'>;
}

export interface HelloDeps extends HelloClients {
  /** Asked first: who the credentials are, in which region. */
  readonly sts: StsLike;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Prints one line. */
  readonly out: (line: string) => void;
  /** Makes the sent value unique, so the check cannot match a line from an earlier run. */
  readonly runId: () => string;
  /** The AWS region, for messages only. */
  readonly region: () => Promise<string | undefined>;
}

export interface HelloOptions {
  /** @default 'Hello MSK' */
  readonly message?: string;
  /** hello-msk stage: the `HelloMsk-<stage>-*` stacks. @default 'dev' */
  readonly stage?: string;
  /** AWS profile to use (sets AWS_PROFILE). @default the environment's */
  readonly awsProfile?: string;
  /** A line printed before the run (`--profile` taken as the stage, its former meaning). */
  readonly notice?: string;
  /** How long to wait for the consumer's log line after the send. @default 120 */
  readonly timeoutSeconds?: number;
  /** Invoke the consumer right away (true) or only wait for its scheduled run (false). @default true */
  readonly invokeConsumer?: boolean;
}

interface StackOutputs {
  readonly producer: string;
  readonly consumer: string;
  readonly logGroup: string;
}

interface InvokeResult {
  readonly ok: boolean;
  readonly payload: unknown;
  /** `ErrorType: message` of a function error. */
  readonly error?: string;
}

/** A failure that ends the run with one line. */
class Stop extends Error {
  constructor(
    readonly line: string,
    readonly exitCode: number,
  ) {
    super(line);
  }
}

/**
 * Runs the smoke test and returns the process exit code. Every step prints one line with the time since the
 * start; the last line is `PASS: …` or `FAIL: …`. When there is nothing to test (no credentials, region or
 * stack), the only line printed says so.
 */
export async function runHello(options: HelloOptions, deps: HelloDeps): Promise<number> {
  const stage = options.stage ?? DEFAULT_STAGE;
  const stackName = `HelloMsk-${stage}-Clients`;
  const timeoutMs = (options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000;
  const runId = deps.runId();
  const value = `${options.message ?? DEFAULT_MESSAGE} [run ${runId}]`;
  const started = deps.now();
  const at = () => `[${((deps.now() - started) / 1000).toFixed(1).padStart(5)}s]`;
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

  try {
    const identity = await checkAwsAccount(deps.sts).catch((error: unknown) => {
      throw error instanceof AwsUnavailable ? new Stop(`hello: ${error.message}`, EXIT_NOTHING_TO_TEST) : error;
    });
    const outputs = await readOutputs(deps, stackName);
    deps.out(`hello-msk smoke test of ${stackName} in ${identity.region} as ${identity.arn}, run ${runId}`);
    deps.out(`${at()} stack outputs: producer ${outputs.producer}, consumer ${outputs.consumer}`);

    const sendStart = deps.now();
    const sent = await invoke(deps, outputs.producer, { message: value });
    if (!sent.ok) throw new Stop(`FAIL: the producer failed: ${sent.error}${hint(sent.error)}`, EXIT_FAIL);
    deps.out(`${at()} producer sent "${value}" ${describeSent(sent.payload)} (${seconds(deps.now() - sendStart)})`);

    if (options.invokeConsumer ?? true) {
      const readStart = deps.now();
      try {
        const read = await invoke(deps, outputs.consumer, {});
        if (!read.ok) throw new Stop(`FAIL: the consumer failed: ${read.error}${hint(read.error)}`, EXIT_FAIL);
        deps.out(`${at()} consumer ${describeRead(read.payload, value)} (${seconds(deps.now() - readStart)})`);
      } catch (error) {
        if (errorName(error) !== 'TooManyRequestsException') throw error;
        // With consumerConcurrency 1, the consumer's one instance is busy with its scheduled run, which reads the
        // message too.
        deps.out(`${at()} consumer busy with its scheduled run; waiting for that run's log line`);
      }
    } else {
      deps.out(`${at()} waiting for the consumer's scheduled run`);
    }

    const waitStart = deps.now();
    const deadline = sendStart + timeoutMs;
    for (;;) {
      const line = await findLogLine(deps, outputs.logGroup, sendStart - CLOCK_SKEW_MS, runId, value);
      if (line) {
        deps.out(`${at()} consumer log line found after ${seconds(deps.now() - waitStart)}: ${line}`);
        deps.out(
          `PASS: "${value}" went producer -> MSK -> consumer -> CloudWatch Logs in ${seconds(deps.now() - started)}`,
        );
        return EXIT_PASS;
      }
      const left = deadline - deps.now();
      if (left <= 0) break;
      await deps.sleep(Math.min(POLL_INTERVAL_MS, left));
    }
    throw new Stop(
      `FAIL: no log line with message "${value}" in ${outputs.logGroup} within ${timeoutMs / 1000} s of the send` +
        ' (see docs/deploy.md, Troubleshooting: timeouts)',
      EXIT_FAIL,
    );
  } catch (error) {
    const stop = error instanceof Stop ? error : await classify(error, deps, stackName);
    deps.out(stop.line);
    return stop.exitCode;
  }
}

async function readOutputs(deps: HelloDeps, stackName: string): Promise<StackOutputs> {
  const response = await deps.cfn.send(new DescribeStacksCommand({ StackName: stackName }));
  const outputs: Output[] = response.Stacks?.[0]?.Outputs ?? [];
  const get = (key: string): string => {
    const found = outputs.find((o) => o.OutputKey === key)?.OutputValue;
    if (!found) {
      throw new Stop(
        `hello: stack ${stackName} has no output ${key}; deploy the current version with npx cdk deploy --all`,
        EXIT_NOTHING_TO_TEST,
      );
    }
    return found;
  };
  return {
    producer: get('ProducerFunctionName'),
    consumer: get('ConsumerFunctionName'),
    logGroup: get('ConsumerLogGroup'),
  };
}

/** Invokes a function synchronously; a function error (the handler threw) is a result, not an exception. */
async function invoke(deps: HelloDeps, functionName: string, event: unknown): Promise<InvokeResult> {
  const response = await deps.lambda.send(
    new InvokeCommand({
      FunctionName: functionName,
      InvocationType: 'RequestResponse',
      Payload: new TextEncoder().encode(JSON.stringify(event)),
    }),
  );
  const text = response.Payload ? new TextDecoder().decode(response.Payload) : '';
  const payload = parseJson(text);
  if (response.FunctionError) {
    const p = (payload ?? {}) as { errorType?: unknown; errorMessage?: unknown };
    const message = typeof p.errorMessage === 'string' ? p.errorMessage : text || response.FunctionError;
    const type = typeof p.errorType === 'string' ? `${p.errorType}: ` : '';
    return { ok: false, payload, error: oneLine(`${type}${message}`) };
  }
  return { ok: true, payload };
}

/** Looks for the consumer's log line whose `message` is exactly the sent value. */
async function findLogLine(
  deps: HelloDeps,
  logGroupName: string,
  startTime: number,
  runId: string,
  value: string,
): Promise<string | undefined> {
  let nextToken: string | undefined;
  for (let page = 0; page < MAX_PAGES_PER_POLL; page++) {
    const response = await deps.logs.send(
      new FilterLogEventsCommand({ logGroupName, startTime, filterPattern: `"${runId}"`, nextToken }),
    );
    for (const event of response.events ?? []) {
      const line = parseJson(event.message ?? '') as { message?: unknown; partition?: unknown; offset?: unknown };
      if (line && typeof line === 'object' && line.message === value) {
        return `partition ${String(line.partition)} offset ${String(line.offset)}`;
      }
    }
    nextToken = response.nextToken;
    if (!nextToken) break;
  }
  return undefined;
}

function describeSent(payload: unknown): string {
  const p = payload as { topic?: unknown; messages?: { partition?: unknown; offset?: unknown }[] } | undefined;
  const first = p?.messages?.[0];
  if (typeof p?.topic !== 'string' || !first) return 'to the topic';
  return `to ${p.topic} partition ${String(first.partition)} offset ${String(first.offset)}`;
}

function describeRead(payload: unknown, value: string): string {
  const p = payload as { count?: unknown; messages?: { value?: unknown }[] } | undefined;
  const count = typeof p?.count === 'number' ? p.count : 0;
  const ours = (p?.messages ?? []).some((m) => m.value === value);
  return ours
    ? `read ${count} message(s), ours among them`
    : `read ${count} message(s), not ours (its scheduled run may have read it first)`;
}

/** Points a Kafka error at its troubleshooting entry in docs/deploy.md. */
export function hint(error: string | undefined): string {
  const text = error ?? '';
  const topic = /UNKNOWN_TOPIC|does not host this topic-partition|topic.*(does not exist|not found)/i;
  const iam = /SASL|authenticat|authoriz|access denied|not allowed/i;
  const route =
    /ECONNREFUSED|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|Connection (timeout|error)|connect(ion)? timed out|KafkaJSConnectionError/i;
  if (topic.test(text)) return ' (see docs/deploy.md, Troubleshooting: topic missing)';
  if (iam.test(text)) return ' (see docs/deploy.md, Troubleshooting: IAM denied)';
  if (route.test(text)) return ' (see docs/deploy.md, Troubleshooting: no route to brokers)';
  if (/timed out|timeout/i.test(text)) return ' (see docs/deploy.md, Troubleshooting: timeouts)';
  return '';
}

/** Options of every SDK client of the smoke test. */
export function clientConfig(env: Record<string, string | undefined> = process.env): { region?: string } {
  const region = regionFromEnvironment(env);
  return region ? { region } : {};
}

/**
 * The Lambda client's options: no retries, because a retried invocation of the producer would send the message
 * twice (the run id would then match two log lines, and the topic would hold a duplicate).
 */
export function lambdaClientConfig(env: Record<string, string | undefined> = process.env): {
  region?: string;
  maxAttempts: number;
} {
  return { ...clientConfig(env), maxAttempts: 1 };
}

/** Turns an AWS SDK error into the one line that says what is missing. */
async function classify(error: unknown, deps: HelloDeps, stackName: string): Promise<Stop> {
  const name = errorName(error);
  const message = oneLine(error instanceof Error ? error.message : String(error));
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message)) {
    return new Stop(
      `hello: no AWS credentials found (${message}); set AWS_PROFILE, run aws configure or aws sso login, then retry`,
      EXIT_NOTHING_TO_TEST,
    );
  }
  if (/region is missing/i.test(message)) {
    return new Stop(
      'hello: no AWS region set; set AWS_REGION, AWS_DEFAULT_REGION or a region in your AWS profile',
      EXIT_NOTHING_TO_TEST,
    );
  }
  if (/^Expired|ExpiredToken|security token included in the request is (expired|invalid)/i.test(`${name} ${message}`)) {
    return new Stop(
      `hello: your AWS credentials are not valid (${message}); refresh them and retry`,
      EXIT_NOTHING_TO_TEST,
    );
  }
  if (name === 'ValidationError' && /does not exist/i.test(message)) {
    const region = await deps.region().catch(() => undefined);
    return new Stop(
      `hello: stack ${stackName} is not deployed${region ? ` in ${region}` : ''} (${message}); run npx cdk deploy --all first`,
      EXIT_NOTHING_TO_TEST,
    );
  }
  const { code, hostname } = error as { code?: unknown; hostname?: unknown };
  if (typeof code === 'string' && typeof hostname === 'string' && hostname.endsWith('.amazonaws.com')) {
    // The AWS API, not the brokers: hint() would point at the VPC.
    return new Stop(`FAIL: cannot reach ${hostname}: ${code} (the AWS API)`, EXIT_FAIL);
  }
  return new Stop(`FAIL: ${name ? `${name}: ` : ''}${message}${hint(message)}`, EXIT_FAIL);
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : '';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_DETAIL_CHARS ? `${flat.slice(0, MAX_DETAIL_CHARS - 1)}…` : flat;
}

const USAGE =
  'usage: npm run hello -- [--message M] [--stage S] [--aws-profile A] [--timeout SECONDS] [--wait-for-schedule]\n' +
  '  --message            what to send (default "Hello MSK"); a run id is appended to make it unique\n' +
  `  --stage              hello-msk stage from cdk.json, the HelloMsk-<stage>-* stacks (default ${DEFAULT_STAGE})\n` +
  '  --aws-profile        AWS profile (also --profile); default: AWS_PROFILE / the default chain as usual\n' +
  `  --timeout            seconds to wait for the consumer's log line (default ${DEFAULT_TIMEOUT_SECONDS})\n` +
  "  --wait-for-schedule  don't invoke the consumer; wait for its scheduled run";

/**
 * Parses the command line; throws a one-line error for a bad argument. `known` tells `--profile` the AWS profile
 * from `--profile` the stage (its former meaning).
 */
export function parseCli(argv: string[], known: KnownNames): HelloOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      message: { type: 'string' },
      stage: { type: 'string' },
      profile: { type: 'string' },
      'aws-profile': { type: 'string' },
      timeout: { type: 'string' },
      'wait-for-schedule': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const timeoutSeconds = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeoutSeconds !== undefined && (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0)) {
    throw new Error(`--timeout ${JSON.stringify(values.timeout)} is not valid; allowed: a number of seconds > 0`);
  }
  if (values.message !== undefined && values.message.trim() === '') {
    throw new Error('--message is empty; allowed: any text');
  }
  const { stage, awsProfile, notice } = chooseStage(values, known, DEFAULT_STAGE);
  return {
    message: values.message,
    stage,
    ...(awsProfile !== undefined ? { awsProfile } : {}),
    ...(notice !== undefined ? { notice } : {}),
    timeoutSeconds,
    invokeConsumer: !values['wait-for-schedule'],
  };
}

async function main(): Promise<void> {
  let options: HelloOptions | 'help';
  try {
    options = parseCli(process.argv.slice(2), await knownNames());
  } catch (error) {
    console.error(`hello: ${(error as Error).message}`);
    console.error(USAGE);
    process.exitCode = EXIT_NOTHING_TO_TEST;
    return;
  }
  if (options === 'help') {
    console.log(USAGE);
    return;
  }
  if (options.notice) console.error(`hello: ${options.notice}`);
  if (options.awsProfile) process.env.AWS_PROFILE = options.awsProfile;
  // The SDK's notice about future Node.js support would turn a one-line answer into ten lines.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const cfn = new CloudFormationClient(clientConfig());
  process.exitCode = await runHello(options, {
    sts: stsClient(),
    cfn,
    lambda: new LambdaClient(lambdaClientConfig()),
    logs: new CloudWatchLogsClient(clientConfig()),
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    out: (line) => console.log(line),
    runId: () => randomBytes(4).toString('hex'),
    region: () => cfn.config.region(),
  });
}

if (require.main === module) {
  void main();
}
