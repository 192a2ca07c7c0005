import { CustomResource, Duration, Fn, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledgeNag } from '../nag-acknowledgements';
import { HandlerFunction } from './handler-function';
import { oneStepProvider } from './waiting-provider';

export interface AvailabilityZonesProps {
  /** How many zones to choose: 2 or 3. */
  readonly azCount: number;
  /** Days to keep the handler's logs. */
  readonly logRetentionDays: number;
  /** What happens to the handler's log groups on removal. */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The availability zones for the VPC's subnets, chosen at deploy time by a custom resource that skips the zones
 * MSK refuses (lambda/availability-zones says which and why). It runs once, when created, and again only when
 * azCount changes, so the subnets never move.
 */
export class AvailabilityZones extends Construct {
  /** The chosen AZ names, one token each, resolved at deploy time. */
  readonly names: string[];

  constructor(scope: Construct, id: string, props: AvailabilityZonesProps) {
    super(scope, id);
    const onEvent = new HandlerFunction(this, 'OnEvent', {
      handlerName: 'availability-zones',
      exportName: 'onEvent',
      description: 'hello-msk: chooses the availability zones MSK accepts for the VPC subnets',
      logRetentionDays: props.logRetentionDays,
      removalPolicy: props.removalPolicy,
      timeout: Duration.seconds(30),
    });
    onEvent.addToRolePolicy(new iam.PolicyStatement({ actions: ['ec2:DescribeAvailabilityZones'], resources: ['*'] }));
    const policy = onEvent.role?.node.tryFindChild('DefaultPolicy');
    if (policy) {
      acknowledgeNag(
        policy,
        'IAM5[Resource::*]',
        'ec2:DescribeAvailabilityZones (read-only) supports no resource-level permissions; the statement has that one action',
      );
    }
    const provider = oneStepProvider(this, {
      onEvent,
      logRetentionDays: props.logRetentionDays,
      removalPolicy: props.removalPolicy,
    });
    const resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::AvailabilityZones',
      serviceTimeout: Duration.minutes(5),
      properties: { AzCount: props.azCount },
    });
    const names = resource.getAttString('Names');
    this.names = Array.from({ length: props.azCount }, (_, i) => Fn.select(i, Fn.split(',', names)));
  }
}
