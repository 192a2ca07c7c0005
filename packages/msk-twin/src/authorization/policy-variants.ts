/**
 * Variants of the synthesized app's IAM policies, made by editing the assembly's statements before translation:
 * a role without one action (to prove the twin refuses what MSK would refuse), or the same actions on other topic
 * and group names (so that tests can use names of their own without sharing the deployed topic).
 *
 * The edits work on the statements read from the cloud assembly, so everything else (the other actions, the
 * ARN forms, the resolution of the template's intrinsics, the translation rules) stays the app's own.
 */
import type { RoleStatement, TwinApp, TwinRole } from '../assembly/assembly';

/** A Kafka request's action, or an action of the AWS APIs the twin's endpoint serves (aws-api/). */
const KAFKA_ACTION = /^(kafka-cluster|kafka|ssm|ec2):(\w+)$/i;

function replaceRole(app: TwinApp, roleArn: string, edit: (role: TwinRole) => TwinRole): TwinApp {
  if (!app.roles.some((r) => r.arn === roleArn)) throw new Error(`The app has no role ${roleArn}`);
  return { ...app, roles: app.roles.map((r) => (r.arn === roleArn ? edit(r) : r)) };
}

/**
 * The app with `actions` (e.g. `kafka-cluster:WriteData`, `kafka:ListNodes`) taken out of every statement of the role; a statement
 * left without actions is dropped. Throws when the role does not name an action explicitly (only through a
 * wildcard), since removing it would then mean rewriting the wildcard.
 */
export function withoutActions(app: TwinApp, roleArn: string, actions: readonly string[]): TwinApp {
  const drop = new Set(actions.map((a) => a.toLowerCase()));
  for (const action of actions) {
    if (!KAFKA_ACTION.test(action))
      throw new Error(`${action} is not an action the twin evaluates (kafka-cluster, kafka, ssm, ec2)`);
  }
  return replaceRole(app, roleArn, (role) => {
    const named = new Set(role.statements.flatMap((s) => (s.actions ?? []).map((a) => a.toLowerCase())));
    const missing = actions.filter((a) => !named.has(a.toLowerCase()));
    if (missing.length > 0) throw new Error(`Role ${roleArn} does not name ${missing.join(', ')} in any statement`);
    const statements: RoleStatement[] = [];
    for (const statement of role.statements) {
      if (statement.actions === undefined) {
        statements.push(statement);
        continue;
      }
      const kept = statement.actions.filter((a) => !drop.has(a.toLowerCase()));
      if (kept.length > 0) statements.push({ ...statement, actions: kept });
    }
    return { ...role, statements };
  });
}

export interface Renames {
  /** Topic name in the app's ARNs -> the name (or `prefix*`) to grant instead. */
  readonly topics?: Readonly<Record<string, string>>;
  /** Group name in the app's ARNs -> the name (or `prefix*`) to grant instead. */
  readonly groups?: Readonly<Record<string, string>>;
}

/**
 * The app with every role's topic and group ARNs renamed: the same actions, on the names a test uses. Equivalent
 * to synthesizing the app with those names in its configuration (demoTopic, consumerGroup, topics), without the
 * seconds a synth takes; a unit test checks that equivalence.
 */
export function renamed(app: TwinApp, renames: Renames): TwinApp {
  const rename = (resource: string): string => {
    const m = /^(arn:[^:]+:kafka:[^:]*:[^:]*:(topic|group)\/[^/]+\/[^/]+\/)(.+)$/.exec(resource);
    if (!m) return resource;
    const table = m[2] === 'topic' ? renames.topics : renames.groups;
    const to = table?.[m[3]];
    return to === undefined ? resource : `${m[1]}${to}`;
  };
  return {
    ...app,
    roles: app.roles.map((role) => ({
      ...role,
      statements: role.statements.map((s) => ({ ...s, resources: () => s.resources().map(rename) })),
    })),
  };
}
