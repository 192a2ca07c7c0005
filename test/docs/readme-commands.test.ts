/**
 * Every command the README and the docs it links show is exercised: run by a test or by CI, or, where it needs
 * an AWS account, checked against what it depends on (the stack outputs that print it, the CDK CLI's options,
 * the AWS API's fields, a dry run of the app). A command that no entry of command-coverage.ts matches fails here.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { ToolError, type KafkaBackend } from '../../scripts/kafka/tools/backend';
import { runKafkaTool } from '../../scripts/kafka/tools';
import { parseCli } from '../../scripts/hello';
import { parseE2eCli } from '../../scripts/e2e';
import { buildTestApp } from '../lib/synth';
import { COVERAGE, type Check } from './command-coverage';
import {
  documentedCommands,
  documentFiles,
  isInlineCommand,
  ROOT,
  shellWords,
  type DocumentedCommand,
} from './documented-commands';

jest.setTimeout(120000);

const commands = documentedCommands();
const packageScripts = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
).scripts;
const ciLines = readFileSync(join(ROOT, '.ci', 'run'), 'utf8').split('\n');

function coverageOf(command: DocumentedCommand) {
  return COVERAGE.find((c) => c.match.test(command.command));
}

const where = (c: DocumentedCommand) => `${c.file}:${c.line}: ${c.command}`;

/** The words after `npm run <script> --`. */
function scriptArgs(words: readonly string[]): string[] {
  const at = words.indexOf('--');
  return at < 0 ? [] : words.slice(at + 1);
}

/** A backend that only says where it was asked to act: proof that the tool accepted its arguments. */
function dryRunBackend(where: 'deployed'): KafkaBackend {
  const stop = async (): Promise<never> => {
    throw new ToolError(`dry run: ${where}`);
  };
  return {
    where,
    listTopics: stop,
    describeTopics: stop,
    createTopic: stop,
    produce: stop,
    consume: stop,
    listGroups: stop,
    describeGroup: stop,
    close: async () => undefined,
  };
}

const helpCache = new Map<string, string>();
function helpOf(binary: string, ...args: string[]): string {
  const key = [binary, ...args].join(' ');
  if (!helpCache.has(key)) {
    const result = spawnSync(join(ROOT, 'node_modules', '.bin', binary), [...args, '--help'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', AWS_EC2_METADATA_DISABLED: 'true' },
    });
    helpCache.set(key, `${result.stdout}${result.stderr}`);
  }
  return helpCache.get(key) as string;
}

/** Long options (`--all`) and short ones (`-u`), without values. */
function optionsOf(words: readonly string[]): string[] {
  return words.filter((w) => /^--?[A-Za-z]/.test(w)).map((w) => w.split('=')[0]);
}

const synthCache = new Map<string, ReturnType<typeof buildTestApp>>();
function synth(context: Record<string, string>): ReturnType<typeof buildTestApp> {
  const key = JSON.stringify(context);
  if (!synthCache.has(key)) {
    const built = buildTestApp(context);
    built.app.synth();
    synthCache.set(key, built);
  }
  return synthCache.get(key) as ReturnType<typeof buildTestApp>;
}

/** The `-c key=value` pairs of a cdk command. */
function contextOf(words: readonly string[]): Record<string, string> {
  const context: Record<string, string> = {};
  words.forEach((word, i) => {
    if ((word === '-c' || word === '--context') && words[i + 1]) {
      const [key, ...value] = words[i + 1].split('=');
      context[key] = value.join('=');
    }
  });
  return context;
}

/** An output's value with each `Ref` to another output's resource shown as `<ThatOutputName>`. */
function renderOutput(outputs: Record<string, { Value: unknown }>, name: string): string {
  const placeholders = new Map<string, string>();
  for (const [outputName, output] of Object.entries(outputs)) {
    const ref = (output.Value as { Ref?: string }).Ref;
    // CDK's own ExportsOutput… outputs (cross-stack references) are not what a reader is told to look up.
    if (ref && !outputName.startsWith('ExportsOutput')) placeholders.set(ref, `<${outputName}>`);
  }
  const render = (value: unknown): string => {
    if (typeof value === 'string') return value;
    const v = value as { Ref?: string; 'Fn::Join'?: [string, unknown[]] };
    if (v.Ref) return placeholders.get(v.Ref) ?? `<${v.Ref}>`;
    if (v['Fn::Join']) return v['Fn::Join'][1].map(render).join(v['Fn::Join'][0]);
    throw new Error(`cannot render ${JSON.stringify(value)}`);
  };
  const output = outputs[name];
  if (!output) throw new Error(`the Clients stack has no output ${name}`);
  return render(output.Value);
}

/** AWS CLI options that belong to the CLI, not to an operation. */
const AWS_GLOBAL_OPTIONS = [
  '--query',
  '--output',
  '--region',
  '--profile',
  '--cli-binary-format',
  '--cli-read-timeout',
  '--cli-connect-timeout',
  '--no-cli-pager',
  '--debug',
];
const SDK_PACKAGES: Record<string, string> = { logs: 'cloudwatch-logs' };

async function runCheck(check: Check, command: DocumentedCommand): Promise<void> {
  const { words } = command;
  switch (check.kind) {
    case 'ci': {
      const head = words.slice(0, 2).join(' ');
      const rest = words.slice(2).filter((w) => !w.startsWith('-'));
      const line = ciLines.find(
        (l) => !l.trim().startsWith('#') && l.includes(head) && rest.every((w) => l.includes(w)),
      );
      expect({ command: where(command), ciLine: line ?? 'none' }).toEqual({
        command: where(command),
        ciLine: expect.stringContaining(head),
      });
      return;
    }
    case 'test': {
      const file = join(ROOT, check.file);
      expect(existsSync(file)).toBe(true);
      expect(readFileSync(file, 'utf8')).toContain(check.title);
      return;
    }
    case 'file':
      expect(existsSync(join(ROOT, check.path))).toBe(true);
      return;
    case 'npm-script': {
      expect(words.slice(0, 2)).toEqual(['npm', 'run']);
      const name = words[2];
      const pattern = new RegExp(`^${name.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
      expect({ command: where(command), scripts: Object.keys(packageScripts).filter((s) => pattern.test(s)) }).toEqual({
        command: where(command),
        scripts: expect.arrayContaining([expect.any(String)]),
      });
      return;
    }
    case 'kafka-tool': {
      const args = scriptArgs(words);
      const err: string[] = [];
      const code = await runKafkaTool(args, {
        io: {
          out: () => undefined,
          err: (l) => err.push(l),
          lines: async function* () {},
          interactive: false,
          env: {},
        },
        backends: {
          local: () => ({
            where: 'local',
            run: async () => {
              throw new ToolError('dry run: local');
            },
          }),
          deployed: () => dryRunBackend('deployed'),
        },
      });
      const deployed = ['--stage', '--profile', '--aws-profile'].some((o) => args.includes(o));
      const expected = deployed ? 'dry run: deployed' : 'dry run: local';
      expect({ command: where(command), code, err }).toEqual({ command: where(command), code: 1, err: [expected] });
      return;
    }
    case 'hello-args':
      expect(() => parseCli(scriptArgs(words), { stages: [], awsProfiles: [] })).not.toThrow();
      return;
    case 'ci-script': {
      expect(words.slice(0, 2)).toEqual(['npx', 'tsx']);
      expect({ script: check.script, runs: packageScripts[check.script] }).toEqual({
        script: check.script,
        runs: `tsx ${words[2]}`,
      });
      const line = ciLines.find((l) => !l.trim().startsWith('#') && l.includes(`npm run ${check.script}`));
      expect({ command: where(command), ciLine: line ?? 'none' }).toEqual({
        command: where(command),
        ciLine: expect.stringContaining(`npm run ${check.script}`),
      });
      return;
    }
    case 'e2e-args':
      expect(parseE2eCli(scriptArgs(words), { stages: [], awsProfiles: [] })).toMatchObject({
        stage: expect.any(String),
      });
      return;
    case 'script-options': {
      const file = join(ROOT, check.path);
      expect(existsSync(file)).toBe(true);
      expect(words.slice(0, 3)).toEqual(['npx', 'tsx', check.path]);
      const source = readFileSync(file, 'utf8');
      // A synopsis marks optional parts with brackets: `[--stage dev]`.
      for (const option of optionsOf(words.slice(3).map((w) => w.replace(/^\[|\]$/g, '')))) {
        const name = option.replace(/^--?/, '');
        const reads = source.includes(`'${option}'`) || new RegExp(`^\\s*'?${name}'?: \\{ type: `, 'm').test(source);
        expect({ command: where(command), option, reads }).toEqual({ command: where(command), option, reads: true });
      }
      return;
    }
    case 'cdk': {
      expect(words.slice(0, 2)).toEqual(['npx', 'cdk']);
      const help = helpOf('cdk', words[2]);
      for (const option of optionsOf(words.slice(3))) {
        expect({
          command: where(command),
          option,
          listed: help.includes(` ${option} `) || help.includes(`, ${option}`),
        }).toEqual({
          command: where(command),
          option,
          listed: true,
        });
      }
      if (check.synth) {
        const { app } = synth(contextOf(words));
        // What `--all` acts on: every stack of the app.
        expect(app.synth().stacks.map((s) => s.stackName)).toEqual(
          expect.arrayContaining([expect.stringMatching(/^HelloMsk-\w+-Network$/), expect.stringMatching(/-Clients$/)]),
        );
      }
      return;
    }
    case 'stack-output': {
      const outputs = Template.fromStack(synth({}).clients).toJSON().Outputs as Record<string, { Value: unknown }>;
      expect({ command: where(command), words }).toEqual({
        command: where(command),
        words: shellWords(renderOutput(outputs, check.output)),
      });
      return;
    }
    case 'aws-api': {
      const [, service, operation, ...rest] = words;
      const pascal = operation
        .split('-')
        .map((part) => (/^v\d+$/.test(part) ? part.toUpperCase() : `${part[0].toUpperCase()}${part.slice(1)}`))
        .join('');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const sdk = require(`@aws-sdk/client-${SDK_PACKAGES[service] ?? service}`) as Record<string, unknown>;
      expect({ command: where(command), operation: typeof sdk[`${pascal}Command`] }).toEqual({
        command: where(command),
        operation: 'function',
      });
      const schema = (sdk[`${pascal}Request$`] ?? sdk[`${pascal}Input$`]) as unknown[] | undefined;
      const fields = (schema?.[4] as string[] | undefined) ?? [];
      const options = fields.map((f) => `--${f.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()}`);
      for (const option of optionsOf(rest).filter((o) => !AWS_GLOBAL_OPTIONS.includes(o))) {
        expect({ command: where(command), option, known: options.includes(option) }).toEqual({
          command: where(command),
          option,
          known: true,
        });
      }
      return;
    }
    case 'cli-options': {
      const help = helpOf(check.binary);
      for (const option of optionsOf(words.slice(2))) {
        expect({ command: where(command), option, listed: new RegExp(`(^|[\\s,])${option}\\b`).test(help) }).toEqual({
          command: where(command),
          option,
          listed: true,
        });
      }
      return;
    }
  }
}

describe('commands in the README and the docs it links', () => {
  test('are found: the README and its docs pages hold the commands a reader copies', () => {
    expect(documentFiles()).toEqual(
      expect.arrayContaining(['README.md', 'docs/local-kafka.md', 'docs/kafka-tools.md']),
    );
    expect(commands.map((c) => c.command)).toEqual(
      expect.arrayContaining(['npm ci', 'npm run demo', 'npx cdk deploy --all', 'npm run kafka -- topics --list']),
    );
  });

  test('are each covered by an entry that says how they are run or checked', () => {
    const uncovered = commands.filter((c) => !coverageOf(c)).map(where);
    expect(uncovered).toEqual([]);
  });

  test.each(commands.map((c) => [where(c), c] as const))(
    '%s is run or checked as its entry says',
    async (_, command) => {
      const coverage = coverageOf(command);
      expect(coverage).toBeDefined();
      for (const check of coverage?.checks ?? []) await runCheck(check, command);
    },
  );

  test('every entry of the table still matches a documented command', () => {
    const unused = COVERAGE.filter((entry) => !commands.some((c) => entry.match.test(c.command))).map((e) => e.how);
    expect(unused).toEqual([]);
  });
});

describe('the command extraction', () => {
  test('joins continuation lines, drops comments and shell glue, splits && chains and keeps quoting', () => {
    expect(shellWords(`npx cdk synth -c topics='[{"name":"a b"}]' # a comment`)).toEqual([
      'npx',
      'cdk',
      'synth',
      '-c',
      'topics=[{"name":"a b"}]',
    ]);
    expect(shellWords('npm ci && npm test')).toEqual(['npm', 'ci', '&&', 'npm', 'test']);
    expect(shellWords("printf 'a\\nb' | npm run kafka -- produce")).toEqual([
      'printf',
      'a\\nb',
      '|',
      'npm',
      'run',
      'kafka',
      '--',
      'produce',
    ]);
  });

  test('takes inline code for a command only when a command word has arguments', () => {
    expect(isInlineCommand('npm ci')).toBe(true);
    expect(isInlineCommand('aws logs tail')).toBe(true);
    // `aws` in a table of values is the partition's name, `npx` alone names the tool.
    expect(isInlineCommand('aws')).toBe(false);
    expect(isInlineCommand('npx')).toBe(false);
    expect(isInlineCommand('cdk.json')).toBe(false);
  });

  test('the coverage check catches a command that nothing covers', () => {
    const invented = { file: 'README.md', line: 1, command: 'npm run deploy-everything', words: [] };
    expect(coverageOf(invented)).toBeUndefined();
  });
});
