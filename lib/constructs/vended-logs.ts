import { Fn, Names, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * A name for a log group that an AWS service writes to through CloudWatch Logs log delivery (MSK broker logs,
 * Step Functions execution logs). Under the /aws/vendedlogs/ prefix, log delivery does not add each group to the
 * account's CloudWatch Logs resource policy, which is limited to 5120 characters
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-logs-and-resource-policy.html,
 * https://docs.aws.amazon.com/step-functions/latest/dg/bp-cwl.html). The stack's own id ends the name, so a group
 * kept by the retain removal policy never blocks a new stack of the same name.
 */
export function vendedLogGroupName(scope: IConstruct, service: 'msk' | 'states'): string {
  const stackUuid = Fn.select(2, Fn.split('/', Stack.of(scope).stackId));
  return Fn.join('/', [
    '/aws/vendedlogs',
    service,
    Names.uniqueResourceName(scope, { maxLength: 128, separator: '-' }),
    stackUuid,
  ]);
}
