import type { Duration } from 'aws-cdk-lib';

/** Seconds the AWS CLI waits to connect before giving up. */
export const CLI_CONNECT_TIMEOUT_SECONDS = 10;
/** How much longer than the function's timeout the AWS CLI waits for the answer. */
export const CLI_READ_TIMEOUT_MARGIN_SECONDS = 30;

/**
 * The AWS CLI v2 command that invokes a function synchronously and prints its result, then the CLI's own
 * `StatusCode`/`ExecutedVersion` JSON. The CLI's default read timeout (60 s) is no longer than the function's
 * timeout, and the CLI retries a read timeout: a slow producer run would be invoked again and send twice. So the
 * read timeout outlasts the function and the connect timeout is short (the global options `--cli-read-timeout`
 * and `--cli-connect-timeout`, both 60 s by default: `aws help`), and AWS_MAX_ATTEMPTS=1 turns the CLI's retries
 * off for this one call (`max_attempts` counts the first attempt: `aws help config-vars`, "Retry Configuration").
 * `--cli-binary-format raw-in-base64-out` is AWS CLI v2's option for a JSON payload given as text.
 */
export function lambdaInvokeCommand(functionName: string, payload: string, functionTimeout: Duration): string {
  const readTimeout = functionTimeout.toSeconds() + CLI_READ_TIMEOUT_MARGIN_SECONDS;
  return [
    'AWS_MAX_ATTEMPTS=1 aws lambda invoke',
    `--function-name ${functionName}`,
    '--cli-binary-format raw-in-base64-out',
    `--cli-read-timeout ${readTimeout} --cli-connect-timeout ${CLI_CONNECT_TIMEOUT_SECONDS}`,
    `--payload '${payload}' /dev/stdout`,
  ].join(' ');
}
