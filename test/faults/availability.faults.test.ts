/**
 * Availability faults on a local three-broker KRaft cluster, driven through the bundled handlers: the
 * consumer process killed mid-batch, two of three brokers stopped under the producer, and handlers cold
 * started against brokers that refuse or never answer. Nothing may fail silently: every failure is an error
 * that names the brokers within a bounded time, and nothing is reported as done that was not.
 */
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { bundlePath } from '../../scripts/build-lambdas';
import { eventually, uniqueName, within } from '../integration/kafka-helpers';
import { loadBundle, type ConsumerModule, type ProducerModule } from '../lambda/bundles';
import {
  consumeAll,
  createReplicatedTopic,
  handlerEnv,
  highWatermarkTotal,
  messageLines,
  report,
  startStream,
  Timeline,
  valueOf,
  verify,
  waitIsrFull,
  type Logged,
  useFaultCluster,
} from './fault-kit';

const { running, connected } = useFaultCluster();

/** Runs a handler and returns its error (it must fail) and how long it took to fail. */
async function failure(invocation: () => Promise<unknown>): Promise<{ error: Error; ms: number }> {
  const started = Date.now();
  const error = await within(60_000, 'a failing invocation', invocation()).then(
    () => new Error('the invocation succeeded; it should have failed'),
    (e: unknown) => e as Error,
  );
  return { error, ms: Date.now() - started };
}

// ------------------------------------------------------------------------------------------------ consumer

/**
 * A cold consumer container in a child process, so that the test can SIGKILL it: it invokes the bundled
 * handler until it has caught up, and its log lines (one JSON object each, the value as `message`) arrive
 * on stdout.
 */
const CONSUMER_PROCESS = `
const consumer = require(process.env.CONSUMER_BUNDLE);
(async () => {
  for (;;) {
    const result = await consumer.handler({ maxMessages: Number(process.env.MAX_MESSAGES) });
    if (result.count === 0 && result.caughtUp) break;
  }
  await consumer.close();
})().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(String(error && error.message) + '\\n');
    process.exit(1);
  },
);
`;

interface ConsumerRun {
  readonly logged: Logged[];
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  readonly child: ChildProcess;
}

/**
 * Starts the consumer process with its stdout in `logFile`, and follows the file. A file, not a pipe: Node
 * queues writes to a full pipe in memory, and a killed process loses them, while every line written to a file
 * is kept, as CloudWatch keeps what a Lambda function wrote before it was stopped.
 */
function runConsumerProcess(env: Record<string, string>, logFile: string, onLogged?: (n: number) => void): ConsumerRun {
  const out = fs.openSync(logFile, 'w');
  const child = spawn(process.execPath, ['-e', CONSUMER_PROCESS], {
    env: { PATH: process.env.PATH ?? '', ...env, CONSUMER_BUNDLE: bundlePath('consumer') },
    stdio: ['ignore', out, 'pipe'],
  });
  fs.closeSync(out);
  const logged: Logged[] = [];
  const input = fs.openSync(logFile, 'r');
  const buffer = Buffer.alloc(1 << 20);
  let position = 0;
  let pending = '';
  const follow = (): void => {
    for (let n = fs.readSync(input, buffer, 0, buffer.length, position); n > 0;) {
      position += n;
      pending += buffer.subarray(0, n).toString('utf8');
      n = fs.readSync(input, buffer, 0, buffer.length, position);
    }
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    const parsed = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    logged.push(...messageLines(parsed, env.TOPIC));
    onLogged?.(logged.length);
  };
  const timer = setInterval(follow, 20);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => {
      clearInterval(timer);
      follow();
      fs.closeSync(input);
      resolve({ code, signal, stderr });
    }),
  );
  return { logged, exit, child };
}

describe('the consumer process killed mid-batch', () => {
  test('a new container logs every message at least once, none skipped, duplicates bounded by the uncommitted batch', async () => {
    const topic = uniqueName('crash');
    const group = uniqueName('crash-group');
    await createReplicatedTopic(connected(), topic);
    const producer = loadBundle<ProducerModule>('producer', handlerEnv(running().bootstrapBrokers, topic));
    const produced = await startStream(producer, {
      prefix: 'crash',
      count: 100,
      minAcknowledged: 20_000,
      messagesPerSecond: Number.MAX_SAFE_INTEGER,
    })
      .stop()
      .finally(() => producer.close());
    expect(await highWatermarkTotal(connected(), topic)).toBe(produced.acknowledged.length);

    // A session timeout of 6 s (the broker's minimum) lets the group drop the killed member quickly.
    const env = {
      ...handlerEnv(running().bootstrapBrokers, topic, { GROUP_ID: group, POWERTOOLS_LOG_LEVEL: 'INFO' }),
      CONSUMER_SESSION_TIMEOUT_MS: '6000',
      MAX_MESSAGES: '10000',
    };
    const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hello-msk-faults-'));
    const killAfter = 8000;
    const first = runConsumerProcess(env, path.join(logDir, 'first.log'), (n) => {
      if (n >= killAfter && !first.child.killed) first.child.kill('SIGKILL');
    });
    const firstExit = await within(60_000, 'the first consumer process', first.exit);
    // Right after the group's first commit, the offsets partition may still be moving to its leader.
    const offsets = await eventually('the committed offsets', 20_000, () =>
      connected().fetchOffsets({ groupId: group, topics: [topic] }),
    );
    const committed = new Map(offsets[0].partitions.map((p) => [p.partition, BigInt(p.offset)]));

    const second = runConsumerProcess(env, path.join(logDir, 'second.log'));
    const secondExit = await within(90_000, 'the second consumer process', second.exit).finally(() => {
      if (second.child.exitCode === null) second.child.kill('SIGKILL');
    });
    fs.rmSync(logDir, { recursive: true, force: true });

    const expected = new Map(produced.acknowledged.map((a) => [`${a.partition}:${a.offset}`, a.value]));
    const firstAt = new Set(first.logged.map((l) => `${l.partition}:${l.offset}`));
    const secondAt = new Set(second.logged.map((l) => `${l.partition}:${l.offset}`));
    const all = [...first.logged, ...second.logged];
    const skipped = [...expected.keys()].filter((key) => !firstAt.has(key) && !secondAt.has(key));
    const wrongValues = all.filter((l) => expected.get(`${l.partition}:${l.offset}`) !== l.value);
    const duplicates = [...firstAt].filter((key) => secondAt.has(key));
    // What the killed process logged but had not committed: exactly what a new container must log again.
    const uncommitted = first.logged.filter((l) => BigInt(l.offset) >= (committed.get(l.partition) ?? -1n));
    const uncommittedPartitions = [...new Set(uncommitted.map((l) => l.partition))];
    const resumedBelowCommitted = second.logged.filter((l) => BigInt(l.offset) < (committed.get(l.partition) ?? 0n));

    report('consumer SIGKILL mid-batch, then a new container', {
      produced: produced.acknowledged.length,
      loggedBeforeKill: first.logged.length,
      firstExit: { code: firstExit.code, signal: firstExit.signal, stderr: firstExit.stderr.slice(0, 300) },
      committedAtKill: Object.fromEntries(committed),
      loggedByNewContainer: second.logged.length,
      newContainerExit: { code: secondExit.code, stderr: secondExit.stderr.slice(0, 300) },
      consumed: new Set([...firstAt, ...secondAt]).size,
      missing: skipped.length,
      wrongValues: wrongValues.length,
      duplicated: duplicates.length,
      uncommittedAtKill: uncommitted.length,
      uncommittedPartitions,
      newContainerBelowCommitted: resumedBelowCommitted.length,
    });
    expect(firstExit.signal).toBe('SIGKILL');
    expect(first.logged.length).toBeGreaterThanOrEqual(killAfter);
    expect(first.logged.length).toBeLessThan(produced.acknowledged.length);
    expect(secondExit).toMatchObject({ code: 0 });
    expect(skipped).toEqual([]);
    expect(wrongValues).toEqual([]);
    // At least once: the new container starts exactly at the committed offsets, so the only duplicates are
    // the messages of the one batch that was logged but not committed when the process died.
    expect(resumedBelowCommitted).toEqual([]);
    expect(duplicates.sort()).toEqual(uncommitted.map((l) => `${l.partition}:${l.offset}`).sort());
    expect(uncommittedPartitions.length).toBeLessThanOrEqual(1);
  }, 180_000);
});

// ------------------------------------------------------------------------------------------------ outage

describe('two of three brokers stopped', () => {
  test('the producer fails within 15 s with a clear error, reports nothing as sent, and works again after the restart', async () => {
    const topic = uniqueName('outage');
    await createReplicatedTopic(connected(), topic);
    const env = handlerEnv(running().bootstrapBrokers, topic);
    const producer = loadBundle<ProducerModule>('producer', env);
    const timeline = new Timeline();
    const attempts: { batch: number; ok: boolean; reportedAcknowledged: number; error?: string }[] = [];
    const acknowledged: { value: string; partition: number; offset: string }[] = [];
    const send = async (module: ProducerModule, batch: number) => {
      const value = valueOf('outage', batch, 1);
      try {
        const result = await module.handler({ message: value, count: 100 });
        attempts.push({ batch, ok: true, reportedAcknowledged: result.count });
        acknowledged.push(...result.messages.map((m) => ({ value, ...m })));
      } catch (error) {
        const message = (error as Error).message;
        const partial = /after (\d+) of \d+ messages were acknowledged/.exec(message);
        attempts.push({ batch, ok: false, reportedAcknowledged: partial ? Number(partial[1]) : 0, error: message });
        throw error;
      }
    };
    let warm: { error: Error; ms: number } | undefined;
    let cold: { error: Error; ms: number } | undefined;
    const [first, second] = [1, 2];
    try {
      await send(producer, 0);
      await running().stop(first);
      timeline.note(`stopped broker ${first}`);
      await running().stop(second);
      timeline.note(`stopped broker ${second}; broker 3 alone, below min.insync.replicas 2`);

      warm = await failure(() => send(producer, 1));
      timeline.note(`warm producer failed after ${warm.ms} ms: ${warm.error.message}`);
      const coldProducer = loadBundle<ProducerModule>('producer', env);
      try {
        cold = await failure(() => send(coldProducer, 2));
        timeline.note(`cold producer failed after ${cold.ms} ms: ${cold.error.message}`);
      } finally {
        await coldProducer.close();
      }
    } finally {
      for (const id of [first, second]) {
        if (running().brokers.find((b) => b.id === id)?.pid === null) await running().start(id);
      }
      timeline.note('restarted both brokers');
    }
    await waitIsrFull(connected(), topic, 3, 60_000);
    await send(producer, 3);
    await producer.close();
    timeline.note('the warm producer sent again after the restart');

    const logged = await consumeAll(running().bootstrapBrokers, topic, uniqueName('outage-reader'));
    const verdict = verify(
      { prefix: 'outage', count: 100, attempts: attempts.map((a) => ({ ...a, attempt: 1, ms: 0 })), acknowledged },
      logged,
    );
    report(
      'two of three brokers stopped',
      { ...verdict, writtenByFailedInvocations: verdict.retryDuplicates, warmFailMs: warm?.ms, coldFailMs: cold?.ms },
      timeline.entries,
    );

    const clearError = new RegExp(
      `^Could not send to topic outage-[\\w-]+: Kafka at ${running().bootstrapBrokers.replace(/\./g, '\\.')} \\(auth none\\) failed: .+$`,
    );
    for (const outcome of [warm, cold]) {
      expect(outcome?.error.message).toMatch(clearError);
      expect(outcome?.ms).toBeLessThan(15_000);
    }
    // Nothing reported as sent: no "after N of M messages were acknowledged", and (checked by the oracle)
    // no more of the failed batches in the topic than they reported.
    expect(attempts.filter((a) => !a.ok).map((a) => a.reportedAcknowledged)).toEqual([0, 0]);
    expect(verdict.retryDuplicatesOutOfBounds).toEqual([]);
    expect(verdict.acknowledged).toBe(200);
    expect(verdict.missing).toBe(0);
    expect(verdict.misplaced).toBe(0);
    expect(verdict.duplicatedBySuccessfulInvocations).toBe(0);
  }, 180_000);
});

// ------------------------------------------------------------------------------------------------ cold start

describe('a cold start with no usable broker', () => {
  test('producer and consumer fail within 15 s with a clear error, against a stopped cluster and a hung broker', async () => {
    const stopped = running().bootstrapBrokers;
    await running().stop();
    // Accepts connections and never answers, like a broker frozen in a GC pause or a hung host.
    const sockets: net.Socket[] = [];
    const hung = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    const hungBroker = `127.0.0.1:${(hung.address() as net.AddressInfo).port}`;
    const modules: { close(): Promise<void> }[] = [];
    const producerAt = (brokers: string) => {
      const m = loadBundle<ProducerModule>('producer', handlerEnv(brokers, 'cold'));
      modules.push(m);
      return failure(() => m.handler({}));
    };
    const consumerAt = (brokers: string) => {
      const m = loadBundle<ConsumerModule>('consumer', handlerEnv(brokers, 'cold', { GROUP_ID: 'cold-group' }));
      modules.push(m);
      return failure(() => m.handler({}));
    };
    try {
      const [producerStopped, consumerStopped, producerHung, consumerHung] = await Promise.all([
        producerAt(stopped),
        consumerAt(stopped),
        producerAt(hungBroker),
        consumerAt(hungBroker),
      ]);
      report('cold start with no usable broker', {
        producerStoppedClusterMs: producerStopped.ms,
        consumerStoppedClusterMs: consumerStopped.ms,
        producerHungBrokerMs: producerHung.ms,
        consumerHungBrokerMs: consumerHung.ms,
        producerStoppedCluster: producerStopped.error.message,
        consumerStoppedCluster: consumerStopped.error.message,
        producerHungBroker: producerHung.error.message,
        consumerHungBroker: consumerHung.error.message,
      });
      const at = (brokers: string) => brokers.replace(/\./g, '\\.');
      expect(producerStopped.error.message).toMatch(
        new RegExp(`^Could not send to topic cold: Kafka at ${at(stopped)} \\(auth none\\) failed: .*ECONNREFUSED.*$`),
      );
      expect(consumerStopped.error.message).toMatch(
        new RegExp(
          `^Could not consume topic cold as group cold-group: Kafka at ${at(stopped)} \\(auth none\\) failed: .*ECONNREFUSED.*$`,
        ),
      );
      expect(producerHung.error.message).toMatch(
        new RegExp(`^Could not send to topic cold: Kafka at ${at(hungBroker)} \\(auth none\\) failed: .+$`),
      );
      expect(consumerHung.error.message).toMatch(
        new RegExp(
          `^Could not consume topic cold as group cold-group: Kafka at ${at(hungBroker)} \\(auth none\\) failed: .+$`,
        ),
      );
      for (const outcome of [producerStopped, consumerStopped, producerHung, consumerHung]) {
        expect(outcome.ms).toBeLessThan(15_000);
      }
    } finally {
      await Promise.all(modules.map((m) => m.close()));
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => hung.close(resolve));
    }
  }, 60_000);
});
