/**
 * Where the twin's ACLs come from: each function role's `kafka-cluster:*` statements, translated to Kafka
 * ACLs the way MSK's IAM access control maps actions to Kafka operations. A statement that has no exact
 * Kafka ACL equivalent fails the twin's start with one line; nothing is silently allowed.
 */
import type { RoleStatement, TwinApp, TwinFunction } from '../assembly/assembly';
import { kafkaPrincipal, type AclBinding, type TwinAuthorization } from '../identity';

export type MskResourceType = 'cluster' | 'topic' | 'group' | 'transactional-id';
type Operation = AclBinding['operation'];

export interface MskAction {
  /** The only resource type the action applies to. */
  readonly resource: MskResourceType;
  /** The Kafka ACL operation it equals; none for Connect, which is checked at sign-in. */
  readonly operation?: Operation;
  /** The actions MSK requires beside it ("Required actions"). */
  readonly required: readonly string[];
}

/**
 * MSK's IAM actions for the Kafka APIs and the Apache Kafka ACL each one is equivalent to, with the actions
 * each requires beside it: the table "Authorization policy actions" of the MSK developer guide, "Semantics
 * of IAM authorization policy actions and resources"
 * (https://docs.aws.amazon.com/msk/latest/developerguide/kafka-actions.html).
 */
export const MSK_ACTIONS: Readonly<Record<string, MskAction>> = {
  Connect: { resource: 'cluster', required: [] },
  DescribeCluster: { resource: 'cluster', operation: 'DESCRIBE', required: ['Connect'] },
  AlterCluster: { resource: 'cluster', operation: 'ALTER', required: ['Connect', 'DescribeCluster'] },
  DescribeClusterDynamicConfiguration: { resource: 'cluster', operation: 'DESCRIBE_CONFIGS', required: ['Connect'] },
  AlterClusterDynamicConfiguration: {
    resource: 'cluster',
    operation: 'ALTER_CONFIGS',
    required: ['Connect', 'DescribeClusterDynamicConfiguration'],
  },
  WriteDataIdempotently: { resource: 'cluster', operation: 'IDEMPOTENT_WRITE', required: ['Connect', 'WriteData'] },
  CreateTopic: { resource: 'topic', operation: 'CREATE', required: ['Connect'] },
  DescribeTopic: { resource: 'topic', operation: 'DESCRIBE', required: ['Connect'] },
  AlterTopic: { resource: 'topic', operation: 'ALTER', required: ['Connect', 'DescribeTopic'] },
  DeleteTopic: { resource: 'topic', operation: 'DELETE', required: ['Connect', 'DescribeTopic'] },
  DescribeTopicDynamicConfiguration: { resource: 'topic', operation: 'DESCRIBE_CONFIGS', required: ['Connect'] },
  AlterTopicDynamicConfiguration: {
    resource: 'topic',
    operation: 'ALTER_CONFIGS',
    required: ['Connect', 'DescribeTopicDynamicConfiguration'],
  },
  ReadData: { resource: 'topic', operation: 'READ', required: ['Connect', 'DescribeTopic', 'AlterGroup'] },
  WriteData: { resource: 'topic', operation: 'WRITE', required: ['Connect', 'DescribeTopic'] },
  DescribeGroup: { resource: 'group', operation: 'DESCRIBE', required: ['Connect'] },
  AlterGroup: { resource: 'group', operation: 'READ', required: ['Connect', 'DescribeGroup'] },
  DeleteGroup: { resource: 'group', operation: 'DELETE', required: ['Connect', 'DescribeGroup'] },
  DescribeTransactionalId: { resource: 'transactional-id', operation: 'DESCRIBE', required: ['Connect'] },
  AlterTransactionalId: {
    resource: 'transactional-id',
    operation: 'WRITE',
    required: ['Connect', 'DescribeTransactionalId', 'WriteData'],
  },
};

const ACTION_NAMES = Object.keys(MSK_ACTIONS);
const KAFKA_RESOURCE_TYPE: Record<MskResourceType, AclBinding['resourceType']> = {
  cluster: 'CLUSTER',
  topic: 'TOPIC',
  group: 'GROUP',
  'transactional-id': 'TRANSACTIONAL_ID',
};

/**
 * Kafka's authorizer lets an ALLOW of these operations also allow DESCRIBE (or DESCRIBE_CONFIGS) of the same
 * resource (StandardAuthorizer's IMPLIES_DESCRIBE and IMPLIES_DESCRIBE_CONFIGS); MSK's IAM actions imply
 * nothing. The twin therefore insists on the describe action MSK requires beside them.
 */
const KAFKA_IMPLIES: Partial<Record<Operation, Operation>> = {
  READ: 'DESCRIBE',
  WRITE: 'DESCRIBE',
  DELETE: 'DESCRIBE',
  ALTER: 'DESCRIBE',
  ALTER_CONFIGS: 'DESCRIBE_CONFIGS',
};

/**
 * AWS managed policies whose documents the twin cannot read offline but which grant no `kafka-cluster:*`
 * action (the function roles CDK writes carry them). Any other AWS managed policy on a function role stops
 * the twin: it might grant Kafka actions.
 */
export const AWS_MANAGED_POLICIES_WITHOUT_KAFKA_ACTIONS = [
  'service-role/AWSLambdaBasicExecutionRole',
  'service-role/AWSLambdaVPCAccessExecutionRole',
  'AWSXRayDaemonWriteAccess',
  'CloudWatchLambdaInsightsExecutionRolePolicy',
];

/** A statement the twin cannot translate exactly; the message names the statement and why. */
export class PolicyTranslationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyTranslationError';
  }
}

/** The names of one resource type that an IAM resource pattern selects in the twin's cluster. */
export type NameSet =
  | { readonly kind: 'all' }
  | { readonly kind: 'literal'; readonly name: string }
  | { readonly kind: 'prefix'; readonly prefix: string };

/** IAM's `*` and `?`, case-sensitive as resource ARNs are; `caseless` for action names. */
function globToRegExp(pattern: string, caseless = false): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, caseless ? 'i' : '');
}

/** The pattern positions (an NFA over `*` and `?`) reachable after matching `text` from the start. */
function statesAfter(pattern: string, text: string): Set<number> {
  const closure = (states: Set<number>): Set<number> => {
    const out = new Set(states);
    for (const s of states) {
      let i = s;
      while (pattern[i] === '*') out.add(++i);
    }
    return out;
  };
  let states = closure(new Set([0]));
  for (const ch of text) {
    const next = new Set<number>();
    for (const s of states) {
      if (s >= pattern.length) continue;
      if (pattern[s] === '*') next.add(s);
      else if (pattern[s] === '?' || pattern[s] === ch) next.add(s + 1);
    }
    states = closure(next);
    if (states.size === 0) break;
  }
  return states;
}

/** Characters a name may hold: Kafka restricts topic names; group and transactional ids may hold anything. */
const NAME_CHARACTERS: Record<MskResourceType, RegExp | undefined> = {
  cluster: undefined,
  topic: /^[a-zA-Z0-9._-]$/,
  group: undefined,
  'transactional-id': undefined,
};

/** An IAM resource pattern whose selection of names has no Kafka ACL form. */
export class UntranslatableResource extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'UntranslatableResource';
  }
}

/**
 * Which names of `type` the IAM resource `pattern` selects in the cluster `clusterArn`, as Kafka name sets,
 * or undefined when it selects none. IAM's `*` matches any characters, `/` and `:` included, anywhere after
 * the resource type (MSK developer guide, "Semantics of IAM authorization policy actions and resources").
 */
export function namesSelected(pattern: string, type: MskResourceType, clusterArn: string): NameSet[] | undefined {
  if (type === 'cluster') {
    const states = statesAfter(pattern, clusterArn);
    const matches = [...states].some((s) => /^\**$/.test(pattern.slice(s)));
    return matches ? [{ kind: 'literal', name: 'kafka-cluster' }] : undefined;
  }
  // arn:aws:kafka:REGION:ACCOUNT:cluster/NAME/UUID -> arn:aws:kafka:REGION:ACCOUNT:topic/NAME/UUID/
  const base = `${clusterArn.replace(/:cluster\//, `:${type}/`)}/`;
  const rests = [...statesAfter(pattern, base)].map((state) => pattern.slice(state));
  if (rests.some((rest) => /^\*+$/.test(rest))) return [{ kind: 'all' }];
  const allowed = NAME_CHARACTERS[type];
  const sets: NameSet[] = [];
  for (const rest of rests) {
    // A character no name of this type may hold: the rest selects nothing.
    if (allowed && [...rest.replace(/[*?]/g, '')].some((ch) => !allowed.test(ch))) continue;
    if (!/[*?]/.test(rest)) {
      if (rest !== '') sets.push({ kind: 'literal', name: rest });
    } else if (/^[^*?]+\*+$/.test(rest)) {
      sets.push({ kind: 'prefix', prefix: rest.replace(/\*+$/, '') });
    } else {
      throw new UntranslatableResource(
        `it selects ${type} names of the form ${rest} (IAM's * and ? match any characters, / and : included), which no Kafka ACL (a whole name, a prefix or every name) expresses`,
      );
    }
  }
  return sets.length > 0 ? dedupeSets(sets) : undefined;
}

function dedupeSets(sets: NameSet[]): NameSet[] {
  const seen = new Set<string>();
  return sets.filter((s) => {
    const key = JSON.stringify(s);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** True when every name `inner` selects is also selected by `outer`. */
export function covers(outer: NameSet, inner: NameSet): boolean {
  if (outer.kind === 'all') return true;
  if (outer.kind === 'prefix') {
    if (inner.kind === 'literal') return inner.name.startsWith(outer.prefix);
    if (inner.kind === 'prefix') return inner.prefix.startsWith(outer.prefix);
    return false;
  }
  return inner.kind === 'literal' && inner.name === outer.name;
}

function disjoint(a: NameSet, b: NameSet): boolean {
  if (a.kind === 'all' || b.kind === 'all') return false;
  if (a.kind === 'literal' && b.kind === 'literal') return a.name !== b.name;
  if (a.kind === 'literal' && b.kind === 'prefix') return !a.name.startsWith(b.prefix);
  if (a.kind === 'prefix' && b.kind === 'literal') return !b.name.startsWith(a.prefix);
  const [p, q] = [(a as { prefix: string }).prefix, (b as { prefix: string }).prefix];
  return !(p.startsWith(q) || q.startsWith(p));
}

/** The documented actions an IAM action pattern stands for (IAM action names are case-insensitive). */
export function expandAction(pattern: string): string[] {
  const regex = globToRegExp(pattern, true);
  return ACTION_NAMES.filter((name) => regex.test(`kafka-cluster:${name}`));
}

/** One function role as the translation sees it. */
export interface RoleInput {
  readonly arn: string;
  /** The functions that run as this role, for the table. */
  readonly functions: readonly string[];
  readonly statements: readonly Pick<
    RoleStatement,
    'where' | 'effect' | 'actions' | 'notActions' | 'hasCondition' | 'hasNotResource' | 'resources'
  >[];
  readonly awsManagedPolicyArns: readonly string[];
}

/** One action on one resource of one role, and what it became. */
export interface PolicyAclRow {
  readonly role: string;
  readonly functions: readonly string[];
  readonly effect: 'Allow' | 'Deny';
  /** `kafka-cluster:WriteData` */
  readonly action: string;
  /** The IAM resource as resolved for the twin. */
  readonly resource: string;
  /** What the twin enforces for it: ACLs, sign-in, or nothing in this cluster. */
  readonly acls: readonly AclBinding[];
  readonly note?: string;
}

export interface PolicyTranslation {
  readonly authorization: TwinAuthorization;
  readonly rows: readonly PolicyAclRow[];
}

interface Grant {
  readonly action: string;
  readonly set: NameSet;
}

function bindingsOf(roleArn: string, action: string, set: NameSet): AclBinding[] {
  const semantics = MSK_ACTIONS[action];
  if (!semantics.operation) return [];
  const resourceType = KAFKA_RESOURCE_TYPE[semantics.resource];
  const base = { principal: kafkaPrincipal(roleArn), resourceType, operation: semantics.operation };
  if (semantics.resource === 'cluster') return [{ ...base, resourceName: 'kafka-cluster', patternType: 'LITERAL' }];
  // Kafka's wildcard resource name: a LITERAL "*" matches every name (a PREFIXED pattern may not be empty).
  if (set.kind === 'all') return [{ ...base, resourceName: '*', patternType: 'LITERAL' }];
  if (set.kind === 'prefix') return [{ ...base, resourceName: set.prefix, patternType: 'PREFIXED' }];
  return [{ ...base, resourceName: set.name, patternType: 'LITERAL' }];
}

function describeSet(type: MskResourceType, set: NameSet): string {
  if (type === 'cluster') return 'the cluster';
  if (set.kind === 'all') return `every ${type}`;
  if (set.kind === 'prefix') return `${type}s ${set.prefix}*`;
  return `${type} ${set.name}`;
}

const ARN = /^arn:([^:]*):([^:]*):/;

/** Translates the roles' `kafka-cluster:*` statements for the cluster `clusterArn`. */
export function translateRoles(roles: readonly RoleInput[], clusterArn: string): PolicyTranslation {
  const rows: PolicyAclRow[] = [];
  const acls: AclBinding[] = [];
  const connectRoleArns: string[] = [];

  for (const role of roles) {
    for (const arn of role.awsManagedPolicyArns) {
      const name = arn.replace(/^arn:[^:]+:iam::aws:policy\//, '');
      if (!AWS_MANAGED_POLICIES_WITHOUT_KAFKA_ACTIONS.includes(name)) {
        throw new PolicyTranslationError(
          `Role ${role.arn}: AWS managed policy ${arn} is not in the assembly, so the twin cannot tell which kafka-cluster actions it grants; attach a policy of the app instead, or list it in AWS_MANAGED_POLICIES_WITHOUT_KAFKA_ACTIONS (msk-twin, src/authorization/policy-acls.ts) if it grants none`,
        );
      }
    }
    const allows: Grant[] = [];
    const denies: { grant: Grant; where: string }[] = [];
    const roleRows: { row: PolicyAclRow; grant: Grant }[] = [];

    for (const statement of role.statements) {
      const where = statement.where;
      if (statement.notActions) {
        const excluded = ACTION_NAMES.filter((name) =>
          statement.notActions?.some((p) => globToRegExp(p, true).test(`kafka-cluster:${name}`)),
        );
        if (excluded.length === ACTION_NAMES.length) continue;
        throw new PolicyTranslationError(
          `${where}: NotAction ${JSON.stringify(statement.notActions)} covers kafka-cluster actions by exclusion; the twin translates only statements that list their actions`,
        );
      }
      const actions = new Set<string>();
      for (const pattern of statement.actions ?? []) {
        const expanded = expandAction(pattern);
        if (expanded.length === 0 && /^kafka-cluster:[^*?]+$/i.test(pattern)) {
          throw new PolicyTranslationError(
            `${where}: ${pattern} is not an action of MSK's IAM access control (known: ${ACTION_NAMES.join(', ')})`,
          );
        }
        expanded.forEach((a) => actions.add(a));
      }
      if (actions.size === 0) continue;
      const effect = statement.effect;
      if (effect !== 'Allow' && effect !== 'Deny') {
        throw new PolicyTranslationError(`${where}: Effect ${JSON.stringify(effect)} is not Allow or Deny`);
      }
      if (statement.hasCondition) {
        throw new PolicyTranslationError(
          `${where}: a Condition on kafka-cluster actions cannot be evaluated by the twin; it would grant them unconditionally`,
        );
      }
      if (statement.hasNotResource) {
        throw new PolicyTranslationError(
          `${where}: NotResource on kafka-cluster actions selects resources by exclusion, which Kafka ACLs cannot express`,
        );
      }
      for (const resource of statement.resources()) {
        const matchedAny = (['cluster', 'topic', 'group', 'transactional-id'] as const).some((type) =>
          selected(resource, type, clusterArn, where),
        );
        if (!matchedAny) {
          const service = ARN.exec(resource)?.[2];
          if (service === undefined || /kafka|[*?]/.test(service)) {
            throw new PolicyTranslationError(
              `${where}: Resource ${resource} is not in the cluster the twin runs (${clusterArn}); the twin runs only this app's cluster`,
            );
          }
          continue;
        }
        for (const action of actions) {
          const type = MSK_ACTIONS[action].resource;
          const sets = selected(resource, type, clusterArn, where) ?? [];
          for (const set of sets) {
            const grant: Grant = { action, set };
            if (effect === 'Deny') denies.push({ grant, where });
            else allows.push(grant);
            const connect = action === 'Connect';
            roleRows.push({
              grant,
              row: {
                role: role.arn,
                functions: role.functions,
                effect,
                action: `kafka-cluster:${action}`,
                resource,
                acls: effect === 'Allow' ? bindingsOf(role.arn, action, set) : [],
                note: connect
                  ? `sign-in ${effect === 'Allow' ? 'allowed' : 'refused'}`
                  : effect === 'Deny'
                    ? `denies ${describeSet(type, set)}`
                    : undefined,
              },
            });
          }
        }
      }
    }

    // A Deny removes whole grants it covers; one that removes only part of a grant has no allow-only form.
    const remaining = allows.filter((grant) => {
      for (const { grant: deny, where } of denies) {
        if (deny.action !== grant.action || disjoint(deny.set, grant.set)) continue;
        if (covers(deny.set, grant.set)) return false;
        const type = MSK_ACTIONS[grant.action].resource;
        throw new PolicyTranslationError(
          `${where}: Deny kafka-cluster:${grant.action} on ${describeSet(type, deny.set)} removes only part of the Allow on ${describeSet(type, grant.set)}; the twin's ACLs are allow-only and cannot express the difference`,
        );
      }
      return true;
    });
    for (const { row, grant } of roleRows) {
      const removed = row.effect === 'Allow' && !remaining.includes(grant);
      rows.push(removed ? { ...row, acls: [], note: 'removed by a Deny' } : row);
    }

    for (const grant of remaining) {
      const semantics = MSK_ACTIONS[grant.action];
      const implied = semantics.operation ? KAFKA_IMPLIES[semantics.operation] : undefined;
      if (!implied) continue;
      const needed = semantics.required.find(
        (r) => MSK_ACTIONS[r].resource === semantics.resource && MSK_ACTIONS[r].operation === implied,
      );
      if (!needed) continue;
      const present = remaining.some((g) => g.action === needed && covers(g.set, grant.set));
      if (!present) {
        throw new PolicyTranslationError(
          `Role ${role.arn}: kafka-cluster:${grant.action} on ${describeSet(semantics.resource, grant.set)} comes without kafka-cluster:${needed} on it; MSK requires both and refuses the client, while Kafka's ${semantics.operation} ACL would imply ${implied}, so the twin cannot refuse it the same way`,
        );
      }
    }

    for (const grant of remaining) {
      if (grant.action === 'Connect') {
        if (!connectRoleArns.includes(role.arn)) connectRoleArns.push(role.arn);
        continue;
      }
      for (const binding of bindingsOf(role.arn, grant.action, grant.set)) {
        if (!acls.some((b) => same(b, binding))) acls.push(binding);
      }
    }
  }
  return { authorization: { acls, connectRoleArns }, rows };
}

function selected(resource: string, type: MskResourceType, clusterArn: string, where: string): NameSet[] | undefined {
  try {
    return namesSelected(resource, type, clusterArn);
  } catch (error) {
    if (!(error instanceof UntranslatableResource)) throw error;
    throw new PolicyTranslationError(`${where}: Resource ${resource}: ${error.message}`);
  }
}

function same(a: AclBinding, b: AclBinding): boolean {
  return (
    a.principal === b.principal &&
    a.resourceType === b.resourceType &&
    a.resourceName === b.resourceName &&
    a.patternType === b.patternType &&
    a.operation === b.operation
  );
}

/** How a function is named in the table: its construct path, e.g. `Topics/OnEvent`. */
export function functionLabel(fn: TwinFunction): string {
  return fn.path;
}

/** The twin's authorization for an app: every role that a function of the app runs as. */
export function translatePolicies(app: TwinApp): PolicyTranslation {
  const roles: RoleInput[] = app.roles
    .map((role) => ({
      arn: role.arn,
      functions: app.functions.filter((f) => f.roleArn === role.arn).map(functionLabel),
      statements: role.statements,
      awsManagedPolicyArns: role.awsManagedPolicyArns,
    }))
    .filter((role) => role.functions.length > 0);
  return translateRoles(roles, app.cluster.arn);
}

function describeBinding(b: AclBinding): string {
  const name = b.patternType === 'PREFIXED' ? `${b.resourceName}*` : b.resourceName;
  return `ALLOW ${b.operation} ${b.resourceType} ${name} (${b.patternType})`;
}

/** The table as Markdown: one row per action and resource, only for roles that have kafka-cluster statements. */
export function formatPolicyAclTable(translation: PolicyTranslation, clusterArn: string): string {
  // arn:aws:kafka:REGION:ACCOUNT:topic/NAME/UUID/test-topic -> topic/…/test-topic
  const nameAndUuid = clusterArn.replace(/^.*:cluster\//, '');
  const short = (resource: string) =>
    resource.replace(/^arn:[^:]*:kafka:[^:]*:[^:]*:/, '').replace(`/${nameAndUuid}`, '/…');
  const lines = [
    `Cluster \`${clusterArn}\` (\`…\` below stands for \`${nameAndUuid}\`).`,
    '',
    '| Function | Role | IAM action | IAM resource | Kafka ACL on the twin |',
    '|---|---|---|---|---|',
  ];
  for (const row of translation.rows) {
    const role = row.role.replace(/^arn:[^:]*:iam::[^:]*:role\//, '');
    const what = [...row.acls.map(describeBinding), ...(row.note ? [row.note] : [])].join('; ') || 'nothing';
    lines.push(`| ${row.functions.join(', ')} | ${role} | ${row.action} | ${short(row.resource)} | ${what} |`);
  }
  return lines.join('\n');
}
