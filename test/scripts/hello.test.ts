import {
  CloudFormationClient,
  CloudFormationServiceException,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, FilterLogEventsCommand, type FilteredLogEvent } from '@aws-sdk/client-cloudwatch-logs';
import {
  InvokeCommand,
  LambdaClient,
  TooManyRequestsException,
  type InvokeCommandOutput,
} from '@aws-sdk/client-lambda';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import {
  CLOCK_SKEW_MS,
  EXIT_FAIL,
  EXIT_NOTHING_TO_TEST,
  EXIT_PASS,
  clientConfig,
  hint,
  lambdaClientConfig,
  parseCli,
  regionFromEnvironment,
  runHello,
  type HelloOptions,
} from '../../scripts/hello';
import type { StsLike } from '../../scripts/aws-account';

const cfnMock = mockClient(CloudFormationClient);
const lambdaMock = mockClient(LambdaClient);
const logsMock = mockClient(CloudWatchLogsClient);
const stsMock = mockClient(STSClient);

const ARN = 'arn:aws:sts::123456789012:assumed-role/Developer/alice';
/** No stage or AWS profile names known: `--profile` is an AWS profile. */
const NO_NAMES = { stages: [], awsProfiles: [] };

const RUN_ID = '0a1b2c3d';
const VALUE = `Hello MSK [run ${RUN_ID}]`;
const PRODUCER = 'HelloMsk-dev-Clients-Producer-AbC123';
const CONSUMER = 'HelloMsk-dev-Clients-Consumer-DeF456';
const LOG_GROUP = 'HelloMsk-dev-Clients-ConsumerLogs-GhI789';
const START = Date.UTC(2026, 10, 21, 12, 0, 0);

const OUTPUTS = [
  { OutputKey: 'ProducerFunctionName', OutputValue: PRODUCER },
  { OutputKey: 'ConsumerFunctionName', OutputValue: CONSUMER },
  { OutputKey: 'ConsumerLogGroup', OutputValue: LOG_GROUP },
];

/** A fake clock: `sleep` moves time forward instantly, so a 120 s wait takes no real time. */
function harness(sts: StsLike = new STSClient({ region: 'eu-west-1' })) {
  let t = START;
  const lines: string[] = [];
  const sleeps: number[] = [];
  const deps = {
    sts,
    cfn: new CloudFormationClient({ region: 'eu-west-1' }),
    lambda: new LambdaClient({ region: 'eu-west-1' }),
    logs: new CloudWatchLogsClient({ region: 'eu-west-1' }),
    now: () => t,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      t += ms;
    },
    out: (line: string) => lines.push(line),
    runId: () => RUN_ID,
    region: async () => 'eu-west-1',
    advance: (ms: number) => {
      t += ms;
    },
  };
  return { deps, lines, sleeps, run: (options: HelloOptions = {}) => runHello(options, deps) };
}

function payload(value: unknown): InvokeCommandOutput['Payload'] {
  return new TextEncoder().encode(JSON.stringify(value)) as InvokeCommandOutput['Payload'];
}

function logEvent(message: unknown): FilteredLogEvent {
  return { timestamp: START, message: typeof message === 'string' ? message : JSON.stringify(message) };
}

function sentPayload(invocation: number): unknown {
  const input = lambdaMock.commandCalls(InvokeCommand)[invocation].args[0].input;
  return JSON.parse(new TextDecoder().decode(input.Payload as Uint8Array));
}

const PRODUCED = { topic: 'test-topic', count: 1, messages: [{ partition: 2, offset: '17' }] };
const CONSUMED = {
  topic: 'test-topic',
  groupId: 'hello-msk-consumer',
  count: 1,
  caughtUp: true,
  stoppedBecause: 'caught-up',
  messages: [{ partition: 2, offset: '17', key: null, value: VALUE }],
};
const CONSUMER_LINE = { level: 'INFO', message: VALUE, service: 'hello-msk-consumer', partition: 2, offset: '17' };

beforeEach(() => {
  stsMock.reset();
  stsMock.on(GetCallerIdentityCommand).resolves({ Account: '123456789012', Arn: ARN, UserId: 'AROAEXAMPLE:alice' });
  cfnMock.reset();
  lambdaMock.reset();
  logsMock.reset();
  cfnMock.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: 'HelloMsk-dev-Clients',
        StackStatus: 'CREATE_COMPLETE',
        CreationTime: new Date(START),
        Outputs: OUTPUTS,
      },
    ],
  });
  lambdaMock
    .on(InvokeCommand, { FunctionName: PRODUCER })
    .resolves({ StatusCode: 200, Payload: payload(PRODUCED) })
    .on(InvokeCommand, { FunctionName: CONSUMER })
    .resolves({ StatusCode: 200, Payload: payload(CONSUMED) });
});

describe('npm run hello', () => {
  test('passes when the consumer logs the sent message, printing each step with its timing', async () => {
    const h = harness();
    // The first look at the log group finds nothing yet (log delivery lags); the second finds the line.
    logsMock
      .on(FilterLogEventsCommand)
      .resolvesOnce({ events: [logEvent({ level: 'INFO', message: 'Read 0 message(s) from test-topic' })] })
      .resolves({ events: [logEvent(CONSUMER_LINE)] });
    lambdaMock.on(InvokeCommand, { FunctionName: PRODUCER }).callsFake(async () => {
      h.deps.advance(1200);
      return { StatusCode: 200, Payload: payload(PRODUCED) };
    });

    await expect(h.run()).resolves.toBe(EXIT_PASS);

    expect(h.lines).toEqual([
      `hello-msk smoke test of HelloMsk-dev-Clients in eu-west-1 as ${ARN}, run ${RUN_ID}`,
      `[  0.0s] stack outputs: producer ${PRODUCER}, consumer ${CONSUMER}`,
      `[  1.2s] producer sent "${VALUE}" to test-topic partition 2 offset 17 (1.2 s)`,
      '[  1.2s] consumer read 1 message(s), ours among them (0.0 s)',
      `[  4.2s] consumer log line found after 3.0 s: partition 2 offset 17`,
      `PASS: "${VALUE}" went producer -> MSK -> consumer -> CloudWatch Logs in 4.2 s`,
    ]);
    expect(cfnMock.commandCalls(DescribeStacksCommand)[0].args[0].input).toEqual({ StackName: 'HelloMsk-dev-Clients' });
    expect(sentPayload(0)).toEqual({ message: VALUE });
    expect(lambdaMock.commandCalls(InvokeCommand).map((c) => c.args[0].input.InvocationType)).toEqual([
      'RequestResponse',
      'RequestResponse',
    ]);
    expect(sentPayload(1)).toEqual({});
    // The search starts at the send (less the clock-skew allowance) and looks only for this run's id.
    expect(logsMock.commandCalls(FilterLogEventsCommand)[0].args[0].input).toEqual({
      logGroupName: LOG_GROUP,
      startTime: START - CLOCK_SKEW_MS,
      filterPattern: `"${RUN_ID}"`,
      nextToken: undefined,
    });
  });

  test('does not accept a log line from an earlier run or a line that only mentions the value', async () => {
    const h = harness();
    logsMock.on(FilterLogEventsCommand).resolves({
      events: [
        logEvent({ ...CONSUMER_LINE, message: 'Hello MSK [run ffffffff]' }),
        logEvent({ level: 'INFO', message: `Read 1 message(s) from test-topic`, note: VALUE }),
        logEvent(`not json: ${VALUE}`),
      ],
    });

    await expect(h.run({ timeoutSeconds: 6 })).resolves.toBe(EXIT_FAIL);
    expect(h.lines.at(-1)).toMatch(/^FAIL: no log line with message/);
  });

  test('says in one line that the stack is not deployed, and exits 2', async () => {
    const h = harness();
    cfnMock.on(DescribeStacksCommand).rejects(
      new CloudFormationServiceException({
        name: 'ValidationError',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'Stack with id HelloMsk-staging-Clients does not exist',
      }),
    );

    await expect(h.run({ stage: 'staging' })).resolves.toBe(EXIT_NOTHING_TO_TEST);

    expect(h.lines).toEqual([
      'hello: stack HelloMsk-staging-Clients is not deployed in eu-west-1 (Stack with id HelloMsk-staging-Clients does not exist); run npx cdk deploy --all first',
    ]);
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
  });

  test('says in one line that there are no credentials, before reading the stack, and exits 2', async () => {
    const h = harness();
    const noCredentials = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    });
    stsMock.on(GetCallerIdentityCommand).rejects(noCredentials);

    await expect(h.run()).resolves.toBe(EXIT_NOTHING_TO_TEST);

    expect(h.lines).toEqual([
      'hello: no AWS credentials (Could not load credentials from any providers); set AWS_PROFILE or use --aws-profile, run aws configure or aws sso login, then retry',
    ]);
    expect(cfnMock.commandCalls(DescribeStacksCommand)).toHaveLength(0);
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
  });

  test('names the AWS API, not the brokers, when STS cannot be reached', async () => {
    const h = harness();
    const unreachable = Object.assign(new Error('getaddrinfo ENOTFOUND sts.eu-west-1.amazonaws.com'), {
      code: 'ENOTFOUND',
      hostname: 'sts.eu-west-1.amazonaws.com',
    });
    stsMock.on(GetCallerIdentityCommand).rejects(unreachable);

    await expect(h.run()).resolves.toBe(EXIT_NOTHING_TO_TEST);

    expect(h.lines).toEqual([
      'hello: cannot reach sts.eu-west-1.amazonaws.com: ENOTFOUND (the AWS API itself; check the network, a proxy or the region eu-west-1)',
    ]);
    expect(cfnMock.commandCalls(DescribeStacksCommand)).toHaveLength(0);
  });

  test('says that expired credentials are not valid', async () => {
    const h = harness();
    const expired = Object.assign(new Error('The security token included in the request is expired'), {
      name: 'ExpiredToken',
    });
    stsMock.on(GetCallerIdentityCommand).rejects(expired);

    await expect(h.run()).resolves.toBe(EXIT_NOTHING_TO_TEST);

    expect(h.lines).toEqual([
      'hello: your AWS credentials are not valid (ExpiredToken: The security token included in the request is expired); refresh them and retry',
    ]);
  });

  test('names the AWS API when a later call cannot reach it', async () => {
    const h = harness();
    const reset = Object.assign(new Error('read ECONNRESET'), {
      code: 'ECONNRESET',
      hostname: 'lambda.eu-west-1.amazonaws.com',
    });
    lambdaMock.on(InvokeCommand, { FunctionName: PRODUCER }).rejects(reset);

    await expect(h.run()).resolves.toBe(EXIT_FAIL);

    expect(h.lines.at(-1)).toBe('FAIL: cannot reach lambda.eu-west-1.amazonaws.com: ECONNRESET (the AWS API)');
  });

  test('fails with the handler error when the producer invocation returns a FunctionError', async () => {
    const h = harness();
    lambdaMock.on(InvokeCommand, { FunctionName: PRODUCER }).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: payload({
        errorType: 'KafkaJSNumberOfRetriesExceeded',
        errorMessage:
          'Kafka at b-1.hello.abc.c2.kafka.eu-west-1.amazonaws.com:9098 (auth iam) failed:\nConnection timeout',
        trace: ['KafkaJSNumberOfRetriesExceeded: ...', '    at ...'],
      }),
    });

    await expect(h.run()).resolves.toBe(EXIT_FAIL);

    expect(h.lines.at(-1)).toBe(
      'FAIL: the producer failed: KafkaJSNumberOfRetriesExceeded: Kafka at b-1.hello.abc.c2.kafka.eu-west-1.amazonaws.com:9098 (auth iam) failed: Connection timeout (see docs/deploy.md, Troubleshooting: no route to brokers)',
    );
    expect(lambdaMock.commandCalls(InvokeCommand, { FunctionName: CONSUMER })).toHaveLength(0);
    expect(logsMock.commandCalls(FilterLogEventsCommand)).toHaveLength(0);
  });

  test('fails in one line, pointing at IAM, when your credentials may not invoke the producer', async () => {
    const h = harness();
    const denied = Object.assign(
      new Error(
        'User: arn:aws:iam::123456789012:user/dev is not authorized to perform: lambda:InvokeFunction on resource: ' +
          `arn:aws:lambda:eu-west-1:123456789012:function:${PRODUCER} because no identity-based policy allows it`,
      ),
      { name: 'AccessDeniedException' },
    );
    lambdaMock.on(InvokeCommand, { FunctionName: PRODUCER }).rejects(denied);

    await expect(h.run()).resolves.toBe(EXIT_FAIL);
    expect(h.lines.at(-1)).toBe(
      `FAIL: AccessDeniedException: ${denied.message} (see docs/deploy.md, Troubleshooting: IAM denied)`,
    );
  });

  test('fails after the wait when the consumer never logs the message, without waiting in real time', async () => {
    const h = harness();
    logsMock.on(FilterLogEventsCommand).resolves({ events: [] });
    const realStart = Date.now();

    await expect(h.run()).resolves.toBe(EXIT_FAIL);

    expect(h.lines.at(-1)).toBe(
      `FAIL: no log line with message "${VALUE}" in ${LOG_GROUP} within 120 s of the send (see docs/deploy.md, Troubleshooting: timeouts)`,
    );
    // 120 s of 3 s polls on the fake clock: 40 sleeps, 41 looks, and no real waiting.
    expect(h.sleeps).toHaveLength(40);
    expect(h.sleeps.reduce((a, b) => a + b, 0)).toBe(120000);
    expect(logsMock.commandCalls(FilterLogEventsCommand)).toHaveLength(41);
    expect(Date.now() - realStart).toBeLessThan(2000);
  });

  test('keeps waiting for the scheduled run when the consumer is busy (throttled)', async () => {
    const h = harness();
    lambdaMock.on(InvokeCommand, { FunctionName: CONSUMER }).rejects(
      new TooManyRequestsException({
        $metadata: {},
        message: 'Rate Exceeded.',
        Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
      }),
    );
    logsMock.on(FilterLogEventsCommand).resolves({ events: [logEvent(CONSUMER_LINE)] });

    await expect(h.run()).resolves.toBe(EXIT_PASS);
    expect(h.lines).toContain("[  0.0s] consumer busy with its scheduled run; waiting for that run's log line");
  });

  test('fails with the handler error when the consumer invocation returns a FunctionError', async () => {
    const h = harness();
    lambdaMock.on(InvokeCommand, { FunctionName: CONSUMER }).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: payload({
        errorType: 'KafkaJSProtocolError',
        errorMessage: 'Kafka at b-1:9098 (auth iam) failed: Not authorized to access group: Group authorization failed',
      }),
    });

    await expect(h.run()).resolves.toBe(EXIT_FAIL);
    expect(h.lines.at(-1)).toBe(
      'FAIL: the consumer failed: KafkaJSProtocolError: Kafka at b-1:9098 (auth iam) failed: Not authorized to access group: Group authorization failed (see docs/deploy.md, Troubleshooting: IAM denied)',
    );
  });

  test('only waits for the schedule with --wait-for-schedule, and sends the --message text', async () => {
    const h = harness();
    const argv = ['--message', 'Hi there', '--stage', 'prod', '--timeout', '30', '--wait-for-schedule'];
    const options = parseCli(argv, NO_NAMES);
    expect(options).toEqual({ message: 'Hi there', stage: 'prod', timeoutSeconds: 30, invokeConsumer: false });
    logsMock.on(FilterLogEventsCommand).resolves({
      events: [logEvent({ ...CONSUMER_LINE, message: `Hi there [run ${RUN_ID}]` })],
    });

    await expect(h.run(options as HelloOptions)).resolves.toBe(EXIT_PASS);
    expect(cfnMock.commandCalls(DescribeStacksCommand)[0].args[0].input).toEqual({
      StackName: 'HelloMsk-prod-Clients',
    });
    expect(lambdaMock.commandCalls(InvokeCommand).map((c) => c.args[0].input.FunctionName)).toEqual([PRODUCER]);
    expect(sentPayload(0)).toEqual({ message: `Hi there [run ${RUN_ID}]` });
  });

  test.each([
    [['--timeout', '0'], '--timeout "0" is not valid; allowed: a number of seconds > 0'],
    [['--timeout', 'soon'], '--timeout "soon" is not valid; allowed: a number of seconds > 0'],
    [['--message', ' '], '--message is empty; allowed: any text'],
  ])('rejects the bad arguments %j in one line', (argv, message) => {
    expect(() => parseCli(argv, NO_NAMES)).toThrow(message);
  });

  test.each([
    ['UNKNOWN_TOPIC_OR_PARTITION: This server does not host this topic-partition', 'topic missing'],
    ['SASL OAUTHBEARER authentication failed: Access denied', 'IAM denied'],
    ['connect ETIMEDOUT 10.42.1.5:9098', 'no route to brokers'],
    ['Task timed out after 30.03 seconds', 'timeouts'],
  ])('points %j at the troubleshooting entry "%s"', (error, entry) => {
    expect(hint(error)).toBe(` (see docs/deploy.md, Troubleshooting: ${entry})`);
  });
});

describe('the region and the SDK clients of npm run hello', () => {
  test.each([
    ['AWS_REGION', { AWS_REGION: 'eu-west-1' }, 'eu-west-1'],
    ['AWS_DEFAULT_REGION, as the AWS CLI and the CDK CLI honour it', { AWS_DEFAULT_REGION: 'us-east-2' }, 'us-east-2'],
    ['AWS_REGION over AWS_DEFAULT_REGION', { AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'us-east-2' }, 'eu-west-1'],
    ['neither: the SDK then reads the AWS profile', {}, undefined],
    ['blank values count as unset', { AWS_REGION: ' ', AWS_DEFAULT_REGION: '' }, undefined],
  ])('takes %s', (_name, env, region) => {
    expect(regionFromEnvironment(env)).toBe(region);
    expect(clientConfig(env)).toEqual(region ? { region } : {});
  });

  test('invokes the functions with the SDK’s retries off, so a slow producer run is never sent twice', () => {
    expect(lambdaClientConfig({ AWS_DEFAULT_REGION: 'us-east-2' })).toEqual({ region: 'us-east-2', maxAttempts: 1 });
  });

  test('names AWS_DEFAULT_REGION too when no region is set, and asks nothing of AWS', async () => {
    const noRegion: StsLike = {
      send: () => Promise.reject(new Error('not called')),
      config: { region: () => Promise.reject(new Error('Region is missing')) },
    };
    const { run, lines } = harness(noRegion);
    await expect(run()).resolves.toBe(EXIT_NOTHING_TO_TEST);
    expect(lines).toEqual([
      'hello: no AWS region set; set AWS_REGION, AWS_DEFAULT_REGION or a region in your AWS profile',
    ]);
    expect(cfnMock.commandCalls(DescribeStacksCommand)).toHaveLength(0);
  });
});

describe('--stage, --aws-profile and --profile of npm run hello', () => {
  const known = { stages: ['dev', 'e2e', 'prod', 'express'], awsProfiles: ['default', 'work', 'dev'] };

  test.each([
    ['--stage names the stage', ['--stage', 'prod'], { stage: 'prod' }],
    ['--aws-profile names the AWS profile', ['--aws-profile', 'work'], { stage: 'dev', awsProfile: 'work' }],
    ['--profile is an AWS profile, as for the AWS CLI', ['--profile', 'work'], { stage: 'dev', awsProfile: 'work' }],
    [
      '--profile with --stage is the AWS profile even where it names a stage',
      ['--stage', 'prod', '--profile', 'dev'],
      { stage: 'prod', awsProfile: 'dev' },
    ],
    [
      '--profile naming only a stage keeps its former meaning, with a notice',
      ['--profile', 'prod'],
      { stage: 'prod', notice: '--profile is now --stage; using stage prod (an AWS profile is --aws-profile)' },
    ],
  ])('%s', (_name, argv, expected) => {
    expect(parseCli(argv, known)).toEqual({ ...expected, invokeConsumer: true });
  });

  test.each([
    [
      ['--profile', 'dev'],
      '--profile dev names both a hello-msk stage and an AWS profile; say --stage dev or --aws-profile dev',
    ],
    [['--profile', 'a', '--aws-profile', 'b'], '--profile a and --aws-profile b disagree; give only --aws-profile'],
    [['--stage', 'dev env'], '--stage "dev env" is not valid; allowed: a stage name from cdk.json'],
  ])('refuses %j in one line', (argv, message) => {
    expect(() => parseCli(argv, known)).toThrow(message);
  });
});
