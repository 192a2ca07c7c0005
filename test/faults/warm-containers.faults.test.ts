/**
 * The bundled producer, consumer and admin functions in Lambda-like containers (frozen between invocations, as
 * Lambda freezes them) while the group coordinator's broker restarts or hangs, on each Kafka line MSK offers
 * for KRaft clients here (3.9 and 4.1). No rejection may escape a handler (in Lambda it ends the container in
 * the middle of an invocation), and the first consumer invocation after the broker is back reads the message
 * that waited for it exactly once.
 */
import * as path from 'node:path';
import type { Admin } from 'kafkajs';
import { LambdaRunner, type InvokeResult, type LambdaFunctionSpec } from 'msk-twin';
import { bundlePath } from '../../scripts/build-lambdas';
import { eventually, uniqueName } from '../integration/kafka-helpers';
import {
  createReplicatedTopic,
  handlerEnv,
  partitionStates,
  report,
  Timeline,
  useFaultCluster,
  waitIsrFull,
} from './fault-kit';

/** What the functions' log holds when a rejection or exception escaped the handler (lambda-bootstrap.cts). */
const ESCAPED = /"message":"Uncaught error"/;

interface Read {
  readonly count: number;
  readonly messages: { partition: number; offset: string; value: string | null }[];
}

/** A container of one bundled function, with the timeout and memory of the stack's functions. */
function container(runners: LambdaRunner[], name: string, env: Record<string, string>): LambdaRunner {
  const spec: LambdaFunctionSpec = {
    name: `hello-msk-${name}`,
    codeDir: path.dirname(bundlePath(name)),
    handler: 'index.handler',
    timeoutSeconds: 60,
    memoryMb: 256,
    environment: { NODE_OPTIONS: '--enable-source-maps', ...env },
    logGroupName: `/aws/lambda/hello-msk-${name}`,
    logFormat: 'JSON',
  };
  const runner = new LambdaRunner(spec, { credentials: () => ({ accessKeyId: 'twin', secretAccessKey: 'twin' }) });
  runners.push(runner);
  return runner;
}

function payloadOf<T>(result: InvokeResult): T {
  if (!result.ok) throw new Error(`invocation failed: ${result.error.errorType}: ${result.error.errorMessage}`);
  return result.payload as T;
}

/** Java's String.hashCode, with which Kafka places a group on a partition of __consumer_offsets. */
function javaHashCode(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (Math.imul(31, hash) + text.charCodeAt(i)) | 0;
  return hash;
}

/** The broker that coordinates `group`: the leader of its __consumer_offsets partition. */
async function coordinatorOf(admin: Admin, group: string): Promise<number> {
  const partitions = await partitionStates(admin, '__consumer_offsets');
  return partitions[(javaHashCode(group) & 0x7fffffff) % partitions.length].leader;
}

/** The group, its warm functions (each invoked once) and what they did. */
async function warmFunctions(brokers: string, admin: Admin, runners: LambdaRunner[], timeline: Timeline) {
  const topic = uniqueName('warm');
  const group = uniqueName('warm-group');
  await createReplicatedTopic(admin, topic);
  const env = handlerEnv(brokers, topic, { POWERTOOLS_LOG_LEVEL: 'INFO' });
  const producer = container(runners, 'producer', env);
  // The session timeout the stack gives the consumer on its default one-minute schedule.
  const consumer = container(runners, 'consumer', { ...env, GROUP_ID: group, CONSUMER_SESSION_TIMEOUT_MS: '150000' });
  const kafkaAdmin = container(runners, 'kafka-admin', env);
  payloadOf(await producer.invoke({ message: 'before' }));
  expect(payloadOf<Read>(await consumer.invoke({})).messages.map((m) => m.value)).toEqual(['before']);
  payloadOf(await kafkaAdmin.invoke({ action: 'describe-group', groupId: group }));
  const coordinator = await coordinatorOf(admin, group);
  timeline.note(`warm containers frozen; broker ${coordinator} coordinates the group`);
  return { topic, group, producer, consumer, kafkaAdmin, coordinator };
}

/** Every invocation after the fault, with its outcome, and the log lines of escaped errors. */
function escapes(runners: LambdaRunner[]): string[] {
  return runners.flatMap((r) =>
    r.logs.filter((l) => ESCAPED.test(l.message)).map((l) => `${r.spec.name}: ${l.message}`),
  );
}

describe.each(['3.9.2', '4.1.2'])('Kafka %s', (version) => {
  const { running, connected } = useFaultCluster({ version });
  const runners: LambdaRunner[] = [];

  afterEach(async () => {
    await Promise.all(runners.splice(0).map((r) => r.stop()));
  });

  /**
   * After the fault: the warm producer sends, the warm consumer reads, the warm admin describes the group, all in
   * the containers they had before (no rejection ended one), and a second read finds nothing more.
   */
  async function afterFault(
    title: string,
    functions: Awaited<ReturnType<typeof warmFunctions>>,
    timeline: Timeline,
  ): Promise<void> {
    const { producer, consumer, kafkaAdmin, group } = functions;
    const sent = await producer.invoke({ message: 'pending' });
    timeline.note(`producer: ${sent.ok ? 'sent' : sent.error.errorMessage}`);
    const first = await consumer.invoke({});
    timeline.note(`consumer: ${first.ok ? JSON.stringify(first.payload) : first.error.errorMessage}`);
    const described = await kafkaAdmin.invoke({ action: 'describe-group', groupId: group });
    const second = await consumer.invoke({});
    const afterwards = [sent, first, described, second];
    const escaped = escapes(runners);
    report(
      `${title}, Kafka ${version}`,
      {
        escaped,
        coldStartsAfterFault: afterwards.filter((r) => r.coldStart).length,
        firstReadMs: Math.round(first.durationMs),
      },
      timeline.entries,
    );

    expect(escaped).toEqual([]);
    expect(afterwards.map((r) => (r.ok ? 'ok' : `${r.error.errorType}: ${r.error.errorMessage}`))).toEqual([
      'ok',
      'ok',
      'ok',
      'ok',
    ]);
    expect(afterwards.map((r) => r.coldStart)).toEqual([false, false, false, false]);
    expect(payloadOf<Read>(first).messages.map((m) => m.value)).toEqual(['pending']);
    expect(payloadOf<Read>(first).count).toBe(1);
    expect(payloadOf<Read>(second).count).toBe(0);
  }

  test('the group coordinator restarted: nothing escapes a handler, the next read gets the pending message once', async () => {
    const timeline = new Timeline();
    const functions = await warmFunctions(running().bootstrapBrokers, connected(), runners, timeline);
    const { coordinator, topic } = functions;
    await running().stop(coordinator);
    timeline.note(`stopped broker ${coordinator}`);
    // Sending once its partitions have other leaders keeps this test about the consumer.
    await eventually(
      `no partition led by broker ${coordinator}`,
      30_000,
      async () =>
        (await partitionStates(connected(), topic)).every((p) => p.leader !== coordinator && p.leader >= 0) ||
        undefined,
    );
    await running().start(coordinator);
    await waitIsrFull(connected(), topic, 3, 60_000);
    timeline.note(`restarted broker ${coordinator}; every replica in sync`);
    await afterFault('the group coordinator restarted', functions, timeline);
  }, 240_000);

  test('the group coordinator hung and resumed: nothing escapes a handler, the next read gets the pending message once', async () => {
    const timeline = new Timeline();
    const functions = await warmFunctions(running().bootstrapBrokers, connected(), runners, timeline);
    const { coordinator, topic } = functions;
    // Longer than broker.session.timeout.ms: the controller fences the broker, and its partitions (the group's
    // __consumer_offsets partition included) move, while the client's connections to it stay open.
    await running().pause(coordinator);
    timeline.note(`paused broker ${coordinator}`);
    await new Promise((resolve) => setTimeout(resolve, 15_000));
    await running().resume(coordinator);
    await waitIsrFull(connected(), topic, 3, 60_000);
    timeline.note(`resumed broker ${coordinator}; every replica in sync`);
    await afterFault('the group coordinator hung and resumed', functions, timeline);
  }, 240_000);
});
