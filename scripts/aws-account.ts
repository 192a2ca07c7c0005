/**
 * What the commands that act on deployed stacks share: which stage (`--stage S`, the `HelloMsk-S-*` stacks),
 * which AWS profile (`--aws-profile A` or `--profile A`, as AWS users type it), and one STS GetCallerIdentity call
 * before anything else, so that missing credentials, a missing region or an unreachable AWS API are named as such.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { loadSharedConfigFiles } from '@smithy/core/config';

const ROOT = path.join(__dirname, '..');

/** A stage name as lib/config.ts accepts it. */
export const STAGE_NAME = /^[A-Za-z][A-Za-z0-9-]{0,30}$/;

/** The parsed `--stage`, `--profile` and `--aws-profile` options. */
export interface StageFlags {
  readonly stage?: string;
  readonly profile?: string;
  readonly 'aws-profile'?: string;
}

/** The names `--profile` may mean. */
export interface KnownNames {
  /** The stages in cdk.json's `hello-msk:stages`. */
  readonly stages: readonly string[];
  /** The profiles in the AWS config and credentials files. */
  readonly awsProfiles: readonly string[];
}

export interface StageChoice {
  readonly stage: string;
  /** The AWS profile to use (as AWS_PROFILE); undefined keeps the environment's. */
  readonly awsProfile?: string;
  /** A line to print first: `--profile` taken in its former meaning. */
  readonly notice?: string;
}

/**
 * `--stage` names the stage. `--profile P` is an AWS profile, as for the AWS and CDK CLIs, except where it can only
 * mean a stage (its former meaning here): P is a stage in cdk.json and no AWS profile, and no `--stage` is given.
 * Where P is both, the command refuses rather than guess which account to touch.
 */
export function chooseStage(flags: StageFlags, known: KnownNames, defaultStage: string): StageChoice {
  const { profile } = flags;
  let awsProfile = flags['aws-profile'];
  let stage = flags.stage;
  let notice: string | undefined;
  if (profile !== undefined) {
    if (awsProfile !== undefined && awsProfile !== profile) {
      throw new Error(`--profile ${profile} and --aws-profile ${awsProfile} disagree; give only --aws-profile`);
    }
    const isStage = known.stages.includes(profile);
    const isAwsProfile = known.awsProfiles.includes(profile);
    if (stage === undefined && awsProfile === undefined && isStage && isAwsProfile) {
      throw new Error(
        `--profile ${profile} names both a hello-msk stage and an AWS profile; say --stage ${profile} or --aws-profile ${profile}`,
      );
    }
    if (stage === undefined && awsProfile === undefined && isStage) {
      stage = profile;
      notice = `--profile is now --stage; using stage ${profile} (an AWS profile is --aws-profile)`;
    } else {
      awsProfile = profile;
    }
  }
  stage ??= defaultStage;
  if (!STAGE_NAME.test(stage)) {
    throw new Error(`--stage ${JSON.stringify(stage)} is not valid; allowed: a stage name from cdk.json`);
  }
  if (awsProfile !== undefined && awsProfile.trim() === '') throw new Error('--aws-profile is empty');
  return { stage, awsProfile, notice };
}

/** The stage names in cdk.json, and the AWS profile names in the AWS config and credentials files. */
export async function knownNames(): Promise<KnownNames> {
  let stages: string[] = [];
  try {
    const cdkJson = JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')) as {
      context?: Record<string, unknown>;
    };
    const context = cdkJson.context ?? {};
    stages = Object.keys({ ...(context['hello-msk:profiles'] ?? {}), ...(context['hello-msk:stages'] ?? {}) });
  } catch {
    // No readable cdk.json: no stage names to tell apart.
  }
  const files = await loadSharedConfigFiles().catch(() => ({ configFile: {}, credentialsFile: {} }));
  const awsProfiles = [...Object.keys(files.configFile), ...Object.keys(files.credentialsFile)];
  return { stages, awsProfiles };
}

/** What the check needs of an STS client. */
export type StsLike = Pick<STSClient, 'send'> & { readonly config: { region(): Promise<string | undefined> } };

/** Who and where: the answer of GetCallerIdentity, and the region it was asked in. */
export interface AwsIdentity {
  readonly account: string;
  readonly arn: string;
  readonly region: string;
}

/** The check failed: one line naming the cause. */
export class AwsUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AwsUnavailable';
  }
}

const NETWORK_CODES = /^(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPROTO)$/;

/**
 * One STS GetCallerIdentity call, which needs no permission: proves that there is a region, that credentials
 * load and are valid, and that the AWS API answers. Throws AwsUnavailable with the cause.
 */
export async function checkAwsAccount(sts: StsLike): Promise<AwsIdentity> {
  let region: string | undefined;
  try {
    region = await sts.config.region();
  } catch {
    region = undefined;
  }
  if (!region) {
    throw new AwsUnavailable('no AWS region set; set AWS_REGION, AWS_DEFAULT_REGION or a region in your AWS profile');
  }
  try {
    const identity = await sts.send(new GetCallerIdentityCommand({}));
    return { account: identity.Account ?? '?', arn: identity.Arn ?? '?', region };
  } catch (error) {
    throw describeAwsError(error, region);
  }
}

/** The one line for an error of the STS call. */
export function describeAwsError(error: unknown, region: string): AwsUnavailable {
  const { name = '', message = String(error) } = error instanceof Error ? error : {};
  const code = (error as { code?: unknown }).code;
  const flat = message.replace(/\s+/g, ' ').trim();
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(flat)) {
    return new AwsUnavailable(
      `no AWS credentials (${flat}); set AWS_PROFILE or use --aws-profile, run aws configure or aws sso login, then retry`,
    );
  }
  if (
    /ExpiredToken|InvalidClientTokenId|SignatureDoesNotMatch|security token included in the request/i.test(name + flat)
  ) {
    return new AwsUnavailable(`your AWS credentials are not valid (${name}: ${flat}); refresh them and retry`);
  }
  if (typeof code === 'string' && NETWORK_CODES.test(code)) {
    const host = (error as { hostname?: unknown }).hostname;
    return new AwsUnavailable(
      `cannot reach ${typeof host === 'string' ? host : `sts.${region}.amazonaws.com`}: ${code} (the AWS API itself; check the network, a proxy or the region ${region})`,
    );
  }
  if (name === 'TimeoutError') {
    return new AwsUnavailable(`cannot reach sts.${region}.amazonaws.com: ${flat} (the AWS API itself)`);
  }
  return new AwsUnavailable(`the AWS API refused GetCallerIdentity in ${region}: ${name ? `${name}: ` : ''}${flat}`);
}

/** The region as the AWS CLI and the CDK CLI take it: AWS_REGION, then AWS_DEFAULT_REGION, else the profile's. */
export function regionFromEnvironment(env: Record<string, string | undefined> = process.env): string | undefined {
  return env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || undefined;
}

/** An STS client for the environment's region and profile; one attempt, answered within 10 s. */
export function stsClient(env: Record<string, string | undefined> = process.env): STSClient {
  const region = regionFromEnvironment(env);
  return new STSClient({
    ...(region ? { region } : {}),
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 5000, requestTimeout: 10000 },
  });
}
