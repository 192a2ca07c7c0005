/** Helpers for integration tests (`*.int.test.ts`) that talk to a real Kafka broker. */
import * as crypto from 'crypto';
import { Admin, Kafka, RetryOptions, logLevel } from 'kafkajs';
import type { KafkaEndpoint } from 'msk-twin';

/**
 * Port of the broker shared by all integration tests: env KAFKA_TEST_PORT when set, else 0 (free ports the OS
 * chooses), so a port held by another program never fails the run.
 */
export function testKafkaPort(): number {
  const value = process.env.KAFKA_TEST_PORT;
  if (value === undefined || value === '') return 0;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`KAFKA_TEST_PORT must be a port number (0 for any free port), got "${value}"`);
  }
  return port;
}

/** The shared broker that globalSetup started (or found in KAFKA_BROKERS). */
export function testBrokers(): string {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers) {
    throw new Error('KAFKA_BROKERS is not set: run integration tests with `jest --selectProjects integration`');
  }
  return brokers;
}

/** A topic or group name no other test (or earlier run against the same broker) uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${crypto.randomBytes(3).toString('hex')}`;
}

/**
 * A kafkajs client that stays quiet unless KAFKAJS_LOG_LEVEL=debug|info|warn|error is set.
 * Under jest (NODE_ENV=test) kafkajs retries for only ~10 s by default; pass `retry` where a test rides out a failure.
 */
export function kafkaClient(brokers: string, clientId = 'hello-msk-test', retry?: RetryOptions): Kafka {
  const levels: Record<string, logLevel> = {
    debug: logLevel.DEBUG,
    info: logLevel.INFO,
    warn: logLevel.WARN,
    error: logLevel.ERROR,
  };
  return new Kafka({
    clientId,
    brokers: brokers.split(','),
    logLevel: levels[process.env.KAFKAJS_LOG_LEVEL ?? ''] ?? logLevel.NOTHING,
    retry,
  });
}

/** Runs `fn` with a connected admin client and always disconnects it. */
export async function withAdmin<T>(kafka: Kafka, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Rejects with a message naming `what` if `promise` does not settle in time (kafkajs waits can hang forever). */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// globalSetup and globalTeardown run in the same jest parent process, so a global carries the handle between them.
const holder = globalThis as typeof globalThis & { __helloMskSharedKafka?: KafkaEndpoint };

export function setSharedKafka(kafka: KafkaEndpoint | undefined): void {
  holder.__helloMskSharedKafka = kafka;
}

export function takeSharedKafka(): KafkaEndpoint | undefined {
  const kafka = holder.__helloMskSharedKafka;
  holder.__helloMskSharedKafka = undefined;
  return kafka;
}

/** Polls `probe` every 250 ms until it returns a value (not undefined), or fails naming `what`. */
export async function eventually<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`${what} did not happen within ${timeoutMs} ms${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
