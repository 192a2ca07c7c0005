/**
 * Lambda's event source mappings for MSK on the twin: each `AWS::Lambda::EventSourceMapping` of the assembly whose
 * source is the cluster polls its topics as its consumer group, signed in as the function's role (so a missing
 * kafka-cluster permission fails as on AWS), and invokes the function's runner with MSK's event shape. A batch is
 * committed after the function succeeds; a failed batch is retried, then handed to the on-failure destination.
 *
 * Lambda developer guide: "Using Lambda with Amazon MSK" (event shape), "Batching behavior", "Configuring error
 * handling controls for Kafka event sources" (with an on-failure destination and no retry limit set, Lambda
 * retries a failed batch at most 10 times).
 */
import type { MSKEvent, MSKRecord } from 'aws-lambda';
import { Kafka, type Consumer, type EachBatchPayload, type KafkaMessage } from 'kafkajs';
import type { TwinFunction } from '../assembly/assembly';
import { iamKafkaConfig } from '../iam/iam-client';
import type { InvokeResult, LambdaRunner } from '../runner/lambda-runner';
import type { TwinAppInstance } from '../twin-app';

export interface TwinEventSourceMapping {
  readonly stack: string;
  readonly logicalId: string;
  readonly function: TwinFunction;
  readonly topics: readonly string[];
  readonly consumerGroupId: string;
  readonly startingPosition: 'LATEST' | 'TRIM_HORIZON';
  readonly batchSize: number;
  readonly maximumBatchingWindowMs: number;
  /** Retries of a failed batch before it goes to the on-failure destination; undefined retries until it succeeds. */
  readonly maximumRetryAttempts?: number;
  /** The on-failure destination's ARN as the template gives it (a queue, topic or bucket), if any. */
  readonly onFailure?: string;
  readonly enabled: boolean;
}

/** Lambda's defaults for MSK (CreateEventSourceMapping reference). */
const DEFAULT_BATCH_SIZE = 100;
const DEFAULT_BATCHING_WINDOW_MS = 500;
/** Lambda's cap on retries when an on-failure destination is set and retries are left infinite. */
const RETRIES_WITH_DESTINATION = 10;

/** The app's event source mappings whose source is the twin's cluster; one line for one that cannot run. */
export function eventSourceMappingsOf(app: TwinAppInstance['app']): TwinEventSourceMapping[] {
  return app.resolver.resourcesOfType(['AWS::Lambda::EventSourceMapping']).flatMap(({ stack, logicalId, resource }) => {
    const props = resource.Properties ?? {};
    const scope = (key: string) => ({ stack, where: `${stack.name}/${logicalId} ${key}` });
    const source = app.resolver.resolveString(props.EventSourceArn, scope('EventSourceArn'));
    if (source !== app.cluster.arn) return [];
    const functionName = app.resolver.resolveString(props.FunctionName, scope('FunctionName'));
    const fn = app.functions.find((f) => f.name === functionName || f.logicalId === functionName);
    if (!fn) throw new Error(`${stack.name}/${logicalId}: its function ${functionName} is not in the assembly`);
    const topics = (app.resolver.resolve(props.Topics, scope('Topics')) as unknown[] | undefined)?.map(String) ?? [];
    if (topics.length !== 1) throw new Error(`${stack.name}/${logicalId}: an MSK event source has exactly one topic`);
    const groupConfig = props.AmazonManagedKafkaEventSourceConfig as { ConsumerGroupId?: unknown } | undefined;
    const destination = (props.DestinationConfig as { OnFailure?: { Destination?: unknown } } | undefined)?.OnFailure
      ?.Destination;
    const retries = props.MaximumRetryAttempts === undefined ? -1 : Number(props.MaximumRetryAttempts);
    const onFailure =
      destination === undefined
        ? undefined
        : destinationName(destination, () =>
            app.resolver.resolveString(destination, scope('DestinationConfig.OnFailure.Destination')),
          );
    const number = (key: string, fallback: number) =>
      props[key] === undefined ? fallback : Number(app.resolver.resolve(props[key], scope(key)));
    return [
      {
        stack: stack.name,
        logicalId,
        function: fn,
        topics,
        // Without one, Lambda names the group after the mapping's UUID.
        consumerGroupId:
          groupConfig?.ConsumerGroupId === undefined
            ? `${stack.name}-${logicalId}`
            : app.resolver.resolveString(groupConfig.ConsumerGroupId, scope('ConsumerGroupId')),
        startingPosition: props.StartingPosition === 'TRIM_HORIZON' ? 'TRIM_HORIZON' : 'LATEST',
        batchSize: number('BatchSize', DEFAULT_BATCH_SIZE),
        maximumBatchingWindowMs:
          props.MaximumBatchingWindowInSeconds === undefined
            ? DEFAULT_BATCHING_WINDOW_MS
            : number('MaximumBatchingWindowInSeconds', 0) * 1000,
        maximumRetryAttempts: retries >= 0 ? retries : onFailure ? RETRIES_WITH_DESTINATION : undefined,
        onFailure,
        enabled: props.Enabled === undefined ? true : app.resolver.resolve(props.Enabled, scope('Enabled')) !== false,
      },
    ];
  });
}

/** The destination's ARN, or the logical id of a resource the twin does not model (a queue). */
function destinationName(destination: unknown, resolve: () => string): string {
  try {
    return resolve();
  } catch {
    const getAtt = (destination as { 'Fn::GetAtt'?: unknown[] })['Fn::GetAtt'];
    return Array.isArray(getAtt) ? String(getAtt[0]) : JSON.stringify(destination);
  }
}

/** One invocation of the function by the mapping. */
export interface MappingInvocation {
  readonly event: MSKEvent;
  readonly attempt: number;
  readonly result: InvokeResult;
}

/** A batch that failed every attempt, as the on-failure destination receives its description. */
export interface FailedBatch {
  readonly destination: string;
  readonly topic: string;
  readonly partition: number;
  readonly firstOffset: string;
  readonly lastOffset: string;
  readonly attempts: number;
  readonly error: string;
}

export interface PollerOptions {
  /** Called after every invocation. @default none */
  readonly onInvoke?: (invocation: MappingInvocation) => void;
  /** Called when the poller stops for good (as the mapping's state turns to an error on AWS). @default none */
  readonly onCrash?: (error: Error) => void;
  /** Wait between attempts of a failed batch. @default 200 */
  readonly retryDelayMs?: number;
}

/** A running mapping: polls until stop(). */
export class EventSourceMappingPoller {
  readonly invocations: MappingInvocation[] = [];
  readonly failures: FailedBatch[] = [];
  private consumer?: Consumer;
  /** Set when the poller stopped for good, e.g. refused by the brokers (a permission the role lacks). */
  crashed?: Error;

  constructor(
    readonly mapping: TwinEventSourceMapping,
    private readonly app: TwinAppInstance,
    private readonly runner: LambdaRunner,
    private readonly options: PollerOptions = {},
  ) {}

  /** Joins the group and starts polling; resolves once it fetches (from LATEST: what is sent from then on). */
  async start(): Promise<void> {
    const { twin } = this.app;
    const kafka = new Kafka(
      iamKafkaConfig({
        brokers: twin.bootstrapBrokers.split(','),
        caFile: twin.caFile,
        region: twin.region,
        clientId: `lambda-esm-${this.mapping.logicalId}`,
        credentials: () => twin.issueCredentials(this.mapping.function.roleArn, 3600),
      }),
    );
    const window = this.mapping.maximumBatchingWindowMs;
    // The broker holds each fetch until it has a full batch's worth of bytes or the window has passed.
    this.consumer = kafka.consumer({
      groupId: this.mapping.consumerGroupId,
      allowAutoTopicCreation: false,
      minBytes: window > 0 ? 1024 * 1024 : 1,
      maxWaitTimeInMs: window > 0 ? window : 100,
      retry: { retries: 5 },
    });
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      this.crashed = e.payload.error;
      this.options.onCrash?.(e.payload.error);
    });
    await this.consumer.connect();
    await this.consumer.subscribe({
      topics: [...this.mapping.topics],
      fromBeginning: this.mapping.startingPosition === 'TRIM_HORIZON',
    });
    const consumer = this.consumer;
    const fetching = new Promise<void>((resolve, reject) => {
      let joined = false;
      const removeJoin = consumer.on(consumer.events.GROUP_JOIN, () => {
        joined = true;
      });
      const removeFetch = consumer.on(consumer.events.FETCH_START, () => {
        if (!joined) return;
        removeJoin();
        removeFetch();
        resolve();
      });
      consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error));
    });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.eachBatch(payload),
    });
    await fetching;
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const { batchSize } = this.mapping;
    for (let start = 0; start < batch.messages.length; start += batchSize) {
      if (!payload.isRunning() || payload.isStale()) return;
      const messages = batch.messages.slice(start, start + batchSize);
      await this.deliver(batch.topic, batch.partition, messages);
      const next = (BigInt(messages[messages.length - 1].offset) + 1n).toString();
      payload.resolveOffset(messages[messages.length - 1].offset);
      await this.consumer?.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
      await payload.heartbeat();
    }
  }

  /** Invokes until the function succeeds or the retries are spent; then the batch is done either way. */
  private async deliver(topic: string, partition: number, messages: KafkaMessage[]): Promise<void> {
    const event = mskEvent(this.app, topic, partition, messages);
    const limit = this.mapping.maximumRetryAttempts;
    for (let attempt = 1; ; attempt++) {
      const result = await this.runner.invoke(event);
      const invocation = { event, attempt, result };
      this.invocations.push(invocation);
      this.options.onInvoke?.(invocation);
      if (result.ok) return;
      if (limit !== undefined && attempt > limit) {
        this.failures.push({
          destination: this.mapping.onFailure ?? '(none: the batch is skipped)',
          topic,
          partition,
          firstOffset: messages[0].offset,
          lastOffset: messages[messages.length - 1].offset,
          attempts: attempt,
          error: `${result.error.errorType}: ${result.error.errorMessage}`,
        });
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, this.options.retryDelayMs ?? 200));
    }
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect().catch(() => undefined);
  }
}

/** MSK's event: records keyed `topic-partition`, keys and values base64, headers as arrays of byte arrays. */
export function mskEvent(app: TwinAppInstance, topic: string, partition: number, messages: KafkaMessage[]): MSKEvent {
  const records: MSKRecord[] = messages.map((message) => ({
    topic,
    partition,
    offset: Number(message.offset),
    timestamp: Number(message.timestamp),
    timestampType: 'CREATE_TIME',
    key: message.key ? message.key.toString('base64') : (null as unknown as string),
    value: message.value ? message.value.toString('base64') : (null as unknown as string),
    headers: Object.entries(message.headers ?? {}).map(([name, value]) => ({
      [name]: [...(Buffer.isBuffer(value) ? value : Buffer.from(String(value)))],
    })),
  }));
  return {
    eventSource: 'aws:kafka',
    eventSourceArn: app.app.cluster.arn,
    bootstrapServers: app.twin.bootstrapBrokers,
    records: { [`${topic}-${partition}`]: records },
  };
}

/** Starts a poller for every enabled mapping of the app, each invoking a runner of its function. */
export async function startEventSourceMappings(
  app: TwinAppInstance,
  options: PollerOptions = {},
): Promise<EventSourceMappingPoller[]> {
  const pollers = eventSourceMappingsOf(app.app)
    .filter((m) => m.enabled)
    .map((m) => new EventSourceMappingPoller(m, app, app.runner(m.function.path), options));
  try {
    for (const poller of pollers) await poller.start();
  } catch (error) {
    await Promise.all(pollers.map((p) => p.stop()));
    throw error;
  }
  return pollers;
}
