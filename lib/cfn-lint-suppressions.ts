import { CfnResource, IAspect } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * cfn-lint findings in resources that CDK itself writes, each suppressed on the exact resource with the
 * reason (the README lists them). The project's own resources are linted without exceptions.
 */
export const CDK_OWNED_CFN_LINT_EXCEPTIONS: { pathPattern: RegExp; rule: string; reason: string }[] = [
  {
    // Core custom-resource providers (e.g. the VPC's default-security-group lockdown) declare an explicit
    // DependsOn on their role in addition to the GetAtt, so that the role's policy exists before the function runs.
    pathPattern: /\/Custom::[A-Za-z]+CustomResourceProvider\/Handler$/,
    rule: 'W3005',
    reason: 'CDK core custom-resource provider: redundant DependsOn on its own role, written by CDK',
  },
];

/** Adds `Metadata.cfn-lint.config.ignore_checks` to the CDK-owned resources listed above. */
export class CfnLintSuppressions implements IAspect {
  visit(node: IConstruct): void {
    if (!(node instanceof CfnResource)) return;
    const path = node.node.path;
    const rules = CDK_OWNED_CFN_LINT_EXCEPTIONS.filter((e) => e.pathPattern.test(path)).map((e) => e.rule);
    if (rules.length > 0) node.addMetadata('cfn-lint', { config: { ignore_checks: rules } });
  }
}
