/**
 * A function that asks MSK's GetBootstrapBrokers at cold start runs on the twin unchanged: the orders-app fixture's
 * OrdersLookupFn (the same handler as OrdersFn, without BOOTSTRAP_SERVERS), synthesized with the CDK CLI. Its SDK
 * call reaches the twin's AWS API endpoint through AWS_ENDPOINT_URL_KAFKA, signed with its role's credentials and
 * authorized by its role's policy; without `kafka:GetBootstrapBrokers` it is refused as AWS refuses it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { withoutActions } from '../../src/authorization/policy-variants';
import { startTwinApp, type TwinAppInstance } from '../../src/twin-app';
import { cdkSynth } from '../cli/cli-helpers';

jest.setTimeout(240_000);

let assembly: string;
let twin: TwinAppInstance;

beforeAll(async () => {
  assembly = cdkSynth(path.join(__dirname, '..', 'fixtures', 'orders-app'));
  twin = await startTwinApp({ assembly });
});

afterAll(async () => {
  await twin?.stop();
  if (assembly) fs.rmSync(assembly, { recursive: true, force: true });
});

test('GetBootstrapBrokers at cold start answers the twin brokers, and the order is stored', async () => {
  const fn = twin.runner('OrdersLookupFn');
  const result = await fn.invoke({ orderId: 'lookup-1' });
  expect(result).toMatchObject({ ok: true, coldStart: true, payload: { topic: 'orders', partition: 0 } });
  expect(twin.awsApi?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  // It signed in to the brokers the endpoint named, as its own role.
  expect(twin.signIns(fn).length).toBeGreaterThan(0);
  expect(twin.signIns(fn)[0]).toContain(twin.function('OrdersLookupFn').roleArn);
});

test('without kafka:GetBootstrapBrokers its lookup is refused as AWS refuses it, naming the action', async () => {
  const roleArn = twin.function('OrdersLookupFn').roleArn;
  const variant = await twin.variant((app) => withoutActions(app, roleArn, ['kafka:GetBootstrapBrokers']));
  try {
    const result = await variant.runner('OrdersLookupFn').invoke({ orderId: 'lookup-2' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    // kafkajs reports the failed lookup of its brokers as a connection error carrying the SDK's message.
    expect(`${result.error.errorType}: ${result.error.errorMessage}`).toMatch(
      /User: arn:aws:sts::111122223333:assumed-role\/[\w-]+\/TWIN\w+ is not authorized to perform: kafka:GetBootstrapBrokers on resource: arn:aws:kafka:us-east-1:111122223333:cluster\/orders-cluster\/\S+ because no identity-based policy allows the kafka:GetBootstrapBrokers action/,
    );
  } finally {
    await variant.stop();
  }
});
