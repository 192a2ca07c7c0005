/**
 * `npm run kafka -- <tool>` against the real local broker: Kafka's classic first steps (create a topic, list
 * topics, produce lines, consume them from the beginning, list groups, describe a group's lag), then the
 * details and the one-line errors.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { DEFAULT_BACKENDS, runKafkaTool } from '../../scripts/kafka/tools';
import { eventually, kafkaClient, testBrokers, uniqueName, withAdmin } from '../integration/kafka-helpers';

jest.setTimeout(60000);

const ROOT = join(__dirname, '..', '..');

interface Run {
  readonly code: number;
  readonly out: string[];
  readonly err: string[];
}

/** Runs a tool in this process with `input` as its stdin, against the shared test broker. */
async function kafka(argv: string[], input: string[] = [], signal?: AbortSignal): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runKafkaTool([...argv, '--bootstrap-server', testBrokers()], {
    io: {
      out: (line) => out.push(line),
      err: (line) => err.push(line),
      lines: async function* () {
        yield* input;
      },
      interactive: false,
      signal,
      env: {},
    },
    backends: DEFAULT_BACKENDS,
  });
  return { code, out, err };
}

/** Runs `npm run kafka -- …` the way a user does (tsx scripts/kafka/cli.ts), stdin piped in. */
function cli(argv: string[], input = '') {
  return spawnSync(join(ROOT, 'node_modules', '.bin', 'tsx'), ['scripts/kafka/cli.ts', ...argv], {
    cwd: ROOT,
    input,
    encoding: 'utf8',
    env: { ...process.env, KAFKA_BROKERS: testBrokers() },
  });
}

describe("Kafka's first steps with npm run kafka", () => {
  const topic = uniqueName('first-topic');
  const group = uniqueName('first-group');

  test('create a topic, list it, produce three lines, consume them from the beginning, list groups, see the lag', async () => {
    expect(await kafka(['topics', '--create', '--topic', topic])).toEqual({
      code: 0,
      out: [`Created topic ${topic}.`],
      err: [],
    });

    const listed = await kafka(['topics', '--list']);
    expect(listed.code).toBe(0);
    expect(listed.out).toContain(topic);

    const produced = await kafka(
      ['produce', '--topic', topic],
      ['This is my first event', 'This is my second event', 'This is my third event'],
    );
    expect(produced).toEqual({
      code: 0,
      out: [],
      err: [`Sent 3 message(s) to ${topic} (partition:offset 0:0, 0:1, 0:2)`],
    });

    const consumed = await kafka([
      'consume',
      '--topic',
      topic,
      '--from-beginning',
      '--group',
      group,
      '--max-messages',
      '3',
    ]);
    expect(consumed).toEqual({
      code: 0,
      out: [
        'Partition:0\tOffset:0\tThis is my first event',
        'Partition:0\tOffset:1\tThis is my second event',
        'Partition:0\tOffset:2\tThis is my third event',
      ],
      err: ['Processed a total of 3 messages'],
    });

    const groups = await kafka(['groups', '--list']);
    expect(groups.code).toBe(0);
    expect(groups.out).toContain(group);

    const caughtUp = await kafka(['groups', '--describe', '--group', group]);
    expect(caughtUp.code).toBe(0);
    expect(caughtUp.out[0]).toBe(`Consumer group '${group}' has no active members.`);
    expect(caughtUp.out.slice(2).map((line) => line.split(/ +/))).toEqual([
      ['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID'],
      [group, topic, '0', '3', '3', '0', '-', '-', '-'],
    ]);

    await kafka(['produce', '--topic', topic], ['This is my fourth event']);
    const behind = await kafka(['groups', '--describe', '--group', group]);
    expect(behind.out.slice(-1)[0].split(/ +/)).toEqual([group, topic, '0', '3', '4', '1', '-', '-', '-']);

    // The group resumes where it committed: only the new line.
    const resumed = await kafka(['consume', '--topic', topic, '--group', group, '--max-messages', '1']);
    expect(resumed.out).toEqual(['Partition:0\tOffset:3\tThis is my fourth event']);
  });
});

describe('npm run kafka tools in detail', () => {
  test('topics --create takes partitions and configs, and --describe shows leaders, replicas, ISR and the configs', async () => {
    const topic = uniqueName('described');
    const created = await kafka([
      'topics',
      '--create',
      '--topic',
      topic,
      '--partitions',
      '2',
      '--replication-factor',
      '1',
      '--config',
      'retention.ms=3600000',
      '--config',
      'cleanup.policy=compact',
    ]);
    expect(created.code).toBe(0);
    expect((await kafka(['topics', '--describe', '--topic', topic])).out).toEqual([
      `Topic: ${topic}\tPartitionCount: 2\tReplicationFactor: 1\tConfigs: cleanup.policy=compact,retention.ms=3600000`,
      `\tTopic: ${topic}\tPartition: 0\tLeader: 1\tReplicas: 1\tIsr: 1`,
      `\tTopic: ${topic}\tPartition: 1\tLeader: 1\tReplicas: 1\tIsr: 1`,
    ]);
  });

  test('topics --create of an existing topic fails in one line, unless --if-not-exists', async () => {
    const topic = uniqueName('twice');
    await kafka(['topics', '--create', '--topic', topic]);
    expect(await kafka(['topics', '--create', '--topic', topic])).toEqual({
      code: 1,
      out: [],
      err: [`Topic '${topic}' already exists.`],
    });
    expect(await kafka(['topics', '--create', '--topic', topic, '--if-not-exists'])).toEqual({
      code: 0,
      out: [],
      err: [],
    });
  });

  test('produce parses key:value lines like the console producer, and consume prints the keys when asked', async () => {
    const topic = uniqueName('keyed');
    await kafka(['topics', '--create', '--topic', topic]);
    const produced = await kafka(
      ['produce', '--topic', topic, '--property', 'parse.key=true', '--property', 'key.separator=:'],
      ['alice:likes tea', 'bob:likes: colons'],
    );
    expect(produced.code).toBe(0);
    const fixedKey = await kafka(['produce', '--topic', topic, '--key', 'carol'], ['likes coffee']);
    expect(fixedKey.code).toBe(0);
    const consumed = await kafka([
      'consume',
      '--topic',
      topic,
      '--from-beginning',
      '--max-messages',
      '3',
      '--property',
      'print.key=true',
    ]);
    expect(consumed.out).toEqual([
      'Partition:0\tOffset:0\talice\tlikes tea',
      'Partition:0\tOffset:1\tbob\tlikes: colons',
      'Partition:0\tOffset:2\tcarol\tlikes coffee',
    ]);
  });

  test('produce with parse.key stops at a line without the separator, after sending the lines before it', async () => {
    const topic = uniqueName('no-separator');
    await kafka(['topics', '--create', '--topic', topic]);
    const run = await kafka(
      ['produce', '--topic', topic, '--property', 'parse.key=true'],
      ['a\tfirst', 'no tab here', 'c\tnever sent'],
    );
    expect(run).toEqual({
      code: 1,
      out: [],
      err: [
        `Sent 1 message(s) to ${topic} (partition:offset 0:0)`,
        'produce: no key separator "\\t" on line 2: "no tab here"',
      ],
    });
  });

  test('consume without a group uses a console-consumer group that commits nothing, and --timeout-ms ends the wait', async () => {
    const topic = uniqueName('anonymous');
    await kafka(['topics', '--create', '--topic', topic]);
    await kafka(['produce', '--topic', topic], ['one', 'two']);
    const started = Date.now();
    const run = await kafka(['consume', '--topic', topic, '--from-beginning', '--timeout-ms', '1500']);
    expect(run.out).toEqual(['Partition:0\tOffset:0\tone', 'Partition:0\tOffset:1\ttwo']);
    expect(run.err).toEqual(['Processed a total of 2 messages']);
    expect(Date.now() - started).toBeLessThan(15000);
    // Without --from-beginning a new group starts at the end: nothing to read.
    const fromEnd = await kafka(['consume', '--topic', topic, '--timeout-ms', '1000']);
    expect(fromEnd).toEqual({ code: 0, out: [], err: ['Processed a total of 0 messages'] });
    // Had it committed, its group would still be listed, with offsets for this topic.
    for (const groupId of (await kafka(['groups', '--list'])).out.filter((g) => g.startsWith('console-consumer-'))) {
      const [committed] = await withAdmin(kafkaClient(testBrokers()), (admin) =>
        admin.fetchOffsets({ groupId, topics: [topic] }),
      );
      expect(committed.partitions.map((p) => p.offset)).toEqual(['-1']);
    }
  });

  test('a stopped consumer (Ctrl-C) commits what it printed and reports the total', async () => {
    const topic = uniqueName('interrupted');
    const group = uniqueName('interrupted-group');
    await kafka(['topics', '--create', '--topic', topic]);
    await kafka(['produce', '--topic', topic], ['a', 'b']);
    const abort = new AbortController();
    const running = kafka(['consume', '--topic', topic, '--from-beginning', '--group', group], [], abort.signal);
    await eventually('the consumer commits what it printed', 20000, () =>
      withAdmin(kafkaClient(testBrokers()), async (admin) => {
        const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
        return committed?.partitions[0]?.offset === '2' ? true : undefined;
      }),
    );
    abort.abort();
    const run = await running;
    expect(run).toEqual({
      code: 0,
      out: ['Partition:0\tOffset:0\ta', 'Partition:0\tOffset:1\tb'],
      err: ['Processed a total of 2 messages'],
    });
    const after = await kafka(['groups', '--describe', '--group', group]);
    expect(after.out.slice(-1)[0].split(/ +/).slice(0, 6)).toEqual([group, topic, '0', '2', '2', '0']);
  });

  test.each([
    [['topics', '--describe', '--topic', 'no-such-topic'], "Topic 'no-such-topic' does not exist"],
    [['produce', '--topic', 'no-such-topic'], "Topic 'no-such-topic' does not exist"],
    [['consume', '--topic', 'no-such-topic'], "Topic 'no-such-topic' does not exist"],
    [['groups', '--describe', '--group', 'no-such-group'], "Consumer group 'no-such-group' does not exist"],
  ])('%j fails in one line', async (argv, message) => {
    expect(await kafka(argv)).toEqual({ code: 1, out: [], err: [message] });
  });

  test('a broker that is not there fails in seconds, in one line that says how to start one', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const started = Date.now();
    const code = await runKafkaTool(['topics', '--list', '--bootstrap-server', '127.0.0.1:1'], {
      io: {
        out: (l) => out.push(l),
        err: (l) => err.push(l),
        lines: async function* () {},
        interactive: false,
        env: {},
      },
      backends: DEFAULT_BACKENDS,
    });
    expect(code).toBe(1);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(
      /^topics: .*ECONNREFUSED 127\.0\.0\.1:1.* \(is Kafka running there\? npm run kafka:start starts one; --bootstrap-server names another\)$/,
    );
    expect(Date.now() - started).toBeLessThan(15000);
  });
});

describe('npm run kafka as a command', () => {
  test('reads stdin, prints results on stdout and progress on stderr, and exits 0', () => {
    const topic = uniqueName('piped');
    expect(cli(['topics', '--create', '--topic', topic]).stdout).toBe(`Created topic ${topic}.\n`);
    const produced = cli(['produce', '--topic', topic], 'hello\nworld\n');
    expect(produced.status).toBe(0);
    expect(produced.stderr).toBe(`Sent 2 message(s) to ${topic} (partition:offset 0:0, 0:1)\n`);
    const consumed = cli(['consume', '--topic', topic, '--from-beginning', '--max-messages', '2']);
    expect(consumed.status).toBe(0);
    expect(consumed.stdout).toBe('Partition:0\tOffset:0\thello\nPartition:0\tOffset:1\tworld\n');
    expect(consumed.stderr).toBe('Processed a total of 2 messages\n');
  });

  test('a mistake is one line on stderr and exit status 1', () => {
    const result = cli(['topics', '--describe', '--topic', 'no-such-topic']);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe("Topic 'no-such-topic' does not exist\n");
  });

  test('SIGTERM ends a waiting consumer cleanly: it reports its total and exits 0', async () => {
    const topic = uniqueName('terminated');
    cli(['topics', '--create', '--topic', topic]);
    const child = spawn(
      join(ROOT, 'node_modules', '.bin', 'tsx'),
      ['scripts/kafka/cli.ts', 'consume', '--topic', topic],
      {
        cwd: ROOT,
        env: { ...process.env, KAFKA_BROKERS: testBrokers() },
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Long enough to connect and join; the consumer then waits for messages that never come.
    await new Promise((resolve) => setTimeout(resolve, 5000));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toBe('Processed a total of 0 messages\n');
  });
});
