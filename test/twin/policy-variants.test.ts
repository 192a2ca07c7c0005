import {
  type AclBinding,
  describeTwinApp,
  findFunction,
  renamed,
  translatePolicies,
  type TwinApp,
  withoutActions,
} from 'msk-twin';
import { synthesizeApp } from '../../scripts/app-twin';

jest.setTimeout(120_000);

async function synth(context: Record<string, unknown> = {}): Promise<TwinApp> {
  return describeTwinApp((await synthesizeApp({ context })).assembly);
}

const key = (a: AclBinding) => `${a.principal} ${a.operation} ${a.resourceType} ${a.patternType} ${a.resourceName}`;
const sorted = (acls: readonly AclBinding[]) => acls.map(key).sort();

let dev: TwinApp;
beforeAll(async () => {
  dev = await synth();
});

const producerRole = () => findFunction(dev.functions, 'Producer').roleArn;

describe('renamed', () => {
  test('grants what synthesizing the app with those names grants: the same ACLs for every role', async () => {
    const orders = await synth({
      demoTopic: 'orders',
      topics: [{ name: 'orders', partitions: 3, config: {} }],
      consumerGroup: 'order-readers',
    });
    const variant = renamed(dev, {
      topics: { 'test-topic': 'orders' },
      groups: { 'hello-msk-consumer': 'order-readers' },
    });
    const fromVariant = translatePolicies(variant).authorization;
    const fromSynth = translatePolicies(orders).authorization;
    expect(sorted(fromVariant.acls)).toEqual(sorted(fromSynth.acls));
    expect([...fromVariant.connectRoleArns].sort()).toEqual([...fromSynth.connectRoleArns].sort());
    expect(sorted(fromVariant.acls).some((a) => a.endsWith('LITERAL orders'))).toBe(true);
  });

  test('a name ending in * becomes a PREFIXED grant of the same actions', () => {
    const acls = translatePolicies(renamed(dev, { topics: { 'test-topic': 'tb-*' } })).authorization.acls;
    const topicAcls = acls.filter((a) => a.resourceType === 'TOPIC');
    expect(topicAcls.length).toBeGreaterThan(0);
    expect(topicAcls.every((a) => a.patternType === 'PREFIXED' && a.resourceName === 'tb-')).toBe(true);
  });
});

describe('withoutActions', () => {
  test("takes one action out of the role's statements and leaves the rest of its grants", () => {
    const before = translatePolicies(dev).authorization.acls.filter((a) => a.principal === `User:${producerRole()}`);
    const after = translatePolicies(
      withoutActions(dev, producerRole(), ['kafka-cluster:WriteData']),
    ).authorization.acls.filter((a) => a.principal === `User:${producerRole()}`);
    expect(sorted(before).filter((a) => !a.includes(' WRITE TOPIC '))).toEqual(sorted(after));
    expect(sorted(before).some((a) => a.includes(' WRITE TOPIC LITERAL test-topic'))).toBe(true);
  });

  test('leaves the other roles as they were', () => {
    const others = (app: TwinApp) =>
      sorted(translatePolicies(app).authorization.acls.filter((a) => a.principal !== `User:${producerRole()}`));
    expect(others(withoutActions(dev, producerRole(), ['kafka-cluster:WriteData']))).toEqual(others(dev));
  });

  test.each([
    [['WriteData'], 'WriteData is not a kafka-cluster action'],
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
