import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } from 'kafkajs';
import { allowConnect, connectRolesFile, toAclEntries } from 'msk-twin';
import type { AclBinding } from 'msk-twin';

const PRINCIPAL = 'User:arn:aws:iam::111122223333:role/hello-msk-producer';
const binding = (overrides: Partial<AclBinding>): AclBinding => ({
  principal: PRINCIPAL,
  resourceType: 'TOPIC',
  resourceName: 'test-topic',
  patternType: 'LITERAL',
  operation: 'WRITE',
  ...overrides,
});

describe('ACL bindings as kafkajs CreateAcls entries', () => {
  test.each<[Partial<AclBinding>, Partial<ReturnType<typeof toAclEntries>[number]>]>([
    [{}, { resourceType: AclResourceTypes.TOPIC, operation: AclOperationTypes.WRITE }],
    [
      { resourceName: 'orders-', patternType: 'PREFIXED', operation: 'READ' },
      {
        resourceName: 'orders-',
        resourcePatternType: ResourcePatternTypes.PREFIXED,
        operation: AclOperationTypes.READ,
      },
    ],
    [
      { resourceType: 'GROUP', resourceName: 'hello-msk-consumer', operation: 'READ' },
      { resourceType: AclResourceTypes.GROUP, operation: AclOperationTypes.READ },
    ],
    [
      { resourceType: 'CLUSTER', resourceName: 'kafka-cluster', operation: 'IDEMPOTENT_WRITE' },
      { resourceType: AclResourceTypes.CLUSTER, operation: AclOperationTypes.IDEMPOTENT_WRITE },
    ],
    [
      { resourceType: 'TRANSACTIONAL_ID', resourceName: 'tx-', patternType: 'PREFIXED', operation: 'DESCRIBE' },
      {
        resourceType: AclResourceTypes.TRANSACTIONAL_ID,
        resourcePatternType: ResourcePatternTypes.PREFIXED,
        operation: AclOperationTypes.DESCRIBE,
      },
    ],
    [{ operation: 'DESCRIBE_CONFIGS' }, { operation: AclOperationTypes.DESCRIBE_CONFIGS }],
    [{ operation: 'ALTER_CONFIGS' }, { operation: AclOperationTypes.ALTER_CONFIGS }],
    [{ operation: 'CREATE' }, { operation: AclOperationTypes.CREATE }],
    [{ operation: 'DELETE' }, { operation: AclOperationTypes.DELETE }],
    [{ operation: 'ALTER' }, { operation: AclOperationTypes.ALTER }],
  ])('%j becomes an ALLOW entry for any host: %j', (overrides, expected) => {
    expect(toAclEntries([binding(overrides)])).toEqual([
      {
        principal: PRINCIPAL,
        host: '*',
        permissionType: AclPermissionTypes.ALLOW,
        resourceType: AclResourceTypes.TOPIC,
        resourceName: overrides.resourceName ?? 'test-topic',
        resourcePatternType: ResourcePatternTypes.LITERAL,
        operation: AclOperationTypes.WRITE,
        ...expected,
      },
    ]);
  });

  test.each<[Partial<AclBinding>, string]>([
    [
      { resourceType: 'CLUSTER', resourceName: 'my-cluster', operation: 'ALTER' },
      'Cannot apply the ACL User:arn:aws:iam::111122223333:role/hello-msk-producer ALTER on CLUSTER LITERAL "my-cluster": a CLUSTER resource name must be "kafka-cluster"',
    ],
    [
      { resourceName: '' },
      'Cannot apply the ACL User:arn:aws:iam::111122223333:role/hello-msk-producer WRITE on TOPIC LITERAL "": a TOPIC resource name must be non-empty',
    ],
    [
      { principal: 'arn:aws:iam::111122223333:role/no-type' },
      'Cannot apply the ACL arn:aws:iam::111122223333:role/no-type WRITE on TOPIC LITERAL "test-topic": the principal must be User:<role ARN>',
    ],
    [
      { operation: 'ALL' as AclBinding['operation'] },
      'Cannot apply the ACL User:arn:aws:iam::111122223333:role/hello-msk-producer ALL on TOPIC LITERAL "test-topic": unknown resource type, operation or pattern type',
    ],
  ])('refuses %j in one line', (overrides, message) => {
    expect(() => toAclEntries([binding({}), binding(overrides)])).toThrow(message);
  });
});

describe('the roles allowed to connect', () => {
  test('accumulate in the file the validator reads, one ARN per line, without duplicates', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hello-msk-connect-test-'));
    try {
      allowConnect(dir, ['arn:aws:iam::111122223333:role/a', 'arn:aws:iam::111122223333:role/b']);
      allowConnect(dir, ['arn:aws:iam::111122223333:role/b', 'arn:aws:iam::111122223333:role/c']);
      expect(fs.readFileSync(connectRolesFile(dir), 'utf8')).toBe(
        'arn:aws:iam::111122223333:role/a\narn:aws:iam::111122223333:role/b\narn:aws:iam::111122223333:role/c\n',
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
