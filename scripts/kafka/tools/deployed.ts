/**
 * The tools' backend for a deployed stack (`--stage S`): MSK's brokers live in a private VPC, so the tools
 * act through the project's functions there. produce and consume invoke the producer and consumer functions;
 * topics and groups invoke the read-only kafka-admin function. Creating topics stays with the topic-bootstrap
 * custom resource, as code.
 */
import { CloudFormationClient, DescribeStacksCommand, type Output } from '@aws-sdk/client-cloudformation';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { ConsumerEvent, ConsumerResult } from '../../../lambda/consumer';
import type { AdminEvent, AdminResult } from '../../../lambda/kafka-admin';
import type { ProducerEvent, ProducerResult } from '../../../lambda/producer';
import {
  ToolError,
  type ConsumeOptions,
  type ConsumeReport,
  type GroupDescription,
  type GroupListing,
  type KafkaBackend,
  type NewTopic,
  type OutgoingMessage,
  type ReceivedMessage,
  type SentMessage,
  type TopicDescription,
} from './backend';

/** The AWS clients the backend needs; anything with the SDK clients' `send` will do. */
export interface DeployedClients {
  readonly cfn: Pick<CloudFormationClient, 'send'>;
  readonly lambda: Pick<LambdaClient, 'send'>;
  /** The AWS region, for messages only. */
  readonly region: () => Promise<string | undefined>;
}

/** The Clients stack's outputs the tools use. */
interface StackOutputs {
  readonly producer: string;
  readonly consumer: string;
  readonly admin: string;
  readonly topic: string;
  readonly group: string;
}

/** The consumer function reports at most this many messages (its log has them all). */
const REPORTED_MESSAGES = 50;
const MAX_DETAIL_CHARS = 300;

export function clientsStackName(stage: string): string {
  return `HelloMsk-${stage}-Clients`;
}

export function defaultDeployedClients(): DeployedClients {
  // The SDK's notice about future Node.js support would turn a one-line answer into ten lines.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const cfn = new CloudFormationClient({});
  return { cfn, lambda: new LambdaClient({}), region: () => cfn.config.region() };
}

export class DeployedBackend implements KafkaBackend {
  readonly where: string;
  private outputs?: Promise<StackOutputs>;

  constructor(
    private readonly stage: string,
    private readonly clients: DeployedClients,
  ) {
    this.where = `${clientsStackName(stage)} (through its functions)`;
  }

  async listTopics(): Promise<string[]> {
    const result = await this.admin({ action: 'list-topics' });
    return result.action === 'list-topics' ? result.topics : [];
  }

  async describeTopics(topics?: string[]): Promise<TopicDescription[]> {
    const result = await this.admin({ action: 'describe-topics', topics });
    return result.action === 'describe-topics' ? result.topics : [];
  }

  async createTopic(topic: NewTopic): Promise<boolean> {
    throw new ToolError(
      `topics --create: on MSK, topics are code: add {"name":"${topic.topic}","partitions":${topic.partitions ?? 3}} to topics in cdk.json and run npx cdk deploy (the topic-bootstrap resource creates it)`,
    );
  }

  async produce(
    topic: string,
    messages: AsyncIterable<OutgoingMessage>,
    sent: (message: SentMessage) => void,
  ): Promise<number> {
    const outputs = await this.stackOutputs();
    if (topic !== outputs.topic) {
      throw new ToolError(
        `produce --stage ${this.stage} sends through the deployed producer function, which writes only to ${outputs.topic} (demoTopic); --topic ${topic} is not possible there`,
      );
    }
    let count = 0;
    for await (const message of messages) {
      const event: ProducerEvent =
        message.key === undefined ? { message: message.value } : { message: message.value, key: message.key };
      const result = await this.invoke<ProducerResult>('producer', outputs.producer, event);
      for (const m of result.messages) sent(m);
      count += 1;
    }
    return count;
  }

  async consume(options: ConsumeOptions, received: (message: ReceivedMessage) => void): Promise<ConsumeReport> {
    const outputs = await this.stackOutputs();
    if (options.topic !== outputs.topic) {
      throw new ToolError(
        `consume --stage ${this.stage} reads through the deployed consumer function, which reads only ${outputs.topic} (demoTopic); --topic ${options.topic} is not possible there`,
      );
    }
    if (options.group !== undefined && options.group !== outputs.group) {
      throw new ToolError(
        `consume --stage ${this.stage} reads through the deployed consumer function, which reads as group ${outputs.group} (consumerGroup); --group ${options.group} is not possible there`,
      );
    }
    const event: ConsumerEvent = { fromBeginning: options.fromBeginning, maxMessages: options.maxMessages };
    const result = await this.invoke<ConsumerResult>('consumer', outputs.consumer, event);
    for (const m of result.messages) received(m);
    const unshown = result.count - result.messages.length;
    return {
      count: result.count,
      note:
        unshown > 0
          ? `the function returns the first ${REPORTED_MESSAGES} messages it read; the other ${unshown} are in its log (aws logs tail)`
          : undefined,
    };
  }

  async listGroups(): Promise<GroupListing[]> {
    const result = await this.admin({ action: 'list-groups' });
    return result.action === 'list-groups' ? result.groups : [];
  }

  async describeGroup(groupId: string): Promise<GroupDescription> {
    const result = await this.admin({ action: 'describe-group', groupId });
    if (result.action !== 'describe-group') throw new ToolError(`the kafka-admin function answered ${result.action}`);
    return result.group;
  }

  async close(): Promise<void> {
    // Nothing to close: every call is one Lambda invocation.
  }

  private async admin(event: AdminEvent): Promise<AdminResult> {
    const outputs = await this.stackOutputs();
    return this.invoke<AdminResult>('kafka-admin', outputs.admin, event);
  }

  private stackOutputs(): Promise<StackOutputs> {
    this.outputs ??= this.readOutputs();
    return this.outputs;
  }

  private async readOutputs(): Promise<StackOutputs> {
    const stackName = clientsStackName(this.stage);
    let outputs: Output[];
    try {
      const response = await this.clients.cfn.send(new DescribeStacksCommand({ StackName: stackName }));
      outputs = response.Stacks?.[0]?.Outputs ?? [];
    } catch (error) {
      throw await this.awsError(error, stackName);
    }
    const get = (key: string): string => {
      const found = outputs.find((o) => o.OutputKey === key)?.OutputValue;
      if (!found) {
        throw new ToolError(
          `stack ${stackName} has no output ${key}; deploy the current version with npx cdk deploy --all -c stage=${this.stage}`,
        );
      }
      return found;
    };
    return {
      producer: get('ProducerFunctionName'),
      consumer: get('ConsumerFunctionName'),
      admin: get('AdminFunctionName'),
      topic: get('DemoTopic'),
      group: get('ConsumerGroup'),
    };
  }

  /** Invokes a function synchronously; a function error becomes a ToolError with the function's one line. */
  private async invoke<T>(role: string, functionName: string, event: unknown): Promise<T> {
    let response;
    try {
      response = await this.clients.lambda.send(
        new InvokeCommand({
          FunctionName: functionName,
          InvocationType: 'RequestResponse',
          Payload: new TextEncoder().encode(JSON.stringify(event)),
        }),
      );
    } catch (error) {
      throw await this.awsError(error, clientsStackName(this.stage));
    }
    const text = response.Payload ? new TextDecoder().decode(response.Payload) : '';
    const payload = parseJson(text) as { errorType?: unknown; errorMessage?: unknown } | undefined;
    if (response.FunctionError) {
      const message = typeof payload?.errorMessage === 'string' ? payload.errorMessage : text || response.FunctionError;
      // Answers such as "Topic 'x' does not exist" read best as they are; anything else names the function.
      if (payload?.errorType === 'NotFoundError' || payload?.errorType === 'InvalidEventError') {
        throw new ToolError(oneLine(message));
      }
      const type = typeof payload?.errorType === 'string' ? `${payload.errorType}: ` : '';
      throw new ToolError(oneLine(`the ${role} function ${functionName} failed: ${type}${message}`));
    }
    return payload as T;
  }

  /** Turns an AWS SDK error into the one line that says what is missing. */
  private async awsError(error: unknown, stackName: string): Promise<ToolError> {
    const name = error instanceof Error ? error.name : '';
    const message = oneLine(error instanceof Error ? error.message : String(error));
    if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message)) {
      return new ToolError(
        `no AWS credentials found (${message}); set AWS_PROFILE or use --aws-profile, run aws configure or aws sso login, then retry`,
      );
    }
    if (/region is missing/i.test(message)) {
      return new ToolError('no AWS region set; set AWS_REGION or a region in your AWS profile');
    }
    if (
      /^Expired|ExpiredToken|security token included in the request is (expired|invalid)/i.test(`${name} ${message}`)
    ) {
      return new ToolError(`your AWS credentials are not valid (${message}); refresh them and retry`);
    }
    if (name === 'ValidationError' && /does not exist/i.test(message)) {
      const region = await this.clients.region().catch(() => undefined);
      return new ToolError(
        `stack ${stackName} is not deployed${region ? ` in ${region}` : ''}; run npx cdk deploy --all${this.stage === 'dev' ? '' : ` -c stage=${this.stage}`} first`,
      );
    }
    if (name === 'AccessDeniedException' || name === 'AccessDenied') {
      return new ToolError(
        `AWS denied the call (${message}); your credentials need cloudformation:DescribeStacks and lambda:InvokeFunction on the stack's functions`,
      );
    }
    return new ToolError(`${name ? `${name}: ` : ''}${message}`);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_DETAIL_CHARS ? `${flat.slice(0, MAX_DETAIL_CHARS - 1)}…` : flat;
}
