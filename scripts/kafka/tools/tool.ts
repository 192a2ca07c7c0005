/** The shape of one command-line tool and what it may use: where to print, stdin, and its backends. */
import type { BackendFactory } from './args';

export interface ToolIo {
  /** Prints one line of results on stdout. */
  out(line: string): void;
  /** Prints one line of progress or a prompt on stderr. */
  err(line: string): void;
  /** stdin, line by line. */
  lines(): AsyncIterable<string>;
  /** stdin is a terminal: prompt for input. */
  readonly interactive: boolean;
  /** Aborted by Ctrl-C: a consumer stops, commits what it printed and reports. */
  readonly signal?: AbortSignal;
  readonly env: NodeJS.ProcessEnv;
}

export interface ToolContext {
  readonly io: ToolIo;
  readonly backends: BackendFactory;
}

export interface Tool {
  /** The command name, as Kafka's tool names it without `kafka-` (`topics`, `consumer-groups` becomes `groups`). */
  readonly name: string;
  /** Which of Kafka's tools it mirrors. */
  readonly mirrors: string;
  readonly usage: string;
  /** Resolves with the exit status of Kafka's tool on the local path; failures on the deployed path throw. */
  run(argv: string[], context: ToolContext): Promise<number | void>;
}
