/** The twin's translation of this app's own policies (the package's own tests use hand-written roles). */
import { describeTwinApp, findFunction, formatPolicyAclTable, translatePolicies } from 'msk-twin';
import { synthesizeApp, type SynthesizedApp } from '../../scripts/app-twin';

describe('the dev stack', () => {
  let dev: SynthesizedApp;
  beforeAll(async () => {
    dev = await synthesizeApp();
  }, 180_000);

  test("translates every function role's policy: producer, consumer, kafka-admin, topic bootstrap", () => {
    const app = describeTwinApp(dev.assembly);
    const { authorization } = translatePolicies(app);
    const roleOf = (name: string) => findFunction(app.functions, name).roleArn;
    const producer = roleOf('Producer');
    const consumer = roleOf('Consumer');
    const admin = roleOf('KafkaAdmin');
    const onEvent = roleOf('Topics/OnEvent');
    const isComplete = roleOf('Topics/IsComplete');
    expect(authorization.connectRoleArns.sort()).toEqual([admin, consumer, isComplete, onEvent, producer].sort());
    const byRole = (roleArn: string) =>
      authorization.acls
        .filter((a) => a.principal === `User:${roleArn}`)
        .map((a) => `${a.operation} ${a.resourceType} ${a.resourceName} ${a.patternType}`)
        .sort();
    expect(byRole(producer)).toEqual([
      'DESCRIBE TOPIC test-topic LITERAL',
      'IDEMPOTENT_WRITE CLUSTER kafka-cluster LITERAL',
      'WRITE TOPIC test-topic LITERAL',
    ]);
    expect(byRole(consumer)).toEqual([
      'DESCRIBE GROUP hello-msk-consumer LITERAL',
      'DESCRIBE TOPIC test-topic LITERAL',
      'READ GROUP hello-msk-consumer LITERAL',
      'READ TOPIC test-topic LITERAL',
    ]);
    // Describe only, the Kafka side of the function's read-only grants: Metadata, DescribeConfigs, ListGroups
    // and DescribeGroups, OffsetFetch and ListOffsets need nothing more.
    expect(byRole(admin)).toEqual([
      'DESCRIBE CLUSTER kafka-cluster LITERAL',
      'DESCRIBE GROUP hello-msk-consumer LITERAL',
      'DESCRIBE TOPIC test-topic LITERAL',
      'DESCRIBE_CONFIGS TOPIC test-topic LITERAL',
    ]);
    expect(byRole(onEvent)).toEqual([
      'ALTER TOPIC test-topic LITERAL',
      'ALTER_CONFIGS TOPIC test-topic LITERAL',
      'CREATE TOPIC test-topic LITERAL',
      'DESCRIBE TOPIC test-topic LITERAL',
      'DESCRIBE_CONFIGS TOPIC test-topic LITERAL',
    ]);
    expect(byRole(isComplete)).toEqual(['DESCRIBE TOPIC test-topic LITERAL']);
    expect(authorization.acls).toHaveLength(17);
  });

  test('prints the table the docs show, one row per action and resource', () => {
    const app = describeTwinApp(dev.assembly);
    const table = formatPolicyAclTable(translatePolicies(app), app.cluster.arn);
    expect(table).toContain('| Function | Role | IAM action | IAM resource | Kafka ACL on the twin |');
    expect(table).toMatch(
      /\| Producer \| HelloMsk-dev-Clients-ProducerServiceRole\w+ \| kafka-cluster:WriteData \| topic\/…\/test-topic \| ALLOW WRITE TOPIC test-topic \(LITERAL\) \|/,
    );
    expect(table).toMatch(
      /\| KafkaAdmin \| HelloMsk-dev-Clients-KafkaAdminServiceRole\w+ \| kafka-cluster:DescribeCluster \| cluster\/… \| ALLOW DESCRIBE CLUSTER kafka-cluster \(LITERAL\) \|/,
    );
    expect(table.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Function'))).toHaveLength(22);
  });
});
