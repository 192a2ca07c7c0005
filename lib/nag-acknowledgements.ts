import { CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

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

/**
 * The CDK custom-resource Provider framework's own functions and waiter: CDK writes their roles, which invoke
 * the user handlers and their versions (`<function ARN>:*`).
 */
export function acknowledgeProviderFramework(provider: IConstruct, handlerIds: string[]): void {
  for (const id of ['framework-onEvent', 'framework-isComplete', 'framework-onTimeout']) {
    const fn = provider.node.tryFindChild(id);
    const role = fn?.node.tryFindChild('ServiceRole');
    if (!role) continue;
    acknowledgeNag(role, BASIC_EXECUTION, 'CDK Provider framework function: AWS managed policy to write its own logs');
    for (const handler of handlerIds) {
      acknowledgeNag(
        role,
        `IAM5[Resource::<${handler}.Arn>:*]`,
        'CDK Provider framework: may invoke the handler function and its versions (function ARN with :*), nothing else',
      );
    }
  }
  const waiter = provider.node.tryFindChild('waiter-state-machine');
  if (waiter) {
    acknowledgeNag(
      waiter,
      'SF2',
      'CDK Provider framework waiter: a two-state poll loop; its executions are logged (ALL) to CloudWatch, X-Ray adds nothing',
    );
    const role = waiter.node.tryFindChild('Role');
    if (role) {
      acknowledgeNag(
        role,
        'IAM5[Resource::*]',
        'Step Functions log delivery (logs:CreateLogDelivery, ListLogDeliveries, ...) does not support resource-level permissions',
      );
      for (const id of ['framework-isComplete', 'framework-onTimeout']) {
        const fn = provider.node.tryFindChild(id);
        if (!fn) continue;
        const logicalId = Stack.of(fn).getLogicalId(fn.node.defaultChild as CfnElement);
        acknowledgeNag(
          role,
          `IAM5[Resource::<${logicalId}.Arn>:*]`,
          'CDK Provider framework waiter: may invoke its own isComplete and onTimeout functions and their versions',
        );
      }
    }
  }
}
