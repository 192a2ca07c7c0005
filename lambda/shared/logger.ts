/**
 * Structured JSON logs with the value a person looks for in `message`: one line per entry, in the format of
 * Powertools for AWS Lambda's Logger, which the functions used before (test/lambda/logger.test.ts compares the
 * two line by line). Keys: `level`, `message`, `timestamp`, `service`, `sampling_rate`, `xray_trace_id` when
 * the invocation is traced, then the entry's attributes; an Error as `{ name, location, message, stack, cause }`;
 * keys whose value is empty, null or undefined left out. INFO and DEBUG go to stdout, WARN and ERROR to stderr.
 *
 * Why not Powertools itself: with its commons and the invoke store it is 22.6 KiB minified, and next to
 * kafkajs (263 KiB) a Kafka function has 30 KB left of its 300 KB budget for everything else, our own code
 * included (21 KiB in the topic bootstrap). The functions use nothing of what it adds beyond this format: no
 * Lambda context keys, per-invocation sampling, log buffering, child loggers or custom formatters.
 *
 * The level comes from the same variables: Lambda's advanced logging controls (`AWS_LAMBDA_LOG_LEVEL`) first,
 * then `POWERTOOLS_LOG_LEVEL` or `LOG_LEVEL` (TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL or SILENT); INFO by
 * default. `POWERTOOLS_LOGGER_SAMPLE_RATE` (0 to 1) logs that share of cold starts at DEBUG. Timestamps are UTC.
 */
import { randomInt } from 'node:crypto';

const LEVELS = { TRACE: 6, DEBUG: 8, INFO: 12, WARN: 16, ERROR: 20, CRITICAL: 24, SILENT: 28 } as const;
type LevelName = keyof typeof LEVELS;

/** Keys of the line itself; an attribute by these names is dropped, with a warning. */
const RESERVED_KEYS = ['level', 'message', 'sampling_rate', 'service', 'timestamp'];

export type LogAttributes = Record<string, unknown>;

function levelNamed(name: string | undefined): number | undefined {
  return name !== undefined && Object.hasOwn(LEVELS, name) ? LEVELS[name as LevelName] : undefined;
}

function env(name: string): string {
  return process.env[name]?.trim() ?? '';
}

interface LambdaGlobal {
  awslambda?: { InvokeStore?: { getXRayTraceId(): string | undefined } };
}

/** The trace's root id, from the runtime's per-invocation store (concurrent invocations) or the environment. */
function xrayTraceId(): string | undefined {
  const header = (globalThis as LambdaGlobal).awslambda?.InvokeStore?.getXRayTraceId() ?? env('_X_AMZN_TRACE_ID');
  if (header === '') return undefined;
  if (!header.includes('=')) return header;
  return header
    .split(';')
    .map((field) => field.split('='))
    .find(([key]) => key === 'Root')?.[1];
}

/** `file:line` of the first stack frame that names one, as Powertools reports it. */
function codeLocation(stack: string | undefined): string {
  for (const line of stack?.split('\n') ?? []) {
    const match = /\(([^()]*):(\d+):\d+\)\\?$/.exec(line);
    if (match) return `${match[1]}:${Number(match[2])}`;
  }
  return '';
}

function formatError(error: Error): LogAttributes {
  const { name, message, stack, cause } = error;
  const formatted: LogAttributes = {
    name,
    location: codeLocation(stack),
    message,
    stack,
    cause: cause instanceof Error ? formatError(cause) : cause,
  };
  for (const key of Object.keys(error)) {
    if (!['name', 'message', 'stack', 'cause'].includes(key)) formatted[key] = (error as unknown as LogAttributes)[key];
  }
  return formatted;
}

/** Keys never copied from an attribute, at any depth. */
const UNSAFE_KEYS = ['__proto__', 'constructor'];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * A copy of an attribute's plain objects and arrays, as Powertools merges attributes into the line: a value
 * inside itself is left out (an array keeps its length up to its last value that is copied), and anything else
 * (errors, dates, class instances) is kept as it is, for JSON.stringify. `undefined` means "leave it out".
 */
function copyAttribute(value: unknown, ancestors: unknown[]): { value: unknown } | undefined {
  const isArray = Array.isArray(value);
  if (!isArray && !isPlainObject(value)) return { value };
  if (ancestors.includes(value)) return undefined;
  ancestors.push(value);
  const copy: Record<string | number, unknown> | unknown[] = isArray ? [] : {};
  const keys = isArray ? value.keys() : Object.keys(value).filter((key) => !UNSAFE_KEYS.includes(key));
  for (const key of keys) {
    const copied = copyAttribute((value as Record<string | number, unknown>)[key], ancestors);
    if (copied) (copy as Record<string | number, unknown>)[key] = copied.value;
  }
  ancestors.pop();
  return { value: copy };
}

/** JSON.stringify replacer: errors formatted, bigints as strings, a value inside itself left out. */
function replacer(): (this: unknown, key: string, value: unknown) => unknown {
  const ancestors: unknown[] = [];
  return function (this: unknown, _key: string, value: unknown) {
    const replaced = value instanceof Error ? formatError(value) : value;
    if (typeof replaced === 'bigint') return replaced.toString();
    if (typeof replaced === 'object' && replaced !== null) {
      while (ancestors.length > 0 && ancestors.at(-1) !== this) ancestors.pop();
      if (ancestors.includes(replaced)) return undefined;
      ancestors.push(replaced);
    }
    return replaced;
  };
}

export class Logger {
  private readonly level: number;
  private readonly samplingRate: number = 0;

  constructor(private readonly serviceName: string) {
    const lambdaLevel = env('AWS_LAMBDA_LOG_LEVEL');
    const controlled = levelNamed(lambdaLevel === 'FATAL' ? 'CRITICAL' : lambdaLevel);
    this.level = controlled ?? levelNamed(env('POWERTOOLS_LOG_LEVEL') || env('LOG_LEVEL')) ?? LEVELS.INFO;
    const rate = Number(env('POWERTOOLS_LOGGER_SAMPLE_RATE'));
    if (rate >= 0 && rate <= 1) {
      this.samplingRate = rate;
      if (rate > 0 && randomInt(0, 100) / 100 <= rate && this.level > LEVELS.TRACE) {
        // Lambda's advanced logging controls win over sampling, with a warning, as in Powertools.
        if (controlled === undefined) this.level = LEVELS.DEBUG;
        else if (controlled > LEVELS.DEBUG) {
          this.warn(
            `Current log level (DEBUG) does not match AWS Lambda Advanced Logging Controls minimum log level (${lambdaLevel === 'FATAL' ? 'CRITICAL' : lambdaLevel}). This can lead to data loss, consider adjusting them.`,
          );
        }
        this.debug('Setting log level to DEBUG due to sampling rate');
      }
    }
  }

  debug(message: string, attributes?: LogAttributes): void {
    this.log('DEBUG', message, attributes);
  }

  info(message: string, attributes?: LogAttributes): void {
    this.log('INFO', message, attributes);
  }

  warn(message: string, attributes?: LogAttributes): void {
    this.log('WARN', message, attributes);
  }

  error(message: string, attributes?: LogAttributes): void {
    this.log('ERROR', message, attributes);
  }

  private log(level: LevelName, message: string, attributes: LogAttributes = {}): void {
    if (LEVELS[level] < this.level) return;
    // Every key Powertools places before the attributes, in its order: an attribute by one of these names
    // takes that place (the Lambda context keys stay empty: the functions never add the context).
    const line: LogAttributes = {
      level,
      message,
      timestamp: new Date().toISOString(),
      service: this.serviceName,
      cold_start: undefined,
      function_arn: undefined,
      function_memory_size: undefined,
      function_name: undefined,
      function_request_id: undefined,
      sampling_rate: this.samplingRate,
      xray_trace_id: xrayTraceId(),
      tenant_id: undefined,
    };
    for (const [key, value] of Object.entries(attributes)) {
      if (RESERVED_KEYS.includes(key)) {
        this.warn(`The key "${key}" is a reserved key and will be dropped.`);
        continue;
      }
      const copied = UNSAFE_KEYS.includes(key) ? undefined : copyAttribute(value, []);
      if (copied && (copied.value !== undefined || line[key] === undefined)) line[key] = copied.value;
    }
    let primitive = true;
    for (const key of Object.keys(line)) {
      const value = line[key];
      if (value === undefined || value === null || value === '') delete line[key];
      else if (typeof value === 'object' || typeof value === 'bigint') primitive = false;
    }
    // The consumer writes one line per message: without objects there is nothing for the replacer to do, and
    // JSON.stringify without one is about twice as fast (docs/benchmarks.md, consumer backlog drain).
    const text = primitive ? JSON.stringify(line) : JSON.stringify(line, replacer());
    // One write per line, as console.info would make it, without the console's formatting and colour checks.
    (LEVELS[level] >= LEVELS.WARN ? process.stderr : process.stdout).write(`${text}\n`);
  }
}

export function createLogger(serviceName: string): Logger {
  return new Logger(serviceName);
}
