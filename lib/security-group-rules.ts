import * as ec2 from 'aws-cdk-lib/aws-ec2';

/** The egress rules written into each group so far, so that a second call adds to the first. */
const inlineEgress = new WeakMap<ec2.SecurityGroup, Record<string, unknown>[]>();

/**
 * `source` may reach `target` on `port`, and nothing else. The egress rule is written into the source group
 * itself: EC2 keeps a group's default allow-all egress unless the group lists an egress rule of its own, and
 * CDK puts rules between groups in separate resources, which do not replace it. The target's ingress rule sits in
 * the source's stack when the two groups live in different stacks, so the target's stack needs nothing of it.
 */
export function allowOnlyTo(
  source: ec2.SecurityGroup,
  target: ec2.ISecurityGroup,
  port: number,
  description: string,
): void {
  target.addIngressRule(source, ec2.Port.tcp(port), description, true);
  const rules = [
    ...(inlineEgress.get(source) ?? []),
    {
      IpProtocol: 'tcp',
      FromPort: port,
      ToPort: port,
      DestinationSecurityGroupId: target.securityGroupId,
      Description: description,
    },
  ];
  inlineEgress.set(source, rules);
  (source.node.defaultChild as ec2.CfnSecurityGroup).addPropertyOverride('SecurityGroupEgress', rules);
}
