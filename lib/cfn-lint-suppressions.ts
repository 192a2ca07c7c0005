import { CfnResource, IAspect } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * cfn-lint findings in resources that CDK itself writes, each suppressed on the exact resource with the
 * reason (docs/testing.md lists them). The project's own resources are linted without exceptions.
 */
export const CDK_OWNED_CFN_LINT_EXCEPTIONS: { resourceType: string; rule: string; reason: string }[] = [
  {
    // CDK makes every function (and state machine) DependsOn its role and the role's default policy, so
    // that the policy exists before the first invocation; cfn-lint calls the role half redundant.
    resourceType: 'AWS::Lambda::Function',
    rule: 'W3005',
    reason: "CDK's DependsOn on the function's own role, beside the GetAtt of the same role",
  },
  {
    resourceType: 'AWS::StepFunctions::StateMachine',
    rule: 'W3005',
    reason: "CDK's DependsOn on the state machine's own role, beside the GetAtt of the same role",
  },
];

/** Adds `Metadata.cfn-lint.config.ignore_checks` to the CDK-owned resources listed above. */
export class CfnLintSuppressions implements IAspect {
  visit(node: IConstruct): void {
    if (!(node instanceof CfnResource)) return;
    const rules = CDK_OWNED_CFN_LINT_EXCEPTIONS.filter((e) => e.resourceType === node.cfnResourceType).map(
      (e) => e.rule,
    );
    if (rules.length > 0) node.addMetadata('cfn-lint', { config: { ignore_checks: rules } });
  }
}
