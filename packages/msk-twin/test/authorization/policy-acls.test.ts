import {
  type AclBinding,
  expandAction,
  MSK_ACTIONS,
  type MskResourceType,
  type NameSet,
  namesSelected,
  PolicyTranslationError,
  type RoleInput,
  translateRoles,
  TWIN_CLUSTER_UUID,
  twinClusterArn,
  UntranslatableResource,
} from 'msk-twin';

const CLUSTER = twinClusterArn('c1');
const ROLE = 'arn:aws:iam::111122223333:role/r1';
const WHERE = 'S/Policy PolicyDocument.Statement[0]';

/** ARN of a resource in the twin's cluster: `topic/c1/<uuid>/<name>`. */
function arn(
  type: Exclude<MskResourceType, 'cluster'>,
  name: string,
  cluster = 'c1',
  uuid = TWIN_CLUSTER_UUID,
): string {
  return `arn:aws:kafka:us-east-1:111122223333:${type}/${cluster}/${uuid}/${name}`;
}

interface StatementSpec {
  readonly effect?: string;
  readonly actions?: string[];
  readonly notActions?: string[];
  readonly resources?: string[];
  readonly condition?: boolean;
  readonly notResource?: boolean;
  readonly where?: string;
}

function statement(spec: StatementSpec): RoleInput['statements'][number] {
  return {
    where: spec.where ?? WHERE,
    effect: spec.effect ?? 'Allow',
    actions: spec.actions,
    notActions: spec.notActions,
    hasCondition: spec.condition ?? false,
    hasNotResource: spec.notResource ?? false,
    resources: () => spec.resources ?? [],
  };
}

function role(statements: StatementSpec[], awsManagedPolicyArns: string[] = []): RoleInput {
  return {
    arn: ROLE,
    functions: ['producer (index.handler)'],
    statements: statements.map(statement),
    awsManagedPolicyArns,
  };
}

function acl(
  resourceType: AclBinding['resourceType'],
  resourceName: string,
  operation: AclBinding['operation'],
  patternType: AclBinding['patternType'] = 'LITERAL',
): AclBinding {
  return { principal: `User:${ROLE}`, resourceType, resourceName, patternType, operation };
}

const translate = (...statements: StatementSpec[]) => translateRoles([role(statements)], CLUSTER).authorization;

describe("MSK's action semantics", () => {
  // The Kafka ACL of each action, from the MSK developer guide's table; the required describe actions are
  // granted beside it as MSK requires.
  test.each<[string, MskResourceType, AclBinding]>([
    ['DescribeCluster', 'cluster', acl('CLUSTER', 'kafka-cluster', 'DESCRIBE')],
    ['AlterCluster', 'cluster', acl('CLUSTER', 'kafka-cluster', 'ALTER')],
    ['DescribeClusterDynamicConfiguration', 'cluster', acl('CLUSTER', 'kafka-cluster', 'DESCRIBE_CONFIGS')],
    ['AlterClusterDynamicConfiguration', 'cluster', acl('CLUSTER', 'kafka-cluster', 'ALTER_CONFIGS')],
    ['WriteDataIdempotently', 'cluster', acl('CLUSTER', 'kafka-cluster', 'IDEMPOTENT_WRITE')],
    ['CreateTopic', 'topic', acl('TOPIC', 'orders', 'CREATE')],
    ['DescribeTopic', 'topic', acl('TOPIC', 'orders', 'DESCRIBE')],
    ['AlterTopic', 'topic', acl('TOPIC', 'orders', 'ALTER')],
    ['DeleteTopic', 'topic', acl('TOPIC', 'orders', 'DELETE')],
    ['DescribeTopicDynamicConfiguration', 'topic', acl('TOPIC', 'orders', 'DESCRIBE_CONFIGS')],
    ['AlterTopicDynamicConfiguration', 'topic', acl('TOPIC', 'orders', 'ALTER_CONFIGS')],
    ['ReadData', 'topic', acl('TOPIC', 'orders', 'READ')],
    ['WriteData', 'topic', acl('TOPIC', 'orders', 'WRITE')],
    ['DescribeGroup', 'group', acl('GROUP', 'orders', 'DESCRIBE')],
    ['AlterGroup', 'group', acl('GROUP', 'orders', 'READ')],
    ['DeleteGroup', 'group', acl('GROUP', 'orders', 'DELETE')],
    ['DescribeTransactionalId', 'transactional-id', acl('TRANSACTIONAL_ID', 'orders', 'DESCRIBE')],
    ['AlterTransactionalId', 'transactional-id', acl('TRANSACTIONAL_ID', 'orders', 'WRITE')],
  ])('kafka-cluster:%s on a %s is the Kafka ACL %j', (action, type, expected) => {
    const resource = type === 'cluster' ? CLUSTER : arn(type, 'orders');
    const required = MSK_ACTIONS[action].required.filter((r) => MSK_ACTIONS[r].resource === type);
    const { rows } = translateRoles(
      [
        role([
          { actions: [`kafka-cluster:${action}`, ...required.map((r) => `kafka-cluster:${r}`)], resources: [resource] },
        ]),
      ],
      CLUSTER,
    );
    expect(rows.find((r) => r.action === `kafka-cluster:${action}`)?.acls).toEqual([expected]);
  });

  test('kafka-cluster:Connect is sign-in, not an ACL', () => {
    const { authorization, rows } = translateRoles(
      [role([{ actions: ['kafka-cluster:Connect'], resources: [CLUSTER] }])],
      CLUSTER,
    );
    expect(authorization).toEqual({ acls: [], connectRoleArns: [ROLE] });
    expect(rows).toEqual([
      expect.objectContaining({ action: 'kafka-cluster:Connect', acls: [], note: 'sign-in allowed' }),
    ]);
  });

  test.each<[string, string[]]>([
    ['kafka-cluster:*Topic', ['CreateTopic', 'DescribeTopic', 'AlterTopic', 'DeleteTopic']],
    [
      'kafka-cluster:*Topic*',
      [
        'CreateTopic',
        'DescribeTopic',
        'AlterTopic',
        'DeleteTopic',
        'DescribeTopicDynamicConfiguration',
        'AlterTopicDynamicConfiguration',
      ],
    ],
    ['kafka-cluster:*', Object.keys(MSK_ACTIONS)],
    ['*', Object.keys(MSK_ACTIONS)],
    ['kafka-cluster:writedata', ['WriteData']],
    ['kafka-cluster:Describe?roup', ['DescribeGroup']],
    ['kafka:*', []],
    ['s3:GetObject', []],
  ])('the action %s stands for %j (IAM matches action names case-insensitively)', (pattern, expected) => {
    expect(expandAction(pattern)).toEqual(expected);
  });
});

const FORM = (type: string, rest: string) =>
  `it selects ${type} names of the form ${rest} (IAM's * and ? match any characters, / and : included), which no Kafka ACL (a whole name, a prefix or every name) expresses`;

describe('resource ARNs to Kafka resource names', () => {
  const all: NameSet = { kind: 'all' };
  test.each<[string, MskResourceType, NameSet[] | undefined]>([
    ['the exact topic', 'topic', [{ kind: 'literal', name: 'orders' }]],
    ['topic/NAME/UUID/*', 'topic', [all]],
    ['topic/NAME/UUID/orders-*', 'topic', [{ kind: 'prefix', prefix: 'orders-' }]],
    ['topic/NAME/* (any incarnation of the cluster)', 'topic', [all]],
    ['topic/NAME/*/orders-* (topic names hold no "/")', 'topic', [{ kind: 'prefix', prefix: 'orders-' }]],
    ['* (every resource)', 'topic', [all]],
    ['a wildcard region and account', 'topic', [{ kind: 'literal', name: 'orders' }]],
    ['every group with a wildcard region and account', 'group', [all]],
    ['a topic of another cluster', 'topic', undefined],
    ['a topic ARN, asked for groups', 'group', undefined],
    ['the cluster ARN', 'cluster', [{ kind: 'literal', name: 'kafka-cluster' }]],
    ['cluster/NAME/*', 'cluster', [{ kind: 'literal', name: 'kafka-cluster' }]],
    ['another cluster', 'cluster', undefined],
    ['group/NAME/UUID/app-*', 'group', [{ kind: 'prefix', prefix: 'app-' }]],
    ['transactional-id/NAME/UUID/tx', 'transactional-id', [{ kind: 'literal', name: 'tx' }]],
  ])('%s selects %j', (name, type, expected) => {
    const resource = {
      'the exact topic': arn('topic', 'orders'),
      'topic/NAME/UUID/*': arn('topic', '*'),
      'topic/NAME/UUID/orders-*': arn('topic', 'orders-*'),
      'topic/NAME/* (any incarnation of the cluster)': 'arn:aws:kafka:us-east-1:111122223333:topic/c1/*',
      'topic/NAME/*/orders-* (topic names hold no "/")': arn('topic', 'orders-*', 'c1', '*'),
      '* (every resource)': '*',
      'a wildcard region and account': `arn:aws:kafka:*:*:topic/c1/${TWIN_CLUSTER_UUID}/orders`,
      'every group with a wildcard region and account': 'arn:aws:kafka:*:*:group/c1/*',
      'a topic of another cluster': arn('topic', 'orders', 'c2'),
      'a topic ARN, asked for groups': arn('topic', 'orders'),
      'the cluster ARN': CLUSTER,
      'cluster/NAME/*': 'arn:aws:kafka:us-east-1:111122223333:cluster/c1/*',
      'another cluster': twinClusterArn('c2'),
      'group/NAME/UUID/app-*': arn('group', 'app-*'),
      'transactional-id/NAME/UUID/tx': arn('transactional-id', 'tx'),
    }[name] as string;
    expect(namesSelected(resource, type, CLUSTER)).toEqual(expected);
  });

  test.each<[string, string, MskResourceType, string]>([
    ['a * inside a name', arn('topic', 'ord*ers'), 'topic', FORM('topic', 'ord*ers')],
    ['a ?', arn('topic', 'ord?rs'), 'topic', FORM('topic', 'ord?rs')],
    [
      'a UUID wildcard before a group name (group names may hold "/")',
      arn('group', 'app', 'c1', '*'),
      'group',
      FORM('group', '*/app'),
    ],
    [
      'a wildcard account before a group name (group names may hold ":")',
      `arn:aws:kafka:us-east-1:*:group/c1/${TWIN_CLUSTER_UUID}/app`,
      'group',
      FORM('group', `*:group/c1/${TWIN_CLUSTER_UUID}/app`),
    ],
  ])('refuses %s', (_name, resource, type, message) => {
    expect(() => namesSelected(resource, type, CLUSTER)).toThrow(new UntranslatableResource(message));
  });
});

describe('translating roles', () => {
  test("a producer's policy: sign-in, idempotent writes and its topic", () => {
    expect(
      translate(
        { actions: ['kafka-cluster:Connect', 'kafka-cluster:WriteDataIdempotently'], resources: [CLUSTER] },
        { actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'], resources: [arn('topic', 'orders')] },
      ),
    ).toEqual({
      acls: [
        acl('CLUSTER', 'kafka-cluster', 'IDEMPOTENT_WRITE'),
        acl('TOPIC', 'orders', 'DESCRIBE'),
        acl('TOPIC', 'orders', 'WRITE'),
      ],
      connectRoleArns: [ROLE],
    });
  });

  test('an action wildcard on a prefix becomes PREFIXED ACLs for each action it stands for', () => {
    expect(translate({ actions: ['kafka-cluster:*Topic'], resources: [arn('topic', 'orders-*')] }).acls).toEqual([
      acl('TOPIC', 'orders-', 'CREATE', 'PREFIXED'),
      acl('TOPIC', 'orders-', 'DESCRIBE', 'PREFIXED'),
      acl('TOPIC', 'orders-', 'ALTER', 'PREFIXED'),
      acl('TOPIC', 'orders-', 'DELETE', 'PREFIXED'),
    ]);
  });

  test("every topic becomes Kafka's wildcard name, a LITERAL *", () => {
    expect(
      translate({ actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'], resources: [arn('topic', '*')] })
        .acls,
    ).toEqual([acl('TOPIC', '*', 'DESCRIBE'), acl('TOPIC', '*', 'READ')]);
  });

  test('a Deny that covers a whole grant removes it, and the table says so', () => {
    const { authorization, rows } = translateRoles(
      [
        role([
          {
            actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'],
            resources: [arn('topic', 'orders-*')],
          },
          { effect: 'Deny', actions: ['kafka-cluster:WriteData'], resources: [arn('topic', 'orders-*')] },
        ]),
      ],
      CLUSTER,
    );
    expect(authorization.acls).toEqual([acl('TOPIC', 'orders-', 'DESCRIBE', 'PREFIXED')]);
    expect(rows.filter((r) => r.action === 'kafka-cluster:WriteData').map((r) => [r.effect, r.acls, r.note])).toEqual([
      ['Allow', [], 'removed by a Deny'],
      ['Deny', [], 'denies topics orders-*'],
    ]);
  });

  test('a Deny on other names leaves the grant alone', () => {
    expect(
      translate(
        { actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'], resources: [arn('topic', 'orders')] },
        { effect: 'Deny', actions: ['kafka-cluster:WriteData'], resources: [arn('topic', 'payments-*')] },
      ).acls,
    ).toEqual([acl('TOPIC', 'orders', 'DESCRIBE'), acl('TOPIC', 'orders', 'WRITE')]);
  });

  test('a Deny of Connect keeps the role from signing in', () => {
    expect(
      translate(
        { actions: ['kafka-cluster:Connect'], resources: [CLUSTER] },
        { effect: 'Deny', actions: ['kafka-cluster:Connect'], resources: ['*'] },
      ).connectRoleArns,
    ).toEqual([]);
  });

  test('statements without kafka-cluster actions are not the twin’s business, whatever they hold', () => {
    expect(
      translate(
        { actions: ['s3:GetObject'], resources: ['arn:aws:s3:::bucket/*'], condition: true },
        { effect: 'Deny', actions: ['ec2:*'], notResource: true },
        { effect: 'Allow', notActions: ['kafka-cluster:*'], resources: ['*'] },
      ),
    ).toEqual({ acls: [], connectRoleArns: [] });
  });

  test("other services' ARNs in a statement with kafka-cluster actions are skipped; an action on another resource type grants nothing", () => {
    expect(
      translate({
        actions: ['kafka-cluster:Connect', 'kafka-cluster:WriteData', 'logs:PutLogEvents'],
        resources: [CLUSTER, 'arn:aws:logs:us-east-1:111122223333:log-group:x:*'],
      }),
    ).toEqual({ acls: [], connectRoleArns: [ROLE] });
  });

  test('AWS managed policies known to grant no kafka-cluster action are accepted', () => {
    const managed = [
      'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
      'arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole',
    ];
    expect(translateRoles([role([], managed)], CLUSTER).authorization).toEqual({ acls: [], connectRoleArns: [] });
  });

  test.each<[string, RoleInput, string]>([
    [
      'a Condition on kafka-cluster actions',
      role([{ actions: ['kafka-cluster:WriteData'], resources: [arn('topic', 'orders')], condition: true }]),
      `${WHERE}: a Condition on kafka-cluster actions cannot be evaluated by the twin; it would grant them unconditionally`,
    ],
    [
      'NotResource',
      role([{ actions: ['kafka-cluster:WriteData'], notResource: true }]),
      `${WHERE}: NotResource on kafka-cluster actions selects resources by exclusion, which Kafka ACLs cannot express`,
    ],
    [
      'a NotAction that leaves kafka-cluster actions in',
      role([{ notActions: ['s3:*'], resources: ['*'] }]),
      `${WHERE}: NotAction ["s3:*"] covers kafka-cluster actions by exclusion; the twin translates only statements that list their actions`,
    ],
    [
      'an unknown action',
      role([{ actions: ['kafka-cluster:WriteDatas'], resources: ['*'] }]),
      `${WHERE}: kafka-cluster:WriteDatas is not an action of MSK's IAM access control (known: ${Object.keys(MSK_ACTIONS).join(', ')})`,
    ],
    [
      'an effect other than Allow or Deny',
      role([{ effect: 'Maybe', actions: ['kafka-cluster:Connect'], resources: [CLUSTER] }]),
      `${WHERE}: Effect "Maybe" is not Allow or Deny`,
    ],
    [
      'a resource of another cluster',
      role([{ actions: ['kafka-cluster:DescribeTopic'], resources: [arn('topic', 'orders', 'c2')] }]),
      `${WHERE}: Resource ${arn('topic', 'orders', 'c2')} is not in the cluster the twin runs (${CLUSTER}); the twin runs only this app's cluster`,
    ],
    [
      'a * inside a topic name',
      role([{ actions: ['kafka-cluster:DescribeTopic'], resources: [arn('topic', 'orders-*-eu')] }]),
      `${WHERE}: Resource ${arn('topic', 'orders-*-eu')}: ${FORM('topic', 'orders-*-eu')}`,
    ],
    [
      'a Deny that removes part of a grant',
      role([
        { actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'], resources: [arn('topic', 'orders-*')] },
        {
          effect: 'Deny',
          actions: ['kafka-cluster:WriteData'],
          resources: [arn('topic', 'orders-secret')],
          where: 'S/Deny PolicyDocument.Statement[1]',
        },
      ]),
      "S/Deny PolicyDocument.Statement[1]: Deny kafka-cluster:WriteData on topic orders-secret removes only part of the Allow on topics orders-*; the twin's ACLs are allow-only and cannot express the difference",
    ],
    [
      'an AWS managed policy the twin cannot read',
      role([], ['arn:aws:iam::aws:policy/AmazonMSKFullAccess']),
      `Role ${ROLE}: AWS managed policy arn:aws:iam::aws:policy/AmazonMSKFullAccess is not in the assembly, so the twin cannot tell which kafka-cluster actions it grants; attach a policy of the app instead, or list it in AWS_MANAGED_POLICIES_WITHOUT_KAFKA_ACTIONS (msk-twin, src/authorization/policy-acls.ts) if it grants none`,
    ],
    [
      'ReadData without DescribeTopic',
      role([{ actions: ['kafka-cluster:ReadData'], resources: [arn('topic', 'orders')] }]),
      `Role ${ROLE}: kafka-cluster:ReadData on topic orders comes without kafka-cluster:DescribeTopic on it; MSK requires both and refuses the client, while Kafka's READ ACL would imply DESCRIBE, so the twin cannot refuse it the same way`,
    ],
    [
      'WriteData on a prefix with DescribeTopic on one topic only',
      role([
        { actions: ['kafka-cluster:WriteData'], resources: [arn('topic', 'orders-*')] },
        { actions: ['kafka-cluster:DescribeTopic'], resources: [arn('topic', 'orders-eu')] },
      ]),
      `Role ${ROLE}: kafka-cluster:WriteData on topics orders-* comes without kafka-cluster:DescribeTopic on it; MSK requires both and refuses the client, while Kafka's WRITE ACL would imply DESCRIBE, so the twin cannot refuse it the same way`,
    ],
    [
      'AlterGroup without DescribeGroup',
      role([{ actions: ['kafka-cluster:AlterGroup'], resources: [arn('group', 'g')] }]),
      `Role ${ROLE}: kafka-cluster:AlterGroup on group g comes without kafka-cluster:DescribeGroup on it; MSK requires both and refuses the client, while Kafka's READ ACL would imply DESCRIBE, so the twin cannot refuse it the same way`,
    ],
    [
      'AlterTopicDynamicConfiguration without DescribeTopicDynamicConfiguration',
      role([{ actions: ['kafka-cluster:AlterTopicDynamicConfiguration'], resources: [arn('topic', 't')] }]),
      `Role ${ROLE}: kafka-cluster:AlterTopicDynamicConfiguration on topic t comes without kafka-cluster:DescribeTopicDynamicConfiguration on it; MSK requires both and refuses the client, while Kafka's ALTER_CONFIGS ACL would imply DESCRIBE_CONFIGS, so the twin cannot refuse it the same way`,
    ],
  ])('fails the start in one line for %s', (_name, input, message) => {
    expect(() => translateRoles([input], CLUSTER)).toThrow(new PolicyTranslationError(message));
  });
});
