/** `groups`: kafka-consumer-groups.sh (ConsumerGroupCommand) locally; with --stage, through the kafka-admin function. */
import { chooseBackend, kafkaArgs, parseToolArgs, requiredString } from './args';
import { ToolError, type GroupDescription } from './backend';
import type { Tool } from './tool';

const USAGE = `usage: npm run kafka -- groups <action> [--bootstrap-server HOST:PORT | --stage S]
  --list
  --describe --group G     members, committed offsets, log end offsets and lag per partition`;

const COLUMNS = [
  'GROUP',
  'TOPIC',
  'PARTITION',
  'CURRENT-OFFSET',
  'LOG-END-OFFSET',
  'LAG',
  'CONSUMER-ID',
  'HOST',
  'CLIENT-ID',
] as const;

/** kafka-consumer-groups' layout for the deployed path: a note when no member is active, then padded rows. */
export function formatGroup(group: GroupDescription): string[] {
  const rows = group.offsets.map((o) => [
    group.groupId,
    o.topic,
    String(o.partition),
    o.currentOffset ?? '-',
    o.logEndOffset,
    o.lag ?? '-',
    o.memberId ?? '-',
    o.clientHost ?? '-',
    o.clientId ?? '-',
  ]);
  const widths = COLUMNS.map((heading, i) => Math.max(heading.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i])))
      .join(' ')
      .trimEnd();
  const lines: string[] = [];
  if (group.members.length === 0) lines.push(`Consumer group '${group.groupId}' has no active members.`, '');
  if (rows.length === 0) {
    lines.push(`Consumer group '${group.groupId}' has no committed offsets (state ${group.state}).`);
    return lines;
  }
  lines.push(line(COLUMNS), ...rows.map(line));
  return lines;
}

export const groupsTool: Tool = {
  name: 'groups',
  mirrors: 'kafka-consumer-groups.sh',
  usage: USAGE,
  async run(argv, { io, backends }) {
    const values = parseToolArgs('groups', argv, {
      list: { type: 'boolean' },
      describe: { type: 'boolean' },
      group: { type: 'string' },
    });
    if (values.help) {
      io.out(USAGE);
      return 0;
    }
    if (values.list === values.describe) {
      throw new ToolError('groups: give exactly one of --list or --describe; see npm run kafka -- groups --help');
    }
    const groupId = values.describe ? requiredString('groups', values, 'group', 'with --describe') : undefined;
    const where = chooseBackend('groups', values, backends, io.env, (line) => io.err(line));
    if ('local' in where)
      return where.local.run('kafka-consumer-groups', kafkaArgs(values, ['list', 'describe', 'group']), io);
    const backend = where.deployed;
    try {
      if (groupId === undefined) {
        for (const group of await backend.listGroups()) io.out(group.groupId);
      } else {
        for (const line of formatGroup(await backend.describeGroup(groupId))) io.out(line);
      }
    } finally {
      await backend.close();
    }
    return 0;
  },
};
