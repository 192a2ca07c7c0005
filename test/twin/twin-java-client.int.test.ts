/**
 * An independent client: Kafka's own console producer and consumer with AWS's MSK IAM library for Java
 * (aws-msk-iam-auth, IAMOAuthBearerLoginCallbackHandler) sign in to the twin with issued credentials, are
 * authorized by the same ACLs as every other client, and are refused with credentials the twin did not issue.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  consoleToolClasses,
  ensureMskIamAuthClasspath,
  type IssuedCredentials,
  mskIamAuthVersion,
  mskIamClientProperties,
  roleAllowing,
  runJavaTool,
  writeProperties,
} from 'msk-twin';
import { kafkaClient, uniqueName } from '../integration/kafka-helpers';
import { brokerLogLines, refusalReason, uniqueRole, useTwin } from '../integration/twin-helpers';

const twin = useTwin();

let topic: string;
let group: string;
let roleArn: string;
let credentials: IssuedCredentials;
let configDir: string;
let clientConfig: string;

const tool = (kind: 'producer' | 'consumer') => consoleToolClasses(twin().cluster.version)[kind];

beforeAll(async () => {
  await ensureMskIamAuthClasspath((message) => process.stderr.write(`${message}\n`));
  topic = uniqueName('java');
  group = uniqueName('java-group');
  roleArn = uniqueRole('java-client');
  const admin = kafkaClient(twin().plaintextBrokers).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  await twin().setPolicies([
    roleAllowing(roleArn, twin().clusterArn, [
      ['DescribeTopic', 'topic', topic],
      ['WriteData', 'topic', topic],
      ['ReadData', 'topic', topic],
      ['DescribeGroup', 'group', group],
      ['AlterGroup', 'group', group],
      // The console producer is idempotent by default (Kafka 3.0+), as MSK's WriteDataIdempotently covers.
      ['WriteDataIdempotently', 'cluster'],
    ]),
  ]);
  credentials = twin().issueCredentials(roleArn, 900);
  configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hello-msk-java-client-'));
  clientConfig = writeProperties(path.join(configDir, 'client.properties'), {
    ...mskIamClientProperties(twin().caFile),
    // Fail in seconds, not the default minute, when a sign-in is refused.
    'max.block.ms': '15000',
    'request.timeout.ms': '15000',
  });
}, 300_000);

/** Kafka's console producer, signing in with `as`, sends each line of `input` to the test's topic. */
function consoleProducer(as: IssuedCredentials, input: string) {
  return runJavaTool({
    kafkaVersion: twin().cluster.version,
    mainClass: tool('producer'),
    args: [
      '--bootstrap-server',
      twin().bootstrapBrokers,
      '--topic',
      topic,
      '--producer.config',
      clientConfig,
      '--sync',
    ],
    credentials: as,
    region: twin().region,
    input,
  });
}

afterAll(() => {
  if (configDir) fs.rmSync(configDir, { recursive: true, force: true });
});

test(`aws-msk-iam-auth ${mskIamAuthVersion()} with the console producer signs in as the role and writes`, async () => {
  const result = await consoleProducer(credentials, 'Hello MSK from Java\n');
  expect({ code: result.code, errors: result.output.split('\n').filter((l) => /ERROR|Exception/.test(l)) }).toEqual({
    code: 0,
    errors: [],
  });
  expect(brokerLogLines(twin(), `]: ${roleArn} with access key ${credentials.accessKeyId}`).length).toBeGreaterThan(0);
  const admin = kafkaClient(twin().plaintextBrokers).admin();
  await admin.connect();
  const [partition] = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  expect(partition.high).toBe('1');
}, 120_000);

test('the console consumer reads it back from the beginning in its group', async () => {
  const result = await runJavaTool({
    kafkaVersion: twin().cluster.version,
    mainClass: tool('consumer'),
    args: [
      '--bootstrap-server',
      twin().bootstrapBrokers,
      '--topic',
      topic,
      '--group',
      group,
      '--from-beginning',
      '--max-messages',
      '1',
      '--timeout-ms',
      '30000',
      '--consumer.config',
      clientConfig,
    ],
    credentials,
    region: twin().region,
  });
  expect(result.code).toBe(0);
  expect(result.output).toContain('Hello MSK from Java');
  expect(result.output).toContain('Processed a total of 1 messages');
}, 120_000);

test('with credentials the twin did not issue, the console producer is refused at sign-in', async () => {
  const result = await consoleProducer({ ...credentials, accessKeyId: 'TWINNOTISSUED0000000' }, 'never written\n');
  expect(result.code).not.toBe(0);
  const refusal = /SaslAuthenticationException: (\[[0-9a-f-]{36}\]: Access denied)/.exec(result.output)?.[1];
  expect(refusal).toBeDefined();
  expect(refusalReason(twin(), refusal as string)).toBe('access key TWINNOTISSUED0000000 was not issued by this twin');
}, 120_000);
