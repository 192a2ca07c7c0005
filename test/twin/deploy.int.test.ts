/**
 * The deploy-time custom resources run on the twin as `cdk deploy` runs them: the availability-zones picker asks
 * EC2, the cluster-endpoint resource asks MSK (DescribeClusterV2, GetBootstrapBrokers, ListNodes) through the twin's
 * AWS API endpoint with its own role, its answer becomes the SSM parameter, and the clients get their brokers from
 * that parameter. A role without kafka:ListNodes fails the deploy as it would fail the real one.
 */
import {
  CustomResourceError,
  functionEnvironment,
  withDeployment,
  withoutActions,
  type TwinAppInstance,
} from 'msk-twin';
import { startAppTwin } from '../../scripts/app-twin';

jest.setTimeout(120_000);

const PARAMETER = '/HelloMsk-dev-Cluster/bootstrap-brokers-sasl-iam';

let instance: TwinAppInstance | undefined;
const running = (): TwinAppInstance => {
  if (!instance) throw new Error('the dev twin did not start');
  return instance;
};

beforeAll(async () => {
  instance = await startAppTwin({ stage: 'dev', deploy: false });
}, 240_000);
afterAll(async () => {
  await instance?.stop();
}, 60_000);

test("without kafka:ListNodes on the endpoint resource's role, the deploy fails with AccessDenied naming it", async () => {
  const roleArn = running().function('Endpoint/OnEvent').roleArn;
  const variant = await running().variant((app) => withoutActions(app, roleArn, ['kafka:ListNodes']));
  try {
    // The handler retries AccessDenied while IAM may not show a new grant yet; 1 ms here.
    const failure = await variant.deploy({ environment: { AUTHORIZATION_RETRY_MS: '1' } }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(CustomResourceError);
    const message = (failure as Error).message;
    expect(message).toMatch(
      /^HelloMsk-dev-Cluster\/Endpoint\w+ \(Custom::MskClusterEndpoint\) failed to create: MSK cluster arn:aws:kafka:us-east-1:111122223333:cluster\/\S+: ListNodes failed: AccessDeniedException: User: arn:aws:sts::111122223333:assumed-role\/\S+ is not authorized to perform: kafka:ListNodes on resource: arn:aws:kafka:\S+ because no identity-based policy allows the kafka:ListNodes action \(Logs: \/aws\/lambda\/\S+\)$/,
    );
    expect(message).not.toContain('\n');
    // Nothing after it was created: no parameter, no topic resource.
    expect(variant.awsApi?.parameter(PARAMETER)).toBeUndefined();
    expect(Object.keys(variant.deployment?.answers ?? {})).toEqual([
      expect.stringMatching(/^HelloMsk-dev-Network\/AvailabilityZones/),
    ]);
  } finally {
    await variant.stop();
  }
});

test('with the policy as synthesized, the deploy writes the parameter and the producer reads its brokers from it', async () => {
  const twin = running();
  const deployed = await twin.deploy();
  expect(deployed.map((d) => `${d.type} ${d.answer ? 'created' : 'not run'}`)).toEqual([
    'Custom::AvailabilityZones created',
    'Custom::VpcRestrictDefaultSG not run',
    'Custom::MskClusterEndpoint created',
    'Custom::MskTopic created',
  ]);
  // The zones came from EC2's DescribeAvailabilityZones on the twin, the brokers from MSK's APIs.
  const zones = deployed[0].answer?.data;
  expect(zones).toEqual({ Names: 'us-east-1a,us-east-1b', ZoneIds: 'use1-az1,use1-az2' });
  const brokers = twin.awsApi?.parameter(PARAMETER);
  expect(brokers?.split(',').sort()).toEqual(twin.twin.bootstrapBrokers.split(',').sort());
  expect(twin.deployment?.parameters[PARAMETER]).toBe(brokers);

  const producer = twin.function('Producer');
  const endpoint = { bootstrapBrokers: 'not-the-brokers:1' };
  // KAFKA_BROKERS is the Clients stack's SSM-typed parameter: what the parameter holds, not the twin's address ...
  expect(functionEnvironment(twin.app, producer, endpoint).KAFKA_BROKERS).toBe(brokers);
  // ... and without the parameter it does not resolve at all.
  const withoutParameter = withDeployment(twin.app, {
    ...(twin.deployment ?? { answers: {}, notRun: {} }),
    parameters: {},
  });
  expect(() => functionEnvironment(withoutParameter, producer, endpoint)).toThrow(
    `SSM parameter ${PARAMETER} does not exist`,
  );

  const runner = twin.runner('Producer');
  const sent = await runner.invoke({ message: 'Hello MSK' });
  expect(sent).toMatchObject({ ok: true, payload: { topic: 'test-topic' } });
  expect(twin.signIns(runner).length).toBeGreaterThan(0);
});
