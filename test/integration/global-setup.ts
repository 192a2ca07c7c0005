/**
 * Starts the one local Kafka broker that every integration test shares (on free ports, or on KAFKA_TEST_PORT),
 * or uses the broker named by KAFKA_BROKERS when that is already set, and exports KAFKA_BROKERS to the workers.
 */
import { LocalKafkaCluster, useOrStartKafka } from '../../scripts/kafka/local-kafka';
import { setSharedKafka, testKafkaPort } from './kafka-helpers';

export default async function globalSetup(): Promise<void> {
  const kafka = await useOrStartKafka({
    brokers: 1,
    port: testKafkaPort(),
    logDir: process.env.KAFKA_TEST_LOG_DIR || undefined,
    log: (message) => process.stderr.write(`${message}\n`),
  });
  setSharedKafka(kafka);
  process.env.KAFKA_BROKERS = kafka.bootstrapBrokers;
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  const how =
    kafka instanceof LocalKafkaCluster
      ? `local Kafka ${kafka.version}, ready in ${(kafka.startupMs / 1000).toFixed(1)} s`
      : 'existing broker from KAFKA_BROKERS';
  process.stderr.write(`\nIntegration tests use Kafka at ${kafka.bootstrapBrokers} (${how})\n`);
}
