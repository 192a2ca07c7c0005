/**
 * What a Maven run fetches, told to a person: a line when the first download starts (what, and about how big),
 * bytes so far every 10 MB (one line a second at most) or after 5 s without a line, and the total when Maven ends. It reads Maven's own
 * `Downloaded from central: URL (3.9 kB at 9.8 kB/s)` lines (batch mode prints one per file), so it counts what
 * really crossed the network, wherever the local repository is (`-Dmaven.repo.local` in MAVEN_OPTS included),
 * and a run with everything in ~/.m2 already says nothing.
 */
import { spawn } from 'node:child_process';

export type ProgressLogger = (message: string) => void;

/** Maven's unit words (decimal, as its transfer listener prints them). */
const UNITS: Readonly<Record<string, number>> = { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 };
const DOWNLOADING = /^\[INFO\] Downloading from [^:]+: \S+/;
const DOWNLOADED = /^\[INFO\] Downloaded from [^:]+: \S+ \((\d+(?:\.\d+)?) (B|kB|MB|GB)\b/;
/** A fast link crosses several 10 MB steps a second: one line a second at most says enough. */
const MIN_GAP_MS = 1000;
const ANSI_ESCAPES = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

export interface MavenProgressOptions {
  /** The line logged when the first download starts, e.g. `Fetching Apache Kafka 3.9.2 jars from Maven Central`. */
  readonly fetching: string;
  /** What the run downloads into an empty local repository, shown as "about N MB". @default not shown */
  readonly aboutMb?: number;
  /** Indent of the progress lines (and of `fetching`, when it follows a line of the caller's). @default '' */
  readonly indent?: string;
  /** A progress line at each multiple of this many bytes, a second or more after the last line. @default 10 MB */
  readonly stepBytes?: number;
  /** A progress line after this long without one, while Maven runs. @default 5000 */
  readonly intervalMs?: number;
  /** The clock, for tests. @default Date.now */
  readonly now?: () => number;
}

/** `12.3 MB`, in Maven's decimal units. */
export function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** Sums Maven's transfer lines and logs progress; see the file comment. */
export class MavenProgress {
  private bytesSoFar = 0;
  private filesSoFar = 0;
  private fetchStarted: number | undefined;
  private lastLineAt = 0;
  private nextStep: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: ProgressLogger | undefined,
    private readonly options: MavenProgressOptions,
  ) {
    this.nextStep = this.step;
  }

  /** Bytes downloaded so far (Maven's rounded sizes, summed). */
  get bytes(): number {
    return this.bytesSoFar;
  }

  /** Files downloaded so far (poms and jars). */
  get files(): number {
    return this.filesSoFar;
  }

  /** true once Maven started its first download. */
  get fetched(): boolean {
    return this.fetchStarted !== undefined;
  }

  private get step(): number {
    return this.options.stepBytes ?? 10e6;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private say(message: string): void {
    this.lastLineAt = this.now();
    this.log?.(`${this.options.indent ?? ''}${message}`);
  }

  private elapsed(): string {
    return `${Math.round((this.now() - (this.fetchStarted ?? this.now())) / 1000)} s`;
  }

  /** Reads one line of Maven's output. */
  line(raw: string): void {
    const text = raw.replace(ANSI_ESCAPES, '').trimEnd();
    if (this.fetchStarted === undefined && (DOWNLOADING.test(text) || DOWNLOADED.test(text))) {
      this.fetchStarted = this.now();
      const about = this.options.aboutMb === undefined ? '' : ` (about ${this.options.aboutMb} MB)`;
      this.say(`${this.options.fetching}${about}...`);
      this.startTimer();
    }
    const done = DOWNLOADED.exec(text);
    if (!done) return;
    this.bytesSoFar += Math.round(Number(done[1]) * UNITS[done[2]]);
    this.filesSoFar += 1;
    if (this.bytesSoFar >= this.nextStep && this.now() - this.lastLineAt >= MIN_GAP_MS) {
      this.nextStep = (Math.floor(this.bytesSoFar / this.step) + 1) * this.step;
      this.sayProgress();
    }
  }

  private sayProgress(): void {
    this.say(`  ${megabytes(this.bytesSoFar)} so far (${this.elapsed()})`);
  }

  /** Logs bytes so far when no line was logged for `intervalMs`: called by the timer, and by tests. */
  tick(): void {
    if (this.fetchStarted === undefined) return;
    if (this.now() - this.lastLineAt >= (this.options.intervalMs ?? 5000)) this.sayProgress();
  }

  private startTimer(): void {
    if (!this.log || this.options.now) return;
    this.timer = setInterval(() => this.tick(), 1000);
    this.timer.unref();
  }

  /** Ends the progress: the total when anything was downloaded, and nothing otherwise. */
  finish(ok: boolean): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.fetchStarted === undefined) return;
    const total = `${megabytes(this.bytesSoFar)} in ${this.filesSoFar} files`;
    this.say(ok ? `  done in ${this.elapsed()}: ${total}` : `  stopped after ${this.elapsed()}: ${total}`);
  }
}

export interface MavenRunResult {
  readonly code: number | null;
  /** stdout and stderr together, for the error message of a failed run. */
  readonly output: string;
}

/**
 * Runs `mvn` in batch mode (no colours, no interactive progress bar) with `args`, feeding each line of its output
 * to `progress`. Maven is not run with `-q`, which would hide the transfer lines.
 */
export function runMaven(args: readonly string[], progress: MavenProgress, command = 'mvn'): Promise<MavenRunResult> {
  return new Promise((resolve, reject) => {
    // env given explicitly: under jest, process.env is the test's copy, which spawn would not read by itself.
    const child = spawn(command, ['-B', '-Dstyle.color=never', ...args], {
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const partial = { stdout: '', stderr: '' };
    const reader = (stream: keyof typeof partial) => (chunk: Buffer) => {
      const text = chunk.toString();
      output += text;
      const lines = (partial[stream] + text).split('\n');
      partial[stream] = lines.pop() ?? '';
      for (const line of lines) progress.line(line);
    };
    child.stdout.on('data', reader('stdout'));
    child.stderr.on('data', reader('stderr'));
    child.on('error', (error) => {
      progress.finish(false);
      reject(error);
    });
    child.on('close', (code) => {
      for (const rest of Object.values(partial)) if (rest) progress.line(rest);
      progress.finish(code === 0);
      resolve({ code, output });
    });
  });
}
