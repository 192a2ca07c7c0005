/**
 * The AWS identities of the local MSK twin: one partition, account and region, and a Kafka principal per IAM role.
 * The credential issuer, the token validator and the policy evaluation all name roles this way.
 */
export const TWIN_ACCOUNT = '111122223333';
export const TWIN_REGION = 'us-east-1';
export const TWIN_PARTITION = 'aws';

/** Where the twin's cluster lives: the partition, account and region of every ARN it derives. */
export interface TwinIdentity {
  /** @default TWIN_PARTITION */
  readonly partition: string;
  /** @default TWIN_ACCOUNT */
  readonly account: string;
  /** @default TWIN_REGION */
  readonly region: string;
}

export const DEFAULT_TWIN_IDENTITY: TwinIdentity = {
  partition: TWIN_PARTITION,
  account: TWIN_ACCOUNT,
  region: TWIN_REGION,
};

/** The identity with `given`'s values over the defaults; refused in one line when a value is malformed. */
export function twinIdentity(given: Partial<TwinIdentity> = {}): TwinIdentity {
  const identity = { ...DEFAULT_TWIN_IDENTITY, ...Object.fromEntries(Object.entries(given).filter(([, v]) => v)) };
  if (!/^aws(-[a-z]+)*$/.test(identity.partition)) {
    throw new Error(
      `partition ${JSON.stringify(identity.partition)} is not an AWS partition (aws, aws-cn, aws-us-gov)`,
    );
  }
  if (!/^\d{12}$/.test(identity.account)) {
    throw new Error(`account ${JSON.stringify(identity.account)} is not a 12-digit AWS account id`);
  }
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(identity.region)) {
    throw new Error(`region ${JSON.stringify(identity.region)} is not an AWS region name such as eu-west-1`);
  }
  return identity;
}

/** The role the twin's admin tools (topic set-up, the command-line tools) sign in as; a Kafka super user. */
export function adminRoleArn(identity: TwinIdentity = DEFAULT_TWIN_IDENTITY): string {
  return `arn:${identity.partition}:iam::${identity.account}:role/hello-msk-local-admin`;
}

/** The admin role of a twin with the default identity. */
export const TWIN_ADMIN_ROLE_ARN = adminRoleArn();

/** The host of CloudFormation's custom resource ResponseURLs (pre-signed S3 URLs) in `region`. */
export function cloudFormationResponseHost(region: string): string {
  return `cloudformation-custom-resource-response-${region.replace(/-/g, '')}.s3.amazonaws.com`;
}

/** The Kafka principal of a session signed with credentials the twin issued for `roleArn`. */
export function kafkaPrincipal(roleArn: string): string {
  return `User:${roleArn}`;
}
