import { Logger } from '@aws-lambda-powertools/logger';
import { readKafkaSettings } from '../shared/env';
import { connectOnce, createKafka, describeKafkaFailure } from '../shared/kafka';
import {
  describeGroup,
  describeTopics,
  listGroups,
  listTopics,
  NotFoundError,
  type GroupDescription,
  type GroupListing,
  type TopicDescription,
} from '../shared/kafka-describe';
import { asEventObject, describe, InvalidEventError, optionalString } from '../shared/validation';

/**
 * The read-only admin function behind `npm run kafka -- topics|groups --stage S`: it lists and describes
 * topics and consumer groups from inside the VPC, where a laptop cannot reach the brokers. Its role may
 * describe, never change; creating topics stays with the topic-bootstrap custom resource.
 */
export const ACTIONS = ['list-topics', 'describe-topics', 'list-groups', 'describe-group'] as const;
export type AdminAction = (typeof ACTIONS)[number];

/** What the function accepts. */
export interface AdminEvent {
  readonly action: AdminAction;
  /** describe-topics: the topics to describe. @default every topic the function may see */
  readonly topics?: string[];
  /** describe-group: the group to describe. */
  readonly groupId?: string;
}

export type AdminResult =
  | { readonly action: 'list-topics'; readonly topics: string[] }
  | { readonly action: 'describe-topics'; readonly topics: TopicDescription[] }
  | { readonly action: 'list-groups'; readonly groups: GroupListing[] }
  | { readonly action: 'describe-group'; readonly group: GroupDescription };

const EVENT_FIELDS = ['action', 'topics', 'groupId'] as const;

// Module scope: one admin connection per container, reused by warm invocations.
const logger = new Logger({ serviceName: 'hello-msk-kafka-admin' });
const settings = readKafkaSettings();
const admin = createKafka(settings, 'hello-msk-kafka-admin', logger).admin();
const adminReady = connectOnce(
  () => admin.connect(),
  (listener) => admin.on(admin.events.DISCONNECT, listener),
);

/** Checks the event before anything is asked of Kafka. */
export function parseEvent(event: unknown): AdminEvent {
  const record = asEventObject(event, EVENT_FIELDS);
  const action = record.action;
  if (typeof action !== 'string' || !(ACTIONS as readonly string[]).includes(action)) {
    throw new InvalidEventError(
      `event field action is ${action === undefined ? 'missing' : describe(action)}; allowed: ${ACTIONS.join(', ')}`,
    );
  }
  const topics = record.topics;
  if (topics !== undefined && (!Array.isArray(topics) || !topics.every((t) => typeof t === 'string' && t !== ''))) {
    throw new InvalidEventError(`event field topics is ${describe(topics)}; allowed: an array of topic names`);
  }
  const groupId = optionalString(record, 'groupId');
  if (action === 'describe-group' && !groupId) {
    throw new InvalidEventError('event field groupId is missing; describe-group needs the group to describe');
  }
  return { action: action as AdminAction, topics: topics as string[] | undefined, groupId };
}

export async function handler(event: unknown): Promise<AdminResult> {
  const request = parseEvent(event);
  try {
    await adminReady();
    switch (request.action) {
      case 'list-topics':
        return { action: request.action, topics: await listTopics(admin) };
      case 'describe-topics':
        return { action: request.action, topics: await describeTopics(admin, request.topics) };
      case 'list-groups':
        return { action: request.action, groups: await listGroups(admin) };
      case 'describe-group':
        return { action: request.action, group: await describeGroup(admin, request.groupId as string) };
    }
  } catch (error) {
    if (error instanceof NotFoundError) throw error;
    logger.error('Admin request failed', { action: request.action, error: error as Error });
    throw new Error(`Could not ${request.action}: ${describeKafkaFailure(error, settings)}`);
  }
}

/** Closes the connection (for offline runs and tests; Lambda just freezes the container). */
export async function close(): Promise<void> {
  await admin.disconnect().catch(() => undefined);
}
