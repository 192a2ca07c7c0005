/**
 * `npm run kafka -- <tool>` on the local MSK twin: Kafka's own tools from the project's Kafka jars, signing in
 * with aws-msk-iam-auth as the twin's admin role, their output passed through. The classic first steps (create a
 * topic, list topics, produce lines, consume them from the beginning, list groups), then the details.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { TWIN_ADMIN_ROLE_ARN } from 'msk-twin';
import { DEFAULT_BACKENDS, runKafkaTool } from '../../scripts/kafka/tools';
import { uniqueName } from '../integration/kafka-helpers';
import { brokerLogLines, useTwin } from '../integration/twin-helpers';

jest.setTimeout(120_000);

const ROOT = join(__dirname, '..', '..');
const twin = useTwin();

interface Run {
  readonly code: number;
  readonly out: string[];
  readonly err: string[];
}

/** Runs a tool in this process with `input` as its stdin, against `server` (default: the twin's IAM listener). */
async function kafka(argv: string[], input: string[] = [], server = twin().bootstrapBrokers): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runKafkaTool([...argv, '--bootstrap-server', server], {
    io: {
      out: (line) => out.push(line),
      err: (line) => err.push(line),
      lines: async function* () {
        yield* input;
      },
      interactive: false,
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
    env: { ...process.env, KAFKA_BROKERS: twin().bootstrapBrokers },
  });
}

/** kafka-consumer-groups' rows, split on its padding. */
const rows = (lines: string[]) => lines.filter((l) => l.trim() !== '').map((l) => l.trim().split(/ +/));

describe("Kafka's first steps with npm run kafka, on the twin", () => {
  test('create a topic, list it, produce three lines, consume them from the beginning, list groups: Kafka’s own output', async () => {
    const topic = uniqueName('first-topic');
    const group = uniqueName('first-group');
    const adminSignIns = () => brokerLogLines(twin(), `]: ${TWIN_ADMIN_ROLE_ARN} with access key`).length;
    const before = adminSignIns();

    expect(await kafka(['topics', '--create', '--topic', topic, '--partitions', '3'])).toEqual({
      code: 0,
      out: [`Created topic ${topic}.`],
      err: [],
    });
    expect(adminSignIns()).toBeGreaterThan(before);

    const listed = await kafka(['topics', '--list']);
    expect(listed.code).toBe(0);
    expect(listed.out).toContain(topic);

    const lines = ['This is my first event', 'This is my second event', 'This is my third event'];
    expect(await kafka(['produce', '--topic', topic], lines)).toEqual({ code: 0, out: [], err: [] });

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
    expect(consumed.code).toBe(0);
    // The console producer's sticky partitioner puts the lines in one partition, in order.
    expect(consumed.out.map((l) => l.replace(/^Partition:[0-2]\t/, ''))).toEqual(
      lines.map((line, offset) => `Offset:${offset}\t${line}`),
    );
    expect(consumed.err).toEqual(['Processed a total of 3 messages']);

    const groups = await kafka(['groups', '--list']);
    expect(groups.code).toBe(0);
    expect(groups.out).toContain(group);

    const described = await kafka(['groups', '--describe', '--group', group]);
    expect(described.code).toBe(0);
    expect(described.err.join('\n')).toContain(`Consumer group '${group}' has no active members.`);
    const [heading, ...partitions] = rows(described.out);
    expect(heading).toEqual([
      'GROUP',
      'TOPIC',
      'PARTITION',
      'CURRENT-OFFSET',
      'LOG-END-OFFSET',
      'LAG',
      'CONSUMER-ID',
      'HOST',
      'CLIENT-ID',
    ]);
    expect(partitions.map((r) => r[2]).sort()).toEqual(['0', '1', '2']);
    expect(partitions.map((r) => [r[0], r[1], r[5]])).toEqual([0, 1, 2].map(() => [group, topic, '0']));
  });

  test('npm run kafka -- topics --create --topic t --partitions 3 prints what kafka-topics prints, and --describe shows the partitions', () => {
    const topic = uniqueName('t');
    const created = cli(['topics', '--create', '--topic', topic, '--partitions', '3']);
    expect({ status: created.status, stdout: created.stdout }).toEqual({
      status: 0,
      stdout: `Created topic ${topic}.\n`,
    });
    const described = cli(['topics', '--describe', '--topic', topic]);
    expect(described.status).toBe(0);
    expect(described.stdout).toMatch(
      new RegExp(`^Topic: ${topic}\tTopicId: \\S+\tPartitionCount: 3\tReplicationFactor: 1\t`),
    );
    expect(described.stdout.match(/\tPartition: \d\tLeader: 1\t/g)).toHaveLength(3);
  });
});

describe('npm run kafka on the twin in detail', () => {
  test('produce --key and parse.key lines become keyed messages; consume prints the keys when asked', async () => {
    const topic = uniqueName('keyed');
    await kafka(['topics', '--create', '--topic', topic]);
    expect(
      (
        await kafka(
          ['produce', '--topic', topic, '--property', 'parse.key=true', '--property', 'key.separator=:'],
          ['alice:likes tea'],
        )
      ).code,
    ).toBe(0);
    expect((await kafka(['produce', '--topic', topic, '--key', 'carol'], ['likes coffee'])).code).toBe(0);
    const consumed = await kafka([
      'consume',
      '--topic',
      topic,
      '--from-beginning',
      '--max-messages',
      '2',
      '--property',
      'print.key=true',
    ]);
    expect(consumed.out).toEqual([
      'Partition:0\tOffset:0\talice\tlikes tea',
      'Partition:0\tOffset:1\tcarol\tlikes coffee',
    ]);
  });

  test("kafka-topics' own error for an existing topic, and its exit status", async () => {
    const topic = uniqueName('twice');
    await kafka(['topics', '--create', '--topic', topic]);
    const again = await kafka(['topics', '--create', '--topic', topic]);
    expect(again.code).toBe(1);
    expect(again.out).toEqual([`Error while executing topic command : Topic '${topic}' already exists.`]);
    expect((await kafka(['topics', '--create', '--topic', topic, '--if-not-exists'])).code).toBe(0);
  });

  test('a plaintext Kafka (the twin’s internal listener) gets the same tools without sign-in', async () => {
    const topic = uniqueName('plain');
    expect((await kafka(['topics', '--create', '--topic', topic], [], twin().plaintextBrokers)).out).toEqual([
      `Created topic ${topic}.`,
    ]);
  });

  test('a broker that is not there fails in seconds, in one line that says how to start one', async () => {
    const started = Date.now();
    const run = await kafka(['topics', '--list'], [], '127.0.0.1:1');
    expect(run.code).toBe(1);
    expect(run.err).toEqual([
      'topics: connect ECONNREFUSED 127.0.0.1:1 (is Kafka running there? npm run kafka:start starts one; --bootstrap-server names another)',
    ]);
    expect(Date.now() - started).toBeLessThan(15000);
  });

  test('SIGTERM ends a waiting console consumer: it reports its total and the command exits 0', async () => {
    const topic = uniqueName('terminated');
    cli(['topics', '--create', '--topic', topic]);
    const child = spawn(
      join(ROOT, 'node_modules', '.bin', 'tsx'),
      ['scripts/kafka/cli.ts', 'consume', '--topic', topic],
      {
        cwd: ROOT,
        env: { ...process.env, KAFKA_BROKERS: twin().bootstrapBrokers },
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Until the JVM has started, signed in and joined its group: then it waits for messages that never come.
    const groups = async () => (await twin().withAdmin((admin) => admin.listGroups())).groups.map((g) => g.groupId);
    const before = new Set(await groups());
    for (let i = 0; i < 120; i++) {
      const joined = (await groups()).filter((g) => !before.has(g) && g.startsWith('console-consumer'));
      if (joined.length > 0) {
        const [described] = (await twin().withAdmin((admin) => admin.describeGroups(joined))).groups;
        if (described?.state === 'Stable') break;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toBe('Processed a total of 0 messages\n');
  });
});
