/**
 * Replication faults on a local three-broker KRaft cluster, driven through the bundled producer and
 * consumer handlers: a leader killed, a leader shut down, a follower hung. The oracle (fault-kit.ts):
 * every acknowledged message is consumed, at the offset the producer reported, once.
 */
import { eventually, uniqueName } from '../integration/kafka-helpers';
import { loadBundle, type ProducerModule } from '../lambda/bundles';
import {
  consumeAll,
  createReplicatedTopic,
  handlerEnv,
  highWatermarkTotal,
  partitionStates,
  report,
  startStream,
  Timeline,
  verify,
  waitIsrFull,
  type Stream,
  type StreamResult,
  type Verdict,
  useFaultCluster,
} from './fault-kit';

const FAULTS = 5;
const MIN_ACKNOWLEDGED = 20_000;
const COUNT = 100;

const { running, connected } = useFaultCluster();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function leaderOfPartitionZero(topic: string, not?: number): Promise<number> {
  return eventually(`a leader for partition 0${not ? ` other than broker ${not}` : ''}`, 30_000, async () => {
    const leader = (await partitionStates(connected(), topic))[0].leader;
    return leader >= 0 && leader !== not ? leader : undefined;
  });
}

/**
 * A stream of acks=all idempotent sends to a new topic with RF 3 and min.insync.replicas 2 while `faults`
 * runs; then the whole topic is read with the consumer handler and judged by the oracle.
 */
async function underFaults(
  name: string,
  minAcknowledged: number,
  faults: (topic: string, stream: Stream, timeline: Timeline) => Promise<void>,
  replicas?: number[][],
): Promise<{ verdict: Verdict; timeline: Timeline; highWatermarks: number }> {
  const topic = uniqueName(name);
  await createReplicatedTopic(connected(), topic, replicas);
  const producer = loadBundle<ProducerModule>('producer', handlerEnv(running().bootstrapBrokers, topic));
  const timeline = new Timeline();
  try {
    const stream = startStream(producer, { prefix: name, count: COUNT, minAcknowledged, messagesPerSecond: 450 });
    try {
      // Faults begin once the producer is warm (its producer id assigned, the leaders known): a fault that hits
      // its very first InitProducerId tests the coordinator's move, not replication.
      await eventually('the first acknowledged write', 30_000, async () =>
        stream.acknowledgedCount() > 0 ? true : undefined,
      );
      timeline.note('the stream has its first acknowledged write');
      await faults(topic, stream, timeline);
    } catch (error) {
      const sofar = await stream.abort();
      timeline.note(`fault schedule failed: ${(error as Error).message}`);
      noteAttempts(timeline, sofar);
      report(`${name}: the fault schedule failed`, {}, timeline.entries);
      throw error;
    }
    const sent = await stream.stop();
    noteAttempts(timeline, sent);
    const highWatermarks = await highWatermarkTotal(connected(), topic);
    const logged = await consumeAll(running().bootstrapBrokers, topic, uniqueName('faults-reader'));
    timeline.note(`consumer handler logged ${logged.length} messages; high watermarks sum to ${highWatermarks}`);
    return { verdict: verify(sent, logged), timeline, highWatermarks };
  } finally {
    await producer.close();
  }
}

function noteAttempts(timeline: Timeline, sent: StreamResult): void {
  const slowest = Math.max(0, ...sent.attempts.map((a) => a.ms));
  timeline.note(
    `stream: ${sent.acknowledged.length} acknowledged in ${sent.attempts.length} invocations, slowest ${slowest} ms`,
  );
  for (const a of sent.attempts.filter((x) => !x.ok)) {
    timeline.note(`failed invocation (batch ${a.batch}, attempt ${a.attempt}) after ${a.ms} ms: ${a.error}`);
  }
}

function expectEveryAcknowledgedMessageOnce(verdict: Verdict, highWatermarks: number, minAcknowledged: number): void {
  expect(verdict.acknowledged).toBeGreaterThanOrEqual(minAcknowledged);
  expect(verdict.missing).toBe(0);
  expect(verdict.misplaced).toBe(0);
  expect(verdict.duplicatedBySuccessfulInvocations).toBe(0);
  // Only an invocation that failed (and was sent again by the caller) may leave copies behind: at least what
  // its error reported as acknowledged, at most its batch.
  expect(verdict.retryDuplicatesOutOfBounds).toEqual([]);
  expect(verdict.retryDuplicates).toBeLessThanOrEqual(verdict.failedAttempts * COUNT);
  expect(verdict.duplicated).toBe(verdict.retryDuplicates);
  expect(verdict.orderViolations).toEqual([]);
  expect(verdict.foreign).toBe(0);
  expect(verdict.consumerRereads).toBe(0);
  expect(verdict.consumed).toBe(highWatermarks);
}

/** Takes the leader of partition 0 down with `fault`, waits for a new leader, restarts it: FAULTS times. */
function leaderFaults(fault: (broker: number) => Promise<void>) {
  return async (topic: string, stream: Stream, timeline: Timeline): Promise<void> => {
    for (let i = 1; i <= FAULTS; i++) {
      await sleep(1000);
      const leader = await leaderOfPartitionZero(topic);
      timeline.note(`fault ${i}: broker ${leader} leads partition 0; ${stream.acknowledgedCount()} acknowledged`);
      await fault(leader);
      // After SIGKILL the controller moves leadership once it fences the broker (broker.session.timeout.ms,
      // 6 s); a clean shutdown hands it over first.
      const next = await leaderOfPartitionZero(topic, leader);
      timeline.note(`fault ${i}: broker ${leader} down, partition 0 led by ${next}`);
      await running().start(leader);
      await waitIsrFull(connected(), topic);
      timeline.note(`fault ${i}: broker ${leader} restarted and back in every ISR`);
    }
  };
}

describe('a stream of acks=all idempotent sends to a topic with RF 3 and min.insync.replicas 2', () => {
  test(`SIGKILL of the partition leader, ${FAULTS} times: no acknowledged message lost or duplicated, order kept`, async () => {
    const { verdict, timeline, highWatermarks } = await underFaults(
      'kill',
      MIN_ACKNOWLEDGED,
      leaderFaults((broker) => running().kill(broker)),
    );
    report(`SIGKILL of the leader x${FAULTS}`, verdict, timeline.entries);
    expectEveryAcknowledgedMessageOnce(verdict, highWatermarks, MIN_ACKNOWLEDGED);
  }, 240_000);

  test(`clean shutdown (SIGTERM) of the partition leader, ${FAULTS} times: nothing lost or duplicated, order kept`, async () => {
    const { verdict, timeline, highWatermarks } = await underFaults(
      'stop',
      MIN_ACKNOWLEDGED,
      leaderFaults((broker) => running().stop(broker)),
    );
    report(`SIGTERM of the leader x${FAULTS}`, verdict, timeline.entries);
    expectEveryAcknowledgedMessageOnce(verdict, highWatermarks, MIN_ACKNOWLEDGED);
  }, 240_000);

  test('a hung follower (SIGSTOP) leaves the ISR, writes go on, and after SIGCONT it rejoins: nothing lost', async () => {
    // Broker 2 follows every partition and leads none. (A hung leader is another fault: kafkajs retries a
    // timed-out request on the same broker, so each invocation then waits out requestTimeout three times.)
    const follower = 2;
    const replicas = [
      [1, 2, 3],
      [3, 1, 2],
      [1, 3, 2],
    ];
    let leftIsr: number[][] = [];
    let acknowledgedWhileOut = 0;
    const { verdict, timeline, highWatermarks } = await underFaults(
      'pause',
      5000,
      async (topic, stream, timeline) => {
        await sleep(1000);
        await running().pause(follower);
        timeline.note(`paused broker ${follower}, a follower of every partition`);
        try {
          // replica.lag.time.max.ms is 5 s: each leader drops the silent follower from its ISR.
          leftIsr = await eventually(`broker ${follower} out of every ISR`, 40_000, async () => {
            const states = await partitionStates(connected(), topic);
            return states.some((p) => p.isr.includes(follower)) ? undefined : states.map((p) => p.isr);
          });
          const outSince = stream.acknowledgedCount();
          timeline.note(`ISRs ${JSON.stringify(leftIsr)}; ${outSince} acknowledged`);
          await eventually('1000 more acknowledged writes with the follower out', 40_000, async () =>
            stream.acknowledgedCount() >= outSince + 1000 ? true : undefined,
          );
          acknowledgedWhileOut = stream.acknowledgedCount() - outSince;
        } finally {
          await running().resume(follower);
        }
        timeline.note(`resumed broker ${follower} after ${acknowledgedWhileOut} acknowledged without it`);
        await waitIsrFull(connected(), topic, 3, 60_000);
        timeline.note(`broker ${follower} back in every ISR`);
      },
      replicas,
    );
    report('SIGSTOP of a follower', { ...verdict, leftIsr, acknowledgedWhileOut }, timeline.entries);
    expect(leftIsr).toEqual([
      [1, 3],
      [1, 3],
      [1, 3],
    ]);
    expect(acknowledgedWhileOut).toBeGreaterThanOrEqual(1000);
    expectEveryAcknowledgedMessageOnce(verdict, highWatermarks, 5000);
  }, 180_000);
});
