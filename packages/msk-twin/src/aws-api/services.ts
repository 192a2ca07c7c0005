/**
 * The AWS APIs the twin's endpoint answers, in each service's wire protocol and response shape (checked against the
 * AWS SDK for JavaScript v3's models: @aws-sdk/client-kafka's restJson1 `jsonName`s, SSM's awsJson1_1, EC2's query
 * protocol), with the twin's own cluster, brokers, zones and SSM parameters. Each operation names the IAM action and
 * resource it is authorized as (the Service Authorization Reference's resource types).
 */
import type { TwinIdentity } from '../identity';
import { TWIN_CLUSTER_CURRENT_VERSION } from '../assembly/assembly';

/** What the twin's endpoint knows of its cluster. */
export interface AwsApiCluster {
  readonly arn: string;
  readonly name: string;
  readonly serverless: boolean;
  readonly kafkaVersion: string;
  readonly instanceType: string;
  /** `BootstrapBrokerStringSaslIam`: the twin's IAM listeners. */
  readonly bootstrapBrokersSaslIam: string;
  /** Broker ids, 1-based as MSK numbers them. */
  readonly brokerIds: readonly number[];
  /** How many availability zones the brokers spread over (client subnets). */
  readonly azCount: number;
  readonly tags?: Readonly<Record<string, string>>;
}

/** An SSM String parameter, as the twin's store keeps it. */
export interface StoredParameter {
  readonly value: string;
  readonly type: string;
  readonly version: number;
  readonly lastModified: Date;
}

export interface ApiState {
  readonly identity: TwinIdentity;
  readonly cluster: AwsApiCluster;
  readonly parameters: Map<string, StoredParameter>;
}

/** An error in the service's own terms: its code (e.g. `ParameterNotFound`), HTTP status and message. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}

/** One operation of a request, before it is authorized and answered. */
export interface Operation {
  /** `kafka:ListNodes`, `ssm:GetParameter`: the API's name and its IAM action. */
  readonly action: string;
  /** The IAM resource the call is authorized on. */
  readonly resource: string;
  /** The answer: a JSON object (kafka, ssm) or the EC2 query protocol's XML. */
  readonly answer: () => unknown;
}

// ---------------------------------------------------------------------------------------------------------
// Availability zones
// ---------------------------------------------------------------------------------------------------------

/** `us-east-1` -> `use1`, `eu-west-1` -> `euw1`: the prefix of AWS's AZ IDs. */
function zoneIdPrefix(region: string): string {
  const [area, direction, number] = region.split('-');
  const short: Record<string, string> = { southeast: 'se', northeast: 'ne', northwest: 'nw', southwest: 'sw' };
  return `${area}${short[direction] ?? direction?.[0] ?? ''}${number ?? ''}`;
}

/** How many zones the twin's region has: six, as us-east-1 (enough for MSK's three after use1-az3 is left out). */
export const TWIN_ZONE_COUNT = 6;

export interface TwinZone {
  readonly name: string;
  readonly id: string;
}

/** The twin region's availability zones: `<region>a` to `<region>f`, IDs `<prefix>-az1` to `-az6`. */
export function twinZones(region: string): TwinZone[] {
  return Array.from({ length: TWIN_ZONE_COUNT }, (_, i) => ({
    name: `${region}${String.fromCharCode(97 + i)}`,
    id: `${zoneIdPrefix(region)}-az${i + 1}`,
  }));
}

/** The zones of the brokers' client subnets: the first `azCount` zones MSK accepts (use1-az3 it refuses). */
export function brokerZones(region: string, azCount: number): TwinZone[] {
  return twinZones(region)
    .filter((z) => z.id !== 'use1-az3')
    .slice(0, Math.max(1, azCount));
}

// ---------------------------------------------------------------------------------------------------------
// MSK (kafka): restJson1
// ---------------------------------------------------------------------------------------------------------

/** A broker's MSK-shaped DNS name; the twin's brokers listen on 127.0.0.1, so nothing resolves these. */
function brokerHost(cluster: AwsApiCluster, id: number, region: string): string {
  return `b-${id}.${cluster.name}.twin.c1.kafka.${region}.amazonaws.com`;
}

function notThisCluster(arn: string): ApiError {
  return new ApiError('NotFoundException', 404, `The requested resource ${arn} was not found.`);
}

function describeClusterV2(state: ApiState, arn: string): unknown {
  const { cluster, identity } = state;
  if (arn !== cluster.arn) throw notThisCluster(arn);
  const zones = brokerZones(identity.region, cluster.azCount);
  const common = {
    clusterArn: cluster.arn,
    clusterName: cluster.name,
    creationTime: new Date(0).toISOString(),
    currentVersion: TWIN_CLUSTER_CURRENT_VERSION,
    state: 'ACTIVE',
    tags: cluster.tags ?? {},
  };
  if (cluster.serverless) {
    return {
      clusterInfo: {
        ...common,
        clusterType: 'SERVERLESS',
        serverless: {
          vpcConfigs: [{ subnetIds: zones.map((z) => `subnet-twin-${z.id}`), securityGroupIds: [] }],
          clientAuthentication: { sasl: { iam: { enabled: true } } },
        },
      },
    };
  }
  return {
    clusterInfo: {
      ...common,
      clusterType: 'PROVISIONED',
      provisioned: {
        brokerNodeGroupInfo: {
          brokerAZDistribution: 'DEFAULT',
          clientSubnets: zones.map((z) => `subnet-twin-${z.id}`),
          instanceType: cluster.instanceType,
          securityGroups: [],
          zoneIds: zones.map((z) => z.id),
        },
        currentBrokerSoftwareInfo: { kafkaVersion: cluster.kafkaVersion },
        clientAuthentication: { sasl: { iam: { enabled: true }, scram: { enabled: false } } },
        encryptionInfo: { encryptionInTransit: { clientBroker: 'TLS', inCluster: true } },
        enhancedMonitoring: 'DEFAULT',
        numberOfBrokerNodes: cluster.brokerIds.length,
        storageMode: 'LOCAL',
      },
    },
  };
}

/** ListNodes pages: MaxResults 1 to 100, the NextToken an opaque offset. */
function listNodes(state: ApiState, arn: string, query: URLSearchParams): unknown {
  const { cluster, identity } = state;
  if (arn !== cluster.arn) throw notThisCluster(arn);
  if (cluster.serverless) {
    throw new ApiError('BadRequestException', 400, 'This operation cannot be performed on serverless clusters.');
  }
  const max = query.get('maxResults') === null ? 10 : Number(query.get('maxResults'));
  if (!Number.isInteger(max) || max < 1 || max > 100) {
    throw new ApiError('BadRequestException', 400, `maxResults ${query.get('maxResults')} is not between 1 and 100.`);
  }
  const start =
    query.get('nextToken') === null ? 0 : Number(Buffer.from(query.get('nextToken') ?? '', 'base64url').toString());
  if (!Number.isInteger(start) || start < 0 || start > cluster.brokerIds.length) {
    throw new ApiError('BadRequestException', 400, 'The nextToken is not valid.');
  }
  const zones = brokerZones(identity.region, cluster.azCount);
  const page = cluster.brokerIds.slice(start, start + max).map((id) => {
    const zone = zones[(id - 1) % zones.length];
    return {
      addedToClusterTime: new Date(0).toISOString(),
      brokerNodeInfo: {
        attachedENIId: `eni-twin${String(id).padStart(13, '0')}`,
        brokerId: id,
        clientSubnet: `subnet-twin-${zone.id}`,
        clientVpcIpAddress: '127.0.0.1',
        currentBrokerSoftwareInfo: { kafkaVersion: cluster.kafkaVersion },
        endpoints: [brokerHost(cluster, id, identity.region)],
      },
      instanceType: cluster.instanceType,
      nodeARN: `arn:${identity.partition}:kafka:${identity.region}:${identity.account}:broker/${cluster.arn.replace(/^.*:cluster\//, '')}/${id}`,
      nodeType: 'BROKER',
    };
  });
  const next =
    start + max < cluster.brokerIds.length ? Buffer.from(String(start + max)).toString('base64url') : undefined;
  return { nodeInfoList: page, ...(next ? { nextToken: next } : {}) };
}

function getBootstrapBrokers(state: ApiState, arn: string): unknown {
  if (arn !== state.cluster.arn) throw notThisCluster(arn);
  // The twin's clusters have only the IAM listener a function may use (MSK Serverless: one endpoint, also this).
  return { bootstrapBrokerStringSaslIam: state.cluster.bootstrapBrokersSaslIam };
}

const KAFKA_ROUTES: {
  method: string;
  path: RegExp;
  name: string;
  answer?: (s: ApiState, arn: string, q: URLSearchParams) => unknown;
}[] = [
  { method: 'GET', path: /^\/api\/v2\/clusters\/([^/]+)$/, name: 'DescribeClusterV2', answer: describeClusterV2 },
  { method: 'GET', path: /^\/v1\/clusters\/([^/]+)\/nodes$/, name: 'ListNodes', answer: listNodes },
  {
    method: 'GET',
    path: /^\/v1\/clusters\/([^/]+)\/bootstrap-brokers$/,
    name: 'GetBootstrapBrokers',
    answer: getBootstrapBrokers,
  },
  // Named so that a call of them fails naming the API; the twin does not answer them.
  { method: 'GET', path: /^\/v1\/clusters\/([^/]+)$/, name: 'DescribeCluster' },
  { method: 'GET', path: /^\/api\/v2\/clusters$/, name: 'ListClustersV2' },
  { method: 'GET', path: /^\/v1\/clusters$/, name: 'ListClusters' },
  { method: 'GET', path: /^\/v1\/clusters\/([^/]+)\/topics$/, name: 'ListTopics' },
];

/** The Kafka control-plane operation of a restJson1 request. */
export function kafkaOperation(state: ApiState, method: string, url: string): Operation {
  const [rawPath, rawQuery = ''] = url.split('?');
  for (const route of KAFKA_ROUTES) {
    const m = route.path.exec(rawPath);
    if (!m || route.method !== method) continue;
    const arn = m[1] === undefined ? '*' : decodeURIComponent(m[1]);
    const answer = route.answer;
    if (!answer) throw notServed(`kafka:${route.name}`);
    return {
      action: `kafka:${route.name}`,
      resource: arn,
      answer: () => answer(state, arn, new URLSearchParams(rawQuery)),
    };
  }
  throw notServed(`kafka (${method} ${rawPath})`);
}

// ---------------------------------------------------------------------------------------------------------
// SSM: awsJson1_1
// ---------------------------------------------------------------------------------------------------------

function parameterArn(identity: TwinIdentity, name: string): string {
  return `arn:${identity.partition}:ssm:${identity.region}:${identity.account}:parameter/${name.replace(/^\//, '')}`;
}

function parameterOf(identity: TwinIdentity, name: string, stored: StoredParameter): Record<string, unknown> {
  return {
    ARN: parameterArn(identity, name),
    DataType: 'text',
    LastModifiedDate: stored.lastModified.getTime() / 1000,
    Name: name,
    Type: stored.type,
    Value: stored.value,
    Version: stored.version,
  };
}

/** Creates or replaces a parameter, as PutParameter with Overwrite does; answers its new version. */
export function storeParameter(
  parameters: Map<string, StoredParameter>,
  name: string,
  value: string,
  type: StoredParameter['type'],
): number {
  const version = (parameters.get(name)?.version ?? 0) + 1;
  parameters.set(name, { value, type, version, lastModified: new Date() });
  return version;
}

/** The SSM operation of an awsJson1_1 request (`X-Amz-Target: AmazonSSM.GetParameter`). */
export function ssmOperation(state: ApiState, target: string | undefined, body: Buffer): Operation {
  const name = (target ?? '').replace(/^AmazonSSM\./, '');
  let input: Record<string, unknown>;
  try {
    input = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
  } catch {
    throw new ApiError('SerializationException', 400, 'The request body is not JSON.');
  }
  const parameterName = typeof input.Name === 'string' ? input.Name : '';
  const resource = parameterArn(state.identity, parameterName);
  const missing = () => new ApiError('ParameterNotFound', 400, `Parameter ${parameterName} not found.`);
  switch (name) {
    case 'GetParameter':
      return {
        action: 'ssm:GetParameter',
        resource,
        answer: () => {
          const stored = state.parameters.get(parameterName);
          if (!stored) throw missing();
          return { Parameter: parameterOf(state.identity, parameterName, stored) };
        },
      };
    case 'PutParameter':
      return {
        action: 'ssm:PutParameter',
        resource,
        answer: () => {
          const before = state.parameters.get(parameterName);
          if (before && input.Overwrite !== true) {
            throw new ApiError(
              'ParameterAlreadyExists',
              400,
              'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.',
            );
          }
          const type = typeof input.Type === 'string' ? input.Type : (before?.type ?? 'String');
          if (type !== 'String' && type !== 'StringList') {
            throw new ApiError(
              'UnsupportedParameterType',
              400,
              `The twin stores String and StringList parameters, not ${type}.`,
            );
          }
          if (typeof input.Value !== 'string' || input.Value === '') {
            throw new ApiError(
              'ValidationException',
              400,
              "1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1",
            );
          }
          return { Tier: 'Standard', Version: storeParameter(state.parameters, parameterName, input.Value, type) };
        },
      };
    case 'DeleteParameter':
      return {
        action: 'ssm:DeleteParameter',
        resource,
        answer: () => {
          if (!state.parameters.delete(parameterName)) throw missing();
          return {};
        },
      };
    default:
      throw notServed(`ssm:${name || '(no X-Amz-Target)'}`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// EC2: the query protocol
// ---------------------------------------------------------------------------------------------------------

const EC2_NAMESPACE = 'http://ec2.amazonaws.com/doc/2016-11-15/';

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** `Filter.1.Name=zone-type&Filter.1.Value.1=availability-zone` -> `{ 'zone-type': ['availability-zone'] }`. */
function ec2Filters(form: URLSearchParams): Map<string, string[]> {
  const filters = new Map<string, string[]>();
  for (const [key, value] of form) {
    const m = /^Filter\.(\d+)\.Name$/.exec(key);
    if (!m) continue;
    const values: string[] = [];
    for (let i = 1; form.has(`Filter.${m[1]}.Value.${i}`); i++)
      values.push(form.get(`Filter.${m[1]}.Value.${i}`) ?? '');
    filters.set(value, values);
  }
  return filters;
}

function describeAvailabilityZones(state: ApiState, form: URLSearchParams): string {
  const region = state.identity.region;
  const filters = ec2Filters(form);
  const known = ['zone-type', 'state', 'zone-name', 'zone-id', 'region-name', 'opt-in-status'];
  const unknown = [...filters.keys()].filter((k) => !known.includes(k));
  if (unknown.length > 0) {
    throw new ApiError('InvalidParameterValue', 400, `The filter '${unknown[0]}' is invalid`);
  }
  const zones = twinZones(region).filter((z) => {
    const fields: Record<string, string> = {
      'zone-type': 'availability-zone',
      state: 'available',
      'zone-name': z.name,
      'zone-id': z.id,
      'region-name': region,
      'opt-in-status': 'opt-in-not-required',
    };
    return [...filters].every(([key, values]) => values.includes(fields[key]));
  });
  const items = zones
    .map(
      (z) =>
        `<item><zoneState>available</zoneState><optInStatus>opt-in-not-required</optInStatus><messageSet/>` +
        `<regionName>${xml(region)}</regionName><zoneName>${xml(z.name)}</zoneName><zoneId>${xml(z.id)}</zoneId>` +
        `<groupName>${xml(region)}-zg-1</groupName><networkBorderGroup>${xml(region)}</networkBorderGroup>` +
        `<zoneType>availability-zone</zoneType></item>`,
    )
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<DescribeAvailabilityZonesResponse xmlns="${EC2_NAMESPACE}"><requestId>REQUEST_ID</requestId><availabilityZoneInfo>${items}</availabilityZoneInfo></DescribeAvailabilityZonesResponse>`;
}

/** The EC2 operation of a query-protocol request (`Action=DescribeAvailabilityZones&Version=…`). */
export function ec2Operation(state: ApiState, body: Buffer): Operation {
  const form = new URLSearchParams(body.toString('utf8'));
  const action = form.get('Action') ?? '(no Action)';
  if (action !== 'DescribeAvailabilityZones') throw notServed(`ec2:${action}`);
  return {
    action: 'ec2:DescribeAvailabilityZones',
    resource: '*',
    answer: () => describeAvailabilityZones(state, form),
  };
}

// ---------------------------------------------------------------------------------------------------------

/** The APIs the endpoint answers, for messages and docs. */
export const SERVED_APIS = [
  'kafka:DescribeClusterV2',
  'kafka:ListNodes',
  'kafka:GetBootstrapBrokers',
  'ssm:GetParameter',
  'ssm:PutParameter',
  'ssm:DeleteParameter',
  'ec2:DescribeAvailabilityZones',
];

/** The one-line refusal of a call the twin does not answer. */
export function notServed(api: string): ApiError {
  return new ApiError(
    'UnknownOperationException',
    400,
    `The MSK twin does not serve ${api}; its AWS API endpoint answers ${SERVED_APIS.join(', ')}`,
  );
}
