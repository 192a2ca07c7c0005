/**
 * The local path: Kafka's own command-line tools, run from the Kafka jars the project fetches, with their output
 * passed through. On a local MSK twin they sign in with aws-msk-iam-auth as the twin's admin role.
 */
import { runKafkaToolClass, TWIN_ADMIN_ROLE_ARN, type KafkaToolScript } from 'msk-twin';
import type { LocalTools } from './backend';
import { anyReachable, localTarget, type LocalTarget } from './connection';
import type { ToolIo } from './tool';

/** The admin credentials live as long as one command may reasonably run; they are revoked when it ends. */
const ADMIN_CREDENTIAL_TTL_SECONDS = 12 * 60 * 60;

/** Exit statuses of a JVM ended by SIGINT or SIGTERM. */
const SIGNALLED = [130, 143];

/** Calls `emit` once per complete line of the chunks written; `end` flushes the last, unterminated one. */
export function lineSplitter(emit: (line: string) => void): { write: (chunk: string) => void; end: () => void } {
  let partial = '';
  return {
    write: (chunk) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) emit(line);
    },
    end: () => {
      if (partial) emit(partial);
      partial = '';
    },
  };
}

export class LocalKafkaTools implements LocalTools {
  readonly where: string;
  private readonly target: LocalTarget;

  constructor(bootstrapServer: string) {
    this.target = localTarget(bootstrapServer);
    this.where = this.target.brokers.join(',');
  }

  async run(script: KafkaToolScript, args: readonly string[], io: ToolIo, input?: AsyncIterable<string>) {
    await anyReachable(this.target.brokers);
    const { twin, kafkaVersion } = this.target;
    const credentials = twin?.issueCredentials(TWIN_ADMIN_ROLE_ARN, ADMIN_CREDENTIAL_TTL_SECONDS);
    const out = lineSplitter((line) => io.out(line));
    const err = lineSplitter((line) => io.err(line));
    try {
      const code = await runKafkaToolClass({
        kafkaVersion,
        script,
        args: ['--bootstrap-server', this.where, ...args],
        iam: twin && credentials ? { credentials, region: twin.region, caFile: twin.caFile } : undefined,
        input,
        stdout: out.write,
        stderr: err.write,
        signal: io.signal,
      });
      // Ctrl-C is how a console consumer ends; it has printed its total.
      return io.signal?.aborted && SIGNALLED.includes(code) ? 0 : code;
    } finally {
      out.end();
      err.end();
      if (twin && credentials) twin.revokeCredentials(credentials.accessKeyId);
    }
  }
}
