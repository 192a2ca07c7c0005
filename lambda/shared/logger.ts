import { Logger } from '@aws-lambda-powertools/logger';

/**
 * Structured JSON logs with the value a person looks for in `message`. Level from `LOG_LEVEL`
 * (or Lambda's advanced logging controls); INFO by default.
 */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName });
}
