import { CfnResource, IAspect } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { IConstruct } from 'constructs';

/**
 * checkov findings that do not apply, each skipped on the exact resource with its reason in the template
 * (`Metadata.checkov.skip`), as the cdk-nag acknowledgements are. test/lib/checkov.test.ts fails on any other
 * finding; docs/security.md lists these.
 */
export interface CheckovSkip {
  readonly id: string;
  readonly comment: string;
}

/** Reasons shared by several resources, so that docs/security.md and the templates say the same. */
export const CHECKOV_REASONS = {
  synchronousOnly:
    'Invoked synchronously (by its callers, or by the custom-resource framework for CloudFormation); a dead-letter queue applies only to asynchronous invocations',
  noReservedConcurrency:
    'No reserved concurrency: reserving any fails on accounts whose Lambda concurrency quota is 10 or 50 (Lambda keeps 100 unreserved); consumerConcurrency reserves the consumer where the quota allows',
  noSecretsInEnvironment:
    'The environment holds broker addresses, topic and group names and settings, no secret; Lambda encrypts it at rest with its AWS managed key',
  controlPlaneOnly:
    'Calls only AWS control-plane APIs, which from the isolated subnets would need a NAT gateway or an interface endpoint; it talks to no broker',
  invokedByEventSourceMapping:
    'Talks to no broker and calls no AWS API: its event source mapping polls the brokers from the VPC and hands it the records',
  cdkFrameworkFunction:
    'CDK custom-resource framework function: invoked by CloudFormation and by its own waiter, which handle its failures; it calls only AWS APIs outside the VPC and its environment holds only the ARNs of the functions and waiter it calls',
  logDeliveryWildcard:
    'Step Functions log delivery actions (logs:CreateLogDelivery, ListLogDeliveries, ...) support no resource-level permissions',
  awsManagedLogEncryption:
    'encryptionKey aws-managed: CloudWatch Logs encrypts every log group at rest with its own keys; encryptionKey customer-managed encrypts them with the project key',
  awsManagedAlarmTopic:
    'encryptionKey aws-managed: the AWS managed key alias/aws/sns cannot let CloudWatch alarms publish, so alarm e-mails would be lost; encryptionKey customer-managed encrypts the topic with the project key; TLS is enforced either way',
} as const;

function resourceOf(scope: IConstruct): CfnResource {
  const resource = scope instanceof CfnResource ? scope : scope.node.defaultChild;
  if (!(resource instanceof CfnResource)) {
    throw new Error(`${scope.node.path} has no CloudFormation resource to carry a checkov skip`);
  }
  return resource;
}

/** Skips one checkov check on the construct's CloudFormation resource, with the reason beside it. */
export function skipCheckov(scope: IConstruct, id: string, comment: string): void {
  const resource = resourceOf(scope);
  const existing = (resource.getMetadata('checkov') as { skip?: CheckovSkip[] } | undefined)?.skip ?? [];
  resource.addMetadata('checkov', { skip: [...existing.filter((s) => s.id !== id), { id, comment }] });
}

/** The CDK custom-resource framework's functions (Provider or CustomResourceProvider): all written by CDK. */
export function skipCheckovForFrameworkFunction(fn: IConstruct): void {
  for (const id of ['CKV_AWS_115', 'CKV_AWS_116', 'CKV_AWS_117', 'CKV_AWS_173']) {
    skipCheckov(fn, id, CHECKOV_REASONS.cdkFrameworkFunction);
  }
}

/**
 * With encryptionKey aws-managed, the log groups and the alarm topic use AWS managed encryption on purpose; with
 * customer-managed, EncryptLogGroups and the monitoring stack give them the project key and nothing is skipped.
 */
export class SkipCheckovForAwsManagedEncryption implements IAspect {
  visit(node: IConstruct): void {
    if (node instanceof logs.CfnLogGroup && node.kmsKeyId === undefined) {
      skipCheckov(node, 'CKV_AWS_158', CHECKOV_REASONS.awsManagedLogEncryption);
    }
    if (node instanceof sns.CfnTopic && node.kmsMasterKeyId === undefined) {
      skipCheckov(node, 'CKV_AWS_26', CHECKOV_REASONS.awsManagedAlarmTopic);
    }
  }
}
