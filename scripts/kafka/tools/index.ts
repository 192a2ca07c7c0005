/**
 * `npm run kafka -- <tool> ...`: Kafka's first command-line tools, by name. Locally they are Kafka's own tools
 * (their output and exit status passed through); with --stage they act through the deployed stack's functions,
 * and every failure there is one line on stderr and exit status 1.
 */
import * as readline from 'node:readline';
import { closestKey } from '../../../lib/config';
import { ToolError } from './backend';
import type { BackendFactory } from './args';
import { ConnectionError } from './connection';
import { consumeTool } from './consume';
import { knownNames } from '../../aws-account';
import { DeployedBackend, defaultDeployedClients } from './deployed';
import { groupsTool } from './groups';
import { LocalKafkaTools } from './local-tools';
import { produceTool } from './produce';
import type { Tool, ToolContext } from './tool';
import { topicsTool } from './topics';

export const TOOLS: readonly Tool[] = [topicsTool, produceTool, consumeTool, groupsTool];
export const TOOL_NAMES = TOOLS.map((t) => t.name);

export const USAGE = `usage: npm run kafka -- <tool> [options]   (npm run kafka -- <tool> --help for its options)
${TOOLS.map((t) => `  ${t.name.padEnd(8)} like ${t.mirrors}`).join('\n')}
Where: --bootstrap-server HOST:PORT (default: KAFKA_BROKERS, else the local Kafka of npm run kafka:start),
or --stage S for the deployed HelloMsk-S stacks (through their functions; AWS credentials as usual, or --aws-profile A).`;

/** The real backends: Kafka's own tools against a reachable Kafka, or the deployed stack through the AWS SDK. */
export const DEFAULT_BACKENDS: BackendFactory = {
  local: (bootstrapServer) => new LocalKafkaTools(bootstrapServer),
  deployed: (stage) => new DeployedBackend(stage, defaultDeployedClients()),
};

/** One line for an unknown tool or command name: the closest of `known`, else the list. */
export function unknownTool(name: string, known: readonly string[] = TOOL_NAMES): string {
  const guess = closestKey(name, known);
  return `unknown tool ${JSON.stringify(name)}; ${guess ? `did you mean ${guess}?` : `use ${known.join(', ')}`}`;
}

/** Runs one tool and returns its exit status; our own errors are printed as one line. */
export async function runKafkaTool(argv: string[], context: ToolContext): Promise<number> {
  const [name, ...rest] = argv;
  const tool = TOOLS.find((t) => t.name === name);
  if (!tool) {
    const help = name === undefined || name === '--help' || name === '-h';
    context.io.err(help ? USAGE : unknownTool(name));
    return help ? 0 : 1;
  }
  try {
    return (await tool.run(rest, context)) ?? 0;
  } catch (error) {
    context.io.err(describeFailure(tool.name, error));
    return 1;
  }
}

/** One line for any failure: the tool's own words, or Kafka's with a hint when nothing answered. */
export function describeFailure(tool: string, error: unknown): string {
  if (error instanceof ToolError || error instanceof ConnectionError) return error.message;
  // Not `instanceof Error`: errors of Node's net module come from another realm under jest.
  const text = (error as { message?: unknown } | undefined)?.message;
  const message = (typeof text === 'string' ? text : String(error)).replace(/\s+/g, ' ').trim();
  const hint = /ECONNREFUSED|ETIMEDOUT|Connection (error|timeout)|connect ENOENT/i.test(message)
    ? ' (is Kafka running there? npm run kafka:start starts one; --bootstrap-server names another)'
    : '';
  return `${tool}: ${message}${hint}`;
}

/** stdin line by line, opened only when first read: lines read earlier would be lost. */
async function* stdinLines(): AsyncIterable<string> {
  yield* readline.createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
}

/** The process's stdin, stdout and stderr; Ctrl-C stops a consumer cleanly. */
export async function main(argv: string[]): Promise<number> {
  const abort = new AbortController();
  const interrupted = () => abort.abort();
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    return await runKafkaTool(argv, {
      io: {
        out: (line) => process.stdout.write(`${line}\n`),
        err: (line) => process.stderr.write(`${line}\n`),
        lines: stdinLines,
        interactive: process.stdin.isTTY === true,
        signal: abort.signal,
        env: process.env,
      },
      backends: { ...DEFAULT_BACKENDS, names: await knownNames() },
    });
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
  }
}
