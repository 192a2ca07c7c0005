import { iamChecksFor, mskActionFor, MSK_ACTIONS } from 'msk-twin';

const CLUSTER = 'arn:aws:kafka:eu-west-1:111122223333:cluster/c/uuid-1';
const TOPIC = 'arn:aws:kafka:eu-west-1:111122223333:topic/c/uuid-1';

describe('the Kafka request to MSK action table', () => {
  test.each([
    ['CONNECT', 'CLUSTER', 'Connect'],
    ['DESCRIBE', 'CLUSTER', 'DescribeCluster'],
    ['ALTER', 'CLUSTER', 'AlterCluster'],
    ['DESCRIBE_CONFIGS', 'CLUSTER', 'DescribeClusterDynamicConfiguration'],
    ['ALTER_CONFIGS', 'CLUSTER', 'AlterClusterDynamicConfiguration'],
    ['IDEMPOTENT_WRITE', 'CLUSTER', 'WriteDataIdempotently'],
    ['CREATE', 'TOPIC', 'CreateTopic'],
    ['DESCRIBE', 'TOPIC', 'DescribeTopic'],
    ['ALTER', 'TOPIC', 'AlterTopic'],
    ['DELETE', 'TOPIC', 'DeleteTopic'],
    ['DESCRIBE_CONFIGS', 'TOPIC', 'DescribeTopicDynamicConfiguration'],
    ['ALTER_CONFIGS', 'TOPIC', 'AlterTopicDynamicConfiguration'],
    ['READ', 'TOPIC', 'ReadData'],
    ['WRITE', 'TOPIC', 'WriteData'],
    ['DESCRIBE', 'GROUP', 'DescribeGroup'],
    ['READ', 'GROUP', 'AlterGroup'],
    ['DELETE', 'GROUP', 'DeleteGroup'],
    ['DESCRIBE', 'TRANSACTIONAL_ID', 'DescribeTransactionalId'],
    ['WRITE', 'TRANSACTIONAL_ID', 'AlterTransactionalId'],
  ])('%s on %s is kafka-cluster:%s', (operation, type, action) => {
    expect(mskActionFor(operation, type)).toBe(action);
  });

  test('maps every action of the table but Connect from exactly one Kafka operation', () => {
    const mapped = Object.keys(MSK_ACTIONS).filter((a) => a !== 'Connect' && MSK_ACTIONS[a].kafka.length === 1);
    expect(mapped).toHaveLength(Object.keys(MSK_ACTIONS).length - 1);
  });

  test.each([
    ['CLUSTER_ACTION', 'CLUSTER'],
    ['CREATE', 'CLUSTER'],
    ['WRITE', 'GROUP'],
    ['DESCRIBE', 'DELEGATION_TOKEN'],
  ])('%s on %s has no MSK action: refused whatever the policy says', (operation, resourceType) => {
    expect(iamChecksFor({ operation, resourceType, patternType: 'LITERAL', name: 'x' }, CLUSTER)).toEqual({
      refusal: expect.stringContaining(`no action for ${operation} on ${resourceType}`),
    });
  });
});

describe('the checks of a request', () => {
  test('ReadData needs DescribeTopic on the same topic and Connect on the cluster, nothing implied', () => {
    expect(
      iamChecksFor({ operation: 'READ', resourceType: 'TOPIC', patternType: 'LITERAL', name: 'orders' }, CLUSTER),
    ).toEqual({
      checks: [
        { action: 'ReadData', resource: `${TOPIC}/orders` },
        { action: 'DescribeTopic', resource: `${TOPIC}/orders` },
        { action: 'Connect', resource: CLUSTER },
      ],
    });
  });

  test('AlterTopic needs DescribeTopic; AlterGroup needs DescribeGroup', () => {
    const checks = (operation: string, resourceType: string) =>
      (
        iamChecksFor({ operation, resourceType, patternType: 'LITERAL', name: 'n' }, CLUSTER) as {
          checks: { action: string }[];
        }
      ).checks.map((c) => c.action);
    expect(checks('ALTER', 'TOPIC')).toEqual(['AlterTopic', 'DescribeTopic', 'Connect']);
    expect(checks('READ', 'GROUP')).toEqual(['AlterGroup', 'DescribeGroup', 'Connect']);
  });

  test('an idempotent producer without WriteDataIdempotently needs WriteData on every topic (KIP-679)', () => {
    expect(iamChecksFor({ operation: 'WRITE', resourceType: 'TOPIC', patternType: 'ANY', name: '*' }, CLUSTER)).toEqual(
      {
        checks: [
          { action: 'WriteData', resource: `${TOPIC}/*`, every: true },
          { action: 'Connect', resource: CLUSTER },
        ],
      },
    );
  });
});
