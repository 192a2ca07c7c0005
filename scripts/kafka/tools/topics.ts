/** `topics`: kafka-topics.sh (TopicCommand) locally; with --stage, list and describe through the kafka-admin function. */
import { chooseBackend, intOption, kafkaArgs, keyValues, parseToolArgs, requiredString, stringOption } from './args';
import { ToolError, type TopicDescription } from './backend';
import type { Tool } from './tool';

const USAGE = `usage: npm run kafka -- topics <action> [--bootstrap-server HOST:PORT | --stage S]
  --create --topic T [--partitions N] [--replication-factor R] [--config name=value]... [--if-not-exists]
  --list
  --describe [--topic T]`;

/** kafka-topics' layout for the deployed path: a summary line per topic, then one tab-indented line per partition. */
export function formatTopic(topic: TopicDescription): string[] {
  const configs = Object.entries(topic.configs)
    .map(([name, value]) => `${name}=${value}`)
    .join(',');
  return [
    `Topic: ${topic.name}\tPartitionCount: ${topic.partitionCount}\tReplicationFactor: ${topic.replicationFactor}\tConfigs: ${configs}`,
    ...topic.partitions.map(
      (p) =>
        `\tTopic: ${topic.name}\tPartition: ${p.partition}\tLeader: ${p.leader < 0 ? 'none' : p.leader}\tReplicas: ${p.replicas.join(',')}\tIsr: ${p.isr.join(',')}`,
    ),
  ];
}

/** Options with kafka-topics' names and meaning. */
const OPTIONS = [
  'create',
  'list',
  'describe',
  'topic',
  'partitions',
  'replication-factor',
  'config',
  'if-not-exists',
] as const;

export const topicsTool: Tool = {
  name: 'topics',
  mirrors: 'kafka-topics.sh',
  usage: USAGE,
  async run(argv, { io, backends }) {
    const values = parseToolArgs('topics', argv, {
      create: { type: 'boolean' },
      list: { type: 'boolean' },
      describe: { type: 'boolean' },
      topic: { type: 'string' },
      partitions: { type: 'string' },
      'replication-factor': { type: 'string' },
      config: { type: 'string', multiple: true },
      'if-not-exists': { type: 'boolean' },
    });
    if (values.help) {
      io.out(USAGE);
      return 0;
    }
    const actions = (['create', 'list', 'describe'] as const).filter((a) => values[a]);
    if (actions.length !== 1) {
      throw new ToolError(
        'topics: give exactly one of --create, --list or --describe; see npm run kafka -- topics --help',
      );
    }
    const create = actions[0] === 'create';
    const partitions = intOption('topics', values, 'partitions', 1);
    const replicationFactor = intOption('topics', values, 'replication-factor', 1);
    const config = keyValues('topics', values, 'config');
    if (!create && (partitions !== undefined || replicationFactor !== undefined || Object.keys(config).length > 0)) {
      throw new ToolError('topics: --partitions, --replication-factor and --config go with --create');
    }
    const newTopic = create ? requiredString('topics', values, 'topic', 'with --create') : undefined;
    const where = chooseBackend('topics', values, backends, io.env, (line) => io.err(line));
    if ('local' in where) return where.local.run('kafka-topics', kafkaArgs(values, OPTIONS), io);
    const backend = where.deployed;
    try {
      if (newTopic !== undefined) {
        const topic = newTopic;
        const created = await backend.createTopic({ topic, partitions, replicationFactor, config });
        if (created) io.out(`Created topic ${topic}.`);
        else if (!values['if-not-exists']) throw new ToolError(`Topic '${topic}' already exists.`);
      } else if (actions[0] === 'list') {
        for (const topic of await backend.listTopics()) io.out(topic);
      } else {
        const topic = stringOption(values, 'topic');
        for (const description of await backend.describeTopics(topic === undefined ? undefined : [topic])) {
          for (const line of formatTopic(description)) io.out(line);
        }
      }
    } finally {
      await backend.close();
    }
    return 0;
  },
};
