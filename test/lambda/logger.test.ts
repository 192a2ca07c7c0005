/**
 * The functions' logger (lambda/shared/logger.ts) writes the lines Powertools for AWS Lambda's Logger wrote before
 * it: same keys in the same order, same values, same stream, under the same level variables. Each case runs the
 * same calls through both, with the same clock and environment, and compares the output character for character.
 */
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { Logger } from '../../lambda/shared/logger';

interface Written {
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
}

/** The logging methods the functions call, which both loggers have. */
interface LogMethods {
  debug(message: string, attributes?: Record<string, unknown>): void;
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

const VARIABLES = [
  'AWS_LAMBDA_LOG_LEVEL',
  'POWERTOOLS_LOG_LEVEL',
  'LOG_LEVEL',
  'POWERTOOLS_LOGGER_SAMPLE_RATE',
  '_X_AMZN_TRACE_ID',
  'TZ',
] as const;
const saved = Object.fromEntries(VARIABLES.map((name) => [name, process.env[name]]));

afterEach(() => {
  jest.useRealTimers();
  for (const name of VARIABLES) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

function capture(write: () => void): Written[] {
  const written: Written[] = [];
  const spies = (['stdout', 'stderr'] as const).map((stream) =>
    jest.spyOn(process[stream], 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push({ stream, text: chunk.toString() });
      return true;
    }),
  );
  try {
    write();
  } finally {
    spies.forEach((spy) => spy.mockRestore());
  }
  return written;
}

/** What each logger writes for `calls` with the environment `env` (level variables unset unless given). */
function bothWrite(
  env: Partial<Record<(typeof VARIABLES)[number], string>>,
  calls: (logger: LogMethods) => void,
): { ours: Written[]; powertools: Written[] } {
  for (const name of VARIABLES) delete process.env[name];
  Object.assign(process.env, env);
  jest.useFakeTimers({ now: Date.UTC(2026, 10, 29, 12, 34, 56, 789) });
  const ours = capture(() => calls(new Logger('hello-msk-test')));
  // Powertools' methods also take (message, attributes), among other forms.
  const powertools = capture(() =>
    calls(new PowertoolsLogger({ serviceName: 'hello-msk-test' }) as unknown as LogMethods),
  );
  return { ours, powertools };
}

// Created once, so that both loggers see the same stack traces.
const failure = new Error('Send failed: broker gone', { cause: new Error('ECONNRESET') });
const kafkaError = Object.assign(new Error('This server is not the leader for that topic-partition'), {
  name: 'KafkaJSProtocolError',
  retriable: true,
  type: 'NOT_LEADER_FOR_PARTITION',
  code: 6,
});
const circular: Record<string, unknown> = { id: 1 };
circular.self = circular;
const cycleInArray: unknown[] = [1];
cycleInArray.push(cycleInArray);

const EVERY_KIND_OF_ENTRY: (logger: LogMethods) => void = (logger) => {
  logger.info('Hello MSK');
  logger.info('Hello MSK', { topic: 'test-topic', partition: 0, offset: '42', key: null, headers: { a: 'b' } });
  logger.info('Sent 2 message(s) to test-topic', {
    messages: [
      { partition: 0, offset: '1' },
      { partition: 1, offset: '7' },
    ],
  });
  logger.warn('Group coordinator not ready; asking again', { error: 'The group is rebalancing', waitMs: 250 });
  logger.warn('Connection error', { kafkajs: { broker: '127.0.0.1:9092', clientId: 'c', retryCount: 1 } });
  logger.error('Send failed', { error: failure });
  logger.error('Consume failed', { error: kafkaError });
  logger.debug('Joined group', { groupId: 'g', durationMs: 3 });
  logger.info('');
  logger.info('empty values', { empty: '', missing: undefined, nothing: null, zero: 0, no: false, list: [] });
  logger.info('big numbers', { offset: 2n ** 63n - 1n, nested: { high: 10n } });
  logger.info('cycles', { circular, cycleInArray });
  logger.info('a date', { at: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)) });
  logger.info('reserved keys', { level: 'FATAL', message: 'm', service: 's', timestamp: 't', sampling_rate: 2 });
  logger.info('keys Powertools places first', { function_name: 'f', cold_start: true, xray_trace_id: undefined });
};

describe('lambda/shared/logger.ts writes what Powertools Logger wrote', () => {
  test.each([
    ['no level variable (INFO)', {}],
    ['POWERTOOLS_LOG_LEVEL=DEBUG', { POWERTOOLS_LOG_LEVEL: 'DEBUG' }],
    ['LOG_LEVEL=WARN', { LOG_LEVEL: 'WARN' }],
    ['POWERTOOLS_LOG_LEVEL=ERROR over LOG_LEVEL=DEBUG', { POWERTOOLS_LOG_LEVEL: 'ERROR', LOG_LEVEL: 'DEBUG' }],
    ['POWERTOOLS_LOG_LEVEL=SILENT', { POWERTOOLS_LOG_LEVEL: 'SILENT' }],
    ['a level in lower case (ignored)', { POWERTOOLS_LOG_LEVEL: 'debug' }],
    ['a level with spaces around it', { LOG_LEVEL: ' WARN ' }],
    [
      'AWS_LAMBDA_LOG_LEVEL=ERROR over POWERTOOLS_LOG_LEVEL=DEBUG',
      { AWS_LAMBDA_LOG_LEVEL: 'ERROR', POWERTOOLS_LOG_LEVEL: 'DEBUG' },
    ],
    ['AWS_LAMBDA_LOG_LEVEL=DEBUG', { AWS_LAMBDA_LOG_LEVEL: 'DEBUG' }],
    ['AWS_LAMBDA_LOG_LEVEL=FATAL', { AWS_LAMBDA_LOG_LEVEL: 'FATAL' }],
    [
      'a traced invocation',
      { _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1' },
    ],
    ['a trace header that is only an id', { _X_AMZN_TRACE_ID: '1-5759e988-bd862e3fe1be46a994272793' }],
    ['a trace header without a root', { _X_AMZN_TRACE_ID: 'Parent=53995c3f42cd8ad8;Sampled=0' }],
    ['every cold start sampled at DEBUG', { POWERTOOLS_LOGGER_SAMPLE_RATE: '1' }],
    ['sampling under Lambda’s log level', { POWERTOOLS_LOGGER_SAMPLE_RATE: '1', AWS_LAMBDA_LOG_LEVEL: 'WARN' }],
    ['a sampling rate at TRACE', { POWERTOOLS_LOGGER_SAMPLE_RATE: '0.5', POWERTOOLS_LOG_LEVEL: 'TRACE' }],
    ['TZ=UTC (as Lambda sets it)', { TZ: ':UTC' }],
  ])('%s', (_name, env) => {
    const { ours, powertools } = bothWrite(env, EVERY_KIND_OF_ENTRY);
    expect(ours).toEqual(powertools);
  });

  test('the cases above write lines: every kind of entry at INFO, WARN and ERROR, on the streams Lambda reads', () => {
    const { ours } = bothWrite({ POWERTOOLS_LOG_LEVEL: 'DEBUG' }, EVERY_KIND_OF_ENTRY);
    const lines: Record<string, unknown>[] = ours.map(({ stream, text }) => ({
      stream,
      ...(JSON.parse(text) as Record<string, unknown>),
    }));
    expect(lines).toContainEqual({
      stream: 'stdout',
      level: 'INFO',
      message: 'Hello MSK',
      timestamp: '2026-11-29T12:34:56.789Z',
      service: 'hello-msk-test',
      sampling_rate: 0,
      topic: 'test-topic',
      partition: 0,
      offset: '42',
      headers: { a: 'b' },
    });
    const sendFailed = lines.find((line) => line.message === 'Send failed');
    expect(sendFailed).toMatchObject({
      stream: 'stderr',
      level: 'ERROR',
      error: {
        name: 'Error',
        message: 'Send failed: broker gone',
        location: expect.stringMatching(/logger\.test\.ts:\d+$/),
        cause: { name: 'Error', message: 'ECONNRESET' },
      },
    });
    expect(lines.find((line) => line.message === 'big numbers')).toMatchObject({
      offset: '9223372036854775807',
      nested: { high: '10' },
    });
    expect(lines.find((line) => line.message === 'cycles')).toMatchObject({
      circular: { id: 1 },
      cycleInArray: [1],
    });
    expect(
      lines.filter((line) => line.message === 'The key "level" is a reserved key and will be dropped.'),
    ).toHaveLength(1);
    expect(lines.map((line) => line.level)).toEqual(expect.arrayContaining(['DEBUG', 'INFO', 'WARN', 'ERROR']));
  });
});
