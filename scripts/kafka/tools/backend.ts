/**
 * What the command-line tools ask of a Kafka, whichever way it is reached: directly (a local broker) or
 * through the deployed functions (MSK, from a laptop). The commands parse and print; a backend does the work.
 */
import type { GroupDescription, GroupListing, TopicDescription } from '../../../lambda/shared/kafka-describe';

export type { GroupDescription, GroupListing, TopicDescription };

/** A failure the user can act on: printed as its one-line message, exit status 1. */
export class ToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolError';
  }
}

export interface NewTopic {
  readonly topic: string;
  /** @default the broker's num.partitions */
  readonly partitions?: number;
  /** @default the broker's default.replication.factor */
  readonly replicationFactor?: number;
  readonly config?: Record<string, string>;
}

export interface OutgoingMessage {
  readonly key?: string;
  readonly value: string;
}

export interface SentMessage {
  readonly partition: number;
  readonly offset: string;
}

export interface ReceivedMessage {
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly value: string | null;
}

export interface ConsumeOptions {
  readonly topic: string;
  /** @default a new console-consumer-NNNNN group that commits nothing, as Kafka's console consumer does */
  readonly group?: string;
  /** Where a group with no committed offset starts: the earliest offset, else only new messages. */
  readonly fromBeginning: boolean;
  /** Stop after this many messages. @default no limit */
  readonly maxMessages?: number;
  /** Stop when no message arrives for this long. @default wait for more */
  readonly timeoutMs?: number;
  /** Stop when this is aborted (Ctrl-C). */
  readonly signal?: AbortSignal;
}

export interface ConsumeReport {
  /** Messages read (and printed). */
  readonly count: number;
  /** A remark on the read to print after the total, e.g. that only the first messages could be shown. */
  readonly note?: string;
}

export interface KafkaBackend {
  /** Where the commands act, for messages: `127.0.0.1:9092`, or the deployed stack. */
  readonly where: string;
  listTopics(): Promise<string[]>;
  describeTopics(topics?: string[]): Promise<TopicDescription[]>;
  /** false when the topic already exists. */
  createTopic(topic: NewTopic): Promise<boolean>;
  /** Sends each message in order as it arrives; calls `sent` after each acknowledgement. */
  produce(
    topic: string,
    messages: AsyncIterable<OutgoingMessage>,
    sent: (message: SentMessage) => void,
  ): Promise<number>;
  consume(options: ConsumeOptions, received: (message: ReceivedMessage) => void): Promise<ConsumeReport>;
  listGroups(): Promise<GroupListing[]>;
  describeGroup(groupId: string): Promise<GroupDescription>;
  close(): Promise<void>;
}
