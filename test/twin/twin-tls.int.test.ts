/**
 * TLS on the local MSK twin's IAM listener: handler code keeps `ssl: true` (Node's default trust plus the twin CA
 * from NODE_EXTRA_CA_CERTS), and hostname verification stays on.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import { Kafka, logLevel } from 'kafkajs';
import { bundlePath } from '../../scripts/build-lambdas';
import { type IssuedCredentials, roleAllowing, TWIN_REGION } from 'msk-twin';
import { kafkaClient, uniqueName } from '../integration/kafka-helpers';
import { ensureBundles } from '../lambda/bundles';
import { brokerLogLines, uniqueRole, useTwin } from '../integration/twin-helpers';

const twin = useTwin();

/** Runs the bundled producer handler once in a fresh Node.js process (a cold container) with exactly `env`. */
function invokeProducer(env: Record<string, string>): Promise<{ result?: unknown; error?: string }> {
  const script = `
    const producer = require(${JSON.stringify(bundlePath('producer'))});
    producer.handler({ message: 'Hello MSK' }).then(
      (result) => { process.stdout.write('RESULT ' + JSON.stringify(result) + '\\n'); return producer.close(); },
      (error) => { process.stdout.write('ERROR ' + error.message + '\\n'); return producer.close(); },
    ).then(() => process.exit(0));`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('close', () => {
      const result = /^RESULT (.*)$/m.exec(out)?.[1];
      const error = /^ERROR (.*)$/m.exec(out)?.[1];
      if (result === undefined && error === undefined) reject(new Error(`the producer printed neither:\n${out}`));
      else resolve(result !== undefined ? { result: JSON.parse(result) } : { error });
    });
  });
}

let topic: string;
let roleArn: string;
let credentials: IssuedCredentials;
let handlerEnv: Record<string, string>;

beforeAll(async () => {
  await ensureBundles();
  topic = uniqueName('tls');
  roleArn = uniqueRole('tls-producer');
  const admin = kafkaClient(twin().plaintextBrokers).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  // What the stack grants its producer: DescribeTopic and WriteData on the topic, WriteDataIdempotently on the cluster.
  await twin().setPolicies([
    roleAllowing(roleArn, twin().clusterArn, [
      ['DescribeTopic', 'topic', topic],
      ['WriteData', 'topic', topic],
      ['WriteDataIdempotently', 'cluster'],
    ]),
  ]);
  credentials = twin().issueCredentials(roleArn, 900);
  handlerEnv = {
    ...twin().clientEnvironment(credentials),
    TOPIC: topic,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}, 120_000);

test('the bundled producer, ssl: true as deployed, trusts the twin CA from NODE_EXTRA_CA_CERTS and sends as its role', async () => {
  expect(handlerEnv).toMatchObject({ KAFKA_AUTH: 'iam', AWS_REGION: TWIN_REGION, NODE_EXTRA_CA_CERTS: twin().caFile });
  const { result, error } = await invokeProducer(handlerEnv);
  expect(error).toBeUndefined();
  expect(result).toMatchObject({ topic, messages: [{ partition: 0, offset: '0' }] });
  expect(brokerLogLines(twin(), `]: ${roleArn} with access key ${credentials.accessKeyId}`).length).toBeGreaterThan(0);
}, 60_000);

test('without NODE_EXTRA_CA_CERTS the same producer refuses the broker certificate', async () => {
  const env = { ...handlerEnv };
  delete (env as Partial<typeof env>).NODE_EXTRA_CA_CERTS;
  const { result, error } = await invokeProducer(env);
  expect(result).toBeUndefined();
  expect(error).toMatch(/self[- ]signed certificate in certificate chain/);
}, 60_000);

describe('the broker certificate', () => {
  const describeCluster = async (brokers: string[], servername?: string) => {
    const admin = new Kafka({
      ...twin().adminConfig(),
      brokers,
      ssl: { ca: [fs.readFileSync(twin().caFile, 'utf8')], ...(servername ? { servername } : {}) },
      retry: { retries: 0 },
      logLevel: logLevel.NOTHING,
    }).admin();
    try {
      await admin.connect();
      return (await admin.describeCluster()).brokers.length;
    } finally {
      await admin.disconnect();
    }
  };

  test('is valid for localhost as well as 127.0.0.1', async () => {
    const port = twin().bootstrapBrokers.split(',')[0].split(':')[1];
    expect(await describeCluster([`localhost:${port}`])).toBe(twin().cluster.brokers.length);
    expect(await describeCluster([`127.0.0.1:${port}`])).toBe(twin().cluster.brokers.length);
  });

  test('is checked against the host name: a client expecting another broker name refuses it', async () => {
    await expect(
      describeCluster(twin().bootstrapBrokers.split(','), 'b-1.hello-msk.abc123.c2.kafka.us-east-1.amazonaws.com'),
    ).rejects.toThrow(/does not match certificate's altnames/);
  });
});
