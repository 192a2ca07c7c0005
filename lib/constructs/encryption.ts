import { CfnResource, Duration, IAspect, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, IConstruct } from 'constructs';

export interface ProjectKeyProps {
  /** What `cdk destroy` does with the key (destroy schedules deletion after the shortest waiting period). */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The optional customer-managed KMS key for the cluster's data at rest, the SCRAM secret, every log group and the
 * alarm topic, rotated yearly. CloudWatch Logs may use it only for this account's log groups in this region.
 */
export class ProjectKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: ProjectKeyProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.key = new kms.Key(this, 'Key', {
      description: 'hello-msk: MSK data at rest, SCRAM secret and log groups',
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
      pendingWindow: Duration.days(7),
    });
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchLogsForThisAccount',
        // Regional principal with the partition's domain: logs.cn-north-1.amazonaws.com.cn in aws-cn.
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.${stack.urlSuffix}`)],
        actions: [
          'kms:Encrypt',
          'kms:Decrypt',
          'kms:ReEncryptFrom',
          'kms:ReEncryptTo',
          'kms:GenerateDataKey',
          'kms:GenerateDataKeyWithoutPlaintext',
          'kms:DescribeKey',
        ],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*`,
          },
        },
      }),
    );
    // CloudWatch alarms publish to the alarm topic, which this key encrypts
    // (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html); the topic admits only this account's.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsToTheAlarmTopic',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
  }
}

/** Encrypts every CloudWatch log group it visits with the given key. */
export class EncryptLogGroups implements IAspect {
  constructor(private readonly key: kms.IKey) {}

  visit(node: IConstruct): void {
    if (node instanceof logs.CfnLogGroup && (node as CfnResource).cfnResourceType === 'AWS::Logs::LogGroup') {
      // The key's ARN orders the group after the key and its policy.
      node.kmsKeyId = this.key.keyArn;
    }
  }
}
