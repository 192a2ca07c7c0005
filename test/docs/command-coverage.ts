/**
 * How each command the README and its docs show is exercised. test/docs/readme-commands.test.ts fails on a
 * documented command that no entry matches, and runs every entry's checks on every command it matches.
 *
 * Add an entry when you document a new kind of command; prefer a test or CI that runs it, and say why when a
 * command can only be checked (it needs an AWS account, or it is a synopsis with placeholders).
 */

export type Check =
  /** .ci/run runs it: a line of .ci/run holds the command's first two words and every other word but options. */
  | { readonly kind: 'ci' }
  /** A jest test runs it for real: `file` has a test titled `title`. */
  | { readonly kind: 'test'; readonly file: string; readonly title: string }
  /** `npm run <script>`: package.json has the script (a `*` in the name: at least one script matches). */
  | { readonly kind: 'npm-script' }
  /** `npm run kafka -- <tool> …`: the tool accepts the arguments and acts where they say (local or --stage). */
  | { readonly kind: 'kafka-tool' }
  /** `npm run hello -- …`: its argument parser accepts them. */
  | { readonly kind: 'hello-args' }
  /** `npx tsx <path> …`: CI runs `npm run <script>`, and that package.json script runs the same file. */
  | { readonly kind: 'ci-script'; readonly script: string }
  /** `npm run e2e -- …`: its argument parser accepts them. */
  | { readonly kind: 'e2e-args' }
  /**
   * `npx tsx <path> …` (a synopsis's `[…]` brackets aside): the script exists and reads each option the command
   * gives, as `'--name'` or as a `name: { type: … }` entry of its parseArgs options.
   */
  | { readonly kind: 'script-options'; readonly path: string }
  /** `npx cdk <command> …`: the CDK CLI has each option, and the app synthesizes with the command's `-c` values. */
  | { readonly kind: 'cdk'; readonly synth: boolean }
  /** The command is, placeholders aside, the value of this Clients stack output. */
  | { readonly kind: 'stack-output'; readonly output: string }
  /** `aws <service> <operation> --option …`: the AWS SDK has the operation, and each option is one of its fields. */
  | { readonly kind: 'aws-api' }
  /** The binary in node_modules/.bin lists each option in its `--help`. */
  | { readonly kind: 'cli-options'; readonly binary: string }
  /** A file the command needs exists. */
  | { readonly kind: 'file'; readonly path: string };

export interface Coverage {
  readonly match: RegExp;
  /** How the command is exercised, in a few words; shown when a check fails. */
  readonly how: string;
  readonly checks: readonly Check[];
}

const KAFKA_CLI_TEST = 'test/integration/kafka-cli.int.test.ts';
const KAFKA_TOOLS_TEST = 'test/scripts/kafka-tools.int.test.ts';

export const COVERAGE: readonly Coverage[] = [
  { match: /^npm (ci|test)$/, how: 'CI runs it (.ci/run)', checks: [{ kind: 'ci' }] },
  {
    match: /^npm run test:faults$/,
    how: 'CI runs it after npm test',
    checks: [{ kind: 'ci' }, { kind: 'npm-script' }],
  },
  {
    match: /^npm run test:(unit|integration)$/,
    how: 'one of the two jest projects that npm test runs in CI',
    checks: [{ kind: 'npm-script' }],
  },
  {
    match: /^apt-get install openjdk-17-jdk-headless maven$/,
    how: 'CI installs the same packages on a machine without Java',
    checks: [{ kind: 'ci' }],
  },
  {
    match: /^npm run demo( -- .+)?$/,
    how: 'the demo integration test runs it on its own twin with a message, and checks the line against the README',
    checks: [
      { kind: 'npm-script' },
      {
        kind: 'test',
        file: 'test/scripts/demo.int.test.ts',
        title: 'npm run demo -- Hello from my laptop ends with the consumer log line the README shows',
      },
    ],
  },
  {
    match: /^npm run kafka:start$/,
    how: 'the kafka CLI test runs it on a free port',
    checks: [
      { kind: 'npm-script' },
      { kind: 'test', file: KAFKA_CLI_TEST, title: 'kafka:start runs a broker in the background' },
    ],
  },
  {
    match: /^npx tsx scripts\/kafka\/cli\.ts start$/,
    how: 'what npm run kafka:start runs; the kafka CLI test runs it on a free port',
    checks: [
      { kind: 'file', path: 'scripts/kafka/cli.ts' },
      { kind: 'test', file: KAFKA_CLI_TEST, title: 'kafka:start runs a broker in the background' },
    ],
  },
  {
    match: /^npm run kafka:status$/,
    how: 'the kafka CLI test runs it, and the status test kills and pauses brokers of a three-broker cluster',
    checks: [
      { kind: 'npm-script' },
      { kind: 'test', file: KAFKA_CLI_TEST, title: 'kafka:status shows it answering' },
      { kind: 'test', file: 'test/integration/kafka-status.int.test.ts', title: 'counts only the brokers that answer' },
    ],
  },
  {
    match: /^npm run kafka:broker -- (kill|stop|pause|resume|start) \d+$/,
    how: 'the kafka CLI test kills and starts a broker; the status test pauses one',
    checks: [{ kind: 'npm-script' }, { kind: 'test', file: KAFKA_CLI_TEST, title: 'kafka:broker -- kill 1' }],
  },
  {
    match: /^npm run kafka:stop$/,
    how: 'the kafka CLI test stops its broker (with --port, so that it never stops yours); the stop test checks which clusters no option stops',
    checks: [
      { kind: 'npm-script' },
      { kind: 'test', file: KAFKA_CLI_TEST, title: 'kafka:stop -- --port N stops it' },
      {
        kind: 'test',
        file: 'test/scripts/status.test.ts',
        title: 'with no option, every Kafka that kafka:start left running',
      },
    ],
  },
  {
    match: /^npm run kafka:fetch$/,
    how: 'the kafka CLI test fetches a version; the compatibility test fetches 3.9.2, 4.0.2 and 4.1.2',
    checks: [
      { kind: 'npm-script' },
      { kind: 'test', file: KAFKA_CLI_TEST, title: 'kafka:fetch has the jars of a version ready' },
    ],
  },
  {
    match: /^npx tsx scripts\/kafka\/cli\.ts fetch --version V\[,V\.\.\.\]$/,
    how: 'a synopsis of what npm run kafka:fetch runs; the kafka CLI test fetches a version',
    checks: [
      { kind: 'file', path: 'scripts/kafka/cli.ts' },
      { kind: 'test', file: KAFKA_CLI_TEST, title: 'kafka:fetch has the jars of a version ready' },
    ],
  },
  {
    match: /^npm run (bench|kafka:bench-start)( -- --quick)?$/,
    how: 'CI runs them short (bench --quick, bench-start --runs 1); their figures are reported, not gated',
    checks: [{ kind: 'npm-script' }, { kind: 'ci' }],
  },
  {
    match: /^npm run kafka -- (topics|produce|consume|groups) .*--(stage|aws-profile|profile) \S+$/,
    how: 'the deployed path is tested with the AWS SDK mocked; the arguments are checked here',
    checks: [
      { kind: 'kafka-tool' },
      { kind: 'test', file: 'test/scripts/kafka-tools.test.ts', title: 'topics --list asks the admin function' },
    ],
  },
  {
    match: /^npm run kafka -- topic --list$/,
    how: 'a misspelt tool, shown for its one-line suggestion, which the tools’ unit test checks',
    checks: [
      { kind: 'npm-script' },
      {
        kind: 'test',
        file: 'test/scripts/kafka-tools.test.ts',
        title: 'fails in one line before reaching Kafka or AWS',
      },
    ],
  },
  {
    match: /^npm run kafka -- (topics|produce|consume|groups) /,
    how: "the classic sequence runs Kafka's own tools against the shared twin in the tools' integration test",
    checks: [
      { kind: 'kafka-tool' },
      {
        kind: 'test',
        file: KAFKA_TOOLS_TEST,
        title:
          'create a topic, list it, produce three lines, consume them from the beginning, list groups: Kafka’s own output',
      },
    ],
  },
  {
    match:
      /^npm run kafka( -- <tool>| -- 'topics\|groups' --stage)?$|^npm run 'kafka:\*'$|^npm run kafka:broker -- <action> <id>$/,
    how: 'a synopsis with placeholders; the commands it stands for are covered above',
    checks: [{ kind: 'npm-script' }],
  },
  {
    match: /^npm run hello( -- .+)?$/,
    how: 'needs a deployed stack; tested with the AWS SDK mocked, and its arguments are checked here',
    checks: [
      { kind: 'npm-script' },
      { kind: 'hello-args' },
      { kind: 'test', file: 'test/scripts/hello.test.ts', title: 'passes when the consumer logs the sent message' },
    ],
  },
  {
    match: /^npx cdk (synth|deploy|destroy)( .*)?$/,
    how: 'deploy and destroy need an account: dry run by synthesizing the app with the same -c values, offline',
    checks: [{ kind: 'cdk', synth: true }],
  },
  {
    match: /^npx cdk bootstrap$/,
    how: 'needs an account (once per account and region); the CDK CLI that runs it is the pinned one',
    checks: [{ kind: 'cdk', synth: false }],
  },
  {
    match: /^AWS_MAX_ATTEMPTS=1 aws lambda invoke --function-name <ProducerFunctionName> /,
    how: 'needs an account; it is what the InvokeProducerCommand output prints',
    checks: [{ kind: 'stack-output', output: 'InvokeProducerCommand' }],
  },
  {
    match: /^aws logs tail <ConsumerLogGroup> /,
    how: 'needs an account; it is what the TailConsumerLogsCommand output prints',
    checks: [{ kind: 'stack-output', output: 'TailConsumerLogsCommand' }],
  },
  {
    match: /^aws logs tail$/,
    how: 'named as a command of AWS CLI v2 only; in full it is the TailConsumerLogsCommand output, checked word for word',
    checks: [
      {
        kind: 'test',
        file: 'test/lib/clients-stack.test.ts',
        title: 'outputs the function names, the demo topic and group, and the exact invoke and log-tail commands',
      },
    ],
  },
  {
    match:
      /^aws (lambda get-function-configuration|kafka describe-cluster-v2|cloudformation continue-update-rollback|ec2 describe-subnets|ec2 describe-network-interfaces|kafka delete-configuration|kafka delete-cluster|kafka list-clusters-v2|kafka list-configurations|ec2 delete-security-group|ec2 delete-subnet|ec2 delete-vpc|ec2 describe-vpcs|logs delete-log-group|cloudformation delete-stack|logs describe-resource-policies|logs delete-resource-policy)( |$)/,
    how: 'troubleshooting and clean-up in your account; the operation and its options are checked against the AWS SDK',
    checks: [{ kind: 'aws-api' }],
  },
  {
    match: /^npm run e2e -- --dry-run$/,
    how: 'npm test runs the dry run with the pinned CDK CLI, offline',
    checks: [
      { kind: 'npm-script' },
      { kind: 'e2e-args' },
      {
        kind: 'test',
        file: 'test/scripts/e2e.test.ts',
        title: 'dry run: the pinned CDK CLI synthesizes the app and reads its cloud assembly, with no AWS account',
      },
    ],
  },
  {
    match: /^npm run e2e( -- --keep)?$/,
    how: 'deploys to your account; the run (deploy, smoke test, destroy, --keep) is tested with the commands faked, and its arguments are checked here',
    checks: [
      { kind: 'npm-script' },
      { kind: 'e2e-args' },
      {
        kind: 'test',
        file: 'test/scripts/e2e.test.ts',
        title: 'deploys every stack of the stage, runs the smoke test, then destroys them',
      },
      {
        kind: 'test',
        file: 'test/scripts/e2e.test.ts',
        title: 'keeps the stacks with --keep and says how to remove them',
      },
    ],
  },
  {
    match: /^npm run kafka:start -- --security iam$/,
    how: 'the kafka CLI test starts the twin on free ports, reads its status and stops it',
    checks: [
      { kind: 'npm-script' },
      {
        kind: 'test',
        file: KAFKA_CLI_TEST,
        title: 'starts the twin in the background and prints its IAM listener, CA file and credential registry',
      },
    ],
  },
  {
    match: /^npx tsx scripts\/kafka\/bench-start\.ts /,
    how: 'CI runs the same script short (npm run kafka:bench-start -- --runs 1); the options are ones it reads',
    checks: [
      { kind: 'script-options', path: 'scripts/kafka/bench-start.ts' },
      { kind: 'ci-script', script: 'kafka:bench-start' },
    ],
  },
  {
    match: /^npm run build:lambdas -- --analyze$/,
    how: 'its analysis (the table in docs/benchmarks.md) is built and checked by the build-lambdas unit test',
    checks: [
      { kind: 'npm-script' },
      { kind: 'file', path: 'scripts/build-lambdas.ts' },
      {
        kind: 'test',
        file: 'test/scripts/build-lambdas.test.ts',
        title: 'reports each Kafka bundle: its size, kafkajs, Powertools Logger and the MSK IAM signer',
      },
    ],
  },
  {
    match: /^npm run bench -- (--quick )?(--cold-start|--trigger)$/,
    how: 'CI runs npm run bench -- --quick, whose cold-start and trigger sections are what --cold-start and --trigger run alone',
    checks: [{ kind: 'npm-script' }, { kind: 'ci' }],
  },
  {
    match: /^npm run build:lambdas$/,
    how: 'the integration tests build the bundles with the function it runs (scripts/build-lambdas.ts) and run them',
    checks: [
      { kind: 'npm-script' },
      { kind: 'file', path: 'scripts/build-lambdas.ts' },
      {
        kind: 'test',
        file: 'test/lambda/clients.int.test.ts',
        title: 'one Hello MSK goes through: the producer reports where it landed, the consumer logs the value itself',
      },
    ],
  },
  {
    match: /^(npx )?msk-twin up --assembly \S+( \[--port N\]( \[--brokers-variable NAME\])?)?$/,
    how: "the CLI tests start the twin of this app's assembly and of a second app with it",
    checks: [
      {
        kind: 'test',
        file: 'test/twin/cli.int.test.ts',
        title: 'up deploys the custom resources, then the producer and the consumer: Hello MSK goes through',
      },
      {
        kind: 'test',
        file: 'packages/msk-twin/test/cli/cli.int.test.ts',
        title: 'up, invoke and down: the function reads its brokers from BOOTSTRAP_SERVERS, signs in and writes',
      },
    ],
  },
  {
    match: /^(npx )?msk-twin (invoke \S+( (--payload .+|\[--payload JSON\]))?|down)$/,
    how: 'the CLI tests invoke functions of both apps and stop the twin',
    checks: [
      {
        kind: 'test',
        file: 'test/twin/cli.int.test.ts',
        title: 'up deploys the custom resources, then the producer and the consumer: Hello MSK goes through',
      },
      {
        kind: 'test',
        file: 'packages/msk-twin/test/cli/cli.int.test.ts',
        title: 'up, invoke and down: the function reads its brokers from BOOTSTRAP_SERVERS, signs in and writes',
      },
    ],
  },
  {
    match: /^(npx )?msk-twin policy --assembly \S+$/,
    how: 'prints the kafka-cluster statements the twin evaluates for each function role, row by row',
    checks: [
      {
        kind: 'test',
        file: 'packages/msk-twin/test/cli/cli.int.test.ts',
        title: 'policy prints what the role of each function may do on the twin',
      },
      {
        kind: 'test',
        file: 'test/twin/app-policies.test.ts',
        title: 'prints the table the docs show, one row per kafka-cluster statement',
      },
    ],
  },
  {
    match: /^(npx )?msk-twin config --assembly \S+( \[?--brokers (\d|N)\]?)?$/,
    how: 'prints what the broker configuration test checks: the plan for an assembly and broker count',
    checks: [
      {
        kind: 'test',
        file: 'packages/msk-twin/test/cli/cli.int.test.ts',
        title: 'config prints the brokers’ settings as deployed and on the twin',
      },
      {
        kind: 'test',
        file: 'test/twin/broker-config.test.ts',
        title: 'formats the plan as a table with the reason for every difference',
      },
    ],
  },
  {
    match: /^(npm run|npx) '…'$/,
    how: 'any npm script or npx command, named to say which Node.js runs them: the runner test finds the pinned Node.js 24 that npm links',
    checks: [
      {
        kind: 'test',
        file: 'packages/msk-twin/test/runner/lambda-runner.test.ts',
        title: 'finds Node.js 24 from the pinned npm package',
      },
    ],
  },
  {
    match: /^npx jest --selectProjects unit -u( -- test\/lib)?$/,
    how: 'updates snapshots after a reviewed change; jest has these options',
    checks: [
      { kind: 'cli-options', binary: 'jest' },
      { kind: 'file', path: 'test/lib' },
    ],
  },
  {
    match: /^npx jest --selectProjects integration -- test\/twin\/second-consumer\.int\.test\.ts$/,
    how: 'one integration test file, which CI runs with npm test',
    checks: [
      { kind: 'cli-options', binary: 'jest' },
      {
        kind: 'test',
        file: 'test/twin/second-consumer.int.test.ts',
        title: 'the producer sends and the second consumer reads it as its own group, independently of the first',
      },
    ],
  },
];
