/**
 * What the twin's deploy of an app left behind (deploy/custom-resources.ts), as CloudFormation would have it: the
 * custom resources' answers, the ones the twin did not run and why, and the SSM parameters the stacks created.
 * Plain JSON, so that `msk-twin up` can record it for later `msk-twin invoke` runs.
 */

/** What a custom resource answered CloudFormation. */
export interface CustomResourceAnswer {
  readonly physicalResourceId: string;
  /** Its `Data`: the attributes `Fn::GetAtt` reads. */
  readonly data: Readonly<Record<string, unknown>>;
}

export interface TwinDeployment {
  /** By `Stack/LogicalId`. */
  readonly answers: Record<string, CustomResourceAnswer>;
  /** By `Stack/LogicalId`: why the twin did not run it. */
  readonly notRun: Record<string, string>;
  /** SSM String parameters the stacks created, by name. */
  readonly parameters: Record<string, string>;
}

export function emptyDeployment(): TwinDeployment {
  return { answers: {}, notRun: {}, parameters: {} };
}
