/**
 * Where the command-line tools act: a Kafka this machine reaches, through Kafka's own tools, or the deployed
 * stack, through its functions (MSK, from a laptop). The commands parse; a backend does the work.
 */
import type { KafkaToolScript } from 'msk-twin';
import type { GroupDescription, GroupListing, TopicDescription } from '../../../lambda/shared/kafka-describe';
import type { ToolIo } from './tool';

export type { GroupDescription, GroupListing, TopicDescription };

/** A failure the user can act on: printed as its one-line message, exit status 1. */
export class ToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolError';
  }
}

/** Kafka's own command-line tools against a Kafka this machine reaches. */
export interface LocalTools {
  /** `host:port[,host:port...]`, for messages. */
  readonly where: string;
  /** Runs `script` with `args` (the bootstrap server added), its output passed through to `io`; its exit status. */
  run(script: KafkaToolScript, args: readonly string[], io: ToolIo, input?: AsyncIterable<string>): Promise<number>;
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

/** The deployed stack, through its functions. */
export interface KafkaBackend {
  /** Where the commands act, for messages: the deployed stack. */
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
