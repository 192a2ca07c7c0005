/**
 * The twin's AWS API endpoint, called with the AWS SDK for JavaScript v3 clients the functions use: answers in the
 * services' shapes, SigV4 checked against issued credentials, every call authorized by the caller role's policies.
 * No broker: the endpoint reads the credential registry and the policy set the brokers' services read.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DescribeAvailabilityZonesCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  DescribeClusterV2Command,
  GetBootstrapBrokersCommand,
  KafkaClient,
  ListClustersV2Command,
  ListNodesCommand,
} from '@aws-sdk/client-kafka';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { updatePolicySet, type TwinRolePolicies } from '../../src/authorization/policies';
import { startAwsApi, type AwsApiEndpoint } from '../../src/aws-api/server';
import { SERVED_APIS } from '../../src/aws-api/services';
import { CredentialIssuer, type IssuedCredentials } from '../../src/iam/credentials';
import { DEFAULT_TWIN_IDENTITY } from '../../src/identity';

const CLUSTER_ARN = 'arn:aws:kafka:us-east-1:111122223333:cluster/orders/7e1f0c2a-5b9d-4c3e-8f60-000000000001-1';
const ROLE = 'arn:aws:iam::111122223333:role/endpoint-role';
const NO_LIST_NODES = 'arn:aws:iam::111122223333:role/no-list-nodes';
const BROKERS = 'localhost:40001,localhost:40002,localhost:40003';

function role(roleArn: string, actions: string[]): TwinRolePolicies {
  return {
    roleArn,
    clusterArn: CLUSTER_ARN,
    policies: [
      {
        name: 'test',
        document: {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: actions.filter((a) => a.startsWith('kafka:')), Resource: CLUSTER_ARN },
            {
              Effect: 'Allow',
              Action: actions.filter((a) => a.startsWith('ssm:')),
              Resource: 'arn:aws:ssm:us-east-1:111122223333:parameter/orders/*',
            },
            { Effect: 'Allow', Action: actions.filter((a) => a.startsWith('ec2:')), Resource: '*' },
          ].filter((s) => s.Action.length > 0),
        },
      },
    ],
  };
}

let dir: string;
let api: AwsApiEndpoint;
let issuer: CredentialIssuer;
let refusals: string[];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aws-api-test-'));
  issuer = new CredentialIssuer(dir);
  await updatePolicySet(dir, [
    role(ROLE, [...SERVED_APIS]),
    role(NO_LIST_NODES, ['kafka:DescribeClusterV2', 'kafka:GetBootstrapBrokers']),
  ]);
  refusals = [];
  api = await startAwsApi({
    registryDir: dir,
    identity: DEFAULT_TWIN_IDENTITY,
    cluster: {
      arn: CLUSTER_ARN,
      name: 'orders',
      serverless: false,
      kafkaVersion: '3.9.x',
      instanceType: 'kafka.t3.small',
      bootstrapBrokersSaslIam: BROKERS,
      brokerIds: [1, 2, 3],
      azCount: 3,
    },
    log: (line) => refusals.push(line),
  });
});

afterAll(async () => {
  await api.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function credentialsOf(c: IssuedCredentials) {
  return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken };
}

function kafka(roleArn = ROLE, credentials = issuer.issue(roleArn, 900)): KafkaClient {
  return new KafkaClient({
    region: 'us-east-1',
    endpoint: api.url,
    credentials: credentialsOf(credentials),
    maxAttempts: 1,
  });
}

describe('MSK control plane', () => {
  test('DescribeClusterV2 answers the twin cluster, ACTIVE, provisioned, with IAM on', async () => {
    const { ClusterInfo } = await kafka().send(new DescribeClusterV2Command({ ClusterArn: CLUSTER_ARN }));
    expect(ClusterInfo).toMatchObject({
      ClusterArn: CLUSTER_ARN,
      ClusterName: 'orders',
      ClusterType: 'PROVISIONED',
      State: 'ACTIVE',
      Provisioned: {
        NumberOfBrokerNodes: 3,
        CurrentBrokerSoftwareInfo: { KafkaVersion: '3.9.x' },
        ClientAuthentication: { Sasl: { Iam: { Enabled: true } } },
      },
    });
    expect(ClusterInfo?.CreationTime).toBeInstanceOf(Date);
  });

  test('GetBootstrapBrokers answers the IAM listeners', async () => {
    const answer = await kafka().send(new GetBootstrapBrokersCommand({ ClusterArn: CLUSTER_ARN }));
    expect(answer.BootstrapBrokerStringSaslIam).toBe(BROKERS);
  });

  test('ListNodes pages through every broker, one client subnet per zone', async () => {
    const client = kafka();
    const first = await client.send(new ListNodesCommand({ ClusterArn: CLUSTER_ARN, MaxResults: 2 }));
    expect(first.NodeInfoList).toHaveLength(2);
    expect(first.NextToken).toBeDefined();
    const second = await client.send(
      new ListNodesCommand({ ClusterArn: CLUSTER_ARN, MaxResults: 2, NextToken: first.NextToken }),
    );
    expect(second.NextToken).toBeUndefined();
    const nodes = [...(first.NodeInfoList ?? []), ...(second.NodeInfoList ?? [])];
    expect(nodes.map((n) => n.BrokerNodeInfo?.BrokerId)).toEqual([1, 2, 3]);
    expect(new Set(nodes.map((n) => n.BrokerNodeInfo?.ClientSubnet)).size).toBe(3);
    expect(nodes[0]).toMatchObject({ NodeType: 'BROKER', InstanceType: 'kafka.t3.small' });
    expect(nodes[0].BrokerNodeInfo?.Endpoints?.[0]).toMatch(/^b-1\.orders\./);
  });

  test("another cluster's ARN is refused by the policy before it is looked up, as IAM decides first", async () => {
    const other = CLUSTER_ARN.replace('/orders/', '/other/');
    await expect(kafka().send(new DescribeClusterV2Command({ ClusterArn: other }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining(`kafka:DescribeClusterV2 on resource: ${other} `),
    });
  });

  test('a role without kafka:ListNodes gets AccessDeniedException naming the action, as AWS words it', async () => {
    const call = kafka(NO_LIST_NODES).send(new ListNodesCommand({ ClusterArn: CLUSTER_ARN }));
    await expect(call).rejects.toMatchObject({
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 403 },
      message: expect.stringMatching(
        /^User: arn:aws:sts::111122223333:assumed-role\/no-list-nodes\/TWIN\w+ is not authorized to perform: kafka:ListNodes on resource: arn:aws:kafka:us-east-1:111122223333:cluster\/orders\/\S+ because no identity-based policy allows the kafka:ListNodes action$/,
      ),
    });
    expect(refusals.some((line) => line.includes('kafka:ListNodes refused') && line.includes('implicit deny'))).toBe(
      true,
    );
    // The same role's other grants still answer.
    await expect(
      kafka(NO_LIST_NODES).send(new GetBootstrapBrokersCommand({ ClusterArn: CLUSTER_ARN })),
    ).resolves.toMatchObject({ BootstrapBrokerStringSaslIam: BROKERS });
  });

  test('an API the twin does not serve fails in one line naming it', async () => {
    await expect(kafka().send(new ListClustersV2Command({}))).rejects.toMatchObject({
      name: 'UnknownOperationException',
      message: expect.stringMatching(
        /^The MSK twin does not serve kafka:ListClustersV2; its AWS API endpoint answers kafka:DescribeClusterV2, /,
      ),
    });
  });
});

describe('signatures', () => {
  test('credentials the twin never issued are refused', async () => {
    const forged = { ...issuer.issue(ROLE, 900), accessKeyId: 'TWINAAAAAAAAAAAAAAAA' };
    await expect(
      kafka(ROLE, forged).send(new GetBootstrapBrokersCommand({ ClusterArn: CLUSTER_ARN })),
    ).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
  });

  test('a wrong secret does not match the signature', async () => {
    const wrong = { ...issuer.issue(ROLE, 900), secretAccessKey: 'twin-secret-wrong' };
    await expect(
      kafka(ROLE, wrong).send(new GetBootstrapBrokersCommand({ ClusterArn: CLUSTER_ARN })),
    ).rejects.toMatchObject({ name: 'SignatureDoesNotMatch' });
  });

  test('expired and revoked credentials are refused', async () => {
    const expiring = issuer.issue(ROLE, 1);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await expect(
      kafka(ROLE, expiring).send(new GetBootstrapBrokersCommand({ ClusterArn: CLUSTER_ARN })),
    ).rejects.toMatchObject({ name: 'ExpiredToken' });
    const revoked = issuer.issue(ROLE, 900);
    issuer.revoke(revoked.accessKeyId);
    await expect(
      kafka(ROLE, revoked).send(new GetBootstrapBrokersCommand({ ClusterArn: CLUSTER_ARN })),
    ).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
  });

  test('an unsigned request is refused', async () => {
    const response = await fetch(`${api.url}/v1/clusters/${encodeURIComponent(CLUSTER_ARN)}/bootstrap-brokers`);
    expect(response.status).toBe(403);
    expect(response.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationToken');
  });
});

describe('EC2', () => {
  test('DescribeAvailabilityZones answers the region zones, filtered as asked', async () => {
    const ec2 = new EC2Client({
      region: 'us-east-1',
      endpoint: api.url,
      credentials: credentialsOf(issuer.issue(ROLE, 900)),
    });
    const { AvailabilityZones } = await ec2.send(
      new DescribeAvailabilityZonesCommand({
        Filters: [
          { Name: 'zone-type', Values: ['availability-zone'] },
          { Name: 'state', Values: ['available'] },
        ],
      }),
    );
    expect(AvailabilityZones?.map((z) => z.ZoneName)).toEqual([
      'us-east-1a',
      'us-east-1b',
      'us-east-1c',
      'us-east-1d',
      'us-east-1e',
      'us-east-1f',
    ]);
    expect(AvailabilityZones?.[2]).toMatchObject({ ZoneId: 'use1-az3', State: 'available', RegionName: 'us-east-1' });
  });

  test('a role without ec2:DescribeAvailabilityZones gets UnauthorizedOperation', async () => {
    const ec2 = new EC2Client({
      region: 'us-east-1',
      endpoint: api.url,
      credentials: credentialsOf(issuer.issue(NO_LIST_NODES, 900)),
    });
    await expect(ec2.send(new DescribeAvailabilityZonesCommand({}))).rejects.toMatchObject({
      name: 'UnauthorizedOperation',
      message: expect.stringContaining('is not authorized to perform: ec2:DescribeAvailabilityZones'),
    });
  });
});

/** SSM's awsJson1_1 call, signed by the SDK's signer (the project has no SSM client; functions bundle their own). */
async function ssm(roleArn: string, target: string, input: Record<string, unknown>) {
  const credentials = credentialsOf(issuer.issue(roleArn, 900));
  const url = new URL(api.url);
  const signer = new SignatureV4({ credentials, region: 'us-east-1', service: 'ssm', sha256: Sha256 });
  const signed = await signer.sign({
    method: 'POST',
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: '/',
    headers: {
      host: url.host,
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AmazonSSM.${target}`,
    },
    body: JSON.stringify(input),
  });
  const response = await fetch(api.url, {
    method: 'POST',
    headers: signed.headers,
    body: JSON.stringify(input),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('SSM parameters', () => {
  test('PutParameter, GetParameter, DeleteParameter, then ParameterNotFound', async () => {
    const name = '/orders/bootstrap-brokers';
    expect(await ssm(ROLE, 'PutParameter', { Name: name, Value: BROKERS, Type: 'String' })).toMatchObject({
      status: 200,
      body: { Version: 1 },
    });
    expect(api.parameter(name)).toBe(BROKERS);
    expect(await ssm(ROLE, 'GetParameter', { Name: name })).toMatchObject({
      status: 200,
      body: { Parameter: { Name: name, Value: BROKERS, Type: 'String', Version: 1 } },
    });
    expect(await ssm(ROLE, 'PutParameter', { Name: name, Value: 'x:1' })).toMatchObject({
      status: 400,
      body: { __type: 'ParameterAlreadyExists' },
    });
    expect(await ssm(ROLE, 'DeleteParameter', { Name: name })).toMatchObject({ status: 200 });
    expect(await ssm(ROLE, 'GetParameter', { Name: name })).toMatchObject({
      status: 400,
      body: { __type: 'ParameterNotFound' },
    });
  });

  test('a parameter outside the policy is AccessDeniedException on its ARN', async () => {
    api.putParameter('/other/p', 'v');
    expect(await ssm(ROLE, 'GetParameter', { Name: '/other/p' })).toMatchObject({
      status: 400,
      body: {
        __type: 'AccessDeniedException',
        message: expect.stringContaining(
          'is not authorized to perform: ssm:GetParameter on resource: arn:aws:ssm:us-east-1:111122223333:parameter/other/p because no identity-based policy allows the ssm:GetParameter action',
        ),
      },
    });
  });

  test('an SSM API the twin does not serve names itself', async () => {
    expect(await ssm(ROLE, 'GetParametersByPath', { Path: '/orders' })).toMatchObject({
      status: 400,
      body: {
        __type: 'UnknownOperationException',
        message: expect.stringContaining('does not serve ssm:GetParametersByPath'),
      },
    });
  });
});
