/**
 * Which IAM action and resource MSK checks for a Kafka request: the table "Semantics of IAM authorization policy
 * actions and resources" of the MSK developer guide (https://docs.aws.amazon.com/msk/latest/developerguide/kafka-actions.html).
 * A request maps to one kafka-cluster action on one resource ARN, plus the actions that table requires beside it on
 * the same resource and Connect on the cluster. Nothing is implied: where Kafka's own authorizer lets READ or WRITE
 * imply DESCRIBE, MSK asks for DescribeTopic by name.
 */
export type MskResourceType = 'cluster' | 'topic' | 'group' | 'transactional-id';

export interface MskAction {
  /** The only resource type the action applies to. */
  readonly resource: MskResourceType;
  /** The Kafka operations on that resource type it allows (none for Connect, checked at sign-in). */
  readonly kafka: readonly string[];
  /** The actions MSK requires beside it ("Required actions"). */
  readonly required: readonly string[];
}

export const MSK_ACTIONS: Readonly<Record<string, MskAction>> = {
  Connect: { resource: 'cluster', kafka: [], required: [] },
  DescribeCluster: { resource: 'cluster', kafka: ['DESCRIBE'], required: ['Connect'] },
  AlterCluster: { resource: 'cluster', kafka: ['ALTER'], required: ['Connect', 'DescribeCluster'] },
  DescribeClusterDynamicConfiguration: { resource: 'cluster', kafka: ['DESCRIBE_CONFIGS'], required: ['Connect'] },
  AlterClusterDynamicConfiguration: {
    resource: 'cluster',
    kafka: ['ALTER_CONFIGS'],
    required: ['Connect', 'DescribeClusterDynamicConfiguration'],
  },
  WriteDataIdempotently: { resource: 'cluster', kafka: ['IDEMPOTENT_WRITE'], required: ['Connect', 'WriteData'] },
  CreateTopic: { resource: 'topic', kafka: ['CREATE'], required: ['Connect'] },
  DescribeTopic: { resource: 'topic', kafka: ['DESCRIBE'], required: ['Connect'] },
  AlterTopic: { resource: 'topic', kafka: ['ALTER'], required: ['Connect', 'DescribeTopic'] },
  DeleteTopic: { resource: 'topic', kafka: ['DELETE'], required: ['Connect', 'DescribeTopic'] },
  DescribeTopicDynamicConfiguration: { resource: 'topic', kafka: ['DESCRIBE_CONFIGS'], required: ['Connect'] },
  AlterTopicDynamicConfiguration: {
    resource: 'topic',
    kafka: ['ALTER_CONFIGS'],
    required: ['Connect', 'DescribeTopicDynamicConfiguration'],
  },
  ReadData: { resource: 'topic', kafka: ['READ'], required: ['Connect', 'DescribeTopic', 'AlterGroup'] },
  WriteData: { resource: 'topic', kafka: ['WRITE'], required: ['Connect', 'DescribeTopic'] },
  DescribeGroup: { resource: 'group', kafka: ['DESCRIBE'], required: ['Connect'] },
  AlterGroup: { resource: 'group', kafka: ['READ'], required: ['Connect', 'DescribeGroup'] },
  DeleteGroup: { resource: 'group', kafka: ['DELETE'], required: ['Connect', 'DescribeGroup'] },
  DescribeTransactionalId: { resource: 'transactional-id', kafka: ['DESCRIBE'], required: ['Connect'] },
  AlterTransactionalId: {
    resource: 'transactional-id',
    kafka: ['WRITE'],
    required: ['Connect', 'DescribeTransactionalId', 'WriteData'],
  },
};

const KAFKA_RESOURCE_TYPES: Readonly<Record<string, MskResourceType>> = {
  CLUSTER: 'cluster',
  TOPIC: 'topic',
  GROUP: 'group',
  TRANSACTIONAL_ID: 'transactional-id',
};

/** A Kafka authorization question, as the broker's authorizer asks it. */
export interface KafkaRequest {
  /** Kafka's AclOperation name (`WRITE`), or `CONNECT` for the sign-in. */
  readonly operation: string;
  /** Kafka's ResourceType name (`TOPIC`). */
  readonly resourceType: string;
  /** LITERAL for one named resource; ANY for "some resource of this type" (Authorizer.authorizeByResourceType). */
  readonly patternType: string;
  readonly name: string;
}

/** One action on one resource that must be allowed. `every`: the resource ARN ends in `*`, meaning every name. */
export interface IamCheck {
  readonly action: string;
  readonly resource: string;
  readonly every?: boolean;
}

/** The IAM ARN of a cluster's topic, group or transactional id; the cluster's own for `cluster`. */
export function resourceArn(type: MskResourceType, clusterArn: string, name: string): string {
  if (type === 'cluster') return clusterArn;
  return `${clusterArn.replace(':cluster/', `:${type}/`)}/${name}`;
}

/** The action MSK allows `operation` on `resourceType` with, if any. */
export function mskActionFor(operation: string, resourceType: string): string | undefined {
  if (operation === 'CONNECT' && resourceType === 'CLUSTER') return 'Connect';
  const type = KAFKA_RESOURCE_TYPES[resourceType];
  return Object.keys(MSK_ACTIONS).find(
    (name) => MSK_ACTIONS[name].resource === type && MSK_ACTIONS[name].kafka.includes(operation),
  );
}

/**
 * The checks that must all pass for `request` on the cluster `clusterArn`, or why MSK refuses it whatever the
 * policy says. The "Required actions" on other resource types (ReadData's AlterGroup, WriteDataIdempotently's
 * WriteData) are left to the request that uses them, since this request names no such resource.
 */
export function iamChecksFor(request: KafkaRequest, clusterArn: string): { checks: IamCheck[] } | { refusal: string } {
  const action = mskActionFor(request.operation, request.resourceType);
  if (request.patternType === 'ANY') {
    // KafkaApis asks WRITE on any topic only for an idempotent producer without IDEMPOTENT_WRITE; MSK's rule
    // (KIP-679 note of the MSK developer guide) is WriteData on every topic.
    if (request.operation === 'WRITE' && request.resourceType === 'TOPIC') {
      return {
        checks: [
          { action: 'WriteData', resource: resourceArn('topic', clusterArn, '*'), every: true },
          { action: 'Connect', resource: clusterArn },
        ],
      };
    }
    return {
      refusal: `MSK's IAM access control has no action for ${request.operation} on any ${request.resourceType}`,
    };
  }
  if (request.patternType !== 'LITERAL') {
    return { refusal: `${request.patternType} resource patterns are not asked of an authorizer` };
  }
  if (!action) {
    return {
      refusal: `MSK's IAM access control has no action for ${request.operation} on ${request.resourceType} (internal cluster actions are not supported)`,
    };
  }
  const semantics = MSK_ACTIONS[action];
  const resource = resourceArn(semantics.resource, clusterArn, request.name);
  const checks: IamCheck[] = [{ action, resource }];
  for (const required of semantics.required) {
    if (required === 'Connect') continue;
    if (MSK_ACTIONS[required].resource === semantics.resource) checks.push({ action: required, resource });
  }
  if (action !== 'Connect') checks.push({ action: 'Connect', resource: clusterArn });
  return { checks };
}
