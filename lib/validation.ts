import { RemovalPolicy } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { ConfigError, show } from './config';

/** One-line synth-time error: `<construct path>: <key> <value> is not valid; allowed: <what>`. */
export function invalid(path: string, key: string, value: unknown, allowed: string): ConfigError {
  return new ConfigError(`${path}: ${key} ${show(value)} is not valid; allowed: ${allowed}`, {
    path,
    key,
    value,
    allowed,
  });
}

const RETENTION_DAYS = (Object.values(logs.RetentionDays) as unknown[]).filter(
  (v): v is number => typeof v === 'number' && v !== (logs.RetentionDays.INFINITE as number),
);

/** Log retention must be one of CloudWatch Logs' values; never "forever", so old logs stop costing. */
export function checkRetention(path: string, key: string, days: number): void {
  if (!RETENTION_DAYS.includes(days)) {
    throw invalid(path, key, days, `a CloudWatch Logs retention in days (${RETENTION_DAYS.join(', ')})`);
  }
}

/** `destroy` or `retain` from config, as a CDK removal policy. */
export function removalPolicyOf(path: string, key: string, value: string): RemovalPolicy {
  if (value === 'destroy') return RemovalPolicy.DESTROY;
  if (value === 'retain') return RemovalPolicy.RETAIN;
  throw invalid(path, key, value, 'destroy or retain');
}
