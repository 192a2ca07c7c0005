/** Stops the shared broker that globalSetup started (jest runs this even when tests failed). */
import { takeSharedKafka } from './kafka-helpers';

export default async function globalTeardown(): Promise<void> {
  const kafka = takeSharedKafka();
  if (!kafka) return;
  await kafka.stop();
  // In watch mode the next run's globalSetup must start a fresh broker, not look for this stopped one.
  if (kafka.started) delete process.env.KAFKA_BROKERS;
}
