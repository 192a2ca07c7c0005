/**
 * The twin decides every Kafka request of an IAM role by evaluating the role's policies, as MSK does: each test
 * below is a request MSK refuses, on real brokers. The twin runs in another partition and region (aws-us-gov,
 * us-gov-west-1) so that every ARN, the sign-in token's region and the policies' ARNs must agree on them.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import {
  type CfnTemplate,
  type CloudAssemblyView,
  describeTwinApp,
  LocalTwin,
  MissingPolicyDocumentError,
  policiesOf,
  startTwin,
  startTwinApp,
  type TwinIdentity,
  type TwinRolePolicies,
} from 'msk-twin';

const IDENTITY: TwinIdentity = { partition: 'aws-us-gov', account: '444455556666', region: 'us-gov-west-1' };
const RUN = randomUUID().slice(0, 8);
const CLUSTER_NAME = 'iam-eval';
const EXTERNAL_POLICY = `arn:aws-us-gov:iam::${IDENTITY.account}:policy/outside-the-app`;

let twin: LocalTwin;

beforeAll(async () => {
  twin = await startTwin({ brokers: 1, identity: IDENTITY });
  await twin.withAdmin((admin) =>
    admin.createTopics({
      topics: ['orders', 'allowed-1', 'denied-1', 'open-1', 'secret-1'].map((name) => ({
        topic: `${name}-${RUN}`,
        numPartitions: 1,
      })),
    }),
  );
}, 180_000);

afterAll(async () => {
  await twin?.stop();
}, 60_000);

const topic = (name: string) => `${name}-${RUN}`;
const roleArn = (name: string) => `arn:aws-us-gov:iam::${IDENTITY.account}:role/${name}-${RUN}`;

/** Produces one message as `role`; 'ok', or the Kafka error type (or message) that refused it. */
async function produce(role: string, to: string, idempotent = false): Promise<string> {
  const kafka = new Kafka({
    ...twin.clientConfig(twin.issueCredentials(role, 600)),
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  });
  // kafkajs wants retries for an idempotent producer; an authorization failure is not retried.
  const producer = kafka.producer({
    idempotent,
    maxInFlightRequests: idempotent ? 1 : undefined,
    retry: { retries: idempotent ? 1 : 0 },
  });
  try {
    await producer.connect();
    await producer.send({ topic: to, acks: -1, messages: [{ value: 'Hello MSK' }] });
    return 'ok';
  } catch (error) {
    const e = error as { type?: string; message: string; cause?: { type?: string } };
    return e.cause?.type ?? e.type ?? e.message;
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}

describe('an idempotent producer (kafkajs idempotent: true)', () => {
  const role = roleArn('idempotent');
  const policies = (statements: Record<string, unknown>[]): TwinRolePolicies[] => [
    {
      roleArn: role,
      clusterArn: twin.clusterArn,
      policies: [{ name: 'test', document: { Version: '2012-10-17', Statement: statements } }],
    },
  ];
  const topicArn = (name: string) => `${twin.clusterArn.replace(':cluster/', ':topic/')}/${name}`;
  const base = () => [
    { Effect: 'Allow', Action: 'kafka-cluster:Connect', Resource: twin.clusterArn },
    { Effect: 'Allow', Action: 'kafka-cluster:DescribeTopic', Resource: topicArn(topic('orders')) },
  ];

  test('is refused with WriteData on its topic but without WriteDataIdempotently', async () => {
    await twin.setPolicies(
      policies([
        ...base(),
        { Effect: 'Allow', Action: 'kafka-cluster:WriteData', Resource: topicArn(topic('orders')) },
      ]),
    );
    expect(await produce(role, topic('orders'))).toBe('ok');
    expect(await produce(role, topic('orders'), true)).toBe('CLUSTER_AUTHORIZATION_FAILED');
  }, 60_000);

  test('produces with WriteDataIdempotently on the cluster', async () => {
    await twin.setPolicies(
      policies([
        ...base(),
        { Effect: 'Allow', Action: 'kafka-cluster:WriteData', Resource: topicArn(topic('orders')) },
        { Effect: 'Allow', Action: 'kafka-cluster:WriteDataIdempotently', Resource: twin.clusterArn },
      ]),
    );
    expect(await produce(role, topic('orders'), true)).toBe('ok');
  }, 60_000);

  test('produces with WriteData on every topic (topic/<cluster>/<uuid>/*), and not with a prefix of them', async () => {
    await twin.setPolicies(
      policies([...base(), { Effect: 'Allow', Action: 'kafka-cluster:WriteData', Resource: topicArn('*') }]),
    );
    expect(await produce(role, topic('orders'), true)).toBe('ok');
    await twin.setPolicies(
      policies([...base(), { Effect: 'Allow', Action: 'kafka-cluster:WriteData', Resource: topicArn('orders-*') }]),
    );
    expect(await produce(role, topic('orders'), true)).toBe('CLUSTER_AUTHORIZATION_FAILED');
  }, 60_000);

  test('needs DescribeTopic beside WriteData: MSK implies nothing', async () => {
    await twin.setPolicies(
      policies([
        { Effect: 'Allow', Action: 'kafka-cluster:Connect', Resource: twin.clusterArn },
        { Effect: 'Allow', Action: 'kafka-cluster:WriteData', Resource: topicArn(topic('orders')) },
      ]),
    );
    expect(await produce(role, topic('orders'))).toBe('TOPIC_AUTHORIZATION_FAILED');
  }, 60_000);
});

describe("an app's policies", () => {
  const policyArn = (name: string) => `arn:aws-us-gov:iam::${IDENTITY.account}:policy/${name}-${RUN}`;
  const cluster = `arn:aws-us-gov:kafka:us-gov-west-1:${IDENTITY.account}:cluster/${CLUSTER_NAME}/*`;
  const topics = (pattern: string) =>
    `arn:aws-us-gov:kafka:us-gov-west-1:${IDENTITY.account}:topic/${CLUSTER_NAME}/*/${pattern}`;
  const produceStatements = (resource: string) => [
    { Effect: 'Allow', Action: 'kafka-cluster:Connect', Resource: cluster },
    { Effect: 'Allow', Action: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'], Resource: resource },
  ];
  const fn = (role: string) => ({
    Type: 'AWS::Lambda::Function',
    Properties: { Handler: 'index.handler', Role: { 'Fn::GetAtt': [role, 'Arn'] } },
  });
  const role = (name: string, properties: Record<string, unknown>) => ({
    Type: 'AWS::IAM::Role',
    Properties: { RoleName: `${name}-${RUN}`, ...properties },
  });
  const inline = (statements: unknown[]) => [
    { PolicyName: 'inline', PolicyDocument: { Version: '2012-10-17', Statement: statements } },
  ];
  const template: CfnTemplate = {
    Resources: {
      Cluster: { Type: 'AWS::MSK::Cluster', Properties: { ClusterName: CLUSTER_NAME, Tags: { env: 'test' } } },
      DenyRole: role('deny', { Policies: inline(produceStatements(topics('*'))) }),
      DenyWrites: {
        Type: 'AWS::IAM::ManagedPolicy',
        Properties: {
          ManagedPolicyName: `deny-writes-${RUN}`,
          Roles: [{ Ref: 'DenyRole' }],
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Deny', Action: 'kafka-cluster:WriteData', Resource: topics('denied-*') }],
          },
        },
      },
      BoundedRole: role('bounded', {
        Policies: inline([{ Effect: 'Allow', Action: 'kafka-cluster:*', Resource: '*' }]),
        PermissionsBoundary: { Ref: 'Boundary' },
      }),
      Boundary: {
        Type: 'AWS::IAM::ManagedPolicy',
        Properties: {
          ManagedPolicyName: `boundary-${RUN}`,
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Action: ['kafka-cluster:Connect', 'kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'],
                Resource: '*',
              },
            ],
          },
        },
      },
      NotRole: role('not', {
        Policies: inline([
          { Effect: 'Allow', NotAction: 'kafka-cluster:Write*', Resource: '*' },
          { Effect: 'Allow', Action: 'kafka-cluster:Write?ata', NotResource: topics('secret-*') },
        ]),
      }),
      TaggedRole: role('tagged', {
        Policies: inline([
          {
            Effect: 'Allow',
            Action: 'kafka-cluster:Connect',
            Resource: cluster,
            Condition: { StringEquals: { 'aws:ResourceTag/env': 'test' } },
          },
          {
            Effect: 'Allow',
            Action: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'],
            Resource: topics('*'),
          },
        ]),
      }),
      OtherTagRole: role('other-tag', {
        Policies: inline([
          {
            Effect: 'Allow',
            Action: 'kafka-cluster:Connect',
            Resource: cluster,
            Condition: { StringEquals: { 'aws:ResourceTag/env': 'prod' } },
          },
          {
            Effect: 'Allow',
            Action: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'],
            Resource: topics('*'),
          },
        ]),
      }),
      ExternalRole: role('external', {
        ManagedPolicyArns: [EXTERNAL_POLICY, 'arn:aws-us-gov:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
      }),
      DenyFn: fn('DenyRole'),
      BoundedFn: fn('BoundedRole'),
      NotFn: fn('NotRole'),
      TaggedFn: fn('TaggedRole'),
      OtherTagFn: fn('OtherTagRole'),
      ExternalFn: fn('ExternalRole'),
    },
  };
  const view: CloudAssemblyView = {
    dir: '(in memory)',
    stacks: [{ name: 'IamEval', template, metadata: {}, fileAssets: {} }],
  };
  const externalDocument = { Version: '2012-10-17', Statement: produceStatements(topics('*')) };
  const app = () => describeTwinApp(view, IDENTITY);

  beforeAll(async () => {
    await twin.setPolicies(policiesOf(app(), { policyDocuments: { [EXTERNAL_POLICY]: externalDocument } }));
  });

  test('resolve to the twin partition, account and region', () => {
    expect(app().cluster.arn).toMatch(/^arn:aws-us-gov:kafka:us-gov-west-1:444455556666:cluster\/iam-eval\//);
    expect(policyArn('deny-writes')).toBe(`arn:aws-us-gov:iam::444455556666:policy/deny-writes-${RUN}`);
  });

  test("an explicit Deny in a customer managed policy of the app refuses what the role's inline policy allows", async () => {
    expect(await produce(roleArn('deny'), topic('allowed-1'))).toBe('ok');
    expect(await produce(roleArn('deny'), topic('denied-1'))).toBe('TOPIC_AUTHORIZATION_FAILED');
  }, 60_000);

  test('a permissions boundary that omits WriteData refuses it, though the role allows kafka-cluster:*', async () => {
    expect(await produce(roleArn('bounded'), topic('orders'))).toBe('TOPIC_AUTHORIZATION_FAILED');
    const lines = twin.cluster.brokers.flatMap((b) => fs.readFileSync(b.logFile, 'utf8').split('\n'));
    expect(
      lines.some((l) => l.includes(roleArn('bounded')) && l.includes('not allowed by the permissions boundary')),
    ).toBe(true);
  }, 60_000);

  test('NotAction, NotResource and wildcards in actions select what MSK would', async () => {
    expect(await produce(roleArn('not'), topic('open-1'))).toBe('ok');
    expect(await produce(roleArn('not'), topic('secret-1'))).toBe('TOPIC_AUTHORIZATION_FAILED');
  }, 60_000);

  test("a Condition on the cluster's tags (aws:ResourceTag) allows or refuses the sign-in", async () => {
    expect(await produce(roleArn('tagged'), topic('orders'))).toBe('ok');
    expect(await produce(roleArn('other-tag'), topic('orders'))).toMatch(/\[[0-9a-f-]{36}\]: Access denied/);
  }, 60_000);

  test('a managed policy outside the app stops the start naming it, and counts once its document is supplied', async () => {
    const message = `Role ${roleArn('external')}: managed policy ${EXTERNAL_POLICY} is not in the assembly, so the twin cannot evaluate it; supply its document (policyDocuments, or msk-twin up --policy-document ${EXTERNAL_POLICY}=FILE)`;
    expect(() => policiesOf(app())).toThrow(new MissingPolicyDocumentError(message));
    await expect(startTwinApp({ assembly: view, identity: IDENTITY })).rejects.toThrow(message);
    expect(await produce(roleArn('external'), topic('orders'))).toBe('ok');
  }, 60_000);
});
