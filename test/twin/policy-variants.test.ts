import {
  describeTwinApp,
  findFunction,
  PolicyEvaluator,
  policiesOf,
  renamed,
  type TwinApp,
  withoutActions,
} from 'msk-twin';
import { synthesizeApp } from '../../scripts/app-twin';

jest.setTimeout(120_000);

async function synth(context: Record<string, unknown> = {}): Promise<TwinApp> {
  return describeTwinApp((await synthesizeApp({ context })).assembly);
}

/** Every function role's policies, as the twin evaluates them (role ARN, then each policy's document). */
const documents = (app: TwinApp) =>
  policiesOf(app)
    .map((p) => JSON.stringify([p.roleArn, p.policies, p.permissionsBoundary ?? null]))
    .sort();

let dev: TwinApp;
beforeAll(async () => {
  dev = await synth();
});

const producerRole = () => findFunction(dev.functions, 'Producer').roleArn;

/** Whether the app's `roleArn` may `operation` the topic, by the twin's evaluation of its policies. */
async function may(app: TwinApp, roleArn: string, operation: string, topic: string): Promise<boolean> {
  const evaluator = new PolicyEvaluator({ roles: Object.fromEntries(policiesOf(app).map((p) => [p.roleArn, p])) });
  return (await evaluator.decide(roleArn, { operation, resourceType: 'TOPIC', patternType: 'LITERAL', name: topic }))
    .allowed;
}

describe('renamed', () => {
  test('gives every role the policies that synthesizing the app with those names gives it', async () => {
    const orders = await synth({
      demoTopic: 'orders',
      topics: [{ name: 'orders', partitions: 3, config: {} }],
      consumerGroup: 'order-readers',
    });
    const variant = renamed(dev, {
      topics: { 'test-topic': 'orders' },
      groups: { 'hello-msk-consumer': 'order-readers' },
    });
    expect(documents(variant)).toEqual(documents(orders));
    expect(await may(variant, producerRole(), 'WRITE', 'orders')).toBe(true);
    expect(await may(variant, producerRole(), 'WRITE', 'test-topic')).toBe(false);
  });

  test('a name ending in * allows the same actions on every topic with that prefix', async () => {
    const variant = renamed(dev, { topics: { 'test-topic': 'tb-*' } });
    expect(await may(variant, producerRole(), 'WRITE', 'tb-1')).toBe(true);
    expect(await may(variant, producerRole(), 'WRITE', 'other')).toBe(false);
  });
});

describe('withoutActions', () => {
  test("takes one action out of the role's statements and leaves the rest of what it may do", async () => {
    const without = withoutActions(dev, producerRole(), ['kafka-cluster:WriteData']);
    expect(await may(dev, producerRole(), 'WRITE', 'test-topic')).toBe(true);
    expect(await may(without, producerRole(), 'WRITE', 'test-topic')).toBe(false);
    expect(await may(without, producerRole(), 'DESCRIBE', 'test-topic')).toBe(true);
  });

  test('leaves the other roles as they were', () => {
    const others = (app: TwinApp) => documents(app).filter((d) => !d.includes(producerRole()));
    expect(others(withoutActions(dev, producerRole(), ['kafka-cluster:WriteData']))).toEqual(others(dev));
  });

  test.each([
    [['WriteData'], 'WriteData is not an action the twin evaluates (kafka-cluster, kafka, ssm, ec2)'],
    [['kafka-cluster:ReadData'], 'does not name kafka-cluster:ReadData in any statement'],
  ])('refuses %j: %s', (actions, message) => {
    expect(() => withoutActions(dev, producerRole(), actions)).toThrow(message);
  });

  test('refuses a role the app does not have', () => {
    expect(() => withoutActions(dev, 'arn:aws:iam::111122223333:role/nobody', ['kafka-cluster:WriteData'])).toThrow(
      'The app has no role arn:aws:iam::111122223333:role/nobody',
    );
  });
});
