/**
 * The AWS identities of the local MSK twin: one account, one region, and a Kafka principal per IAM role.
 * The credential issuer, the token validator and the policy-to-ACL translation all name roles this way.
 */
export const TWIN_ACCOUNT = '111122223333';
export const TWIN_REGION = 'us-east-1';
export const TWIN_PARTITION = 'aws';

/** The role the twin's admin tools (topic and ACL set-up, the command-line tools) sign in as; a Kafka super user. */
export const TWIN_ADMIN_ROLE_ARN = `arn:${TWIN_PARTITION}:iam::${TWIN_ACCOUNT}:role/hello-msk-local-admin`;

/** The Kafka principal of a session signed with credentials the twin issued for `roleArn`. */
export function kafkaPrincipal(roleArn: string): string {
  return `User:${roleArn}`;
}

/** One Kafka ACL (allow only: the twin denies everything not granted). */
export interface AclBinding {
  /** `User:<role ARN>`, from kafkaPrincipal(). */
  readonly principal: string;
  readonly resourceType: 'TOPIC' | 'GROUP' | 'CLUSTER' | 'TRANSACTIONAL_ID';
  /** Topic, group or transactional id; `kafka-cluster` for the cluster. */
  readonly resourceName: string;
  /** LITERAL for an exact name; PREFIXED for an IAM ARN ending in `*` (the name is the part before it). */
  readonly patternType: 'LITERAL' | 'PREFIXED';
  readonly operation:
    | 'READ'
    | 'WRITE'
    | 'CREATE'
    | 'DELETE'
    | 'ALTER'
    | 'DESCRIBE'
    | 'DESCRIBE_CONFIGS'
    | 'ALTER_CONFIGS'
    | 'IDEMPOTENT_WRITE'
    | 'CLUSTER_ACTION';
}

/** What the twin enforces for the roles of a synthesized app: ACLs, and which roles may sign in at all. */
export interface TwinAuthorization {
  /** Every ACL the roles' `kafka-cluster:*` statements translate to. */
  readonly acls: AclBinding[];
  /** Roles allowed `kafka-cluster:Connect` on the cluster; the token validator refuses the others' sign-in. */
  readonly connectRoleArns: string[];
}
