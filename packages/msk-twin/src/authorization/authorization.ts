/**
 * Applies a TwinAuthorization to a running twin: the roles allowed to sign in (kafka-cluster:Connect, checked by
 * the token validator at every sign-in) and the Kafka ACLs the roles' other kafka-cluster:* actions translate to,
 * created through the admin identity. The brokers run StandardAuthorizer with allow.everyone.if.no.acl.found=false,
 * so whatever is not granted here is denied. Grants add to what was applied before; nothing is revoked.
 */
import * as fs from 'fs';
import * as path from 'path';
import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  ResourcePatternTypes,
  type AclEntry,
  type Admin,
} from 'kafkajs';
import { assertRoleArn } from '../iam/credentials';
import type { AclBinding, TwinAuthorization } from '../identity';

const RESOURCE_TYPES: Record<AclBinding['resourceType'], AclResourceTypes> = {
  TOPIC: AclResourceTypes.TOPIC,
  GROUP: AclResourceTypes.GROUP,
  CLUSTER: AclResourceTypes.CLUSTER,
  TRANSACTIONAL_ID: AclResourceTypes.TRANSACTIONAL_ID,
};

const OPERATIONS: Record<AclBinding['operation'], AclOperationTypes> = {
  READ: AclOperationTypes.READ,
  WRITE: AclOperationTypes.WRITE,
  CREATE: AclOperationTypes.CREATE,
  DELETE: AclOperationTypes.DELETE,
  ALTER: AclOperationTypes.ALTER,
  DESCRIBE: AclOperationTypes.DESCRIBE,
  DESCRIBE_CONFIGS: AclOperationTypes.DESCRIBE_CONFIGS,
  ALTER_CONFIGS: AclOperationTypes.ALTER_CONFIGS,
  IDEMPOTENT_WRITE: AclOperationTypes.IDEMPOTENT_WRITE,
  CLUSTER_ACTION: AclOperationTypes.CLUSTER_ACTION,
};

const PATTERNS: Record<AclBinding['patternType'], ResourcePatternTypes> = {
  LITERAL: ResourcePatternTypes.LITERAL,
  PREFIXED: ResourcePatternTypes.PREFIXED,
};

/** Kafka names the cluster resource this way in every ACL. */
const CLUSTER_RESOURCE_NAME = 'kafka-cluster';

/** The file the validator reads for the roles allowed to sign in (one ARN per line). */
export function connectRolesFile(registryDir: string): string {
  return path.join(registryDir, 'connect-roles.txt');
}

function describe(binding: AclBinding): string {
  return `${binding.principal} ${binding.operation} on ${binding.resourceType} ${binding.patternType} "${binding.resourceName}"`;
}

/** One kafkajs ACL entry (ALLOW, any host) per binding; throws one line naming the binding that cannot be one. */
export function toAclEntries(bindings: readonly AclBinding[]): AclEntry[] {
  return bindings.map((binding) => {
    const resourceType = RESOURCE_TYPES[binding.resourceType];
    const operation = OPERATIONS[binding.operation];
    const resourcePatternType = PATTERNS[binding.patternType];
    if (resourceType === undefined || operation === undefined || resourcePatternType === undefined) {
      throw new Error(`Cannot apply the ACL ${describe(binding)}: unknown resource type, operation or pattern type`);
    }
    if (!/^User:.+/.test(binding.principal)) {
      throw new Error(`Cannot apply the ACL ${describe(binding)}: the principal must be User:<role ARN>`);
    }
    if (
      binding.resourceName === '' ||
      (binding.resourceType === 'CLUSTER' && binding.resourceName !== CLUSTER_RESOURCE_NAME)
    ) {
      throw new Error(
        `Cannot apply the ACL ${describe(binding)}: a ${binding.resourceType} resource name must be ${binding.resourceType === 'CLUSTER' ? `"${CLUSTER_RESOURCE_NAME}"` : 'non-empty'}`,
      );
    }
    return {
      principal: binding.principal,
      host: '*',
      operation,
      permissionType: AclPermissionTypes.ALLOW,
      resourceType,
      resourceName: binding.resourceName,
      resourcePatternType,
    };
  });
}

/** Adds `roleArns` to the roles the validator lets sign in. */
export function allowConnect(registryDir: string, roleArns: readonly string[]): void {
  const file = connectRolesFile(registryDir);
  const existing = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
  const roles = [...new Set([...existing, ...roleArns])];
  fs.mkdirSync(registryDir, { recursive: true });
  fs.writeFileSync(`${file}.tmp`, `${roles.join('\n')}\n`);
  fs.renameSync(`${file}.tmp`, file);
}

const aclKey = (acl: AclEntry): string =>
  [
    acl.principal,
    acl.host,
    acl.operation,
    acl.permissionType,
    acl.resourceType,
    acl.resourceName,
    acl.resourcePatternType,
  ].join('\0');

/**
 * Waits until a broker's authorizer lists every entry: in KRaft the controller commits new ACLs and each broker
 * applies them when it replays the metadata log, a moment later.
 */
async function waitForAcls(admin: Admin, entries: readonly AclEntry[], timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const wanted = new Set(entries.map(aclKey));
  for (;;) {
    const { resources } = await admin.describeAcls({
      resourceType: AclResourceTypes.ANY,
      resourcePatternType: ResourcePatternTypes.ANY,
      operation: AclOperationTypes.ANY,
      permissionType: AclPermissionTypes.ANY,
    });
    const present = new Set(
      resources.flatMap((resource) => resource.acls.map((acl) => aclKey({ ...resource, ...acl }))),
    );
    if ([...wanted].every((key) => present.has(key))) return;
    if (Date.now() > deadline) throw new Error(`The brokers did not list the new ACLs within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Grants `authorization`: the roles allowed to connect, then the ACLs in one CreateAcls request, and returns once
 * the brokers enforce them. `admin` must be connected as a super user (the twin's admin role, or the plaintext
 * listener).
 */
export async function applyAuthorization(
  admin: Admin,
  registryDir: string,
  authorization: TwinAuthorization,
): Promise<void> {
  const entries = toAclEntries(authorization.acls);
  for (const roleArn of authorization.connectRoleArns) assertRoleArn(roleArn);
  allowConnect(registryDir, authorization.connectRoleArns);
  if (entries.length === 0) return;
  await admin.createAcls({ acl: entries });
  await waitForAcls(admin, entries);
}
