import type { Logger } from '@aws-lambda-powertools/logger';
import { generateAuthToken } from 'aws-msk-iam-sasl-signer-js';
import { Kafka, logLevel, type KafkaConfig, type LogEntry, type OauthbearerProviderResponse } from 'kafkajs';
import type { KafkaSettings } from './env';
import { retryWindow, retryWithin } from './retry';

/**
 * Time limits: a dead or unreachable broker fails an invocation in about 12 s with a clear error, before the
 * function's own timeout. Retries back off 1 s, then 2 s, as AWS advises MSK IAM clients (a broker accepts only so
 * many new IAM connections per second). The reasoning and figures are in docs/clients.md.
 */
export const KAFKA_TIMEOUTS = {
  connectionTimeout: 3000,
  authenticationTimeout: 3000,
  requestTimeout: 10000,
  retry: { retries: 2, initialRetryTime: 1000, maxRetryTime: 2000 },
} as const;

type TokenGenerator = (options: { region: string }) => Promise<{ token: string; expiryTime: number }>;

/**
 * kafkajs OAUTHBEARER provider for MSK IAM: signs a token locally with the function's credentials.
 * kafkajs wants `{ value: token }`; passing the signer's whole response as `value` fails authentication.
 */
export function iamTokenProvider(
  region: string,
  generate: TokenGenerator = generateAuthToken,
): () => Promise<OauthbearerProviderResponse> {
  return async () => {
    const { token } = await generate({ region });
    return { value: token };
  };
}

/** The kafkajs client options for these settings. */
export function kafkaConfig(settings: KafkaSettings, clientId: string, logger?: Logger): KafkaConfig {
  const base: KafkaConfig = {
    clientId,
    brokers: settings.brokers,
    ...KAFKA_TIMEOUTS,
    retry: { ...KAFKA_TIMEOUTS.retry },
    logLevel: logLevel.WARN,
    logCreator: logger ? kafkajsLogCreator(logger) : undefined,
  };
  if (settings.auth === 'none') return base;
  return {
    ...base,
    ssl: true,
    sasl: { mechanism: 'oauthbearer', oauthBearerProvider: iamTokenProvider(settings.region ?? '') },
  };
}

export function createKafka(settings: KafkaSettings, clientId: string, logger?: Logger): Kafka {
  ignoreNegativeTimeoutWarnings();
  return new Kafka(kafkaConfig(settings, clientId, logger));
}

let negativeTimeoutsIgnored = false;

/**
 * kafkajs 2.2.4 schedules its request queue's check with `setTimeout(throttledUntil - Date.now())`, and
 * `throttledUntil` is -1 until a broker throttles, so the delay is minus the current time. Node.js has always
 * run such a timer after 1 ms; Node.js 24 (the Lambda runtime) also writes a TimeoutNegativeWarning to stderr,
 * once per process, which would reach every cold start's log (kafkajs issue #1751, unfixed in 2.2.4).
 * Exported for the scripts that make their own kafkajs clients (npm run scripts run on Node.js 24 too).
 */
export function ignoreNegativeTimeoutWarnings(): void {
  if (negativeTimeoutsIgnored) return;
  negativeTimeoutsIgnored = true;
  const emit = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = (warning: unknown, ...rest: unknown[]) => {
    const options = rest[0];
    const type = typeof options === 'string' ? options : (options as { type?: unknown } | undefined)?.type;
    if (type === 'TimeoutNegativeWarning') return;
    emit(warning, ...rest);
  };
}

/**
 * kafkajs warns about this on every cold start of an idempotent producer whose retries are bounded. The bound
 * is deliberate: an invocation must fail inside its time budget, and the caller's retry is the outer retry.
 */
const EXPECTED_WARNINGS = ['Limiting retries for the idempotent producer may invalidate EoS guarantees'];

/**
 * Routes kafkajs' own log lines into the function's structured log. kafkajs logs the protocol errors it is
 * about to retry (a coordinator still loading, a leader moving) at ERROR; they are warnings until the
 * operation itself fails, which the handler logs as an error.
 */
function kafkajsLogCreator(logger: Logger) {
  return () =>
    ({ level, log }: LogEntry) => {
      const { message, ...extra } = log;
      if (EXPECTED_WARNINGS.includes(message)) return;
      const attributes = { kafkajs: extra };
      if (level === logLevel.ERROR || level === logLevel.WARN) logger.warn(message, attributes);
      else if (level === logLevel.INFO) logger.info(message, attributes);
      else logger.debug(message, attributes);
    };
}

/** Errors that mean "not connected any more", after which reconnecting and retrying once is safe. */
export function isDisconnectedError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return (
    /disconnected|Connection error|Closed connection|ECONNRESET|EPIPE|ECONNREFUSED|not connected/i.test(
      error.message,
    ) ||
    error.name === 'KafkaJSConnectionError' ||
    error.name === 'KafkaJSConnectionClosedError'
  );
}

/** MSK's answer to a new IAM connection over the broker's rate (a SASL failure kafkajs does not retry). */
export function isTooManyConnects(error: unknown): boolean {
  return error instanceof Error && /Too many connects/.test(error.message);
}

/** How long sign-ins refused over the rate are retried; AWS advises waiting at least 1 s before the next. */
export const TOO_MANY_CONNECTS_RETRY_MS = 15_000;

/**
 * Runs `attempt` again while MSK refuses new connections over its rate, waiting 1 s, 2 s, 4 s... plus up to
 * 500 ms of jitter, so that containers that started together do not sign in together again.
 */
export function retryTooManyConnects<T>(attempt: () => Promise<T>, onRetry?: (delayMs: number) => void): Promise<T> {
  return retryWithin(
    retryWindow(TOO_MANY_CONNECTS_RETRY_MS, 1000 + Math.floor(Math.random() * 500)),
    attempt,
    (error) => (isTooManyConnects(error) ? 'Too many connects' : undefined),
    (_reason, delayMs) => onRetry?.(delayMs),
  );
}

/** One line describing why Kafka could not be used, naming the brokers. */
export function describeKafkaFailure(error: unknown, settings: KafkaSettings): string {
  let reason = error instanceof Error ? error.message : String(error);
  // kafkajs' words for a broker that accepted the connection but never answered within the timeouts.
  if (reason === 'Broker not connected')
    reason = 'no answer from the broker within the connection and request timeouts';
  return `Kafka at ${settings.brokers.join(',')} (auth ${settings.auth}) failed: ${reason}`;
}

/**
 * Connects a kafkajs client once per container: later calls reuse the connection, and a failed connect or a
 * disconnect makes the next call connect again. A sign-in refused over MSK's rate is retried with back-off.
 */
export function connectOnce(
  connect: () => Promise<void>,
  onDisconnect: (listener: () => void) => void,
): () => Promise<void> {
  let connected: Promise<void> | undefined;
  onDisconnect(() => {
    connected = undefined;
  });
  return () => {
    connected ??= retryTooManyConnects(connect).catch((error: unknown) => {
      connected = undefined;
      throw error;
    });
    return connected;
  };
}
