/**
 * The IAM policies the twin evaluates: for every role a function of the app runs as, its identity policies (inline,
 * the app's managed policies, and managed policies whose documents the user supplies) and its permissions boundary,
 * with the cluster whose resources they name. They are kept in the twin's registry directory (policies.json), which
 * the decision service evaluates and the brokers' authorizer watches; setting a role's policies replaces them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TwinAssemblyError, type RoleStatement, type TwinApp, type TwinRole } from '../assembly/assembly';
import { withLock } from '../broker/local-kafka';
import { resourceArn, type MskResourceType } from './kafka-actions';

/** An IAM policy document as IAM reads it. */
export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: readonly Record<string, unknown>[] | Record<string, unknown>;
}

export interface NamedPolicy {
  /** Where it comes from, e.g. `AWS::IAM::Policy ProducerServiceRoleDefaultPolicyC3F7E596`, or its ARN. */
  readonly name: string;
  readonly document: PolicyDocument;
}

/** What the twin evaluates for one role. */
export interface TwinRolePolicies {
  readonly roleArn: string;
  /** The cluster the role's requests reach: its ARN names the topic, group and transactional-id ARNs. */
  readonly clusterArn: string;
  /** The cluster's tags, for `aws:ResourceTag/<key>` conditions on cluster actions. @default none */
  readonly clusterTags?: Readonly<Record<string, string>>;
  readonly policies: readonly NamedPolicy[];
  /** @default no boundary */
  readonly permissionsBoundary?: NamedPolicy;
}

/** Documents of managed policies the assembly does not hold, by policy ARN. */
export type PolicyDocuments = Readonly<Record<string, PolicyDocument>>;

/**
 * AWS managed policies whose documents the twin cannot read offline but which grant no `kafka-cluster:*` action (the
 * function roles CDK writes carry them). Any other managed policy from outside the app stops the twin unless its
 * document is supplied.
 */
export const AWS_MANAGED_POLICIES_WITHOUT_KAFKA_ACTIONS = [
  'service-role/AWSLambdaBasicExecutionRole',
  'service-role/AWSLambdaVPCAccessExecutionRole',
  'AWSXRayDaemonWriteAccess',
  'CloudWatchLambdaInsightsExecutionRolePolicy',
];

/** A managed policy attached to a role whose document neither the assembly nor the caller supplies. */
export class MissingPolicyDocumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MissingPolicyDocumentError';
  }
}

export interface PoliciesOfOptions {
  /** Documents of managed policies outside the app. @default none */
  readonly policyDocuments?: PolicyDocuments;
}

/**
 * The services whose actions the twin evaluates: Kafka requests (`kafka-cluster`) and the AWS APIs its endpoint
 * serves (aws-api/).
 */
export const EVALUATED_SERVICES = ['kafka-cluster', 'kafka', 'ssm', 'ec2'];

/** An action of EVALUATED_SERVICES, or a wildcard that can stand for one (`*`, `kafka*:…`, `*:…`). */
function mayMatchKafkaAction(action: string): boolean {
  const lower = action.toLowerCase();
  return EVALUATED_SERVICES.some((service) => lower.startsWith(`${service}:`)) || /^[a-z-]*\*/.test(lower);
}

/** `kafka-cluster:…`, or a wildcard that can stand for one: what the brokers' requests are evaluated against. */
function mayMatchKafkaClusterAction(action: string): boolean {
  const lower = action.toLowerCase();
  return lower.startsWith('kafka-cluster:') || /^[a-z-]*\*/.test(lower);
}

/** The statement as a document holds it, resolved; only statements that can match an evaluated action. */
function statementDocument(statement: RoleStatement): Record<string, unknown> | undefined {
  const relevant = statement.notActions !== undefined || (statement.actions ?? []).some(mayMatchKafkaAction);
  if (!relevant) return undefined;
  const kafkaData = statement.notActions !== undefined || (statement.actions ?? []).some(mayMatchKafkaClusterAction);
  if (!kafkaData && statement.effect === 'Allow') {
    // An Allow of AWS API actions only (kafka:, ssm:, ec2:) naming a resource the twin cannot resolve (another
    // resource type's attribute) allows nothing the twin serves; a Deny is never left out.
    try {
      statement.resources();
      statement.notResources();
      statement.condition();
    } catch (error) {
      if (error instanceof TwinAssemblyError) return undefined;
      throw error;
    }
  }
  const notResources = statement.notResources();
  const condition = statement.condition();
  return {
    ...(statement.sid === undefined ? {} : { Sid: statement.sid }),
    Effect: statement.effect,
    ...(statement.notActions === undefined ? { Action: statement.actions ?? [] } : { NotAction: statement.notActions }),
    ...(notResources === undefined ? { Resource: statement.resources() } : { NotResource: notResources }),
    ...(condition === undefined ? {} : { Condition: condition }),
  };
}

/** One document per policy the statements come from, in order. */
function documentsOf(statements: readonly RoleStatement[]): NamedPolicy[] {
  const byPolicy = new Map<string, Record<string, unknown>[]>();
  for (const statement of statements) {
    const list = byPolicy.get(statement.policy) ?? [];
    byPolicy.set(statement.policy, list);
    const document = statementDocument(statement);
    if (document) list.push(document);
  }
  return [...byPolicy]
    .filter(([, list]) => list.length > 0)
    .map(([name, list]) => ({ name, document: { Version: '2012-10-17', Statement: list } }));
}

function isKnownWithoutKafka(arn: string): boolean {
  const m = /^arn:[^:]+:iam::aws:policy\/(.+)$/.exec(arn);
  return m !== null && AWS_MANAGED_POLICIES_WITHOUT_KAFKA_ACTIONS.includes(m[1]);
}

function external(role: TwinRole, arn: string, what: string, documents: PolicyDocuments): NamedPolicy | undefined {
  const supplied = documents[arn];
  if (supplied) return { name: arn, document: supplied };
  if (isKnownWithoutKafka(arn)) return undefined;
  throw new MissingPolicyDocumentError(
    `Role ${role.arn}: ${what} ${arn} is not in the assembly, so the twin cannot evaluate it; supply its document (policyDocuments, or msk-twin up --policy-document ${arn}=FILE)`,
  );
}

/** The policies of one role of the app. */
export function rolePolicies(app: TwinApp, role: TwinRole, options: PoliciesOfOptions = {}): TwinRolePolicies {
  const documents = options.policyDocuments ?? {};
  const policies = documentsOf(role.statements);
  for (const arn of role.externalManagedPolicyArns) {
    const policy = external(role, arn, 'managed policy', documents);
    if (policy) policies.push(policy);
  }
  let permissionsBoundary: NamedPolicy | undefined;
  const boundary = role.permissionsBoundary;
  if (boundary) {
    permissionsBoundary = boundary.statements
      ? {
          name: boundary.arn,
          document: { Version: '2012-10-17', Statement: documentsOf(boundary.statements).flatMap(statementsOf) },
        }
      : (external(role, boundary.arn, 'permissions boundary', documents) ?? {
          // A known AWS managed policy grants no kafka-cluster action: as a boundary it allows none.
          name: boundary.arn,
          document: { Version: '2012-10-17', Statement: [] },
        });
  }
  return {
    roleArn: role.arn,
    clusterArn: app.cluster.arn,
    clusterTags: app.cluster.tags,
    policies,
    permissionsBoundary,
  };
}

export function statementsOf(policy: NamedPolicy): Record<string, unknown>[] {
  const statement: readonly Record<string, unknown>[] | Record<string, unknown> = policy.document.Statement;
  return Array.isArray(statement)
    ? [...(statement as readonly Record<string, unknown>[])]
    : [statement as Record<string, unknown>];
}

/**
 * The policies of every role a function of the app runs as. Throws MissingPolicyDocumentError, in one line naming
 * the role and the policy, for a managed policy or boundary that neither the assembly nor `policyDocuments` holds.
 */
export function policiesOf(app: TwinApp, options: PoliciesOfOptions = {}): TwinRolePolicies[] {
  const used = new Set(app.functions.map((f) => f.roleArn));
  return app.roles.filter((role) => used.has(role.arn)).map((role) => rolePolicies(app, role, options));
}

/** What policies.json holds. */
export interface PolicySetFile {
  readonly roles: Readonly<Record<string, TwinRolePolicies>>;
}

export function policiesFile(registryDir: string): string {
  return path.join(registryDir, 'policies.json');
}

export function readPolicySet(registryDir: string): PolicySetFile {
  try {
    return JSON.parse(fs.readFileSync(policiesFile(registryDir), 'utf8')) as PolicySetFile;
  } catch {
    return { roles: {} };
  }
}

/**
 * Replaces the policies of the roles in `set` and drops those of `remove`, leaving other roles' as they are; the
 * file is replaced by a rename, so readers see the old set or the new one. Serialised across processes (the
 * integration tests' workers share one twin).
 */
export async function updatePolicySet(
  registryDir: string,
  set: readonly TwinRolePolicies[],
  remove: readonly string[] = [],
): Promise<void> {
  await withLock(path.join(registryDir, 'policies.lock'), async () => {
    const roles: Record<string, TwinRolePolicies> = { ...readPolicySet(registryDir).roles };
    for (const arn of remove) delete roles[arn];
    for (const role of set) roles[role.roleArn] = role;
    const file = policiesFile(registryDir);
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify({ roles } satisfies PolicySetFile)}\n`);
    fs.renameSync(tmp, file);
  });
}

function namesKafkaClusterAction(statement: Record<string, unknown>): boolean {
  if (statement.NotAction !== undefined) return true;
  const actions = Array.isArray(statement.Action) ? (statement.Action as unknown[]) : [statement.Action];
  return actions.some((a) => typeof a === 'string' && mayMatchKafkaClusterAction(a));
}

/** The roles' kafka-cluster statements as a Markdown table: what the twin evaluates, policy by policy. */
export function formatPolicyTable(app: TwinApp, roles: readonly TwinRolePolicies[]): string {
  const nameAndUuid = app.cluster.arn.replace(/^.*:cluster\//, '');
  const short = (resource: unknown) =>
    String(resource)
      .replace(/^arn:[^:]*:kafka:[^:]*:[^:]*:/, '')
      .replace(`/${nameAndUuid}`, '/…');
  const list = (value: unknown): unknown[] =>
    Array.isArray(value) ? (value as unknown[]) : value === undefined ? [] : [value];
  const lines = [
    `Cluster \`${app.cluster.arn}\` (\`…\` below stands for \`${nameAndUuid}\`).`,
    '',
    '| Function | Role | Policy | Effect | IAM action | IAM resource | Condition |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const role of roles) {
    const functions = app.functions
      .filter((f) => f.roleArn === role.roleArn)
      .map((f) => f.path)
      .join(', ');
    const roleName = role.roleArn.replace(/^arn:[^:]*:iam::[^:]*:role\//, '');
    const all = [...role.policies, ...(role.permissionsBoundary ? [role.permissionsBoundary] : [])];
    for (const policy of all) {
      const label = policy === role.permissionsBoundary ? `${policy.name} (boundary)` : policy.name;
      for (const s of statementsOf(policy).filter(namesKafkaClusterAction)) {
        const actions =
          s.NotAction === undefined ? list(s.Action).join(', ') : `NotAction ${list(s.NotAction).join(', ')}`;
        const resources =
          s.NotResource === undefined
            ? list(s.Resource).map(short).join(', ')
            : `NotResource ${list(s.NotResource).map(short).join(', ')}`;
        const condition = s.Condition === undefined ? '' : JSON.stringify(s.Condition);
        lines.push(
          `| ${functions} | ${roleName} | ${label} | ${String(s.Effect)} | ${actions} | ${resources} | ${condition} |`,
        );
      }
    }
  }
  return lines.join('\n');
}

/** One allowed action: `['WriteData', 'topic', 'orders']`, `['WriteDataIdempotently', 'cluster']`. */
export type Allow = readonly [action: string, type: MskResourceType, name?: string];

/**
 * A role whose one policy allows kafka-cluster:Connect on `clusterArn` and each of `allows`, for tests and tools that
 * write a role by hand rather than read it from an app.
 */
export function roleAllowing(roleArn: string, clusterArn: string, allows: readonly Allow[]): TwinRolePolicies {
  const statements = [['Connect', 'cluster'] as const, ...allows].map(([action, type, name]) => ({
    Effect: 'Allow',
    Action: `kafka-cluster:${action}`,
    Resource: resourceArn(type, clusterArn, name ?? ''),
  }));
  return {
    roleArn,
    clusterArn,
    policies: [{ name: 'roleAllowing', document: { Version: '2012-10-17', Statement: statements } }],
  };
}
