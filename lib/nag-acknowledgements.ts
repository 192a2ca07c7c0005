import { CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { CHECKOV_REASONS, skipCheckov, skipCheckovForFrameworkFunction } from './checkov-suppressions';

/**
 * cdk-nag (AwsSolutions pack) acknowledgements, each on the narrowest construct and with its reason. The
 * cdk-nag test fails on any finding that is neither fixed nor acknowledged here; docs/security.md lists them.
 */
export function acknowledgeNag(scope: IConstruct, rule: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions::AwsSolutions-${rule}`, reason });
}

const BASIC_EXECUTION = 'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]';
const VPC_EXECUTION = 'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]';

/** A Lambda function's role with CDK's standard managed execution policies. */
export function acknowledgeLambdaExecutionRole(role: IConstruct, inVpc: boolean): void {
  acknowledgeNag(
    role,
    BASIC_EXECUTION,
    'AWS managed policy that lets the function write its own logs; Lambda documents it as the minimum execution role',
  );
  if (inVpc) {
    acknowledgeNag(
      role,
      VPC_EXECUTION,
      'AWS managed policy that lets Lambda attach the function to its VPC subnets (ENI create/describe/delete, which IAM cannot scope to resources)',
    );
  }
}

/** The CloudFormation logical id of a construct's resource, as cdk-nag names it in findings. */
function logicalIdOf(construct: IConstruct): string {
  return Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);
}

/** The role may invoke these functions and their versions (`<function ARN>:*`), which CDK grants. */
function acknowledgeInvoke(role: IConstruct, functions: IConstruct[], reason: string): void {
  for (const fn of functions) acknowledgeNag(role, `IAM5[Resource::<${logicalIdOf(fn)}.Arn>:*]`, reason);
}

/**
 * The CDK custom-resource Provider framework's own functions and waiter: CDK writes their roles, which invoke
 * the user handlers and their versions.
 */
export function acknowledgeProviderFramework(provider: IConstruct, handlers: IConstruct[]): void {
  const frameworkFunction = (id: string) => provider.node.tryFindChild(id);
  for (const id of ['framework-onEvent', 'framework-isComplete', 'framework-onTimeout']) {
    const fn = frameworkFunction(id);
    if (fn) skipCheckovForFrameworkFunction(fn);
    const role = fn?.node.tryFindChild('ServiceRole');
    if (!role) continue;
    acknowledgeNag(role, BASIC_EXECUTION, 'CDK Provider framework function: AWS managed policy to write its own logs');
    acknowledgeInvoke(
      role,
      handlers,
      'CDK Provider framework: may invoke the handler function and its versions (function ARN with :*), nothing else',
    );
  }
  const waiter = provider.node.tryFindChild('waiter-state-machine');
  if (!waiter) return;
  acknowledgeNag(
    waiter,
    'SF2',
    'CDK Provider framework waiter: a two-state poll loop; its executions are logged (ALL) to CloudWatch, X-Ray adds nothing',
  );
  const role = waiter.node.tryFindChild('Role');
  if (!role) return;
  acknowledgeNag(
    role,
    'IAM5[Resource::*]',
    'Step Functions log delivery (logs:CreateLogDelivery, ListLogDeliveries, ...) does not support resource-level permissions',
  );
  const policy = role.node.tryFindChild('DefaultPolicy');
  if (policy) skipCheckov(policy, 'CKV_AWS_111', CHECKOV_REASONS.logDeliveryWildcard);
  acknowledgeInvoke(
    role,
    ['framework-isComplete', 'framework-onTimeout'].map(frameworkFunction).filter((fn) => fn !== undefined),
    'CDK Provider framework waiter: may invoke its own isComplete and onTimeout functions and their versions',
  );
}
