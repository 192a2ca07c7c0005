/**
 * The tools' backend for a Kafka this machine can reach: kafkajs admin, producer and consumer clients, as
 * Kafka's own tools use the Java ones.
 */
import * as crypto from 'node:crypto';
import { Kafka, type Admin, type KafkaConfig } from 'kafkajs';
import {
  describeGroup,
  describeTopics,
  listGroups,
  listTopics,
  NotFoundError,
} from '../../../lambda/shared/kafka-describe';
import {
  ToolError,
  type ConsumeOptions,
  type ConsumeReport,
  type GroupDescription,
  type GroupListing,
  type KafkaBackend,
  type NewTopic,
  type OutgoingMessage,
  type ReceivedMessage,
  type SentMessage,
  type TopicDescription,
} from './backend';

export class LocalBackend implements KafkaBackend {
  readonly where: string;
  private readonly kafka: Kafka;
  private admin?: Promise<Admin>;

  constructor(config: KafkaConfig) {
    this.kafka = new Kafka(config);
    this.where = (config.brokers as string[]).join(',');
  }

  async listTopics(): Promise<string[]> {
    return this.withAdmin((admin) => listTopics(admin));
  }

  async describeTopics(topics?: string[]): Promise<TopicDescription[]> {
    return this.withAdmin((admin) => describeTopics(admin, topics));
  }

  async createTopic(topic: NewTopic): Promise<boolean> {
    return this.withAdmin((admin) =>
      admin.createTopics({
        topics: [
          {
            topic: topic.topic,
            numPartitions: topic.partitions ?? -1,
            replicationFactor: topic.replicationFactor ?? -1,
            configEntries: Object.entries(topic.config ?? {}).map(([name, value]) => ({ name, value })),
          },
        ],
        waitForLeaders: true,
      }),
    );
  }

  async produce(
    topic: string,
    messages: AsyncIterable<OutgoingMessage>,
    sent: (message: SentMessage) => void,
  ): Promise<number> {
    await this.requireTopic(topic);
    // Like Kafka's console producer since 3.0: acks=all and idempotent, one message at a time in input order.
    const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await producer.connect();
    let count = 0;
    try {
      for await (const message of messages) {
        const [meta] = await producer.send({ topic, acks: -1, messages: [{ key: message.key, value: message.value }] });
        sent({ partition: meta.partition, offset: meta.baseOffset ?? meta.offset ?? '?' });
        count += 1;
      }
    } finally {
      await producer.disconnect();
    }
    return count;
  }

  async consume(options: ConsumeOptions, received: (message: ReceivedMessage) => void): Promise<ConsumeReport> {
    await this.requireTopic(options.topic);
    // Kafka's console consumer invents a group when none is given and then commits nothing.
    const groupId = options.group ?? `console-consumer-${crypto.randomInt(10000, 100000)}`;
    const commits = options.group !== undefined;
    const consumer = this.kafka.consumer({
      groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 100,
      // A member whose process was killed without leaving holds up the next one's join for its session
      // timeout; a command-line consumer keeps that short.
      sessionTimeout: 10000,
      rebalanceTimeout: 10000,
    });
    let count = 0;
    let finish: () => void = () => undefined;
    let fail: (error: Error) => void = () => undefined;
    const done = new Promise<void>((resolve, reject) => {
      finish = resolve;
      fail = reject;
    });
    let idle: NodeJS.Timeout | undefined;
    const resetIdle = () => {
      if (options.timeoutMs === undefined) return;
      clearTimeout(idle);
      idle = setTimeout(finish, options.timeoutMs);
    };
    const onAbort = () => finish();
    options.signal?.addEventListener('abort', onAbort);
    consumer.on(consumer.events.CRASH, (event) => {
      if (!event.payload.restart) fail(event.payload.error);
    });
    let stopped = false;
    // The wait for a message includes the group join, which can itself wait for a rebalance.
    resetIdle();
    if (options.signal?.aborted) finish();
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [options.topic], fromBeginning: options.fromBeginning });
      const running = consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async (payload) => {
          const { batch } = payload;
          let next: bigint | undefined;
          for (const message of batch.messages) {
            if (stopped || !payload.isRunning() || payload.isStale()) break;
            received({
              partition: batch.partition,
              offset: message.offset,
              key: message.key?.toString('utf8') ?? null,
              value: message.value?.toString('utf8') ?? null,
            });
            count += 1;
            next = BigInt(message.offset) + 1n;
            // The consumer's position moves only past resolved messages; the rest is fetched again.
            payload.resolveOffset(message.offset);
            resetIdle();
            if (options.maxMessages !== undefined && count >= options.maxMessages) {
              stopped = true;
              finish();
            }
          }
          // Commit only what was printed: a message left unprinted when the tool stops is read again next time.
          if (commits && next !== undefined) {
            await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: String(next) }]);
          }
        },
      });
      await Promise.race([running, done]);
      await done;
      stopped = true;
    } finally {
      clearTimeout(idle);
      options.signal?.removeEventListener('abort', onAbort);
      // Leaving the group is a courtesy to the next member; a broker that stopped answering must not hold the tool.
      await Promise.race([
        consumer.disconnect().catch(() => undefined),
        new Promise((resolve) => setTimeout(resolve, 5000).unref()),
      ]);
    }
    return { count };
  }

  async listGroups(): Promise<GroupListing[]> {
    return this.withAdmin((admin) => listGroups(admin));
  }

  async describeGroup(groupId: string): Promise<GroupDescription> {
    return this.withAdmin((admin) => describeGroup(admin, groupId));
  }

  async close(): Promise<void> {
    const admin = await this.admin?.catch(() => undefined);
    await admin?.disconnect().catch(() => undefined);
  }

  /** One admin connection for the whole command. */
  private async withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
    this.admin ??= (async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      return admin;
    })();
    try {
      return await fn(await this.admin);
    } catch (error) {
      if (error instanceof NotFoundError) throw new ToolError(error.message);
      throw error;
    }
  }

  /** kafkajs retries an unknown topic for its whole retry budget; asking first gives the answer at once. */
  private async requireTopic(topic: string): Promise<void> {
    const topics = await this.listTopics();
    if (!topics.includes(topic)) throw new ToolError(`Topic '${topic}' does not exist`);
  }
}
