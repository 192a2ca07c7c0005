import { Logger } from '@aws-lambda-powertools/logger';
import {
  DescribeClusterV2Command,
  GetBootstrapBrokersCommand,
  KafkaClient,
  ListNodesCommand,
  type NodeInfo,
} from '@aws-sdk/client-kafka';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { intEnv } from '../shared/env';
import { NEW_GRANT_RETRY_MS, retryWindow, retryWithin, type RetryWindow } from '../shared/retry';

/**
 * Custom resource that reads the cluster's IAM bootstrap brokers at deploy time, outside the VPC (no NAT gateway,
 * no endpoint). Properties: `ClusterArn`, and `ClusterVersion` so that it runs again whenever the cluster changes.
 * The answer is stable: from ListNodes, the lowest-numbered broker of each AZ, then the next ones up to three, sorted
 * by broker id; MSK Serverless (no nodes) answers its one GetBootstrapBrokers endpoint. docs/decisions.md has why.
 */
export interface ClusterEndpointData {
  /** `host:port` of up to three brokers' TLS + IAM listeners, sorted by broker id, comma-separated. */
  readonly BootstrapBrokersSaslIam: string;
}

interface OnEventResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: ClusterEndpointData;
}

/** How many brokers the bootstrap string names: MSK's advice, and enough to survive a broker and an AZ down. */
export const BOOTSTRAP_BROKER_COUNT = 3;

const logger = new Logger({ serviceName: 'hello-msk-cluster-endpoint' });
const kafka = new KafkaClient({});
// AUTHORIZATION_RETRY_MS shortens the window of refusals retried (tests of refusals), as in the topic bootstrap.
const authorizationRetryMs = intEnv('AUTHORIZATION_RETRY_MS', NEW_GRANT_RETRY_MS);

/** States in which MSK cannot name the brokers, or the cluster will never serve clients again. */
const UNUSABLE_STATES = ['CREATING', 'DELETING', 'FAILED'];

/** The failure CloudFormation shows: one line (the Provider framework adds the log group and a stack trace). */
export class ClusterEndpointError extends Error {
  constructor(message: string) {
    super(message.replace(/\s*[\r\n]+\s*/g, ' ').slice(0, 1000));
    this.name = 'ClusterEndpointError';
  }
}

function clusterArnOf(event: CloudFormationCustomResourceEvent): string {
  const arn = (event.ResourceProperties as Record<string, unknown>).ClusterArn;
  if (typeof arn !== 'string' || !arn.startsWith('arn:')) {
    throw new ClusterEndpointError(`ClusterArn ${JSON.stringify(arn)} is not an MSK cluster ARN`);
  }
  return arn;
}

export interface OnEventOptions {
  /** How long an AccessDeniedException is retried. @default AUTHORIZATION_RETRY_MS, else NEW_GRANT_RETRY_MS */
  readonly accessDeniedRetryMs?: number;
  /** First wait between retries, doubled up to 8 s. @default 1000 */
  readonly firstRetryDelayMs?: number;
}

/** Create and Update answer with the brokers; the physical id is the cluster ARN. Delete has nothing to undo. */
export async function onEvent(event: CloudFormationCustomResourceEvent): Promise<OnEventResponse> {
  return onEventWith(event);
}

/** `onEvent` with the retry timing supplied by the caller (tests). */
export async function onEventWith(
  event: CloudFormationCustomResourceEvent,
  options: OnEventOptions = {},
): Promise<OnEventResponse> {
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId };
  const clusterArn = clusterArnOf(event);
  const window = retryWindow(options.accessDeniedRetryMs ?? authorizationRetryMs, options.firstRetryDelayMs);
  const brokers = await bootstrapBrokers(clusterArn, window);
  logger.info(`Bootstrap brokers: ${brokers}`, { clusterArn });
  return { PhysicalResourceId: clusterArn, Data: { BootstrapBrokersSaslIam: brokers } };
}

/**
 * An MSK API call whose failure (access denied, throttling, a bad ARN) becomes one line naming the call. Access
 * denied is retried until the event's retry window closes, as IAM may not show this function's grant yet.
 */
async function call<T>(window: RetryWindow, clusterArn: string, what: string, request: () => Promise<T>): Promise<T> {
  const reasonOf = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  try {
    return await retryWithin(
      window,
      request,
      (error) => (error instanceof Error && error.name === 'AccessDeniedException' ? reasonOf(error) : undefined),
      (reason, delay) => logger.warn(`${what}: ${reason}; retrying in ${delay} ms (IAM may not show a new grant yet)`),
    );
  } catch (error) {
    throw new ClusterEndpointError(`MSK cluster ${clusterArn}: ${what} failed: ${reasonOf(error)}`);
  }
}

async function bootstrapBrokers(clusterArn: string, window: RetryWindow): Promise<string> {
  const { ClusterInfo } = await call(window, clusterArn, 'DescribeClusterV2', () =>
    kafka.send(new DescribeClusterV2Command({ ClusterArn: clusterArn })),
  );
  const state = ClusterInfo?.State ?? 'UNKNOWN';
  if (UNUSABLE_STATES.includes(state)) {
    const why = ClusterInfo?.StateInfo?.Message ?? ClusterInfo?.StateInfo?.Code ?? 'no reason given';
    throw new ClusterEndpointError(`MSK cluster ${clusterArn} is ${state}, not ACTIVE: ${why}`);
  }
  const { BootstrapBrokerStringSaslIam: iam } = await call(window, clusterArn, 'GetBootstrapBrokers', () =>
    kafka.send(new GetBootstrapBrokersCommand({ ClusterArn: clusterArn })),
  );
  if (!iam) {
    throw new ClusterEndpointError(
      `MSK cluster ${clusterArn} has no IAM bootstrap brokers; is IAM client authentication enabled?`,
    );
  }
  if (ClusterInfo?.ClusterType === 'SERVERLESS') return chooseBootstrapBrokers(iam, []);
  const nodes: NodeInfo[] = [];
  let nextToken: string | undefined;
  do {
    const page = await call(window, clusterArn, 'ListNodes', () =>
      kafka.send(new ListNodesCommand({ ClusterArn: clusterArn, NextToken: nextToken })),
    );
    nodes.push(...(page.NodeInfoList ?? []));
    nextToken = page.NextToken;
  } while (nextToken);
  return chooseBootstrapBrokers(iam, nodes);
}

interface Broker {
  readonly id: number;
  readonly host: string;
  readonly subnet: string;
}

/** `b-12.cluster.abc.c2.kafka.eu-west-1.amazonaws.com` -> 12, for hosts whose broker id is only in the name. */
function brokerNumber(host: string): number {
  const m = /^b-(\d+)\./.exec(host);
  return m ? Number(m[1]) : Number.MAX_SAFE_INTEGER;
}

function byIdThenHost(a: { id: number; host: string }, b: { id: number; host: string }): number {
  return a.id - b.id || (a.host < b.host ? -1 : a.host > b.host ? 1 : 0);
}

/** Everything after the first DNS label: the cluster's domain, shared by all its brokers. */
function domainOf(host: string): string {
  return host.slice(host.indexOf('.') + 1);
}

/**
 * The bootstrap string: from the brokers ListNodes describes, the lowest-numbered broker of each client
 * subnet (AZ), then the next lowest-numbered ones up to BOOTSTRAP_BROKER_COUNT, sorted by broker id, with the
 * port of the IAM listener from GetBootstrapBrokers. When ListNodes names no usable broker (or names hosts
 * outside the bootstrap string's domain), the GetBootstrapBrokers entries themselves, de-duplicated and sorted.
 */
export function chooseBootstrapBrokers(iamBootstrapBrokers: string, nodes: readonly NodeInfo[]): string {
  const listed = [
    ...new Set(
      iamBootstrapBrokers
        .split(',')
        .map((b) => b.trim())
        .filter(Boolean),
    ),
  ];
  const parsed = listed.map((entry) => {
    const i = entry.lastIndexOf(':');
    return { host: entry.slice(0, i), port: entry.slice(i + 1) };
  });
  const port = parsed[0]?.port;
  const domains = new Set(parsed.map((p) => domainOf(p.host)));

  const seen = new Set<string>();
  const brokers: Broker[] = [];
  for (const node of nodes) {
    const info = node.BrokerNodeInfo;
    const host = info?.Endpoints?.[0];
    if (!info || !host || info.BrokerId === undefined || seen.has(host)) continue;
    seen.add(host);
    brokers.push({ id: info.BrokerId, host, subnet: info.ClientSubnet ?? '' });
  }
  const usable = port !== undefined && brokers.length > 0 && brokers.every((b) => domains.has(domainOf(b.host)));
  if (!usable) {
    if (brokers.length > 0) {
      logger.warn('ListNodes names brokers outside the bootstrap string; using GetBootstrapBrokers as it is', {
        listNodes: brokers.map((b) => b.host),
        bootstrapBrokers: listed,
      });
    }
    return parsed
      .map((p) => ({ id: brokerNumber(p.host), host: p.host, entry: `${p.host}:${p.port}` }))
      .sort(byIdThenHost)
      .map((p) => p.entry)
      .join(',');
  }

  brokers.sort(byIdThenHost);
  const chosen = new Set<Broker>();
  const subnets = new Set<string>();
  for (const broker of brokers) {
    if (!subnets.has(broker.subnet)) {
      subnets.add(broker.subnet);
      chosen.add(broker);
    }
  }
  for (const broker of brokers) {
    if (chosen.size >= BOOTSTRAP_BROKER_COUNT) break;
    chosen.add(broker);
  }
  return [...chosen]
    .sort(byIdThenHost)
    .map((b) => `${b.host}:${port}`)
    .join(',');
}
