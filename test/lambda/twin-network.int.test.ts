/**
 * The template's network on the local MSK twin: a function reaches the brokers only where its security groups and
 * the brokers' allow it on MSK's IAM port (9098), as in the VPC; elsewhere its connects never complete and time out,
 * as a VPC drops them. The variant is the synthesized app without one ingress rule (network/security-groups.ts).
 */
import { BASE_CONFIG } from '../../lib/config';
import { findFunction, MSK_IAM_PORT, renamed, type TwinAppInstance, withoutBrokerIngress } from 'msk-twin';
import { uniqueName } from '../integration/kafka-helpers';
import { storedMessages, useTwinApp } from '../integration/twin-helpers';

jest.setTimeout(120_000);

const shared = useTwinApp();

async function createTopic(instance: TwinAppInstance, prefix: string): Promise<string> {
  const topic = uniqueName(prefix);
  await instance.twin.withAdmin((admin) =>
    admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true }),
  );
  return topic;
}

test(`the synthesized app: every function that reaches Kafka may connect to the brokers on port ${MSK_IAM_PORT}`, () => {
  const reach = Object.fromEntries(shared().app.kafkaFunctions.map((fn) => [fn.path, shared().reach(fn.path)]));
  expect(Object.values(reach).every((r) => r.reachable)).toBe(true);
  expect(reach.Producer.reason).toMatch(/^the security groups allow Producer \(sg-[0-9a-f]{17}\) to the brokers/);
});

test("without the ingress rule from the producer's security group, the producer cannot connect while the consumer still reads", async () => {
  const topic = await createTopic(shared(), 'net-ingress');
  const group = uniqueName('net-ingress-group');
  const variant = await shared().variant((app) => {
    const named = renamed(app, {
      topics: { [BASE_CONFIG.demoTopic]: topic },
      groups: { [BASE_CONFIG.consumerGroup]: group },
    });
    return withoutBrokerIngress(named, findFunction(named.functions, 'Producer'));
  });
  try {
    expect(variant.reach('Producer')).toMatchObject({
      reachable: false,
      reason: expect.stringMatching(/^no ingress rule allows Producer \(sg-[0-9a-f]{17}\) to the brokers/),
    });
    expect(variant.reach('Consumer').reachable).toBe(true);

    const producer = variant.runner('Producer', { environmentOverrides: { TOPIC: topic } });
    const started = performance.now();
    const result = await producer.invoke({ message: 'must not land' });
    const seconds = (performance.now() - started) / 1000;
    if (result.ok) throw new Error(`the producer reached the brokers: ${JSON.stringify(result.payload)}`);
    console.log(`unreachable producer: ${JSON.stringify({ ...result.error, seconds })}`);
    expect(`${result.error.errorType}: ${result.error.errorMessage}`).toMatch(/Connection timeout|timed out/i);
    // Not refused by a broker: no connection ever reached one.
    expect(variant.signIns(producer)).toEqual([]);
    expect(await storedMessages(variant.twin, topic)).toBe(0);

    const consumer = variant.runner('Consumer', { environmentOverrides: { TOPIC: topic, GROUP_ID: group } });
    const read = await consumer.invoke({ fromBeginning: true, maxMessages: 10 });
    expect(read.ok).toBe(true);
    expect(variant.signIns(consumer).length).toBeGreaterThan(0);
  } finally {
    await variant.stop();
  }
});
