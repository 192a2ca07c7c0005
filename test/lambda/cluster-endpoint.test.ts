import { DescribeClusterV2Command, GetBootstrapBrokersCommand, KafkaClient } from '@aws-sdk/client-kafka';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { isComplete, onEvent } from '../../lambda/cluster-endpoint';

const kafka = mockClient(KafkaClient);
const CLUSTER_ARN =
  'arn:aws:kafka:eu-west-1:123456789012:cluster/HelloMskdevCluster-EDB6C16D/0b4d1c2e-1111-2222-3333-444455556666-2';
const BROKERS =
  'b-1.hello.abc.c2.kafka.eu-west-1.amazonaws.com:9098,b-2.hello.abc.c2.kafka.eu-west-1.amazonaws.com:9098';

function event(
  requestType: 'Create' | 'Update' | 'Delete',
  props: Record<string, unknown> = { ClusterArn: CLUSTER_ARN },
) {
  const base = {
    ServiceToken: 'token',
    ResponseURL: 'https://example.invalid',
    StackId: 'stack',
    RequestId: 'req',
    LogicalResourceId: 'Endpoint',
    ResourceType: 'Custom::MskClusterEndpoint',
    ResourceProperties: { ServiceToken: 'token', ...props },
  };
  if (requestType === 'Create') return { ...base, RequestType: 'Create' } as CloudFormationCustomResourceEvent;
  return {
    ...base,
    RequestType: requestType,
    PhysicalResourceId: CLUSTER_ARN,
    OldResourceProperties: base.ResourceProperties,
  } as CloudFormationCustomResourceEvent;
}

beforeEach(() => kafka.reset());

describe('cluster-endpoint custom resource', () => {
  test('uses the cluster ARN as a stable physical id on create and update', async () => {
    await expect(onEvent(event('Create'))).resolves.toEqual({ PhysicalResourceId: CLUSTER_ARN });
    await expect(onEvent(event('Update'))).resolves.toEqual({ PhysicalResourceId: CLUSTER_ARN });
  });

  test('rejects a property that is not a cluster ARN, in one line', async () => {
    await expect(onEvent(event('Create', { ClusterArn: 'my-cluster' }))).rejects.toThrow(
      'ClusterArn "my-cluster" is not an MSK cluster ARN',
    );
  });

  test('keeps waiting while the cluster is CREATING or UPDATING', async () => {
    kafka
      .on(DescribeClusterV2Command)
      .resolvesOnce({ ClusterInfo: { State: 'CREATING' } })
      .resolvesOnce({ ClusterInfo: { State: 'UPDATING' } });
    await expect(isComplete(event('Create'))).resolves.toEqual({ IsComplete: false });
    await expect(isComplete(event('Update'))).resolves.toEqual({ IsComplete: false });
    expect(kafka.commandCalls(GetBootstrapBrokersCommand)).toHaveLength(0);
  });

  test('answers with the IAM bootstrap brokers once the cluster is ACTIVE', async () => {
    kafka.on(DescribeClusterV2Command, { ClusterArn: CLUSTER_ARN }).resolves({ ClusterInfo: { State: 'ACTIVE' } });
    kafka
      .on(GetBootstrapBrokersCommand, { ClusterArn: CLUSTER_ARN })
      .resolves({ BootstrapBrokerStringSaslIam: BROKERS });
    await expect(isComplete(event('Create'))).resolves.toEqual({
      IsComplete: true,
      Data: { BootstrapBrokersSaslIam: BROKERS },
    });
  });

  test('fails with the state and reason when the cluster failed', async () => {
    kafka.on(DescribeClusterV2Command).resolves({
      ClusterInfo: {
        State: 'FAILED',
        StateInfo: { Code: 'InsufficientCapacity', Message: 'No capacity for kafka.t3.small in use1-az3' },
      },
    });
    await expect(isComplete(event('Create'))).rejects.toThrow(
      `MSK cluster ${CLUSTER_ARN} is FAILED, not ACTIVE: No capacity for kafka.t3.small in use1-az3`,
    );
  });

  test('fails clearly when IAM authentication is off', async () => {
    kafka.on(DescribeClusterV2Command).resolves({ ClusterInfo: { State: 'ACTIVE' } });
    kafka.on(GetBootstrapBrokersCommand).resolves({ BootstrapBrokerStringTls: 'b-1:9094' });
    await expect(isComplete(event('Create'))).rejects.toThrow(
      `MSK cluster ${CLUSTER_ARN} has no IAM bootstrap brokers; is IAM client authentication enabled?`,
    );
  });

  test('passes an AWS API error through', async () => {
    kafka.on(DescribeClusterV2Command).rejects(new Error('User is not authorized to perform: kafka:DescribeClusterV2'));
    await expect(isComplete(event('Update'))).rejects.toThrow('not authorized');
  });

  test('does nothing on delete', async () => {
    await expect(onEvent(event('Delete'))).resolves.toEqual({ PhysicalResourceId: CLUSTER_ARN });
    await expect(isComplete(event('Delete'))).resolves.toEqual({ IsComplete: true });
    expect(kafka.calls()).toHaveLength(0);
  });

  test('reads the same IAM bootstrap field of an MSK Serverless cluster, whose ARN has the same cluster/NAME/UUID form', async () => {
    const serverlessArn =
      'arn:aws:kafka:eu-west-1:123456789012:cluster/HelloMskdevCluster-EDB6C16D/7f3e2a10-5555-6666-7777-88889999aaaa-s2';
    const bootstrap = 'boot-abcd1234.c2.kafka-serverless.eu-west-1.amazonaws.com:9098';
    kafka
      .on(DescribeClusterV2Command, { ClusterArn: serverlessArn })
      .resolves({ ClusterInfo: { ClusterType: 'SERVERLESS', State: 'ACTIVE' } });
    kafka
      .on(GetBootstrapBrokersCommand, { ClusterArn: serverlessArn })
      .resolves({ BootstrapBrokerStringSaslIam: bootstrap });
    const created = event('Create', { ClusterArn: serverlessArn });
    await expect(onEvent(created)).resolves.toEqual({ PhysicalResourceId: serverlessArn });
    await expect(isComplete(created)).resolves.toEqual({
      IsComplete: true,
      Data: { BootstrapBrokersSaslIam: bootstrap },
    });
  });
});
