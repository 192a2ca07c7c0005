/**
 * Kafka-style command-line options for the tools (`--topic first-topic`, `--property parse.key=true`), and the
 * choice of where a command acts: `--bootstrap-server` (a Kafka this machine reaches) or `--stage` (the
 * deployed stack, through its functions, with `--aws-profile`/`--profile` as the AWS profile).
 */
import { parseArgs } from 'node:util';
import { closestKey } from '../../../lib/config';
import { chooseStage, type KnownNames } from '../../aws-account';
import { ToolError, type KafkaBackend, type LocalTools } from './backend';
import { defaultBootstrapServer } from './connection';

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;
export type Values = Record<string, string | boolean | string[] | undefined>;

/** Options every tool takes. */
export const WHERE_OPTIONS: OptionSpec = {
  'bootstrap-server': { type: 'string' },
  stage: { type: 'string' },
  profile: { type: 'string' },
  'aws-profile': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

/** Parses `argv` for `command`; a mistake is one line that names it (and the option meant, when close). */
export function parseToolArgs(command: string, argv: string[], options: OptionSpec): Values {
  const spec = { ...options, ...WHERE_OPTIONS };
  try {
    return parseArgs({ args: argv, options: spec, allowPositionals: false, strict: true }).values as Values;
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    const option = /'(--?[^' ]+)/.exec(message)?.[1] ?? '';
    const help = `see npm run kafka -- ${command} --help`;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const guess = closestKey(option.replace(/^-+/, ''), Object.keys(spec));
      throw new ToolError(`${command}: unknown option ${option}; ${guess ? `did you mean --${guess}?` : help}`);
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const takesValue = spec[option.replace(/^-+/, '')]?.type === 'string';
      throw new ToolError(`${command}: ${option} ${takesValue ? 'needs a value' : 'takes no value'}; ${help}`);
    }
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      const arg = /'([^']*)'/.exec(message)?.[1] ?? '';
      throw new ToolError(`${command}: unexpected argument ${JSON.stringify(arg)}; ${help}`);
    }
    throw new ToolError(`${command}: ${message.split('\n')[0]}`);
  }
}

export function stringOption(values: Values, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

export function requiredString(command: string, values: Values, name: string, why: string): string {
  const value = stringOption(values, name);
  if (value === undefined || value.trim() === '') throw new ToolError(`${command}: --${name} is required ${why}`);
  return value;
}

export function intOption(command: string, values: Values, name: string, min: number): number | undefined {
  const raw = stringOption(values, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min) {
    throw new ToolError(`${command}: --${name} ${JSON.stringify(raw)} is not valid; expected a whole number >= ${min}`);
  }
  return value;
}

/** `--property name=value` (repeatable), as Kafka's console tools take them; only the `allowed` names. */
export function properties(command: string, values: Values, allowed: readonly string[]): Record<string, string> {
  return keyValues(command, values, 'property', allowed);
}

/** Repeated `--<option> name=value` pairs; `allowed` limits the names when given. */
export function keyValues(
  command: string,
  values: Values,
  option: string,
  allowed?: readonly string[],
): Record<string, string> {
  const raw = values[option];
  const pairs = Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : [];
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0)
      throw new ToolError(`${command}: --${option} ${JSON.stringify(pair)} is not valid; expected name=value`);
    const name = pair.slice(0, at);
    if (allowed && !allowed.includes(name)) {
      const guess = closestKey(name, allowed);
      throw new ToolError(
        `${command}: --${option} ${name} is not supported; ${guess ? `did you mean ${guess}?` : `use ${allowed.join(', ')}`}`,
      );
    }
    out[name] = pair.slice(at + 1);
  }
  return out;
}

/**
 * The parsed `names` as Kafka's tools take them again (`--name`, `--name value`, repeated for each value), for
 * the options whose names and meaning are Kafka's own.
 */
export function kafkaArgs(values: Values, names: readonly string[]): string[] {
  return names.flatMap((name) => {
    const value = values[name];
    if (value === true) return [`--${name}`];
    if (typeof value === 'string') return [`--${name}`, value];
    if (Array.isArray(value)) return value.flatMap((v) => [`--${name}`, v]);
    return [];
  });
}

/** Makes the backends; tests pass their own. */
export interface BackendFactory {
  /** Kafka's own tools against `bootstrapServer`. */
  local(bootstrapServer: string): LocalTools;
  /** The deployed `HelloMsk-<stage>-*` stacks, through their functions. */
  deployed(stage: string): KafkaBackend;
  /** The stage and AWS profile names that `--profile` may mean. @default none known: `--profile` is an AWS profile */
  readonly names?: KnownNames;
}

export type Backend = { readonly local: LocalTools } | { readonly deployed: KafkaBackend };

/**
 * `--bootstrap-server` (default: the local Kafka) or the deployed `--stage`, not both. An AWS profile
 * (`--aws-profile`, or `--profile` as AWS users type it) selects the deployed path too, and is handed to the
 * AWS SDK as AWS_PROFILE; `--profile` naming a stage (its former meaning) still works, with a `notice`.
 */
export function chooseBackend(
  command: string,
  values: Values,
  factory: BackendFactory,
  env: NodeJS.ProcessEnv,
  notice: (line: string) => void = () => undefined,
): Backend {
  const server = stringOption(values, 'bootstrap-server');
  const flags = {
    stage: stringOption(values, 'stage'),
    profile: stringOption(values, 'profile'),
    'aws-profile': stringOption(values, 'aws-profile'),
  };
  const deployed = Object.values(flags).some((v) => v !== undefined);
  if (server !== undefined && deployed) {
    throw new ToolError(
      `${command}: use --bootstrap-server (a Kafka you can reach) or --stage (the deployed stack), not both`,
    );
  }
  if (!deployed) return { local: factory.local(server ?? defaultBootstrapServer(env)) };
  let choice;
  try {
    choice = chooseStage(flags, factory.names ?? { stages: [], awsProfiles: [] }, 'dev');
  } catch (error) {
    throw new ToolError(`${command}: ${(error as Error).message}`);
  }
  if (choice.notice) notice(`${command}: ${choice.notice}`);
  if (choice.awsProfile !== undefined) env.AWS_PROFILE = choice.awsProfile;
  return { deployed: factory.deployed(choice.stage) };
}
