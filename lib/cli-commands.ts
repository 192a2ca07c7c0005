import type { Duration } from 'aws-cdk-lib';

/** Seconds the AWS CLI waits to connect before giving up. */
export const CLI_CONNECT_TIMEOUT_SECONDS = 10;
/** How much longer than the function's timeout the AWS CLI waits for the answer. */
export const CLI_READ_TIMEOUT_MARGIN_SECONDS = 30;

/**
 * The AWS CLI v2 command that invokes a function synchronously and prints its result. Its read timeout outlasts
 * the function and its retries are off, so a slow run is never invoked twice (docs/deploy.md, "Invoke the
 * producer").
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
