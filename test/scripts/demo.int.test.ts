/**
 * `npm run demo` end to end on its own local MSK twin of the dev stacks, and its output against what the README
 * shows.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BASE_CONFIG } from '../../lib/config';
import { uniqueName } from '../integration/kafka-helpers';

jest.setTimeout(120000);

const ROOT = join(__dirname, '..', '..');

function demo(args: string[], topic: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, DEMO_TOPIC: topic };
  // The demo starts its own twin; the shared broker's address means nothing to it.
  delete env.KAFKA_BROKERS;
  delete env.DEMO_KAFKA_PORT;
  return spawnSync(join(ROOT, 'node_modules', '.bin', 'tsx'), ['scripts/demo.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env,
  });
}

/** The JSON line the README shows under "The consumer logged:". */
function readmeSample(): Record<string, unknown> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const match = /The consumer logged:\n(\{.*\})\n/.exec(readme);
  if (!match) throw new Error('README.md shows no "The consumer logged:" sample');
  return JSON.parse(match[1]) as Record<string, unknown>;
}

/** The widest line the demo prints without --verbose, but for its last: the README's log line. */
const WIDTH = 160;

/** Values that differ from run to run; everything else must be as the README shows it. */
const VARYING = ['timestamp', 'messageTimestamp', 'partition', 'message'];

describe('npm run demo', () => {
  // One run (a twin of three brokers takes a while to start): with a message of its own, which must come back
  // in place of the README's Hello MSK, in a line otherwise as the README shows it.
  test('npm run demo -- Hello from my laptop ends with the consumer log line the README shows, with that message, as the deployed group', () => {
    const topic = uniqueName('demo');
    const result = demo(['Hello', 'from', 'my', 'laptop'], topic);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines.at(-2)).toBe('The consumer logged:');
    const logged = JSON.parse(lines.at(-1) as string) as Record<string, unknown>;
    const shown = readmeSample();
    expect(Object.keys(logged)).toEqual(Object.keys(shown));
    for (const key of VARYING) expect(typeof logged[key]).toBe(typeof shown[key]);
    const fixed = (entry: Record<string, unknown>, topicName: unknown) =>
      Object.fromEntries(Object.entries({ ...entry, topic: topicName }).filter(([key]) => !VARYING.includes(key)));
    expect(fixed(logged, 'the demo topic')).toEqual(fixed(shown, 'the demo topic'));
    expect(logged.topic).toBe(topic);
    expect(logged.message).toBe('Hello from my laptop');
    expect(shown.message).toBe('Hello MSK');
    expect(shown.topic).toBe(BASE_CONFIG.demoTopic);

    // Each function signed in over TLS + IAM as its own role, and the demo says what that role may do.
    expect(result.stdout).toMatch(
      /signed in over TLS \+ IAM as role HelloMsk-dev-Cluster-TopicsOnEventServiceRole\w+ \(access key TWIN/,
    );
    // Long lines are wrapped at 160 characters: compare them joined.
    const joined = result.stdout.replace(/\n +/g, ' ');
    expect(joined).toContain(
      `allowed by its policies: Allow kafka-cluster:Connect, kafka-cluster:WriteDataIdempotently on cluster/…; Allow kafka-cluster:DescribeTopic, kafka-cluster:WriteData on topic/…/${topic}`,
    );
    expect(result.stdout).toMatch(/signed in over TLS \+ IAM as role HelloMsk-dev-Clients-ConsumerServiceRole\w+ /);
    expect(joined).toContain(
      `allowed by its policies: Allow kafka-cluster:Connect on cluster/…; Allow kafka-cluster:DescribeTopic, kafka-cluster:ReadData on topic/…/${topic}; Allow kafka-cluster:AlterGroup, kafka-cluster:DescribeGroup on group/…/${BASE_CONFIG.consumerGroup}`,
    );
    expect(result.stdout).toContain('everything else is denied, as IAM denies what no policy allows');

    // The same group as the deployed consumer, and no raw kafkajs warning JSON among the lines shown.
    expect(result.stdout).toContain(`   ${BASE_CONFIG.consumerGroup} (consumer)\n`);
    expect(result.stdout).not.toMatch(
      /\{"level":"WARN"[^\n]*"logger":"kafkajs"[^\n]*"error":"The (group )?coordinator/,
    );

    // Without --verbose every line but the README's fits in 160 columns: log lines compact, no JSON before the end.
    expect(lines.slice(0, -1).filter((line) => line.length > WIDTH)).toEqual([]);
    expect(lines.slice(0, -1).filter((line) => line.includes('{"level"'))).toEqual([]);
    expect(result.stdout).toMatch(
      new RegExp(`\n {5}INFO Hello from my laptop \\(topic ${topic}, partition \\d, offset \\d+\\)\n`),
    );
    expect(result.stdout).toMatch(/\n {3}broker configuration of [\w/-]+:\n {5}auto\.create\.topics\.enable=false, /);
  });

  test('npm run demo -- --consumer event-source-mapping --verbose ends with Hello MSK, handed over by the mapping, and shows every line in full', () => {
    const topic = uniqueName('demo-esm');
    const result = demo(['--consumer', 'event-source-mapping', '--verbose'], topic);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines.at(-2)).toBe('The consumer logged:');
    const logged = JSON.parse(lines.at(-1) as string) as Record<string, unknown>;
    expect(Object.keys(logged)).toEqual(Object.keys(readmeSample()));
    expect(logged).toMatchObject({ message: 'Hello MSK', topic, service: 'hello-msk-consumer' });
    expect(result.stdout).toContain(
      `Lambda polls ${topic} as group ${BASE_CONFIG.consumerGroup}, as the consumer's role`,
    );
    expect(result.stdout).toMatch(/records [\w-]+-\d \(1\), values base64; committed after the function returned/);

    // --verbose: the handlers' raw JSON log lines, and the broker configuration on one line.
    const consumerLine = lines.at(-1) as string;
    expect(lines.slice(0, -1)).toContain(`     ${consumerLine}`);
    expect(result.stdout).toMatch(/\n {5}\{"level":"INFO","message":"Sent 1 message\(s\) to [\w-]+","timestamp":/);
    expect(result.stdout).toMatch(
      /\n {3}broker configuration of [\w/-]+: auto\.create\.topics\.enable=false, .*, unclean/,
    );
    expect(lines.slice(0, -1).some((line) => line.length > WIDTH)).toBe(true);
  });

  test('npm run demo -- --consumer esm stops at once with one line naming the value', () => {
    const result = demo(['--consumer', 'esm'], uniqueName('demo-bad'));
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(
      'demo failed: --consumer "esm" is not valid; expected kafkajs or event-source-mapping',
    );
  });
});
