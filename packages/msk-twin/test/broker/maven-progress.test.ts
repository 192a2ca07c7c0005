/**
 * What a first run says while Maven fetches: the progress of Maven's transfer lines, and the whole path through
 * ensureKafkaJars and ensureValidatorJar with a stand-in `mvn` on PATH (the real Maven run is in docs/twin.md).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureKafkaJars, ensureValidatorJar, kafkaDownloadMb, MavenProgress, megabytes } from 'msk-twin';

const URL = 'https://repo.maven.apache.org/maven2/org/apache/kafka';
const downloading = (file: string) => `[INFO] Downloading from central: ${URL}/${file}`;
const downloaded = (file: string, size: string) =>
  `[INFO] Downloaded from central: ${URL}/${file} (${size} at 2.1 MB/s)`;

function fakeClock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('MavenProgress', () => {
  test('says what it fetches and about how big at the first download, bytes so far every 10 MB, and the total', () => {
    const lines: string[] = [];
    const clock = fakeClock();
    const progress = new MavenProgress((m) => lines.push(m), {
      fetching: 'Fetching Apache Kafka 3.9.2 jars from Maven Central',
      aboutMb: 68,
      now: clock.now,
    });
    progress.line('[INFO] Scanning for projects...');
    expect(lines).toEqual([]);
    progress.line(downloading('kafka_2.13/3.9.2/kafka_2.13-3.9.2.pom'));
    progress.line(downloaded('kafka_2.13/3.9.2/kafka_2.13-3.9.2.pom', '3.9 kB'));
    clock.advance(2000);
    progress.line(downloaded('kafka_2.13/3.9.2/kafka_2.13-3.9.2.jar', '6.4 MB'));
    progress.line(downloaded('kafka-clients/3.9.2/kafka-clients-3.9.2.jar', '5.9 MB'));
    clock.advance(2000);
    progress.line(`\u001b[1m${downloaded('kafka-storage/3.9.2/kafka-storage-3.9.2.jar', '512 B')}\u001b[m`);
    progress.line(downloaded('kafka-server/3.9.2/kafka-server-3.9.2.jar', '9.0 MB'));
    progress.finish(true);
    expect(lines).toEqual([
      'Fetching Apache Kafka 3.9.2 jars from Maven Central (about 68 MB)...',
      '  12.3 MB so far (2 s)',
      '  21.3 MB so far (4 s)',
      '  done in 4 s: 21.3 MB in 5 files',
    ]);
    expect(progress.bytes).toBe(3900 + 6.4e6 + 5.9e6 + 512 + 9.0e6);
    expect(progress.files).toBe(5);
  });

  test('says one line a second at most, however many 10 MB steps a fast link crosses', () => {
    const lines: string[] = [];
    const clock = fakeClock();
    const progress = new MavenProgress((m) => lines.push(m), { fetching: 'Fetching x', now: clock.now });
    progress.line(downloading('a.jar'));
    clock.advance(1000);
    for (let i = 0; i < 4; i++) progress.line(downloaded(`part-${i}.jar`, '10 MB'));
    clock.advance(900);
    progress.line(downloaded('part-5.jar', '10 MB'));
    clock.advance(100);
    progress.line(downloaded('part-6.jar', '1 kB'));
    expect(lines).toEqual(['Fetching x...', '  10.0 MB so far (1 s)', '  50.0 MB so far (2 s)']);
  });

  test('after 5 s without a line, says the bytes so far even when no file finished', () => {
    const lines: string[] = [];
    const clock = fakeClock();
    const progress = new MavenProgress((m) => lines.push(m), { fetching: 'Fetching x', now: clock.now });
    progress.tick();
    expect(lines).toEqual([]);
    progress.line(downloading('big.jar'));
    clock.advance(4000);
    progress.tick();
    clock.advance(1000);
    progress.tick();
    expect(lines).toEqual(['Fetching x...', '  0.0 MB so far (5 s)']);
  });

  test('a run that downloads nothing says nothing, and a failed one says where it stopped', () => {
    const quiet: string[] = [];
    const warm = new MavenProgress((m) => quiet.push(m), { fetching: 'Fetching x' });
    warm.line('[INFO] BUILD SUCCESS');
    warm.finish(true);
    expect(quiet).toEqual([]);

    const lines: string[] = [];
    const failed = new MavenProgress((m) => lines.push(m), { fetching: 'Fetching x', indent: '  ', now: () => 0 });
    failed.line(downloaded('a.jar', '1.5 MB'));
    failed.finish(false);
    expect(lines).toEqual(['  Fetching x...', '    stopped after 0 s: 1.5 MB in 1 files']);
  });

  test('megabytes are decimal, as Maven prints them', () => {
    expect(megabytes(67_802_300)).toBe('67.8 MB');
  });
});

/**
 * A stand-in `mvn`: `-v` succeeds; a run prints Maven's transfer lines for 25 MB over 2.2 s and writes what the
 * real goal writes (the classpath file of dependency:build-classpath, the jar of package).
 */
const FAKE_MVN = `#!/bin/sh
[ "$1" = "-v" ] && exit 0
echo "$@" >> "$FAKE_MVN_CALLS"
for a in "$@"; do
  case "$a" in
    -Dmdep.outputFile=*) out="\${a#-Dmdep.outputFile=}" ;;
    -Dvalidator.buildDir=*) build="\${a#-Dvalidator.buildDir=}" ;;
  esac
done
echo "[INFO] Scanning for projects..."
for i in 1 2 3 4 5; do
  case $i in 2|4) sleep 1.1 ;; esac
  echo "[INFO] Downloading from central: ${URL}/part-$i.jar"
  echo "[INFO] Downloaded from central: ${URL}/part-$i.jar (5.0 MB at 9.1 MB/s)"
done
if [ -n "$out" ]; then touch "$FAKE_MVN_DIR/kafka.jar"; printf '%s' "$FAKE_MVN_DIR/kafka.jar" > "$out"; fi
if [ -n "$build" ]; then mkdir -p "$build"; touch "$build/twin-iam-validator.jar"; fi
echo "[INFO] BUILD SUCCESS"
`;

describe('a first run with an empty cache (a stand-in mvn on PATH)', () => {
  const saved = { ...process.env };
  let dir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'msk-twin-fake-mvn-'));
    fs.writeFileSync(path.join(dir, 'mvn'), FAKE_MVN, { mode: 0o755 });
    process.env.PATH = `${dir}${path.delimiter}${process.env.PATH}`;
    process.env.XDG_CACHE_HOME = path.join(dir, 'cache');
    process.env.FAKE_MVN_DIR = dir;
    process.env.FAKE_MVN_CALLS = path.join(dir, 'calls');
  });

  afterEach(() => {
    process.env = { ...saved };
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('ensureKafkaJars says what it fetches, how big, the progress and the total; a warm run says nothing', async () => {
    const lines: string[] = [];
    const classpath = await ensureKafkaJars('3.9.2', (m) => lines.push(m));
    expect(classpath).toBe(path.join(dir, 'kafka.jar'));
    expect(lines[0]).toBe(
      `Fetching Apache Kafka 3.9.2 jars from Maven Central (about ${kafkaDownloadMb('3.9.2')} MB)...`,
    );
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/^ {2}10\.0 MB so far \(\d+ s\)$/),
      expect.stringMatching(/^ {2}20\.0 MB so far \(\d+ s\)$/),
      expect.stringMatching(/^ {2}done in \d+ s: 25\.0 MB in 5 files$/),
    ]);
    // Batch mode and no -q: Maven's transfer lines are what the progress reads.
    const [call] = fs.readFileSync(path.join(dir, 'calls'), 'utf8').trim().split('\n');
    expect(call.split(' ')).toEqual(expect.arrayContaining(['-B', 'dependency:build-classpath']));
    expect(call.split(' ')).not.toContain('-q');

    const warm: string[] = [];
    await expect(ensureKafkaJars('3.9.2', (m) => warm.push(m))).resolves.toBe(classpath);
    expect(warm).toEqual([]);
  });

  test('ensureValidatorJar says it builds, what it fetches and how big, and when it is built', async () => {
    const lines: string[] = [];
    const jar = await ensureValidatorJar((m) => lines.push(m));
    expect(fs.existsSync(jar)).toBe(true);
    expect(lines).toEqual([
      'Building the MSK IAM token validator with Maven (once per change of its sources)...',
      "  fetching Maven's build plugins and kafka-clients from Maven Central (about 38 MB)...",
      expect.stringMatching(/^ {4}10\.0 MB so far/),
      expect.stringMatching(/^ {4}20\.0 MB so far/),
      expect.stringMatching(/^ {4}done in \d+ s: 25\.0 MB in 5 files$/),
      expect.stringMatching(/^ {2}built in \d+ s$/),
    ]);
    const warm: string[] = [];
    await ensureValidatorJar((m) => warm.push(m));
    expect(warm).toEqual([]);
  });
});
