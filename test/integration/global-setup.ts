/**
 * Starts the one local Kafka that every integration test shares, or uses the broker named by KAFKA_BROKERS when
 * that is already set, and exports KAFKA_BROKERS to the workers.
 *
 * The shared broker is a local MSK twin (on free ports, or on KAFKA_TEST_PORT): tests of IAM sign-in and ACLs use
 * its IAM listener (found through HELLO_MSK_TWIN_PORT, see twin-helpers.ts); every other test uses its plaintext
 * listener as KAFKA_BROKERS, with raw access as before.
 */
import { dropKafkajsTimeoutWarnings, type KafkaEndpoint, startTwin, useOrStartKafka } from 'msk-twin';
import { setSharedKafka, testKafkaPort } from './kafka-helpers';
import { TWIN_PORT_VARIABLE } from './twin-helpers';

export default async function globalSetup(): Promise<void> {
  // The brokers' readiness checks use kafkajs in jest's own process, which npm runs on Node.js 24.
  dropKafkajsTimeoutWarnings();
  const log = (message: string) => process.stderr.write(`${message}\n`);
  let kafka: KafkaEndpoint;
  let how: string;
  if (process.env.KAFKA_BROKERS?.trim()) {
    kafka = await useOrStartKafka({ log });
    how = 'existing broker from KAFKA_BROKERS';
  } else {
    const twin = await startTwin({
      brokers: 1,
      port: testKafkaPort(),
      logDir: process.env.KAFKA_TEST_LOG_DIR || undefined,
      log,
    });
    kafka = { bootstrapBrokers: twin.plaintextBrokers, started: true, stop: () => twin.stop() };
    process.env[TWIN_PORT_VARIABLE] = String(twin.cluster.port);
    how = `local MSK twin on Kafka ${twin.cluster.version}, ready in ${(twin.startupMs / 1000).toFixed(1)} s; IAM listener ${twin.bootstrapBrokers}`;
  }
  setSharedKafka(kafka);
  process.env.KAFKA_BROKERS = kafka.bootstrapBrokers;
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  process.stderr.write(`\nIntegration tests use Kafka at ${kafka.bootstrapBrokers} (${how})\n`);
}
