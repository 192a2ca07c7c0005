/**
 * `consume`: kafka-console-consumer.sh locally, printing partition and offset before each value; with --stage,
 * one invocation of the consumer function.
 */
import {
  chooseBackend,
  intOption,
  kafkaArgs,
  parseToolArgs,
  properties,
  requiredString,
  stringOption,
  type Values,
} from './args';
import { ToolError, type ReceivedMessage } from './backend';
import type { Tool } from './tool';

const USAGE = `usage: npm run kafka -- consume --topic T [--bootstrap-server HOST:PORT | --stage S]
  [--from-beginning]             a group with no committed offset starts at the earliest message, not only new ones
  [--group G]                    read (and commit) as group G; default: a new console-consumer-NNNNN group that commits nothing
  [--max-messages N]             stop after N messages
  [--timeout-ms MS]              stop when no message arrives for MS milliseconds
  [--property print.key=true]    print each message's key too
Without --max-messages or --timeout-ms it waits for more until Ctrl-C. With --stage it invokes the deployed
consumer function once (its topic and group), which reads what is there and returns.`;

const PROPERTIES = ['print.key', 'print.partition', 'print.offset', 'print.timestamp'] as const;

/** The console consumer's arguments: partition and offset printed unless the command says otherwise. */
export function consoleConsumerArgs(values: Values, props: Record<string, string>): string[] {
  const shown = { 'print.partition': 'true', 'print.offset': 'true', ...props };
  return [
    ...kafkaArgs(values, ['topic', 'group', 'from-beginning', 'max-messages', 'timeout-ms']),
    ...Object.entries(shown).flatMap(([name, value]) => ['--property', `${name}=${value}`]),
  ];
}

/** The deployed path's lines, as Kafka's DefaultMessageFormatter prints them with print.partition and print.offset. */
export function formatMessage(message: ReceivedMessage, printKey: boolean): string {
  return [
    `Partition:${message.partition}`,
    `Offset:${message.offset}`,
    ...(printKey ? [message.key ?? 'null'] : []),
    message.value ?? 'null',
  ].join('\t');
}

export const consumeTool: Tool = {
  name: 'consume',
  mirrors: 'kafka-console-consumer.sh',
  usage: USAGE,
  async run(argv, { io, backends }) {
    const values = parseToolArgs('consume', argv, {
      topic: { type: 'string' },
      group: { type: 'string' },
      'from-beginning': { type: 'boolean' },
      'max-messages': { type: 'string' },
      'timeout-ms': { type: 'string' },
      property: { type: 'string', multiple: true },
    });
    if (values.help) {
      io.out(USAGE);
      return 0;
    }
    const topic = requiredString('consume', values, 'topic', '(the topic to read)');
    const maxMessages = intOption('consume', values, 'max-messages', 1);
    const timeoutMs = intOption('consume', values, 'timeout-ms', 1);
    const props = properties('consume', values, PROPERTIES);
    for (const [name, value] of Object.entries(props)) {
      if (!['true', 'false'].includes(value)) {
        throw new ToolError(`consume: --property ${name}=${value} is not valid; expected true or false`);
      }
    }
    const printKey = props['print.key'] === 'true';
    const group = stringOption(values, 'group');
    if (group !== undefined && group.trim() === '') throw new ToolError('consume: --group is empty');
    const where = chooseBackend('consume', values, backends, io.env, (line) => io.err(line));
    if ('local' in where) return where.local.run('kafka-console-consumer', consoleConsumerArgs(values, props), io);
    const backend = where.deployed;
    try {
      const report = await backend.consume(
        { topic, group, fromBeginning: values['from-beginning'] === true, maxMessages, timeoutMs, signal: io.signal },
        (message) => io.out(formatMessage(message, printKey)),
      );
      io.err(`Processed a total of ${report.count} messages${report.note ? ` (${report.note})` : ''}`);
    } finally {
      await backend.close();
    }
    return 0;
  },
};
