import { DescribeClusterV2Command, GetBootstrapBrokersCommand, KafkaClient } from '@aws-sdk/client-kafka';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { createLogger } from '../shared/logger';

/**
 * Custom resource that waits until the MSK cluster is ACTIVE and returns its IAM bootstrap brokers. It runs
 * outside the VPC at deploy time, so nothing inside the VPC ever needs the MSK control-plane API (no NAT
 * gateway, no interface endpoint). Properties: `ClusterArn`, and `ClusterVersion` so that it runs again
 * whenever the cluster changes.
 */
export interface ClusterEndpointData {
  readonly BootstrapBrokersSaslIam: string;
}

interface OnEventResponse {
  readonly PhysicalResourceId: string;
}

interface IsCompleteResponse {
  readonly IsComplete: boolean;
  readonly Data?: ClusterEndpointData;
}

const logger = createLogger('hello-msk-cluster-endpoint');
const kafka = new KafkaClient({});

const WAITING_STATES = ['CREATING', 'UPDATING', 'REBOOTING_BROKER', 'HEALING', 'MAINTENANCE'];

function clusterArnOf(event: CloudFormationCustomResourceEvent): string {
  const arn = (event.ResourceProperties as Record<string, unknown>).ClusterArn;
  if (typeof arn !== 'string' || !arn.startsWith('arn:')) {
    throw new Error(`ClusterArn ${JSON.stringify(arn)} is not an MSK cluster ARN`);
  }
  return arn;
}

/** Nothing to create: the physical id is the cluster ARN, stable across updates. */
export async function onEvent(event: CloudFormationCustomResourceEvent): Promise<OnEventResponse> {
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId };
  return { PhysicalResourceId: clusterArnOf(event) };
}

/** Done when the cluster is ACTIVE; then answers with its IAM bootstrap brokers. */
export async function isComplete(event: CloudFormationCustomResourceEvent): Promise<IsCompleteResponse> {
  if (event.RequestType === 'Delete') return { IsComplete: true };
  const clusterArn = clusterArnOf(event);
  const { ClusterInfo } = await kafka.send(new DescribeClusterV2Command({ ClusterArn: clusterArn }));
  const state = ClusterInfo?.State ?? 'UNKNOWN';
  if (WAITING_STATES.includes(state)) {
    logger.info(`Cluster is ${state}; waiting for ACTIVE`, { clusterArn });
    return { IsComplete: false };
  }
  if (state !== 'ACTIVE') {
    const why = ClusterInfo?.StateInfo?.Message ?? ClusterInfo?.StateInfo?.Code ?? 'no reason given';
    throw new Error(`MSK cluster ${clusterArn} is ${state}, not ACTIVE: ${why}`);
  }
  const brokers = await kafka.send(new GetBootstrapBrokersCommand({ ClusterArn: clusterArn }));
  const iam = brokers.BootstrapBrokerStringSaslIam;
  if (!iam) {
    throw new Error(`MSK cluster ${clusterArn} has no IAM bootstrap brokers; is IAM client authentication enabled?`);
  }
  logger.info('Cluster is ACTIVE', { clusterArn, bootstrapBrokers: iam });
  return { IsComplete: true, Data: { BootstrapBrokersSaslIam: iam } };
}
