/**
 * `npm run kafka -- <tool> --stage S`: the deployed path, with the AWS SDK mocked. produce and consume go
 * through the producer and consumer functions, topics and groups through the read-only kafka-admin function;
 * every failure is one line. Also the tools' argument handling and output formats, which need no Kafka.
 */
import {
  CloudFormationClient,
  CloudFormationServiceException,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { InvokeCommand, LambdaClient, type InvokeCommandOutput } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import type { BackendFactory } from '../../scripts/kafka/tools/args';
import { bootstrapBrokers, defaultBootstrapServer, localTarget } from '../../scripts/kafka/tools/connection';
import { consoleConsumerArgs, formatMessage } from '../../scripts/kafka/tools/consume';
import { lineSplitter } from '../../scripts/kafka/tools/local-tools';
import { defaultKafkaVersion } from 'msk-twin';
import { DeployedBackend } from '../../scripts/kafka/tools/deployed';
import { formatGroup } from '../../scripts/kafka/tools/groups';
import { runKafkaTool } from '../../scripts/kafka/tools';
import { formatTopic } from '../../scripts/kafka/tools/topics';

const cfnMock = mockClient(CloudFormationClient);
const lambdaMock = mockClient(LambdaClient);

const PRODUCER = 'HelloMsk-dev-Clients-Producer-AbC123';
const CONSUMER = 'HelloMsk-dev-Clients-Consumer-DeF456';
const ADMIN = 'HelloMsk-dev-Clients-KafkaAdmin-GhI789';
const OUTPUTS = [
  { OutputKey: 'ProducerFunctionName', OutputValue: PRODUCER },
  { OutputKey: 'ConsumerFunctionName', OutputValue: CONSUMER },
  { OutputKey: 'AdminFunctionName', OutputValue: ADMIN },
  { OutputKey: 'DemoTopic', OutputValue: 'test-topic' },
  { OutputKey: 'ConsumerGroup', OutputValue: 'hello-msk-consumer' },
];

const TOPIC = {
  name: 'test-topic',
  partitionCount: 3,
  replicationFactor: 2,
  partitions: [0, 1, 2].map((partition) => ({
    partition,
    leader: partition === 1 ? -1 : (partition % 2) + 1,
    replicas: [1, 2],
    isr: partition === 1 ? [] : [1, 2],
  })),
  configs: { 'min.insync.replicas': '1', 'retention.ms': '604800000' },
};

const GROUP = {
  groupId: 'hello-msk-consumer',
  state: 'Empty',
  protocolType: 'consumer',
  protocol: '',
  members: [],
  offsets: [
    {
      topic: 'test-topic',
      partition: 0,
      currentOffset: '17',
      logEndOffset: '20',
      lag: '3',
      memberId: null,
      clientHost: null,
      clientId: null,
    },
    {
      topic: 'test-topic',
      partition: 1,
      currentOffset: null,
      logEndOffset: '0',
      lag: null,
      memberId: null,
      clientHost: null,
      clientId: null,
    },
  ],
};

function payload(value: unknown): InvokeCommandOutput['Payload'] {
  return new TextEncoder().encode(JSON.stringify(value)) as InvokeCommandOutput['Payload'];
}

function invocations(functionName?: string): { FunctionName?: string; event: unknown }[] {
  return lambdaMock
    .commandCalls(InvokeCommand)
    .map((c) => c.args[0].input)
    .filter((input) => functionName === undefined || input.FunctionName === functionName)
    .map((input) => ({
      FunctionName: input.FunctionName,
      event: JSON.parse(new TextDecoder().decode(input.Payload as Uint8Array)) as unknown,
    }));
}

const deployedOnly: BackendFactory = {
  local: () => {
    throw new Error('the local backend must not be used with --stage');
  },
  deployed: (stage) =>
    new DeployedBackend(stage, {
      cfn: new CloudFormationClient({ region: 'eu-west-1' }),
      lambda: new LambdaClient({ region: 'eu-west-1' }),
      region: async () => 'eu-west-1',
    }),
};

async function run(argv: string[], input: string[] = [], env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runKafkaTool(argv, {
    io: {
      out: (line) => out.push(line),
      err: (line) => err.push(line),
      lines: async function* () {
        yield* input;
      },
      interactive: false,
      env,
    },
    backends: { ...deployedOnly, names: { stages: ['dev', 'prod'], awsProfiles: ['default', 'work'] } },
  });
  return { code, out, err };
}

beforeEach(() => {
  cfnMock.reset();
  lambdaMock.reset();
  cfnMock.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: 'HelloMsk-dev-Clients',
        StackStatus: 'CREATE_COMPLETE',
        CreationTime: new Date(0),
        Outputs: OUTPUTS,
      },
    ],
  });
});

describe('npm run kafka --stage: topics and groups through the kafka-admin function', () => {
  test('topics --list asks the admin function of HelloMsk-<stage>-Clients', async () => {
    lambdaMock
      .on(InvokeCommand, { FunctionName: ADMIN })
      .resolves({ StatusCode: 200, Payload: payload({ action: 'list-topics', topics: ['orders', 'test-topic'] }) });
    expect(await run(['topics', '--list', '--stage', 'dev'])).toEqual({
      code: 0,
      out: ['orders', 'test-topic'],
      err: [],
    });
    expect(cfnMock.commandCalls(DescribeStacksCommand)[0].args[0].input).toEqual({ StackName: 'HelloMsk-dev-Clients' });
    expect(invocations()).toEqual([{ FunctionName: ADMIN, event: { action: 'list-topics' } }]);
    expect(lambdaMock.commandCalls(InvokeCommand)[0].args[0].input.InvocationType).toBe('RequestResponse');
  });

  test('topics --describe --topic prints partitions, leaders, replicas, ISR and configs as kafka-topics does', async () => {
    lambdaMock
      .on(InvokeCommand, { FunctionName: ADMIN })
      .resolves({ StatusCode: 200, Payload: payload({ action: 'describe-topics', topics: [TOPIC] }) });
    const result = await run(['topics', '--describe', '--topic', 'test-topic', '--stage', 'dev']);
    expect(result.out).toEqual([
      'Topic: test-topic\tPartitionCount: 3\tReplicationFactor: 2\tConfigs: min.insync.replicas=1,retention.ms=604800000',
      '\tTopic: test-topic\tPartition: 0\tLeader: 1\tReplicas: 1,2\tIsr: 1,2',
      '\tTopic: test-topic\tPartition: 1\tLeader: none\tReplicas: 1,2\tIsr: ',
      '\tTopic: test-topic\tPartition: 2\tLeader: 1\tReplicas: 1,2\tIsr: 1,2',
    ]);
    expect(invocations()).toEqual([
      { FunctionName: ADMIN, event: { action: 'describe-topics', topics: ['test-topic'] } },
    ]);
  });

  test('topics --create on MSK says in one line that topics are code, and invokes nothing', async () => {
    expect(await run(['topics', '--create', '--topic', 'orders', '--partitions', '6', '--stage', 'prod'])).toEqual({
      code: 1,
      out: [],
      err: [
        'topics --create: on MSK, topics are code: add {"name":"orders","partitions":6} to topics in cdk.json and run npx cdk deploy (the topic-bootstrap resource creates it)',
      ],
    });
    expect(invocations()).toEqual([]);
  });

  test('groups --list and groups --describe show the group and its lag as kafka-consumer-groups does', async () => {
    lambdaMock
      .on(InvokeCommand, { FunctionName: ADMIN, Payload: payload({ action: 'list-groups' }) })
      .resolves({
        StatusCode: 200,
        Payload: payload({
          action: 'list-groups',
          groups: [{ groupId: 'hello-msk-consumer', protocolType: 'consumer' }],
        }),
      })
      .on(InvokeCommand, {
        FunctionName: ADMIN,
        Payload: payload({ action: 'describe-group', groupId: GROUP.groupId }),
      })
      .resolves({ StatusCode: 200, Payload: payload({ action: 'describe-group', group: GROUP }) });
    expect((await run(['groups', '--list', '--stage', 'dev'])).out).toEqual(['hello-msk-consumer']);
    expect((await run(['groups', '--describe', '--group', 'hello-msk-consumer', '--stage', 'dev'])).out).toEqual([
      "Consumer group 'hello-msk-consumer' has no active members.",
      '',
      'GROUP              TOPIC      PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID',
      'hello-msk-consumer test-topic 0         17             20             3   -           -    -',
      'hello-msk-consumer test-topic 1         -              0              -   -           -    -',
    ]);
  });

  test('a topic or group the function cannot find is one line, as the function says it', async () => {
    lambdaMock.on(InvokeCommand, { FunctionName: ADMIN }).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: payload({ errorType: 'NotFoundError', errorMessage: "Topic 'orders' does not exist", trace: ['at x'] }),
    });
    expect(await run(['topics', '--describe', '--topic', 'orders', '--stage', 'dev'])).toEqual({
      code: 1,
      out: [],
      err: ["Topic 'orders' does not exist"],
    });
  });

  test('any other function error names the function, in one line', async () => {
    lambdaMock.on(InvokeCommand, { FunctionName: ADMIN }).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: payload({
        errorType: 'Error',
        errorMessage:
          'Could not list-topics: Kafka at b-1.x:9098 (auth iam) failed: Connection timeout\n  more detail on a second line',
      }),
    });
    expect((await run(['topics', '--list', '--stage', 'dev'])).err).toEqual([
      `the kafka-admin function ${ADMIN} failed: Error: Could not list-topics: Kafka at b-1.x:9098 (auth iam) failed: Connection timeout more detail on a second line`,
    ]);
  });
});

describe('npm run kafka: --aws-profile, and --profile as AWS users mean it', () => {
  test.each([
    ['--aws-profile', ['--aws-profile', 'work']],
    ['--profile naming an AWS profile', ['--profile', 'work']],
  ])('%s acts on the dev stage with that AWS profile', async (_name, flags) => {
    const env: NodeJS.ProcessEnv = {};
    lambdaMock
      .on(InvokeCommand)
      .resolves({ StatusCode: 200, Payload: payload({ action: 'list-topics', topics: ['test-topic'] }) });
    const result = await run(['topics', '--list', ...flags], [], env);
    expect(result).toEqual({ code: 0, out: ['test-topic'], err: [] });
    expect(env.AWS_PROFILE).toBe('work');
    expect(cfnMock.commandCalls(DescribeStacksCommand)[0].args[0].input.StackName).toBe('HelloMsk-dev-Clients');
  });

  test('--profile naming only a stage keeps its former meaning, with a one-line notice', async () => {
    const env: NodeJS.ProcessEnv = {};
    lambdaMock
      .on(InvokeCommand)
      .resolves({ StatusCode: 200, Payload: payload({ action: 'list-topics', topics: ['test-topic'] }) });
    const result = await run(['topics', '--list', '--profile', 'prod'], [], env);
    expect(result.err).toEqual([
      'topics: --profile is now --stage; using stage prod (an AWS profile is --aws-profile)',
    ]);
    expect(env.AWS_PROFILE).toBeUndefined();
    expect(cfnMock.commandCalls(DescribeStacksCommand)[0].args[0].input.StackName).toBe('HelloMsk-prod-Clients');
  });
});

describe('npm run kafka --stage: produce and consume through the producer and consumer functions', () => {
  test('produce sends each stdin line through the producer function, in order, with its key', async () => {
    let offset = 0;
    lambdaMock.on(InvokeCommand, { FunctionName: PRODUCER }).callsFake(async () => ({
      StatusCode: 200,
      Payload: payload({ topic: 'test-topic', count: 1, messages: [{ partition: 2, offset: String(offset++) }] }),
    }));
    const result = await run(
      [
        'produce',
        '--topic',
        'test-topic',
        '--stage',
        'dev',
        '--property',
        'parse.key=true',
        '--property',
        'key.separator=:',
      ],
      ['k1:first', 'k2:second', 'k1:third'],
    );
    expect(result).toEqual({
      code: 0,
      out: [],
      err: ['Sent 3 message(s) to test-topic (partition:offset 2:0, 2:1, 2:2)'],
    });
    expect(invocations(PRODUCER).map((i) => i.event)).toEqual([
      { message: 'first', key: 'k1' },
      { message: 'second', key: 'k2' },
      { message: 'third', key: 'k1' },
    ]);
  });

  test('produce to another topic than the function writes to is refused before anything is sent', async () => {
    expect(await run(['produce', '--topic', 'orders', '--stage', 'dev'], ['x'])).toEqual({
      code: 1,
      out: [],
      err: [
        'produce --stage dev sends through the deployed producer function, which writes only to test-topic (demoTopic); --topic orders is not possible there',
      ],
    });
    expect(invocations()).toEqual([]);
  });

  test('consume --from-beginning --max-messages invokes the consumer function once and prints what it read', async () => {
    lambdaMock.on(InvokeCommand, { FunctionName: CONSUMER }).resolves({
      StatusCode: 200,
      Payload: payload({
        topic: 'test-topic',
        groupId: 'hello-msk-consumer',
        count: 2,
        caughtUp: true,
        stoppedBecause: 'caught-up',
        messages: [
          { partition: 0, offset: '0', key: null, value: 'first' },
          { partition: 2, offset: '5', key: 'k', value: 'second' },
        ],
      }),
    });
    expect(
      await run(['consume', '--topic', 'test-topic', '--from-beginning', '--max-messages', '10', '--stage', 'dev']),
    ).toEqual({
      code: 0,
      out: ['Partition:0\tOffset:0\tfirst', 'Partition:2\tOffset:5\tsecond'],
      err: ['Processed a total of 2 messages'],
    });
    expect(invocations()).toEqual([{ FunctionName: CONSUMER, event: { fromBeginning: true, maxMessages: 10 } }]);
  });

  test('consume says so when the function read more messages than it returns', async () => {
    const messages = Array.from({ length: 50 }, (_, i) => ({
      partition: 0,
      offset: String(i),
      key: null,
      value: `m${i}`,
    }));
    lambdaMock.on(InvokeCommand, { FunctionName: CONSUMER }).resolves({
      StatusCode: 200,
      Payload: payload({
        topic: 'test-topic',
        groupId: 'g',
        count: 80,
        caughtUp: true,
        stoppedBecause: 'caught-up',
        messages,
      }),
    });
    const result = await run(['consume', '--topic', 'test-topic', '--stage', 'dev']);
    expect(result.out).toHaveLength(50);
    expect(result.err).toEqual([
      'Processed a total of 80 messages (the function returns the first 50 messages it read; the other 30 are in its log (aws logs tail))',
    ]);
    expect(invocations()[0].event).toEqual({ fromBeginning: false });
  });

  test('consume as another group than the function reads as is refused before anything is read', async () => {
    expect((await run(['consume', '--topic', 'test-topic', '--group', 'mine', '--stage', 'dev'])).err).toEqual([
      'consume --stage dev reads through the deployed consumer function, which reads as group hello-msk-consumer (consumerGroup); --group mine is not possible there',
    ]);
    expect(invocations()).toEqual([]);
  });
});

describe('npm run kafka --stage: AWS problems are one line', () => {
  test('no credentials', async () => {
    cfnMock
      .on(DescribeStacksCommand)
      .rejects(
        Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }),
      );
    expect(await run(['topics', '--list', '--stage', 'dev'])).toEqual({
      code: 1,
      out: [],
      err: [
        'no AWS credentials found (Could not load credentials from any providers); set AWS_PROFILE or use --aws-profile, run aws configure or aws sso login, then retry',
      ],
    });
  });

  test('no stack deployed', async () => {
    cfnMock.on(DescribeStacksCommand).rejects(
      new CloudFormationServiceException({
        name: 'ValidationError',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'Stack with id HelloMsk-staging-Clients does not exist',
      }),
    );
    expect((await run(['groups', '--list', '--stage', 'staging'])).err).toEqual([
      'stack HelloMsk-staging-Clients is not deployed in eu-west-1; run npx cdk deploy --all -c stage=staging first',
    ]);
    expect(invocations()).toEqual([]);
  });

  test('a stack deployed before the kafka-admin function existed', async () => {
    cfnMock.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: 'HelloMsk-dev-Clients',
          StackStatus: 'UPDATE_COMPLETE',
          CreationTime: new Date(0),
          Outputs: OUTPUTS.filter((o) => o.OutputKey !== 'AdminFunctionName'),
        },
      ],
    });
    expect((await run(['topics', '--list', '--stage', 'dev'])).err).toEqual([
      'stack HelloMsk-dev-Clients has no output AdminFunctionName; deploy the current version with npx cdk deploy --all -c stage=dev',
    ]);
  });

  test('credentials that may not invoke the functions', async () => {
    lambdaMock.on(InvokeCommand).rejects(
      Object.assign(new Error('User: arn:aws:iam::1:user/x is not authorized to perform: lambda:InvokeFunction'), {
        name: 'AccessDeniedException',
      }),
    );
    expect((await run(['topics', '--list', '--stage', 'dev'])).err).toEqual([
      "AWS denied the call (User: arn:aws:iam::1:user/x is not authorized to perform: lambda:InvokeFunction); your credentials need cloudformation:DescribeStacks and lambda:InvokeFunction on the stack's functions",
    ]);
  });
});

describe('npm run kafka arguments', () => {
  test.each([
    [['topics'], 'topics: give exactly one of --create, --list or --describe; see npm run kafka -- topics --help'],
    [['topics', '--lsit'], 'topics: unknown option --lsit; did you mean --list?'],
    [['topics', '--create'], 'topics: --topic is required with --create'],
    [
      ['topics', '--list', '--partitions', '3'],
      'topics: --partitions, --replication-factor and --config go with --create',
    ],
    [
      ['topics', '--create', '--topic', 't', '--partitions', 'many'],
      'topics: --partitions "many" is not valid; expected a whole number >= 1',
    ],
    [
      ['topics', '--create', '--topic', 't', '--config', 'retention.ms'],
      'topics: --config "retention.ms" is not valid; expected name=value',
    ],
    [['topics', '--list', '--topic'], 'topics: --topic needs a value; see npm run kafka -- topics --help'],
    [['topics', '--list', 'extra'], 'topics: unexpected argument "extra"; see npm run kafka -- topics --help'],
    [
      ['topics', '--list', '--stage', 'dev', '--bootstrap-server', '127.0.0.1:9092'],
      'topics: use --bootstrap-server (a Kafka you can reach) or --stage (the deployed stack), not both',
    ],
    [
      ['topics', '--list', '--stage', 'not a stage'],
      'topics: --stage "not a stage" is not valid; allowed: a stage name from cdk.json',
    ],
    [['produce'], 'produce: --topic is required (the topic to write to)'],
    [
      ['produce', '--topic', 't', '--property', 'parse.kye=true'],
      'produce: --property parse.kye is not supported; did you mean parse.key?',
    ],
    [
      ['produce', '--topic', 't', '--property', 'parse.key=yes'],
      'produce: --property parse.key=yes is not valid; expected true or false',
    ],
    [
      ['produce', '--topic', 't', '--key', 'k', '--property', 'parse.key=true'],
      'produce: use --key or --property parse.key=true, not both',
    ],
    [
      ['consume', '--topic', 't', '--max-messages', '0'],
      'consume: --max-messages "0" is not valid; expected a whole number >= 1',
    ],
    [
      ['consume', '--topic', 't', '--from-begining'],
      'consume: unknown option --from-begining; did you mean --from-beginning?',
    ],
    [['groups', '--describe'], 'groups: --group is required with --describe'],
    [
      ['groups', '--list', '--describe', '--group', 'g'],
      'groups: give exactly one of --list or --describe; see npm run kafka -- groups --help',
    ],
    [['topic', '--list'], 'unknown tool "topic"; did you mean topics?'],
    [['describe', '--list'], 'unknown tool "describe"; use topics, produce, consume, groups'],
  ])('%j fails in one line before reaching Kafka or AWS', async (argv, message) => {
    expect(await run(argv)).toEqual({ code: 1, out: [], err: [message] });
    expect(cfnMock.commandCalls(DescribeStacksCommand)).toHaveLength(0);
  });

  test.each(['topics', 'produce', 'consume', 'groups'])('%s --help prints its usage and exits 0', async (tool) => {
    const result = await run([tool, '--help']);
    expect(result.code).toBe(0);
    expect(result.out[0]).toMatch(new RegExp(`^usage: npm run kafka -- ${tool} `));
  });

  test('without --bootstrap-server the tools use KAFKA_BROKERS first', () => {
    expect(defaultBootstrapServer({ KAFKA_BROKERS: ' 10.0.0.1:9092,10.0.0.2:9092 ' })).toBe(
      '10.0.0.1:9092,10.0.0.2:9092',
    );
  });

  test('--bootstrap-server must be host:port pairs', () => {
    expect(() => bootstrapBrokers('localhost')).toThrow(
      '--bootstrap-server "localhost" is not valid; expected host:port[,host:port...]',
    );
    expect(bootstrapBrokers('127.0.0.1:9092, 127.0.0.1:9093')).toEqual(['127.0.0.1:9092', '127.0.0.1:9093']);
  });

  test('a Kafka that is not recorded locally is reached plaintext, with the default Kafka version’s tools', () => {
    expect(localTarget('10.0.0.1:9092')).toEqual({ brokers: ['10.0.0.1:9092'], kafkaVersion: defaultKafkaVersion() });
  });

  test('consume prints partition and offset before each value, as the console consumer does when asked', () => {
    expect(
      consoleConsumerArgs({ topic: 't', 'from-beginning': true, 'max-messages': '3' }, { 'print.key': 'true' }),
    ).toEqual([
      '--topic',
      't',
      '--from-beginning',
      '--max-messages',
      '3',
      '--property',
      'print.partition=true',
      '--property',
      'print.offset=true',
      '--property',
      'print.key=true',
    ]);
    expect(consoleConsumerArgs({ topic: 't' }, { 'print.offset': 'false' })).toContain('print.offset=false');
  });

  test("Kafka's output is passed through line by line, the last unterminated line too", () => {
    const lines: string[] = [];
    const split = lineSplitter((line) => lines.push(line));
    ['GROUP  TOP', 'IC\ng1     t1\n', '\nlast'].forEach(split.write);
    split.end();
    expect(lines).toEqual(['GROUP  TOPIC', 'g1     t1', '', 'last']);
  });
});

describe('output formats', () => {
  test('formatMessage prints partition, offset and value like the console consumer, the key when asked', () => {
    const m = { partition: 1, offset: '42', key: null, value: 'hello' };
    expect(formatMessage(m, false)).toBe('Partition:1\tOffset:42\thello');
    expect(formatMessage(m, true)).toBe('Partition:1\tOffset:42\tnull\thello');
  });

  test('formatTopic lists no configs when the topic has no overrides', () => {
    expect(formatTopic({ ...TOPIC, configs: {}, partitions: [] })[0]).toBe(
      'Topic: test-topic\tPartitionCount: 3\tReplicationFactor: 2\tConfigs: ',
    );
  });

  test('formatGroup shows the members of an active group and says when nothing is committed', () => {
    const member = { memberId: 'm-1', clientId: 'c', clientHost: '/10.0.0.1', assignment: [] };
    expect(formatGroup({ ...GROUP, state: 'Stable', members: [member], offsets: [] })).toEqual([
      "Consumer group 'hello-msk-consumer' has no committed offsets (state Stable).",
    ]);
  });
});
