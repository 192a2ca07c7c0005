/** `produce`: kafka-console-producer.sh locally; with --stage, one producer function invocation per line. */
import { chooseBackend, kafkaArgs, parseToolArgs, properties, requiredString, stringOption } from './args';
import { ToolError, type OutgoingMessage, type SentMessage } from './backend';
import type { Tool } from './tool';

const USAGE = `usage: npm run kafka -- produce --topic T [--bootstrap-server HOST:PORT | --stage S]
  [--key K]                                              every message with key K
  [--property parse.key=true [--property key.separator=:]]  each line is key<separator>value (default separator: tab)`;

const PROPERTIES = ['parse.key', 'key.separator'] as const;

/** `--key K` for the console producer, which has no such option: each line becomes `K<tab>line`. */
async function* keyed(lines: AsyncIterable<string>, key: string): AsyncIterable<string> {
  for await (const line of lines) yield `${key}\t${line}`;
}

/** The deployed path's messages; with parse.key, a line without the separator stops the input. */
export async function* messagesFrom(
  lines: AsyncIterable<string>,
  options: { key?: string; parseKey: boolean; separator: string },
  prompt: () => void,
): AsyncIterable<OutgoingMessage> {
  let number = 0;
  prompt();
  for await (const line of lines) {
    number += 1;
    if (options.parseKey) {
      const at = line.indexOf(options.separator);
      if (at < 0) {
        throw new ToolError(
          `produce: no key separator ${JSON.stringify(options.separator)} on line ${number}: ${JSON.stringify(line)}`,
        );
      }
      yield { key: line.slice(0, at), value: line.slice(at + options.separator.length) };
    } else {
      yield options.key === undefined ? { value: line } : { key: options.key, value: line };
    }
    prompt();
  }
}

function describeSent(topic: string, sent: SentMessage[]): string {
  const where = sent.map((m) => `${m.partition}:${m.offset}`);
  const shown = where.length > 10 ? `${where.slice(0, 10).join(', ')}, …` : where.join(', ');
  return `Sent ${sent.length} message(s) to ${topic}${sent.length > 0 ? ` (partition:offset ${shown})` : ''}`;
}

export const produceTool: Tool = {
  name: 'produce',
  mirrors: 'kafka-console-producer.sh',
  usage: USAGE,
  async run(argv, { io, backends }) {
    const values = parseToolArgs('produce', argv, {
      topic: { type: 'string' },
      key: { type: 'string' },
      property: { type: 'string', multiple: true },
    });
    if (values.help) {
      io.out(USAGE);
      return 0;
    }
    const topic = requiredString('produce', values, 'topic', '(the topic to write to)');
    const props = properties('produce', values, PROPERTIES);
    if (props['parse.key'] !== undefined && !['true', 'false'].includes(props['parse.key'])) {
      throw new ToolError(`produce: --property parse.key=${props['parse.key']} is not valid; expected true or false`);
    }
    const parseKey = props['parse.key'] === 'true';
    const key = stringOption(values, 'key');
    if (parseKey && key !== undefined) throw new ToolError('produce: use --key or --property parse.key=true, not both');
    const separator = props['key.separator'] ?? '\t';
    if (separator === '')
      throw new ToolError('produce: --property key.separator is empty; expected one or more characters');
    const where = chooseBackend('produce', values, backends, io.env, (line) => io.err(line));
    if ('local' in where) {
      const args = kafkaArgs(values, ['topic', 'property']);
      if (key === undefined) return where.local.run('kafka-console-producer', args, io, io.lines());
      const keyArgs = ['--property', 'parse.key=true', '--property', 'key.separator=\t'];
      return where.local.run('kafka-console-producer', [...args, ...keyArgs], io, keyed(io.lines(), key));
    }
    const backend = where.deployed;
    const sent: SentMessage[] = [];
    let finished = false;
    try {
      const messages = messagesFrom(io.lines(), { key, parseKey, separator }, () => {
        if (io.interactive) io.err('>');
      });
      await backend.produce(topic, messages, (m) => sent.push(m));
      finished = true;
    } finally {
      // After a failure, only when some messages went out before it: the error line follows.
      if (finished || sent.length > 0) io.err(describeSent(topic, sent));
      await backend.close();
    }
    return 0;
  },
};
