/**
 * MSK's connection rules on the local MSK twin, against the bundled producer, consumer and topic bootstrap in
 * Lambda-like containers (as deployed, each as its own role over TLS + IAM), on the dev profile's two brokers:
 *
 * - sessions end: every IAM session lasts SESSION_MS (the twin's session switch, as `connections.max.reauth.ms`),
 *   so a warm client must sign in again on its open connections (KIP-368) or lose them;
 * - idle connections close: `connections.max.idle.ms` is shortened below a pause between invocations, as MSK's
 *   10-minute idle close does to a Lambda container frozen for longer than that;
 * - credentials rotate as Lambda rotates them: a container keeps the credentials it started with and is replaced
 *   after CONTAINER_LIFETIME_MS (Lambda: every few hours), and the new one starts with new credentials;
 * - new connections are limited to MSK's rate for the dev profile's kafka.t3.small: 4 sign-ins per second per broker
 *   (broker-config.ts); over it the twin refuses a sign-in with MSK's "Too many connects", against 20 cold starts at
 *   once and against sign-ins made directly.
 *
 * Each test prints its counts. The oracle: every message the producer acknowledged is logged by the consumer
 * exactly once, and no invocation fails except on a sign-in refused over the rate. Set-up and checks use the twin's plaintext listener (raw access).
 */
import * as fs from 'node:fs';
import type { Admin } from 'kafkajs';
import { Kafka, logLevel } from 'kafkajs';
import {
  dropKafkajsTimeoutWarnings,
  IAM_CONNECTION_RATE_KEY,
  type InvokeResult,
  type LambdaRunner,
  renamed,
  type TwinAppInstance,
} from 'msk-twin';
import { BASE_CONFIG } from '../../lib/config';
import { startAppTwin, topicsCreateEvent } from '../../scripts/app-twin';
import { ensureBundles } from '../lambda/bundles';

/** The IAM session lifetime: well above kafkajs' 10 s re-authentication threshold (see docs/local-twin.md). */
const SESSION_MS = 20_000;
/** Brokers close connections idle this long; the pauses below are longer. */
const IDLE_MS = 15_000;
/** A container is replaced (new credentials) once it is this old, as Lambda replaces its execution environments. */
const CONTAINER_LIFETIME_MS = 45_000;
/** Warm clients: an invocation every few seconds across this many session lifetimes. */
const SESSIONS = 4;
const WARM_INTERVAL_MS = 3_000;
/** Frozen clients: pauses longer than a session (and than the idle close). */
const PAUSE_MS = 25_000;
const COLD_STARTS = 20;

jest.setTimeout(10 * 60_000);

let instance: TwinAppInstance;
let admin: Admin;

beforeAll(async () => {
  dropKafkajsTimeoutWarnings();
  await ensureBundles();
  instance = await startAppTwin({
    stage: 'dev',
    maxSessionMs: SESSION_MS,
    brokerConfig: { 'connections.max.idle.ms': String(IDLE_MS) },
    // The roles are renamed to these tests' topics, which the tests create themselves.
    deploy: false,
    // The dev policies' actions on the names these tests use.
    editApp: (app) =>
      renamed(app, {
        topics: { [BASE_CONFIG.demoTopic]: 'conn-*' },
        groups: { [BASE_CONFIG.consumerGroup]: 'conn-*' },
      }),
  });
  admin = new Kafka({ brokers: instance.twin.plaintextBrokers.split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
}, 180_000);

afterAll(async () => {
  await admin?.disconnect();
  await instance?.stop();
}, 60_000);

let names = 0;
function name(kind: string): string {
  names += 1;
  return `conn-${kind}-${Date.now().toString(36)}-${names}`;
}

async function createTopic(topic: string): Promise<void> {
  await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 2 }], waitForLeaders: false });
  // kafkajs' own waitForLeaders fails while a broker still lacks the new topic's metadata.
  for (let attempt = 0; ; attempt++) {
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      if (topics[0]?.partitions.length === 3 && topics[0].partitions.every((p) => p.leader >= 0)) return;
    } catch (error) {
      if (attempt > 40) throw error;
    }
    await sleep(250);
  }
}

/** Values the consumer logged (its log line's message is the value) in these invocations' logs. */
function loggedValues(results: InvokeResult[], topic: string): string[] {
  const values: string[] = [];
  for (const result of results) {
    for (const line of result.logs) {
      if (line.stream !== 'stdout' || !line.message.startsWith('{')) continue;
      const parsed = JSON.parse(line.message) as { message?: string; topic?: string; offset?: string };
      if (parsed.topic === topic && parsed.offset !== undefined && parsed.message !== undefined) {
        values.push(parsed.message);
      }
    }
  }
  return values;
}

function handlerLines(results: InvokeResult[], text: string): number {
  return results.reduce((n, r) => n + r.logs.filter((l) => l.message.includes(text)).length, 0);
}

interface Ledger {
  readonly topic: string;
  readonly producer: LambdaRunner;
  readonly consumer: LambdaRunner;
  readonly sent: string[];
  readonly acknowledged: string[];
  readonly results: InvokeResult[];
  readonly consumed: InvokeResult[];
  failed: InvokeResult[];
}

async function ledger(kind: string): Promise<Ledger> {
  const topic = name(kind);
  const group = name(`${kind}-group`);
  await createTopic(topic);
  const options = { maxContainerLifetimeMs: CONTAINER_LIFETIME_MS };
  return {
    topic,
    producer: instance.runner('Producer', { ...options, environmentOverrides: { TOPIC: topic } }),
    consumer: instance.runner('Consumer', { ...options, environmentOverrides: { TOPIC: topic, GROUP_ID: group } }),
    sent: [],
    acknowledged: [],
    results: [],
    consumed: [],
    failed: [],
  };
}

/** One round: the producer sends one message, then the consumer reads what is there. */
async function round(l: Ledger): Promise<void> {
  const value = `${l.topic} #${l.sent.length}`;
  l.sent.push(value);
  const sent = await l.producer.invoke({ message: value });
  l.results.push(sent);
  if (sent.ok) l.acknowledged.push(value);
  else l.failed.push(sent);
  const read = await l.consumer.invoke({ maxMessages: 1000 });
  l.results.push(read);
  l.consumed.push(read);
  if (!read.ok) l.failed.push(read);
}

/** Reads until the consumer reports it has caught up, then checks and prints the counts. */
async function settle(l: Ledger, label: string, startedAt: number): Promise<void> {
  for (let i = 0; i < 5; i++) {
    const read = await l.consumer.invoke({ maxMessages: 1000 });
    l.results.push(read);
    l.consumed.push(read);
    if (!read.ok) l.failed.push(read);
    if (read.ok && (read.payload as { count: number }).count === 0) break;
  }
  const logged = loggedValues(l.consumed, l.topic);
  const counts = new Map<string, number>();
  for (const v of logged) counts.set(v, (counts.get(v) ?? 0) + 1);
  const missing = l.acknowledged.filter((v) => !counts.has(v));
  const duplicated = [...counts].filter(([, n]) => n > 1).map(([v]) => v);
  const unacknowledgedLogged = logged.filter((v) => !l.acknowledged.includes(v));
  const signIns = [...instance.signIns(l.producer), ...instance.signIns(l.consumer)].length;
  const containers = instance.accessKeysOf(l.producer).length + instance.accessKeysOf(l.consumer).length;
  const reconnects =
    handlerLines(l.results, 'reconnecting') +
    handlerLines(l.results, 'starting a new one') +
    handlerLines(l.results, 'kafkajs is restarting it');
  const elapsed = Date.now() - startedAt;
  const summary = {
    test: label,
    seconds: Math.round(elapsed / 1000),
    sessionsElapsed: Math.floor(elapsed / SESSION_MS),
    sent: l.sent.length,
    acknowledged: l.acknowledged.length,
    consumed: logged.length,
    missing: missing.length,
    duplicated: duplicated.length,
    failedInvocations: l.failed.length,
    containers,
    signIns,
    reconnects,
  };
  console.log(`${label}: ${JSON.stringify(summary)}`);
  expect(l.failed.map((r) => (r.ok ? '' : `${r.error.errorType}: ${r.error.errorMessage}`))).toEqual([]);
  expect(summary.sessionsElapsed).toBeGreaterThanOrEqual(SESSIONS);
  expect(missing).toEqual([]);
  expect(duplicated).toEqual([]);
  expect(unacknowledgedLogged).toEqual([]);
  expect(l.acknowledged).toHaveLength(l.sent.length);
  // New credentials with each new container: more than one container of each, and every one signed in.
  expect(containers).toBeGreaterThanOrEqual(4);
  expect(signIns).toBeGreaterThan(containers);
}

/** The most sign-ins with these access keys that one broker logged within one second (log4j's `[%d]` stamp). */
function peakPerSecond(keys: string[]): number {
  let peak = 0;
  for (const broker of instance.twin.cluster.brokers) {
    const perSecond = new Map<string, number>();
    for (const line of fs.readFileSync(broker.logFile, 'utf8').split('\n')) {
      if (!line.includes('MSK IAM sign-in [') || !keys.some((k) => line.includes(`with access key ${k},`))) continue;
      const second = /^\[([^,\]]+)/.exec(line)?.[1] ?? '';
      perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
    }
    peak = Math.max(peak, ...perSecond.values());
  }
  return peak;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('session expiry, idle close and credential rotation', () => {
  test(`a warm producer and consumer every ${WARM_INTERVAL_MS / 1000} s, and a frozen pair every ${PAUSE_MS / 1000} s, across ${SESSIONS} sessions of ${SESSION_MS / 1000} s`, async () => {
    const warm = await ledger('warm');
    const frozen = await ledger('frozen');
    const started = Date.now();
    const until = started + SESSIONS * SESSION_MS + 2_000;
    await Promise.all([
      (async () => {
        while (Date.now() < until) {
          const tick = Date.now();
          await round(warm);
          await sleep(Math.max(0, WARM_INTERVAL_MS - (Date.now() - tick)));
        }
      })(),
      (async () => {
        while (Date.now() < until) {
          await round(frozen);
          // Frozen between invocations (the runner's default): no heartbeats, no re-authentication.
          await sleep(PAUSE_MS);
        }
      })(),
    ]);
    const settled = await Promise.allSettled([
      settle(warm, 'warm clients', started),
      settle(frozen, 'frozen clients', started),
    ]);
    for (const outcome of settled) if (outcome.status === 'rejected') throw outcome.reason;
  });
});

describe(`connection-creation rate (${IAM_CONNECTION_RATE_KEY})`, () => {
  test(`${COLD_STARTS} cold starts at once (producers, consumers, the topic bootstrap): an invocation fails only on a sign-in refused as "Too many connects", never on a timeout`, async () => {
    expect(instance.brokerConfig.properties[IAM_CONNECTION_RATE_KEY]).toBe('4');
    const topic = name('storm');
    await createTopic(topic);
    const bootstrapTopic = name('storm-bootstrap');
    const event = topicsCreateEvent(instance) as { ResourceProperties: { TopicName: string } };
    event.ResourceProperties.TopicName = bootstrapTopic;
    const runners: { kind: string; runner: LambdaRunner; event: unknown }[] = [
      { kind: 'topic-bootstrap', runner: instance.runner('Topics/OnEvent'), event },
    ];
    for (let i = 0; i < 2; i++) {
      runners.push({
        kind: 'consumer',
        runner: instance.runner('Consumer', { environmentOverrides: { TOPIC: topic, GROUP_ID: name('storm-group') } }),
        event: { fromBeginning: true, maxMessages: 1000 },
      });
    }
    while (runners.length < COLD_STARTS) {
      runners.push({
        kind: 'producer',
        runner: instance.runner('Producer', { environmentOverrides: { TOPIC: topic } }),
        event: { message: `storm #${runners.length}` },
      });
    }
    const started = Date.now();
    const results = await Promise.all(runners.map(({ runner, event: e }) => runner.invoke(e)));
    const seconds = (Date.now() - started) / 1000;
    const failed = results
      .map((r, i) => (r.ok ? undefined : `${runners[i].kind}: ${r.error.errorType}: ${r.error.errorMessage}`))
      .filter((f) => f !== undefined);
    const signIns = runners.reduce((n, { runner }) => n + instance.signIns(runner).length, 0);
    const keys = runners.flatMap(({ runner }) => instance.accessKeysOf(runner));
    const longest = Math.max(...results.map((r) => r.durationMs + (r.initDurationMs ?? 0)));
    const peak = peakPerSecond(keys);
    console.log(
      `cold starts: ${JSON.stringify({
        invocations: results.length,
        coldStarts: results.filter((r) => r.coldStart).length,
        failedInvocations: failed.length,
        signIns,
        peakSignInsPerBrokerSecond: peak,
        longestMs: Math.round(longest),
        seconds: Math.round(seconds),
      })}`,
    );
    // MSK refuses sign-ins over the rate; the handlers retry them for 15 s, and one that still fails names it.
    for (const failure of failed) expect(failure).toMatch(/\[[0-9a-f-]{36}\]: Too many connects/);
    expect(results.every((r) => r.coldStart)).toBe(true);
    // A broker's bucket holds 4 sign-ins and refills 4 per second: at most 8 within one clock second.
    expect(peak).toBeLessThanOrEqual(8);
    const producedOk = results.filter((r, i) => r.ok && runners[i].kind === 'producer').length;
    const offsets = await admin.fetchTopicOffsets(topic);
    expect(offsets.reduce((n, p) => n + Number(p.high), 0)).toBe(producedOk);
  });
});

describe('the twin refuses new IAM connections over the rate', () => {
  test('12 sign-ins at once to one broker: those over 4 per second are refused with "Too many connects", as MSK refuses them', async () => {
    const [first] = instance.twin.bootstrapBrokers.split(',');
    const producer = instance.function('Producer');
    const credentials = instance.twin.issueCredentials(producer.roleArn, 300);
    const signIn = async (): Promise<string | undefined> => {
      const config = instance.twin.clientConfig(credentials, 'conn-rate');
      const client = new Kafka({ ...config, brokers: [first], retry: { retries: 0 }, logLevel: logLevel.NOTHING });
      const admin = client.admin();
      try {
        await admin.connect();
        return undefined;
      } catch (error) {
        return (error as Error).message;
      } finally {
        await admin.disconnect();
      }
    };
    await sleep(1_500);
    const started = performance.now();
    const outcomes = await Promise.all(Array.from({ length: 12 }, signIn));
    const seconds = (performance.now() - started) / 1000;
    const refused = outcomes.filter((o) => o !== undefined);
    console.log(
      `sign-ins at once: ${JSON.stringify({ accepted: 12 - refused.length, refused: refused.length, seconds })}`,
    );
    for (const message of refused) {
      expect(message).toMatch(/^SASL OAUTHBEARER authentication failed: \[[0-9a-f-]{36}\]: Too many connects$/);
    }
    // A bucket of one second's sign-ins: 4, plus what refills while the 12 TLS handshakes run.
    expect(12 - refused.length).toBeGreaterThanOrEqual(4);
    expect(12 - refused.length).toBeLessThanOrEqual(4 + Math.ceil(seconds * 4));
    expect(refused.length).toBeGreaterThan(0);
    // Refused at once, not delayed as Kafka's own KIP-612 rate would delay them.
    expect(seconds).toBeLessThan(3);
    await sleep(1_000);
    expect(await signIn()).toBeUndefined();
  });
});
