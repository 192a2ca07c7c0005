/**
 * A three-broker local MSK twin: every broker validates sign-ins and enforces the same ACLs, granted at start;
 * stop() leaves no process, certificate or credential behind.
 */
import * as fs from 'fs';
import { Kafka } from 'kafkajs';
import { type LocalTwin, pidsUsing, roleAllowing, startTwin, twinClusterArn } from 'msk-twin';
import { eventually } from '../integration/kafka-helpers';
import { brokerLogLines, uniqueRole } from '../integration/twin-helpers';

const topic = 'replicated-orders';
const writer = uniqueRole('cluster-writer');
const reader = uniqueRole('cluster-reader');
let twin: LocalTwin | undefined;

const running = (): LocalTwin => {
  if (!twin) throw new Error('the three-broker twin did not start');
  return twin;
};

beforeAll(async () => {
  const cluster = twinClusterArn('local-twin');
  twin = await startTwin({
    brokers: 3,
    policies: [
      roleAllowing(writer, cluster, [
        ['WriteData', 'topic', topic],
        ['DescribeTopic', 'topic', topic],
      ]),
      roleAllowing(reader, cluster, [['DescribeTopic', 'topic', topic]]),
    ],
  });
}, 180_000);

afterAll(async () => {
  await twin?.stop();
}, 60_000);

test('a partition led by each broker: the writer signs in to all three and writes with acks=all', async () => {
  await running().withAdmin((admin) =>
    admin.createTopics({
      topics: [
        {
          topic,
          replicaAssignment: [
            { partition: 0, replicas: [1, 2, 3] },
            { partition: 1, replicas: [2, 3, 1] },
            { partition: 2, replicas: [3, 1, 2] },
          ],
        },
      ],
      // Not waitForLeaders: kafkajs then asks one broker at once and gives up on UNKNOWN_TOPIC_OR_PARTITION
      // from a broker that has not replayed the new topic yet.
      waitForLeaders: false,
    }),
  );
  const credentials = running().issueCredentials(writer, 900);
  // Each broker learns of the new partitions when it replays the metadata log: a broker that has not yet answers
  // "does not host this topic-partition", so the write is retried with a fresh producer, as a caller would.
  const sent = await eventually('an acks=all write to the three partitions', 30_000, async () => {
    const producer = new Kafka(running().clientConfig(credentials)).producer({ allowAutoTopicCreation: false });
    try {
      await producer.connect();
      return await producer.send({
        topic,
        acks: -1,
        messages: [0, 1, 2].map((partition) => ({ partition, value: `Hello MSK ${partition}` })),
      });
    } finally {
      await producer.disconnect();
    }
  });
  expect(sent.map((s) => s.partition).sort()).toEqual([0, 1, 2]);
  for (const broker of running().cluster.brokers) {
    const lines = fs
      .readFileSync(broker.logFile, 'utf8')
      .split('\n')
      .filter((line) => line.includes(`]: ${writer} with access key ${credentials.accessKeyId}`));
    expect({ broker: broker.id, signIns: lines.length > 0 }).toEqual({ broker: broker.id, signIns: true });
  }
}, 60_000);

test('the reader, granted DESCRIBE only, is refused the write', async () => {
  const producer = new Kafka(running().clientConfig(running().issueCredentials(reader, 900))).producer({
    allowAutoTopicCreation: false,
    retry: { retries: 0 },
  });
  await producer.connect();
  try {
    await expect(
      producer.send({ topic, acks: -1, messages: [0, 1, 2].map((partition) => ({ partition, value: 'no' })) }),
    ).rejects.toThrow('Not authorized to access topics: [Topic authorization failed]');
  } finally {
    await producer.disconnect();
  }
  expect(brokerLogLines(running(), `]: ${reader} with access key`).length).toBeGreaterThan(0);
}, 60_000);

test('stop() ends the three brokers and removes the certificates and the credential registry', async () => {
  const { dir } = running().cluster;
  const twinDirs = [...running().cluster.ownedDirs];
  expect(twinDirs).toHaveLength(1);
  expect(fs.existsSync(running().caFile)).toBe(true);
  expect(running().caFile.startsWith(twinDirs[0])).toBe(true);
  await running().stop();
  expect(pidsUsing(dir)).toEqual([]);
  expect(fs.existsSync(dir)).toBe(false);
  expect(fs.existsSync(twinDirs[0])).toBe(false);
  twin = undefined;
}, 60_000);
