/**
 * `npm run demo`: the whole hello-msk path offline, on the local MSK twin of the dev stacks, with the bundled
 * handlers that `cdk deploy` ships, following Kafka's first steps (create and list topics, produce, consume from
 * the beginning, list groups) and showing which role signed in at each step. DEMO_KAFKA_PORT and DEMO_TOPIC:
 * docs/local-kafka.md. Lines fit in 160 columns (log lines compacted, long lines wrapped), but for the last one,
 * the consumer's log line as the README shows it; --verbose prints every line in full, JSON logs as they are.
 *
 *   npm run demo -- [--consumer kafkajs|event-source-mapping] [--verbose] [message ...]
 */
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { BASE_CONFIG, type ConsumerMode } from '../lib/config';
import {
  type InvokeResult,
  type LambdaRunner,
  type LogLine,
  PortInUseError,
  startEventSourceMappings,
  type EventSourceMappingPoller,
  type TwinAppInstance,
  statementsOf,
  type TwinRolePolicies,
} from 'msk-twin';
import { startAppTwin } from './app-twin';
import { explainStartupWarnings } from './startup-warnings';

const CUSTOM_TOPIC = process.env.DEMO_TOPIC?.trim();
const TOPIC = CUSTOM_TOPIC || BASE_CONFIG.demoTopic;
const GROUP = BASE_CONFIG.consumerGroup;

/** `[--consumer MODE] [--verbose] [message ...]`; a bad mode stops the demo with one line naming it. */
function demoArgs(argv: readonly string[]): { consumer: ConsumerMode; message: string; verbose: boolean } {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { consumer: { type: 'string', default: 'kafkajs' }, verbose: { type: 'boolean', default: false } },
  });
  const consumer = values.consumer;
  if (consumer !== 'kafkajs' && consumer !== 'event-source-mapping') {
    throw new Error(`--consumer ${JSON.stringify(consumer)} is not valid; expected kafkajs or event-source-mapping`);
  }
  return { consumer, message: positionals.join(' ') || 'Hello MSK', verbose: values.verbose };
}

/** DEMO_KAFKA_PORT, checked before anything starts; a bad value is named in the one-line error. */
function demoPort(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.DEMO_KAFKA_PORT?.trim();
  if (!raw) return 9092;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port < 1024 || port > 65533) {
    throw new Error(`DEMO_KAFKA_PORT ${JSON.stringify(raw)} is not valid; expected a port number from 1024 to 65533`);
  }
  return port;
}

/** The widest line the demo prints without --verbose (the README's log line at the end aside). */
const WIDTH = 160;
/** --verbose: every line in full, the handlers' JSON log lines as they are. */
let verbose = false;

/** `text` in lines of at most `width` characters, broken at spaces; continuation lines indented two more. */
function wrap(text: string, width = WIDTH): string[] {
  if (verbose || text.length <= width) return [text];
  const first = /^ */.exec(text)?.[0] ?? '';
  const indent = `${first}  `;
  const lines: string[] = [];
  let line = first;
  for (const word of text.trimStart().split(' ')) {
    if (line.trim() !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = indent;
    }
    line = line.trim() === '' ? `${line}${word}` : `${line} ${word}`;
    // A word longer than a line (an ARN) is cut, so that no line is wider than `width`.
    while (line.length > width) {
      lines.push(line.slice(0, width));
      line = `${indent}${line.slice(width)}`;
    }
  }
  lines.push(line);
  return lines;
}

/** Fields of a Powertools log line that say nothing a person reading the demo looks for. */
const ROUTINE_FIELDS = new Set(['level', 'message', 'service', 'sampling_rate', 'xray_trace_id', 'cold_start']);

/**
 * A handler's JSON log line as `INFO Hello MSK (topic test-topic, partition 1, offset 0)`: level, message and
 * its scalar fields but timestamps (objects and lists only under --verbose); any other line as it is.
 */
function compactLogLine(line: string): string {
  if (verbose) return line;
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch {
    return line;
  }
  const { level, message, error } = (entry ?? {}) as {
    level?: unknown;
    message?: unknown;
    error?: { message?: unknown };
  };
  if (typeof level !== 'string' || typeof message !== 'string') return line;
  const details = Object.entries(entry as Record<string, unknown>)
    .filter(([key]) => !ROUTINE_FIELDS.has(key) && !/timestamp/i.test(key) && !key.startsWith('function_'))
    .filter(([, value]) => ['string', 'number', 'boolean'].includes(typeof value))
    .map(([key, value]) => `${key} ${String(value)}`);
  if (typeof error?.message === 'string') details.push(`error ${error.message}`);
  return `${level} ${message}${details.length > 0 ? ` (${details.join(', ')})` : ''}`;
}

let stepNumber = 0;
async function step<T>(title: string, fn: () => Promise<T>): Promise<T> {
  stepNumber += 1;
  const started = process.hrtime.bigint();
  process.stdout.write(`\n${wrap(`${stepNumber}. ${title}`).join('\n')}\n`);
  const result = await fn();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  process.stdout.write(`   (${ms.toFixed(0)} ms)\n`);
  return result;
}

function say(line: string): void {
  process.stdout.write(`${wrap(`   ${line}`).join('\n')}\n`);
}

/**
 * What the twin and the synthesis report while step 1 runs: downloads and builds as they come (nothing on a warm
 * run), CDK's `Bundling asset` lines as one line and a total; the timings the `ready in` line sums up only under
 * --verbose.
 */
function startupLogger(): (message: string) => void {
  let bundled = 0;
  return (message) => {
    if (verbose) return say(message);
    if (message.startsWith('Bundling asset ')) {
      if (bundled++ === 0)
        say("Bundling the functions with esbuild, as cdk synth does (once per change of the app's sources)...");
      return;
    }
    const synthesized = /^synthesized the app in (.+)$/.exec(message);
    if (synthesized) {
      if (bundled > 0) say(`  done in ${synthesized[1]}: ${bundled} functions bundled`);
      return;
    }
    if (/^read .* from the assembly in /.test(message)) return;
    say(message);
  };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** The role's name without its ARN prefix. */
const roleName = (arn: string) => arn.replace(/^arn:[^:]*:iam::\d+:role\//, '');

/** `Allow kafka-cluster:WriteData on topic/…/test-topic`: one role's kafka-cluster statements, as the twin evaluates them. */
function describePolicies(policies: TwinRolePolicies): string[] {
  const list = (value: unknown): string[] =>
    Array.isArray(value)
      ? (value as unknown[]).map((v) => `${v as string}`)
      : value === undefined
        ? []
        : [`${value as string}`];
  const short = (arn: string) => arn.replace(/^arn:[^:]*:kafka:[^:]*:[^:]*:/, '').replace(/\/[^/]+\/[^/]+/, '/…');
  return policies.policies.flatMap((policy) =>
    statementsOf(policy).map(
      (s) =>
        `${String(s.Effect)} ${list(s.Action ?? s.NotAction).join(', ')} on ${list(s.Resource ?? s.NotResource)
          .map(short)
          .join(', ')}`,
    ),
  );
}

/** Which role signed in for this invocation (from the brokers' own sign-in log), and what it may do. */
function sayWhoSignedIn(twin: TwinAppInstance, runner: LambdaRunner, roleArn: string): void {
  const signIns = twin.signIns(runner);
  const key = /with access key (\w+)/.exec(signIns.at(-1) ?? '')?.[1];
  if (key) {
    say(
      `signed in over TLS + IAM as role ${roleName(roleArn)} (access key ${key.slice(0, 8)}…, issued to this function)`,
    );
  } else {
    say(`no sign-in logged for role ${roleName(roleArn)}`);
  }
  say(`allowed by its policies: ${describePolicies(twin.policiesOf(roleArn)).join('; ')}`);
}

/** The handler's own log lines of an invocation (what CloudWatch Logs would receive), without Lambda's. */
function handlerLines(logs: readonly LogLine[]): string[] {
  return logs.filter((l) => l.stream !== 'platform').map((l) => l.message);
}

function payloadOf<T>(what: string, result: InvokeResult): T {
  if (!result.ok) throw new Error(`${what} failed: ${result.error.errorType}: ${result.error.errorMessage}`);
  return result.payload as T;
}

async function startDemoTwin(port: number, consumer: ConsumerMode): Promise<TwinAppInstance> {
  const chosen = Boolean(process.env.DEMO_KAFKA_PORT?.trim());
  const start = (p: number) =>
    startAppTwin({
      port: p,
      log: startupLogger(),
      // The demo's own step runs the custom resources, to show them.
      deploy: false,
      // The topic as the app's configuration declares it, so its roles' policies name it.
      context: {
        ...(CUSTOM_TOPIC ? { demoTopic: TOPIC, topics: [{ name: TOPIC, partitions: 3, config: {} }] } : {}),
        ...(consumer === 'kafkajs' ? {} : { consumer }),
      },
    });
  const instance = await start(port).catch((error: unknown) => {
    if (chosen || !(error instanceof PortInUseError)) throw error;
    say(`port ${port} is taken, so the twin takes free ports (DEMO_KAFKA_PORT=N to choose one)`);
    return start(0);
  });
  const { cluster } = instance.app;
  say(
    `cluster ${cluster.name}: MSK ${cluster.kafkaVersion ?? '(default version)'}, ${cluster.brokerCount ?? '?'} × ${cluster.instanceType ?? '?'}; locally Apache Kafka ${instance.twin.cluster.version}, ${instance.twin.cluster.brokers.length} brokers`,
  );
  const applied = instance.brokerConfig.settings.filter((s) => s.local !== undefined && s.source === 'configuration');
  const settings = applied.map((s) => `${s.key}=${s.local}`).join(', ');
  const where = `broker configuration of ${cluster.configuration ?? 'the cluster'}:`;
  if (verbose) say(`${where} ${settings}`);
  else {
    say(where);
    for (const line of wrap(settings, 100)) say(`  ${line.trim()}`);
  }
  say(`IAM listener (TLS + SASL/OAUTHBEARER with MSK IAM tokens): ${instance.twin.bootstrapBrokers}`);
  const t = instance.timings;
  say(`ready in ${seconds(t.totalMs)}: synth ${seconds(t.synthMs)}, brokers ${seconds(t.brokersMs)}`);
  return instance;
}

/** Waits for the mapping's invocation that logs `message`, and shows what the consumer logged. */
async function mappedConsumerLines(pollers: readonly EventSourceMappingPoller[], message: string): Promise<string[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    for (const poller of pollers) {
      const invocation = poller.invocations.find(
        (i) =>
          i.result.ok && handlerLines(i.result.logs).some((l) => l.includes(`"message":${JSON.stringify(message)}`)),
      );
      if (!invocation) continue;
      const keys = Object.entries(invocation.event.records).map(([key, records]) => `${key} (${records.length})`);
      say(`records ${keys.join(', ')}, values base64; committed after the function returned`);
      say('what the consumer logged (CloudWatch Logs shows these lines):');
      const lines = handlerLines(invocation.result.logs);
      for (const line of lines) say(`  ${compactLogLine(line)}`);
      return lines;
    }
    const crashed = pollers.find((p) => p.crashed)?.crashed;
    if (crashed) throw new Error(`the event source mapping stopped: ${crashed.message}`);
    if (Date.now() > deadline)
      throw new Error(`the event source mapping did not hand ${JSON.stringify(message)} over within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function main(): Promise<string> {
  const port = demoPort();
  const { consumer: mode, message: MESSAGE, verbose: verboseArg } = demoArgs(process.argv.slice(2));
  verbose = verboseArg;
  let pollers: EventSourceMappingPoller[] = [];
  let twin: TwinAppInstance | undefined;
  try {
    twin = await step(
      'Synthesize the dev stacks offline and start their local MSK twin (TLS, IAM sign-in, IAM policies)',
      () => startDemoTwin(port, mode),
    );
    const app = twin;

    await step("What each function's role may do: its IAM policies, evaluated for every Kafka request", async () => {
      for (const fn of app.app.kafkaFunctions) {
        say(`${fn.path} as role ${roleName(fn.roleArn)}:`);
        for (const line of describePolicies(app.policiesOf(fn.roleArn))) say(`  ${line}`);
      }
      say('everything else is denied, as IAM denies what no policy allows');
    });

    await step('The functions run the code cdk deploy ships: the assets of the synthesized assembly', async () => {
      for (const fn of app.app.kafkaFunctions) {
        const bytes = statSync(path.join(fn.codeDir ?? '', 'index.js')).size;
        say(`${fn.path.padEnd(18)} ${(bytes / 1024).toFixed(1)} KiB  ${path.basename(fn.codeDir ?? '')}`);
      }
    });

    await step(
      'Deploy: the custom resources run as CloudFormation runs them, each handler as its own role, in stack order',
      async () => {
        const deployed = await app.deploy();
        for (const resource of deployed) {
          const name = resource.resource.replace(/^HelloMsk-\w+-/, '');
          if (!resource.answer) {
            say(`${name} (${resource.type}): not run; ${resource.notRun}`);
            continue;
          }
          const data = Object.entries(resource.answer.data).map(([key, value]) => `${key}=${String(value)}`);
          say(
            `${name} (${resource.type}) by ${resource.handler}: ${data.join(', ') || resource.answer.physicalResourceId}`,
          );
          if (resource.type === 'Custom::MskTopic') {
            for (const { fn, runner } of resource.containers) sayWhoSignedIn(app, runner, fn.roleArn);
          }
        }
        for (const [parameter, value] of Object.entries(app.deployment?.parameters ?? {})) {
          say(`SSM parameter ${parameter} = ${value}: the clients read their brokers from it`);
        }
      },
    );

    await step("List topics (kafka-topics --list), as the twin's admin role", async () => {
      const topics = await app.twin.withAdmin((admin) => admin.listTopics());
      for (const t of topics.filter((name) => !name.startsWith('__')).sort()) say(t);
    });

    if (mode === 'event-source-mapping') {
      pollers = await step(
        `Start the consumer's event source mapping: Lambda polls ${TOPIC} as group ${GROUP}, as the consumer's role`,
        async () => {
          const started = await startEventSourceMappings(app);
          for (const { mapping } of started) {
            say(
              `${mapping.logicalId}: from ${mapping.startingPosition}, batches of up to ${mapping.batchSize}, window ${mapping.maximumBatchingWindowMs} ms, failed batches to ${mapping.onFailure ?? 'nowhere'}`,
            );
          }
          return started;
        },
      );
    }

    const producer = app.runner('Producer');
    const sent = await step(
      `Invoke the producer (Node.js 24, a cold start) with ${JSON.stringify({ message: MESSAGE })}`,
      async () => {
        const result = await producer.invoke({ message: MESSAGE });
        const payload = payloadOf<{ messages: { partition: number }[] }>('the producer', result);
        sayWhoSignedIn(app, producer, app.function('Producer').roleArn);
        say('what the producer logged:');
        for (const line of explainStartupWarnings(handlerLines(result.logs))) say(`  ${compactLogLine(line)}`);
        say(`returned ${JSON.stringify(payload)}`);
        return payload;
      },
    );

    await step('The brokers store it (log end offsets per partition)', async () => {
      const offsets = await app.twin.withAdmin((admin) => admin.fetchTopicOffsets(TOPIC));
      for (const p of offsets.sort((a, b) => a.partition - b.partition)) {
        const stored = Number(p.high) - Number(p.low);
        const marker = sent.messages.some((m) => m.partition === p.partition) ? '  <- your message' : '';
        say(`partition ${p.partition}: ${stored} message(s), offsets ${p.low} to ${p.high} (exclusive)${marker}`);
      }
    });

    const read =
      mode === 'event-source-mapping'
        ? await step('The event source mapping invokes the consumer with the batch (an MSK event)', () =>
            mappedConsumerLines(pollers, MESSAGE),
          )
        : await step('Invoke the consumer with {"fromBeginning":true} (--from-beginning)', async () => {
            const consumer = app.runner('Consumer');
            const result = await consumer.invoke({ fromBeginning: true });
            const payload = payloadOf<{ count: number; caughtUp: boolean }>('the consumer', result);
            sayWhoSignedIn(app, consumer, app.function('Consumer').roleArn);
            say(`returned count=${payload.count}, caughtUp=${payload.caughtUp}`);
            say('what the consumer logged (CloudWatch Logs shows these lines):');
            const lines = handlerLines(result.logs);
            for (const line of explainStartupWarnings(lines)) say(`  ${compactLogLine(line)}`);
            return lines;
          });

    await step('List consumer groups (kafka-consumer-groups --list)', async () => {
      const { groups } = await app.twin.withAdmin((admin) => admin.listGroups());
      for (const g of groups.filter((x) => x.groupId === GROUP)) say(`${g.groupId} (${g.protocolType})`);
    });

    const helloLine = read.filter((l) => l.includes(`"message":${JSON.stringify(MESSAGE)}`)).pop();
    if (!helloLine) throw new Error(`The consumer did not log ${JSON.stringify(MESSAGE)}`);
    return helloLine;
  } finally {
    await Promise.all(pollers.map((p) => p.stop()));
    if (twin) {
      process.stdout.write('\nStopping the functions and the local MSK twin\n');
      await twin.stop();
    }
  }
}

main().then(
  (helloLine) => {
    process.stdout.write(`\nThe consumer logged:\n${helloLine}\n`);
    process.exit(0);
  },
  (error: unknown) => {
    process.stderr.write(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
