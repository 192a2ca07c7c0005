import {
  DescribeClusterV2Command,
  GetBootstrapBrokersCommand,
  KafkaClient,
  ListNodesCommand,
  type NodeInfo,
} from '@aws-sdk/client-kafka';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { chooseBootstrapBrokers, onEvent, onEventWith } from '../../lambda/cluster-endpoint';

const kafka = mockClient(KafkaClient);
const CLUSTER_ARN =
  'arn:aws:kafka:eu-west-1:123456789012:cluster/HelloMskdevCluster-EDB6C16D/0b4d1c2e-1111-2222-3333-444455556666-2';
const DOMAIN = 'hellomskdevcluster.abc123.c2.kafka.eu-west-1.amazonaws.com';
const SUBNETS = ['subnet-a', 'subnet-b', 'subnet-c'];

const host = (id: number) => `b-${id}.${DOMAIN}`;
const iamString = (...ids: number[]) => ids.map((id) => `${host(id)}:9098`).join(',');

/** Brokers as ListNodes describes them: MSK places broker ids round robin over the client subnets. */
function nodes(count: number, azs = 2): NodeInfo[] {
  return Array.from({ length: count }, (_, i) => ({
    NodeType: 'BROKER',
    BrokerNodeInfo: { BrokerId: i + 1, ClientSubnet: SUBNETS[i % azs], Endpoints: [host(i + 1)] },
  }));
}

function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function event(
  requestType: 'Create' | 'Update' | 'Delete',
  props: Record<string, unknown> = { ClusterArn: CLUSTER_ARN },
): CloudFormationCustomResourceEvent {
  const base = {
    ServiceToken: 'token',
    ResponseURL: 'https://example.invalid',
    StackId: 'stack',
    RequestId: 'req',
    LogicalResourceId: 'Endpoint',
    ResourceType: 'Custom::MskClusterEndpoint',
    ResourceProperties: { ServiceToken: 'token', ...props },
  };
  if (requestType === 'Create') return { ...base, RequestType: 'Create' };
  return {
    ...base,
    RequestType: requestType,
    PhysicalResourceId: CLUSTER_ARN,
    OldResourceProperties: base.ResourceProperties,
  };
}

/** An ACTIVE cluster whose GetBootstrapBrokers answers `iam` and whose ListNodes answers `listed`, in pages. */
function cluster(iam: string | undefined, listed: NodeInfo[], pageSize = 100): void {
  kafka.on(DescribeClusterV2Command, { ClusterArn: CLUSTER_ARN }).resolves({ ClusterInfo: { State: 'ACTIVE' } });
  kafka.on(GetBootstrapBrokersCommand, { ClusterArn: CLUSTER_ARN }).resolves({ BootstrapBrokerStringSaslIam: iam });
  const pages = Array.from({ length: Math.max(1, Math.ceil(listed.length / pageSize)) }, (_, i) =>
    listed.slice(i * pageSize, (i + 1) * pageSize),
  );
  pages.forEach((page, i) => {
    kafka
      .on(ListNodesCommand, { ClusterArn: CLUSTER_ARN, NextToken: i === 0 ? undefined : `page-${i}` })
      .resolves({ NodeInfoList: page, NextToken: i + 1 < pages.length ? `page-${i + 1}` : undefined });
  });
}

beforeEach(() => kafka.reset());

describe('cluster-endpoint custom resource', () => {
  test('answers Create and Update at once with the brokers, the cluster ARN as a stable physical id', async () => {
    cluster(iamString(2, 1), nodes(2));
    for (const type of ['Create', 'Update'] as const) {
      await expect(onEvent(event(type))).resolves.toEqual({
        PhysicalResourceId: CLUSTER_ARN,
        Data: { BootstrapBrokersSaslIam: iamString(1, 2) },
      });
    }
  });

  test('rejects a property that is not a cluster ARN, in one line', async () => {
    await expect(onEvent(event('Create', { ClusterArn: 'my-cluster' }))).rejects.toThrow(
      'ClusterArn "my-cluster" is not an MSK cluster ARN',
    );
  });

  test('fails at once, with the state and MSK’s reason, when the cluster failed', async () => {
    kafka.on(DescribeClusterV2Command).resolves({
      ClusterInfo: {
        State: 'FAILED',
        StateInfo: { Code: 'InsufficientCapacity', Message: 'No capacity for kafka.t3.small in use1-az3' },
      },
    });
    await expect(onEvent(event('Create'))).rejects.toThrow(
      `MSK cluster ${CLUSTER_ARN} is FAILED, not ACTIVE: No capacity for kafka.t3.small in use1-az3`,
    );
    expect(kafka.commandCalls(GetBootstrapBrokersCommand)).toHaveLength(0);
  });

  test('fails at once when IAM authentication is off', async () => {
    kafka.on(DescribeClusterV2Command).resolves({ ClusterInfo: { State: 'ACTIVE' } });
    kafka.on(GetBootstrapBrokersCommand).resolves({ BootstrapBrokerStringTls: 'b-1:9094' });
    await expect(onEvent(event('Create'))).rejects.toThrow(
      `MSK cluster ${CLUSTER_ARN} has no IAM bootstrap brokers; is IAM client authentication enabled?`,
    );
  });

  const denied = () =>
    Object.assign(
      new Error('User: arn:aws:sts::123456789012:assumed-role/x is not authorized to perform: kafka:ListNodes'),
      { name: 'AccessDeniedException' },
    );

  test('retries access denied while IAM does not show the new grant yet, then answers', async () => {
    kafka.on(DescribeClusterV2Command).resolves({ ClusterInfo: { State: 'ACTIVE' } });
    kafka.on(GetBootstrapBrokersCommand).resolves({ BootstrapBrokerStringSaslIam: iamString(1, 2) });
    kafka
      .on(ListNodesCommand)
      .rejectsOnce(denied())
      .rejectsOnce(denied())
      .resolves({ NodeInfoList: nodes(2) });
    await expect(
      onEventWith(event('Create'), { accessDeniedRetryMs: 5000, firstRetryDelayMs: 10 }),
    ).resolves.toMatchObject({ Data: { BootstrapBrokersSaslIam: iamString(1, 2) } });
    expect(kafka.commandCalls(ListNodesCommand)).toHaveLength(3);
  });

  test('fails in one line naming the call once access is still denied after the retry window', async () => {
    kafka.on(DescribeClusterV2Command).resolves({ ClusterInfo: { State: 'ACTIVE' } });
    kafka.on(GetBootstrapBrokersCommand).resolves({ BootstrapBrokerStringSaslIam: iamString(1, 2) });
    kafka.on(ListNodesCommand).rejects(denied());
    const started = Date.now();
    const error = await onEventWith(event('Update'), { accessDeniedRetryMs: 300, firstRetryDelayMs: 50 }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toBe(
      `MSK cluster ${CLUSTER_ARN}: ListNodes failed: AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/x is not authorized to perform: kafka:ListNodes`,
    );
    expect(error?.message).not.toMatch(/\n/);
    expect(kafka.commandCalls(ListNodesCommand).length).toBeGreaterThan(1);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  test('other refusals fail at once', async () => {
    kafka
      .on(DescribeClusterV2Command)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(onEventWith(event('Create'), { firstRetryDelayMs: 10 })).rejects.toThrow(
      `MSK cluster ${CLUSTER_ARN}: DescribeClusterV2 failed: ThrottlingException: Rate exceeded`,
    );
    expect(kafka.commandCalls(DescribeClusterV2Command)).toHaveLength(1);
  });

  test('still answers while MSK patches the brokers (MAINTENANCE), as clients keep working then', async () => {
    cluster(iamString(1, 2), nodes(2));
    kafka.on(DescribeClusterV2Command).resolves({ ClusterInfo: { State: 'MAINTENANCE' } });
    await expect(onEvent(event('Update'))).resolves.toMatchObject({
      Data: { BootstrapBrokersSaslIam: iamString(1, 2) },
    });
  });

  test('does nothing on delete', async () => {
    await expect(onEvent(event('Delete'))).resolves.toEqual({ PhysicalResourceId: CLUSTER_ARN });
    expect(kafka.calls()).toHaveLength(0);
  });

  test('reads the same IAM bootstrap field of an MSK Serverless cluster, whose ARN has the same cluster/NAME/UUID form, and never calls ListNodes, which serverless clusters refuse', async () => {
    const serverlessArn =
      'arn:aws:kafka:eu-west-1:123456789012:cluster/HelloMskdevCluster-EDB6C16D/7f3e2a10-5555-6666-7777-88889999aaaa-s2';
    const bootstrap = 'boot-abcd1234.c2.kafka-serverless.eu-west-1.amazonaws.com:9098';
    kafka
      .on(DescribeClusterV2Command, { ClusterArn: serverlessArn })
      .resolves({ ClusterInfo: { ClusterType: 'SERVERLESS', State: 'ACTIVE' } });
    kafka
      .on(GetBootstrapBrokersCommand, { ClusterArn: serverlessArn })
      .resolves({ BootstrapBrokerStringSaslIam: bootstrap });
    // What MSK answers ListNodes for a serverless cluster.
    kafka.on(ListNodesCommand).rejects(
      Object.assign(new Error('This operation cannot be performed on serverless clusters.'), {
        name: 'BadRequestException',
      }),
    );
    for (const type of ['Create', 'Update'] as const) {
      await expect(onEvent(event(type, { ClusterArn: serverlessArn }))).resolves.toEqual({
        PhysicalResourceId: serverlessArn,
        Data: { BootstrapBrokersSaslIam: bootstrap },
      });
    }
    expect(kafka.commandCalls(ListNodesCommand)).toHaveLength(0);
  });

  test('reads every page of ListNodes', async () => {
    // Six brokers in three AZs, two per page: the lowest-numbered broker of each AZ is on a different page.
    cluster(iamString(5, 3, 6), shuffled(nodes(6, 3), 7), 2);
    await expect(onEvent(event('Update'))).resolves.toMatchObject({
      Data: { BootstrapBrokersSaslIam: iamString(1, 2, 3) },
    });
    expect(kafka.commandCalls(ListNodesCommand)).toHaveLength(3);
  });
});

describe('the bootstrap string is deterministic', () => {
  test.each([1, 2, 3, 4, 5])('the same for any order, duplicates and random subset MSK answers (seed %i)', (seed) => {
    // GetBootstrapBrokers: three of nine brokers, in any order, with a duplicate; ListNodes: any order.
    const iam = shuffled([1, 2, 3, 4, 5, 6, 7, 8, 9], seed).slice(0, 3);
    const answer = chooseBootstrapBrokers(iamString(...iam, iam[0]), shuffled(nodes(9, 3), seed * 31));
    expect(answer).toBe(iamString(1, 2, 3));
  });

  test.each([
    ['2 AZs, 1 broker each', nodes(2, 2), [1, 2]],
    ['2 AZs, 2 brokers each', nodes(4, 2), [1, 2, 3]],
    ['2 AZs, 5 brokers each', nodes(10, 2), [1, 2, 3]],
    ['3 AZs, 1 broker each', nodes(3, 3), [1, 2, 3]],
    ['3 AZs, 20 brokers each', nodes(60, 3), [1, 2, 3]],
  ])('%s: one broker per AZ, then the lowest-numbered up to three', (_, listed, ids) => {
    expect(chooseBootstrapBrokers(iamString(2, 1), shuffled(listed, 3))).toBe(iamString(...ids));
  });

  test('growing the cluster (brokersPerAz 1 -> 4 on three AZs) leaves it unchanged', () => {
    const before = chooseBootstrapBrokers(iamString(3, 1, 2), nodes(3, 3));
    const after = chooseBootstrapBrokers(iamString(11, 4, 7), shuffled(nodes(12, 3), 5));
    expect(after).toBe(before);
  });

  test('covers every AZ even when the lowest-numbered brokers share one', () => {
    const listed: NodeInfo[] = [1, 2, 3, 4].map((id) => ({
      BrokerNodeInfo: { BrokerId: id, ClientSubnet: id <= 3 ? 'subnet-a' : 'subnet-b', Endpoints: [host(id)] },
    }));
    expect(chooseBootstrapBrokers(iamString(1), listed)).toBe(iamString(1, 2, 4));
  });

  test('without usable ListNodes entries, sorts and de-duplicates what GetBootstrapBrokers answered', () => {
    expect(chooseBootstrapBrokers(` ${iamString(12, 3)},${host(3)}:9098,${host(1)}:9098 `, [])).toBe(
      iamString(1, 3, 12),
    );
    // Hosts outside the bootstrap string's domain are not trusted as broker addresses.
    const elsewhere = [{ BrokerNodeInfo: { BrokerId: 1, ClientSubnet: 'subnet-a', Endpoints: ['b-1.other.example'] } }];
    expect(chooseBootstrapBrokers(iamString(2, 1), elsewhere)).toBe(iamString(1, 2));
  });
});
