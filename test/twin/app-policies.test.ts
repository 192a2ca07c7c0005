/** The twin's reading and evaluation of this app's own policies (the package's own tests use hand-written roles). */
import {
  describeTwinApp,
  findFunction,
  formatPolicyTable,
  PolicyEvaluator,
  policiesOf,
  type PolicySetFile,
  type TwinApp,
} from 'msk-twin';
import { synthesizeApp, type SynthesizedApp } from '../../scripts/app-twin';

describe('the dev stack', () => {
  let dev: SynthesizedApp;
  let app: TwinApp;
  let evaluator: PolicyEvaluator;
  beforeAll(async () => {
    dev = await synthesizeApp();
    app = describeTwinApp(dev.assembly);
    const set: PolicySetFile = { roles: Object.fromEntries(policiesOf(app).map((p) => [p.roleArn, p])) };
    evaluator = new PolicyEvaluator(set);
  }, 180_000);

  const roleOf = (name: string) => findFunction(app.functions, name).roleArn;
  /** What the role may do, as `OPERATION TYPE name` for each request of `requests` it is allowed. */
  const allowed = async (name: string, requests: string[]) => {
    const out: string[] = [];
    for (const request of requests) {
      const [operation, resourceType, requestName] = request.split(' ');
      const decision = await evaluator.decide(roleOf(name), {
        operation,
        resourceType,
        patternType: 'LITERAL',
        name: requestName,
      });
      if (decision.allowed) out.push(request);
    }
    return out;
  };
  const REQUESTS = [
    'CONNECT CLUSTER kafka-cluster',
    'DESCRIBE CLUSTER kafka-cluster',
    'IDEMPOTENT_WRITE CLUSTER kafka-cluster',
    'DESCRIBE TOPIC test-topic',
    'WRITE TOPIC test-topic',
    'READ TOPIC test-topic',
    'CREATE TOPIC test-topic',
    'ALTER TOPIC test-topic',
    'DESCRIBE_CONFIGS TOPIC test-topic',
    'ALTER_CONFIGS TOPIC test-topic',
    'DELETE TOPIC test-topic',
    'WRITE TOPIC other-topic',
    'DESCRIBE GROUP hello-msk-consumer',
    'READ GROUP hello-msk-consumer',
    'READ GROUP other-group',
  ];

  test.each([
    [
      'Producer',
      [
        'CONNECT CLUSTER kafka-cluster',
        'IDEMPOTENT_WRITE CLUSTER kafka-cluster',
        'DESCRIBE TOPIC test-topic',
        'WRITE TOPIC test-topic',
      ],
    ],
    [
      'Consumer',
      [
        'CONNECT CLUSTER kafka-cluster',
        'DESCRIBE TOPIC test-topic',
        'READ TOPIC test-topic',
        'DESCRIBE GROUP hello-msk-consumer',
        'READ GROUP hello-msk-consumer',
      ],
    ],
    [
      'KafkaAdmin',
      [
        'CONNECT CLUSTER kafka-cluster',
        'DESCRIBE CLUSTER kafka-cluster',
        'DESCRIBE TOPIC test-topic',
        'DESCRIBE_CONFIGS TOPIC test-topic',
        'DESCRIBE GROUP hello-msk-consumer',
      ],
    ],
    [
      'Topics/OnEvent',
      [
        'CONNECT CLUSTER kafka-cluster',
        'DESCRIBE TOPIC test-topic',
        'CREATE TOPIC test-topic',
        'ALTER TOPIC test-topic',
        'DESCRIBE_CONFIGS TOPIC test-topic',
        'ALTER_CONFIGS TOPIC test-topic',
      ],
    ],
    ['Topics/IsComplete', ['CONNECT CLUSTER kafka-cluster', 'DESCRIBE TOPIC test-topic']],
  ])("%s's role is allowed exactly what MSK would allow it", async (name, expected) => {
    expect(await allowed(name, REQUESTS)).toEqual(expected);
  });

  test('prints the table the docs show, one row per kafka-cluster statement', () => {
    const table = formatPolicyTable(app, policiesOf(app));
    expect(table).toContain('| Function | Role | Policy | Effect | IAM action | IAM resource | Condition |');
    expect(table).toMatch(
      /\| Producer \| HelloMsk-dev-Clients-ProducerServiceRole\w+ \| AWS::IAM::Policy \w+ \| Allow \| [^|]*kafka-cluster:WriteData[^|]* \| topic\/…\/test-topic \|/,
    );
    expect(table).toMatch(
      /\| KafkaAdmin \| [^|]+ \| [^|]+ \| Allow \| [^|]*kafka-cluster:DescribeCluster[^|]* \| cluster\/… \|/,
    );
  });
});
