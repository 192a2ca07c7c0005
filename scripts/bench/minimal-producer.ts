/**
 * The bench's cold-start baseline: the smallest kafkajs producer for MSK IAM (kafkajs and
 * aws-msk-iam-sasl-signer-js, nothing else), bundled with the functions' esbuild settings.
 */
import { generateAuthToken } from 'aws-msk-iam-sasl-signer-js';
import { Kafka } from 'kafkajs';

const region = process.env.AWS_REGION ?? '';
const producer = new Kafka({
  clientId: 'minimal-producer',
  brokers: (process.env.KAFKA_BROKERS ?? '').split(','),
  ssl: true,
  sasl: {
    mechanism: 'oauthbearer',
    oauthBearerProvider: async () => ({ value: (await generateAuthToken({ region })).token }),
  },
}).producer();
let connected: Promise<void> | undefined;

export async function handler(): Promise<{ partition: number }> {
  connected ??= producer.connect();
  await connected;
  const [sent] = await producer.send({ topic: process.env.TOPIC ?? '', messages: [{ value: 'Hello MSK' }] });
  return { partition: sent.partition };
}
