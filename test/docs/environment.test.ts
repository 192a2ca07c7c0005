/**
 * No setting is documented only in code: every environment variable that the scripts and the test set-up read
 * is named in the README or a docs page it links.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { documentFiles, ROOT } from './documented-commands';

/** Variables that belong to other tools or to one test's own child process, not settings for a reader. */
const NOT_SETTINGS = [
  // The shell's own, passed through unchanged to the child processes the scripts start.
  'PATH',
  'HOME',
  'AWS_PROFILE',
  // The AWS SDK's and kafkajs' own switches, which the scripts set to keep their output to one line.
  'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED',
  'KAFKAJS_NO_PARTITIONER_WARNING',
  // Passed by the availability fault test to the consumer process it starts and kills.
  'CONSUMER_BUNDLE',
  'MAX_MESSAGES',
];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.ts$/.test(name) ? [path] : [];
  });
}

describe('environment variables', () => {
  const files = ['scripts', 'test/integration', 'test/faults', 'packages/msk-twin/src'].flatMap((dir) =>
    sources(join(ROOT, dir)),
  );
  const read = new Map<string, string>();
  for (const file of files) {
    for (const match of readFileSync(file, 'utf8').matchAll(/\benv\.([A-Z][A-Z0-9_]{2,})\b/g)) {
      if (!read.has(match[1])) read.set(match[1], relative(ROOT, file));
    }
  }
  const docs = documentFiles()
    .map((file) => readFileSync(join(ROOT, file), 'utf8'))
    .join('\n');

  test('the scripts read some (the search works)', () => {
    expect([...read.keys()]).toEqual(expect.arrayContaining(['KAFKA_BROKERS', 'DEMO_KAFKA_PORT', 'DEMO_TOPIC']));
  });

  test('every one the scripts and tests read is documented in the README or its docs', () => {
    const undocumented = [...read]
      .filter(([name]) => !NOT_SETTINGS.includes(name) && !docs.includes(`\`${name}\``))
      .map(([name, file]) => `${name} (read in ${file})`);
    expect(undocumented).toEqual([]);
  });
});
