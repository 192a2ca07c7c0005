/**
 * Decides Kafka requests of IAM roles by evaluating their policies with @cloud-copilot/iam-simulate, a maintained
 * implementation of IAM's policy evaluation logic (Allow and Deny, NotAction and NotResource, wildcards, every
 * condition operator, permissions boundaries). The request maps to kafka-cluster actions as kafka-actions.ts says.
 */
import { iamChecksFor, type IamCheck, type KafkaRequest } from './kafka-actions';
import type { PolicySetFile, TwinRolePolicies } from './policies';

export interface Decision {
  readonly allowed: boolean;
  /** Why not, in one line: the action and resource IAM did not allow, and how. */
  readonly reason?: string;
}

/**
 * Stands in for "every topic" when WriteData must cover all of them: no topic may have this name (Kafka allows
 * only [a-zA-Z0-9._-]), so only a Resource that matches any name (`…/topic/<cluster>/<uuid>/*`, `*`) matches it.
 */
const EVERY_NAME = '<every-name>';

function accountOf(arn: string): string {
  return arn.split(':')[4] ?? '';
}

/** The evaluation of one policy set; build a new one when the set changes. */
export class PolicyEvaluator {
  private readonly checks = new Map<string, Promise<Decision>>();

  constructor(private readonly set: PolicySetFile) {}

  /** Whether `roleArn` may call an AWS API: `action` (e.g. `kafka:ListNodes`) on `resource`. */
  async decideAction(roleArn: string, action: string, resource: string): Promise<Decision> {
    const role = this.set.roles[roleArn];
    if (!role) return { allowed: false, reason: `no policy of role ${roleArn} is known to the twin` };
    const key = `${roleArn}\0${action}\0${resource}`;
    let decision = this.checks.get(key);
    if (!decision) {
      decision = evaluateAction(role, action, resource);
      this.checks.set(key, decision);
    }
    return decision;
  }

  /** Whether `roleArn` may make `request`: every check iamChecksFor() names must be allowed. */
  async decide(roleArn: string, request: KafkaRequest): Promise<Decision> {
    const role = this.set.roles[roleArn];
    if (!role) return { allowed: false, reason: `no policy of role ${roleArn} is known to the twin` };
    const mapped = iamChecksFor(request, role.clusterArn);
    if ('refusal' in mapped) return { allowed: false, reason: mapped.refusal };
    for (const check of mapped.checks) {
      const decision = await this.check(role, check);
      if (!decision.allowed) return decision;
    }
    return { allowed: true };
  }

  private check(role: TwinRolePolicies, check: IamCheck): Promise<Decision> {
    const key = `${role.roleArn}\0${check.action}\0${check.resource}`;
    let decision = this.checks.get(key);
    if (!decision) {
      decision = evaluate(role, check);
      this.checks.set(key, decision);
    }
    return decision;
  }
}

/**
 * Actions the Service Authorization Reference lists without a resource type (so iam-simulate accepts only `*`) but
 * that MSK authorizes on the cluster's ARN: its developer guide's "Accessing one Amazon MSK cluster" grants
 * `kafka:Get*` on one cluster to "get its bootstrap brokers", and CDK's own aws-msk-alpha Cluster calls
 * GetBootstrapBrokers with a policy on the cluster's ARN.
 */
export const CLUSTER_SCOPED_ACTIONS = ['kafka:GetBootstrapBrokers'];

/** One kafka-cluster action on one resource for one role (a Kafka request's check). */
export async function evaluate(role: TwinRolePolicies, check: IamCheck): Promise<Decision> {
  const resource = check.every ? check.resource.replace(/\*$/, EVERY_NAME) : check.resource;
  return evaluateAction(role, `kafka-cluster:${check.action}`, resource, check.resource, () =>
    allowedWithoutBoundary(role, check),
  );
}

/**
 * One action (`kafka-cluster:WriteData`, `kafka:ListNodes`, `ssm:GetParameter`) on one resource for one role, as IAM
 * evaluates an identity-based request within its account.
 */
export async function evaluateAction(
  role: TwinRolePolicies,
  action: string,
  resource: string,
  shownResource = resource,
  withoutBoundary: () => Promise<boolean> = async () =>
    (await evaluateAction({ ...role, permissionsBoundary: undefined }, action, resource)).allowed,
): Promise<Decision> {
  const region = role.clusterArn.split(':')[3] ?? '';
  const now = new Date();
  const contextVariables: Record<string, string> = {
    'aws:PrincipalArn': role.roleArn,
    'aws:PrincipalAccount': accountOf(role.roleArn),
    'aws:PrincipalType': 'AssumedRole',
    'aws:RequestedRegion': region,
    'aws:SecureTransport': 'true',
    'aws:CurrentTime': now.toISOString(),
    'aws:EpochTime': String(Math.floor(now.getTime() / 1000)),
  };
  if (resource === role.clusterArn) {
    // The cluster's tags: MSK's control-plane actions and kafka-cluster actions on the cluster alike.
    for (const [key, value] of Object.entries(role.clusterTags ?? {})) {
      contextVariables[`aws:ResourceTag/${key}`] = value;
    }
  }
  // Loaded on first use, so that the decision service listens before it has read IAM's action data.
  const { runSimulation, runUnsafeSimulation } = await import('@cloud-copilot/iam-simulate');
  const simulation = {
    request: {
      principal: role.roleArn,
      action,
      resource: { resource, accountId: accountOf(role.clusterArn) },
      contextVariables,
    },
    identityPolicies: role.policies.map((p) => ({ name: p.name, policy: p.document })),
    permissionBoundaryPolicies: role.permissionsBoundary
      ? [{ name: role.permissionsBoundary.name, policy: role.permissionsBoundary.document }]
      : undefined,
    serviceControlPolicies: [],
    resourceControlPolicies: [],
  };
  const on = `${action} on ${shownResource}`;
  let result: { resultType: string; overallResult?: string; errors?: unknown };
  if (CLUSTER_SCOPED_ACTIONS.includes(action)) {
    // Evaluated on the cluster's ARN without iam-simulate's check of the action's resource types (see below).
    result = { resultType: 'single', overallResult: runUnsafeSimulation(simulation, {}) };
  } else {
    result = await runSimulation(simulation, {});
  }
  if (result.resultType === 'error') {
    return { allowed: false, reason: `${on}: the policies could not be evaluated: ${JSON.stringify(result.errors)}` };
  }
  if (result.overallResult === 'Allowed') return { allowed: true };
  const how =
    result.overallResult === 'ExplicitlyDenied'
      ? 'is denied explicitly by a Deny statement'
      : role.permissionsBoundary && (await withoutBoundary())
        ? `is not allowed by the permissions boundary ${role.permissionsBoundary.name}`
        : 'is not allowed by any policy of the role (implicit deny)';
  return { allowed: false, reason: `${on} ${how}` };
}

async function allowedWithoutBoundary(role: TwinRolePolicies, check: IamCheck): Promise<boolean> {
  const decision = await evaluate({ ...role, permissionsBoundary: undefined }, check);
  return decision.allowed;
}
