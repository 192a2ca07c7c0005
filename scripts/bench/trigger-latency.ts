/**
 * From a send to the consumer's log line on the deployed trigger, for each consumer mode, on a twin of its own:
 *
 * - kafkajs: the schedule's runs ({"listen":true}) emulated back to back at a shorter period (the function's
 *   timeout shortened with it); sends that fall between two runs wait for the next one. The figures are projected
 *   to the deployed period by weighting those sends by the measured gap over the deployed period.
 * - event-source-mapping: the twin's mapping polls and invokes the consumer.
 *
 * Each mode is measured warm, after its container's first message (a cold start once per container), and gets its
 * monthly cost line.
 */
import type { EventSourceMappingPoller, LogLine } from 'msk-twin';
import { startEventSourceMappings } from 'msk-twin';
import { startAppTwin } from '../app-twin';

export type Record = (
  section: string,
  metric: string,
  value: number,
  unit: string,
  target?: { text: string; ok: boolean },
) => void;

/** Lambda duration price on arm64 and the PrivateLink endpoint price, us-east-1 (AWS pricing pages). */
const ARM_GB_SECOND_USD = 0.0000133334;
const ENDPOINT_AZ_HOUR_USD = 0.01;
const HOURS_PER_MONTH = 730;
const TARGET_MS = 1000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Percentile of samples that carry weights (their share of all sends). */
export function weightedPercentile(samples: readonly { value: number; weight: number }[], p: number): number {
  const sorted = [...samples].sort((a, b) => a.value - b.value);
  const total = sorted.reduce((n, s) => n + s.weight, 0);
  let seen = 0;
  for (const sample of sorted) {
    seen += sample.weight;
    if (seen >= (p / 100) * total) return sample.value;
  }
  return sorted[sorted.length - 1]?.value ?? NaN;
}

/** When a handler line with this value was written, if it was. */
function loggedAt(lines: readonly LogLine[], value: string): number | undefined {
  return lines.find((l) => l.stream === 'stdout' && l.message.includes(`"message":${JSON.stringify(value)}`))?.time;
}

async function until<T>(get: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = get();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await sleep(10);
  }
}

/** The schedule's runs at `periodSeconds`, with sends at random moments until `periods` runs have ended. */
async function kafkajsMode(record: Record, periods: number, periodSeconds: number): Promise<void> {
  const app = await startAppTwin({});
  try {
    // The deploy created the topic (its topic-bootstrap resource).
    const consumerFn = app.function('Consumer');
    const deployedSeconds = consumerFn.timeoutSeconds;
    const lines: LogLine[] = [];
    const consumer = app.runner('Consumer', { timeoutSeconds: periodSeconds, onLog: (line) => lines.push(line) });
    const producer = app.runner('Producer');
    if (!(await producer.invoke({ message: 'warm-up' })).ok) throw new Error('the producer failed');

    let running = false;
    const gaps: number[] = [];
    const schedule = (async () => {
      let lastEnd: number | undefined;
      for (let run = 0; run < periods; run++) {
        const at = Date.now();
        if (lastEnd !== undefined) gaps.push(at - lastEnd);
        running = true;
        const result = await consumer.invoke({ listen: true });
        running = false;
        lastEnd = Date.now();
        if (!result.ok) throw new Error(`a scheduled run failed: ${result.error.errorMessage}`);
        // EventBridge invokes at the period; the run returned a little before it.
        await sleep(Math.max(0, at + periodSeconds * 1000 - Date.now()));
      }
    })();
    const samples: { value: number; betweenRuns: boolean }[] = [];
    let stop = false;
    void schedule.finally(() => {
      stop = true;
    });
    await until(() => (running ? true : undefined), 30_000, 'the first run did not start');
    // The first run's container starts and joins the group once; its runs then follow each other warm.
    if (!(await producer.invoke({ message: 'joined' })).ok) throw new Error('the producer failed');
    await until(() => loggedAt(lines, 'joined'), 30_000, 'the first run did not log its first message');
    for (let i = 0; !stop; i++) {
      const value = `trigger ${i}`;
      const betweenRuns = !running;
      const sent = Date.now();
      const result = await producer.invoke({ message: value });
      if (!result.ok) throw new Error(`the producer failed: ${result.error.errorMessage}`);
      samples.push({ value: sent, betweenRuns });
      await sleep(100 + Math.random() * 300);
    }
    await schedule;
    // Sends after the last run are read by no run of this bench: only those logged count.
    const measured = samples.flatMap((s, i) => {
      const at = loggedAt(lines, `trigger ${i}`);
      return at === undefined ? [] : [{ value: at - s.value, betweenRuns: s.betweenRuns }];
    });
    const gapMs = gaps.length > 0 ? gaps.reduce((a, b) => a + b, 0) / gaps.length : 0;
    const share = gapMs / 1000 / deployedSeconds;
    const weighted = measured.map((s) => ({
      value: s.value,
      weight: s.betweenRuns
        ? share / Math.max(1, measured.filter((m) => m.betweenRuns).length)
        : (1 - share) / Math.max(1, measured.filter((m) => !m.betweenRuns).length),
    }));
    const section = `send to log line, kafkajs consumer (${deployedSeconds / 60}-minute listening runs)`;
    record(section, `sends measured (${periods} runs of ${periodSeconds} s)`, measured.length, 'messages');
    record(section, 'gap between two runs', gapMs, 'ms');
    record(section, 'p50, at the deployed period', weightedPercentile(weighted, 50), 'ms');
    const p99 = weightedPercentile(weighted, 99);
    record(section, 'p99, at the deployed period', p99, 'ms', { text: `<= ${TARGET_MS} ms`, ok: p99 <= TARGET_MS });
    record(
      section,
      `p99 at the emulated ${periodSeconds} s period`,
      weightedPercentile(
        measured.map((s) => ({ value: s.value, weight: 1 })),
        99,
      ),
      'ms',
    );
    const gb = consumerFn.memoryMb / 1024;
    record(
      section,
      `cost: ${consumerFn.memoryMb} MB arm64 running all month`,
      gb * HOURS_PER_MONTH * 3600 * ARM_GB_SECOND_USD,
      'USD/month',
      { text: '<= 10 USD/month', ok: gb * HOURS_PER_MONTH * 3600 * ARM_GB_SECOND_USD <= 10 },
    );
  } finally {
    await app.stop();
  }
}

async function mappingMode(record: Record, sends: number): Promise<void> {
  const app = await startAppTwin({ context: { consumer: 'event-source-mapping' } });
  const pollers: EventSourceMappingPoller[] = [];
  try {
    const producer = app.runner('Producer');
    pollers.push(...(await startEventSourceMappings(app)));
    const lines = () => pollers.flatMap((p) => p.invocations.flatMap((i) => i.result.logs));
    // The consumer's first invocation is a cold start, once per container.
    if (!(await producer.invoke({ message: 'warm-up' })).ok) throw new Error('the producer failed');
    await until(() => loggedAt(lines(), 'warm-up'), 30_000, 'the mapping did not hand over its first message');
    const delays: number[] = [];
    for (let i = 0; i < sends; i++) {
      const value = `mapped ${i}`;
      const sent = Date.now();
      const result = await producer.invoke({ message: value });
      if (!result.ok) throw new Error(`the producer failed: ${result.error.errorMessage}`);
      const at = await until(() => loggedAt(lines(), value), 30_000, `the mapping did not hand over ${value}`);
      delays.push(at - sent);
      await sleep(100 + Math.random() * 300);
    }
    const samples = delays.map((value) => ({ value, weight: 1 }));
    const section = 'send to log line, event-source-mapping consumer';
    record(section, 'sends measured', delays.length, 'messages');
    record(section, 'p50', weightedPercentile(samples, 50), 'ms');
    const p99 = weightedPercentile(samples, 99);
    record(section, 'p99', p99, 'ms', { text: `<= ${TARGET_MS} ms`, ok: p99 <= TARGET_MS });
    const azs = app.app.cluster.azCount ?? 2;
    record(
      section,
      `cost: Lambda and STS interface endpoints in ${azs} AZs`,
      2 * azs * HOURS_PER_MONTH * ENDPOINT_AZ_HOUR_USD,
      'USD/month',
    );
  } finally {
    await Promise.all(pollers.map((p) => p.stop()));
    await app.stop();
  }
}

/** Both modes; `quick` runs fewer runs and sends. */
export async function benchTriggerLatency(record: Record, quick: boolean): Promise<void> {
  await kafkajsMode(record, quick ? 2 : 4, quick ? 12 : 20);
  await mappingMode(record, quick ? 20 : 100);
}
