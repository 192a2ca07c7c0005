/**
 * kafkajs 2.2.4 (the last release) against every Kafka line that MSK offers and this project may deploy.
 * Each version runs on its own broker, started here. Override the list with KAFKA_COMPAT_VERSIONS=3.9.2,4.1.2.
 */
import { ConfigResourceTypes, Kafka } from 'kafkajs';
import { LocalKafkaCluster, startKafka } from 'msk-twin';
import { kafkaClient, uniqueName, withAdmin, within } from './kafka-helpers';

/** Latest patch of each line on Maven Central: 3.9.x (MSK 3.9.x and 3.9.x.kraft), 4.0.x.kraft, 4.1.x.kraft. */
const DEFAULT_VERSIONS = ['3.9.2', '4.0.2', '4.1.2'];
const versions = (process.env.KAFKA_COMPAT_VERSIONS || DEFAULT_VERSIONS.join(','))
  .split(',')
  .map((version) => version.trim());
const cases = versions.map((version) => ({ version }));

describe.each(cases)('kafkajs 2.2.4 against Apache Kafka $version (KRaft)', ({ version }) => {
  let cluster: LocalKafkaCluster | undefined;
  let kafka: Kafka;

  beforeAll(async () => {
    cluster = await startKafka({ version });
    kafka = kafkaClient(cluster.bootstrapBrokers, `compat-${version}`);
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  test('admin: createTopics, fetchTopicMetadata, describeConfigs and alterConfigs', async () => {
    const topic = uniqueName('compat-admin');
    const retention = async (admin: Parameters<Parameters<typeof withAdmin>[1]>[0]) => {
      const { resources } = await admin.describeConfigs({
        resources: [
          { type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['retention.ms', 'max.message.bytes'] },
        ],
        includeSynonyms: false,
      });
      return Object.fromEntries(resources[0].configEntries.map((entry) => [entry.configName, entry.configValue]));
    };

    await withAdmin(kafka, async (admin) => {
      const topics = [
        {
          topic,
          numPartitions: 3,
          replicationFactor: 1,
          configEntries: [
            { name: 'retention.ms', value: '3600000' },
            { name: 'max.message.bytes', value: '2097152' },
          ],
        },
      ];
      expect(await admin.createTopics({ topics, waitForLeaders: true })).toBe(true);
      // An existing topic is not an error: createTopics resolves false.
      expect(await admin.createTopics({ topics })).toBe(false);

      const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
      expect(metadata.topics[0].partitions.map((p) => [p.partitionId, p.leader, p.isr]).sort()).toEqual([
        [0, 1, [1]],
        [1, 1, [1]],
        [2, 1, [1]],
      ]);
      expect(await retention(admin)).toEqual({ 'retention.ms': '3600000', 'max.message.bytes': '2097152' });

      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          { type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'retention.ms', value: '7200000' }] },
        ],
      });
      // alterConfigs replaces the whole override set: max.message.bytes falls back to the broker default. A KRaft
      // broker answers from its metadata log, which takes the change a moment after the controller accepted it.
      const altered = { 'retention.ms': '7200000', 'max.message.bytes': '1048588' };
      let seen = await retention(admin);
      for (let i = 0; i < 50 && JSON.stringify(seen) !== JSON.stringify(altered); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        seen = await retention(admin);
      }
      expect(seen).toEqual(altered);
    });
  }, 30_000);

  test('produce with acks=all, consume in a group, commit offsets and read them back with admin.fetchOffsets', async () => {
    const topic = uniqueName('compat-group');
    const groupId = uniqueName('compat-group');
    const values = Array.from({ length: 6 }, (_, i) => `Hello MSK ${i}`);

    await withAdmin(kafka, (admin) =>
      admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true }),
    );
    const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer
      .send({ topic, acks: -1, messages: values.map((value, i) => ({ key: `key-${i}`, value })) })
      .finally(() => producer.disconnect());

    const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 200 });
    const received: string[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await within(
        30_000,
        `consumer group ${groupId} reading ${values.length} messages`,
        new Promise<void>((resolve, reject) => {
          consumer
            .run({
              autoCommit: false,
              eachMessage: async ({ partition, message }) => {
                received.push(message.value?.toString() ?? '');
                await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
                if (received.length === values.length) resolve();
              },
            })
            .catch(reject);
        }),
      );
      const group = await withAdmin(kafka, (admin) => admin.describeGroups([groupId]));
      expect(group.groups[0]).toMatchObject({ state: 'Stable', protocolType: 'consumer' });
    } finally {
      await consumer.disconnect();
    }
    expect(received.sort()).toEqual(values);

    const { committed, ends } = await withAdmin(kafka, async (admin) => ({
      committed: await admin.fetchOffsets({ groupId, topics: [topic] }),
      ends: await admin.fetchTopicOffsets(topic),
    }));
    const byPartition = (rows: Array<{ partition: number; offset: string }>) =>
      Object.fromEntries(rows.map((row) => [row.partition, row.offset]));
    expect(byPartition(committed[0].partitions)).toEqual(byPartition(ends));
    expect(ends.reduce((sum, p) => sum + Number(p.offset), 0)).toBe(values.length);
  }, 60_000);
});
