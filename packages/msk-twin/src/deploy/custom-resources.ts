/**
 * The deploy-time half of `cdk deploy` on the twin: the app's custom resources run in stack order, as
 * CloudFormation creates them (a resource after everything it references), with their real handlers and
 * CloudFormation-shaped Create events. Their answers feed `Fn::GetAtt` and `Ref`, and the stacks' SSM parameters
 * are written to the twin's AWS API endpoint, so the functions get values (the bootstrap brokers) as deployed.
 *
 * - CDK's Provider framework (a function with USER_ON_EVENT_FUNCTION_ARN): the twin keeps the framework's contract
 *   (custom-resources/lib/provider-framework/runtime/framework.js) and runs the user's onEvent, then its isComplete
 *   at the waiter's interval up to its attempts; the framework's own functions and state machine do not run.
 * - Any other handler answers CloudFormation itself by an HTTPS PUT to the event's ResponseURL, on CloudFormation's
 *   response host (cloudFormationResponseHost): the handler's connections there go to a server of the twin on
 *   127.0.0.1 (LambdaRunnerOptions.routes), whose certificate names that host and which the functions trust.
 * - A failure stops the deploy with one line: the resource, its type and the reason CloudFormation would show.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as https from 'node:https';
import {
  TwinAssemblyError,
  isCustomResource,
  type CfnResource,
  type StackView,
  type TwinApp,
  type TwinEndpoint,
  type TwinFunction,
} from '../assembly/assembly';
import { customResourceCreateEventOf } from '../assembly/custom-resource-event';
import type { CustomResourceAnswer, TwinDeployment } from '../assembly/deployment';
import type { Logger } from '../broker/local-kafka';
import { cloudFormationResponseHost } from '../identity';
import type { InvokeResult, LambdaRunner } from '../runner/lambda-runner';

/** Custom resource types the twin does not run, and why. */
export const NOT_RUN_TYPES: Readonly<Record<string, string>> = {
  'Custom::VpcRestrictDefaultSG':
    "it revokes the rules of the VPC's default security group, which the twin does not model and no function uses",
};

/** The Provider framework's environment (custom-resources/lib/provider-framework/runtime/consts.js). */
const USER_ON_EVENT = 'USER_ON_EVENT_FUNCTION_ARN';
const USER_IS_COMPLETE = 'USER_IS_COMPLETE_FUNCTION_ARN';
const WAITER_STATE_MACHINE = 'WAITER_STATE_MACHINE_ARN';
/** The framework's waiter when its definition cannot be read: CDK's Provider defaults (5 s, 30 minutes). */
const DEFAULT_WAITER = { intervalSeconds: 5, maxAttempts: 360, backoffRate: 1 };

/** A custom resource that failed: CloudFormation's reason, in one line, naming the resource. */
export class CustomResourceError extends Error {
  constructor(
    readonly resource: string,
    readonly resourceType: string,
    readonly reason: string,
  ) {
    super(`${resource} (${resourceType}) failed to create: ${oneLine(reason)}`);
    this.name = 'CustomResourceError';
  }
}

/** What the deploy needs of a running app twin. */
export interface DeployTarget {
  /** The app, resolving from `deployment` as it fills. */
  readonly app: TwinApp;
  readonly deployment: TwinDeployment;
  readonly endpoint: TwinEndpoint;
  /** A container of the function, with its role's credentials and the endpoint variables; `routes` as the runner's. */
  runner(fn: TwinFunction, routes: Readonly<Record<string, number>>): LambdaRunner;
  /** Creates an SSM String parameter on the AWS API endpoint. */
  putParameter(name: string, value: string): void;
  /** The brokers' key and certificate (PEM), for the ResponseURL server. */
  readonly keystoreFile: string;
}

export interface DeployOptions {
  /** Scales the waiter's interval between isComplete calls (tests). @default 1 */
  readonly waiterIntervalScale?: number;
  /** A line per resource. @default silent */
  readonly log?: Logger;
}

/** One custom resource the deploy handled. */
export interface DeployedResource {
  /** `Stack/LogicalId` */
  readonly resource: string;
  readonly type: string;
  /** The function that answered (the Provider framework's user onEvent), or why none ran. */
  readonly handler?: string;
  readonly answer?: CustomResourceAnswer;
  readonly notRun?: string;
  /** The containers that ran its handlers (stopped when the deploy ends), with their functions. */
  readonly containers: readonly { readonly fn: TwinFunction; readonly runner: LambdaRunner }[];
  readonly durationMs: number;
}

interface ResponseBody {
  readonly Status?: string;
  readonly Reason?: string;
  readonly PhysicalResourceId?: string;
  readonly Data?: Record<string, unknown>;
}

/** Runs every custom resource of the app and writes its SSM parameters, stack by stack; see the file comment. */
export async function deployCustomResources(
  target: DeployTarget,
  options: DeployOptions = {},
): Promise<DeployedResource[]> {
  const deployed: DeployedResource[] = [];
  const responses = new ResponseServer(
    target.keystoreFile,
    cloudFormationResponseHost(target.app.resolver.identity.region),
  );
  const runners: LambdaRunner[] = [];
  let containers: { fn: TwinFunction; runner: LambdaRunner }[] = [];
  const runnerOf = (fn: TwinFunction): LambdaRunner => {
    const runner = target.runner(fn, responses.routes());
    runners.push(runner);
    containers.push({ fn, runner });
    return runner;
  };
  try {
    await responses.start();
    for (const stack of target.app.assembly.stacks) {
      for (const logicalId of creationOrder(stack)) {
        const resource = stack.template.Resources?.[logicalId] as CfnResource;
        if (!target.app.resolver.exists(stack, resource)) continue;
        if (resource.Type === 'AWS::SSM::Parameter') {
          const where = (what: string) => ({
            stack,
            where: `${stack.name}/${logicalId} ${what}`,
            endpoint: target.endpoint,
          });
          const name = target.app.resolver.resolveString({ Ref: logicalId }, where('Name'));
          const value = target.app.resolver.resolveString(resource.Properties?.Value, where('Value'));
          target.deployment.parameters[name] = value;
          target.putParameter(name, value);
          options.log?.(`${stack.name}/${logicalId}: SSM parameter ${name} = ${value}`);
        } else if (isCustomResource(resource.Type)) {
          containers = [];
          const done = {
            ...(await runCustomResource(target, stack, logicalId, resource, runnerOf, responses, options)),
            containers,
          };
          deployed.push(done);
          const key = `${stack.name}/${logicalId}`;
          if (done.answer) target.deployment.answers[key] = done.answer;
          else target.deployment.notRun[key] = done.notRun ?? '';
          options.log?.(
            done.answer
              ? `${key} (${resource.Type}): ${describeAnswer(done.answer)} in ${(done.durationMs / 1000).toFixed(1)} s`
              : `${key} (${resource.Type}) not run: ${done.notRun}`,
          );
        }
      }
    }
  } finally {
    await Promise.all(runners.map((r) => r.stop().catch(() => undefined)));
    await responses.close();
  }
  return deployed;
}

function describeAnswer(answer: CustomResourceAnswer): string {
  const data = Object.entries(answer.data).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return `${answer.physicalResourceId}${data.length > 0 ? ` (${data.join(', ')})` : ''}`;
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/** Every logical id a value references: Ref, Fn::GetAtt, and `${Name}` or `${Name.Attribute}` of Fn::Sub. */
function references(value: unknown, into: Set<string>): Set<string> {
  if (Array.isArray(value)) {
    for (const v of value) references(v, into);
  } else if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      if (key === 'Ref' && typeof v === 'string') into.add(v);
      else if (key === 'Fn::GetAtt') {
        const target: unknown = typeof v === 'string' ? v.split('.')[0] : Array.isArray(v) ? v[0] : undefined;
        if (typeof target === 'string') into.add(target);
      } else if (key === 'Fn::Sub') {
        const text: unknown = typeof v === 'string' ? v : Array.isArray(v) ? v[0] : undefined;
        if (typeof text === 'string') {
          for (const m of text.matchAll(/\$\{([^!}][^}.]*)/g)) into.add(m[1]);
        }
      }
      references(v, into);
    }
  }
  return into;
}

/** The stack's logical ids in an order CloudFormation could create them: each after what it references. */
export function creationOrder(stack: StackView): string[] {
  const resources = stack.template.Resources ?? {};
  const ids = Object.keys(resources);
  const dependsOn = new Map(
    ids.map((id) => {
      const resource = resources[id] as CfnResource & { DependsOn?: string | string[] };
      const deps = references(resource.Properties ?? {}, new Set());
      for (const d of [resource.DependsOn ?? []].flat()) deps.add(d);
      return [id, [...deps].filter((d) => d !== id && d in resources)];
    }),
  );
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, path: string[]) => {
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting') {
      throw new TwinAssemblyError(`${stack.name}: circular dependency between resources ${[...path, id].join(' -> ')}`);
    }
    state.set(id, 'visiting');
    for (const d of dependsOn.get(id) ?? []) visit(d, [...path, id]);
    state.set(id, 'done');
    order.push(id);
  };
  for (const id of ids) visit(id, []);
  return order;
}

/** The function a custom resource's ServiceToken names, by ARN. */
function functionByArn(app: TwinApp, arn: string): TwinFunction | undefined {
  const { partition, region, account } = app.resolver.identity;
  return app.functions.find((f) => `arn:${partition}:lambda:${region}:${account}:function:${f.name}` === arn);
}

async function runCustomResource(
  target: DeployTarget,
  stack: StackView,
  logicalId: string,
  resource: CfnResource,
  runnerOf: (fn: TwinFunction) => LambdaRunner,
  responses: ResponseServer,
  options: DeployOptions,
): Promise<Omit<DeployedResource, 'containers'>> {
  const started = performance.now();
  const key = `${stack.name}/${logicalId}`;
  const notRun = NOT_RUN_TYPES[resource.Type];
  if (notRun) return { resource: key, type: resource.Type, notRun, durationMs: 0 };
  const { app, endpoint } = target;
  const requestId = randomUUID();
  const event = customResourceCreateEventOf(app, { stack, logicalId, resource }, endpoint, {
    requestId,
    responseUrl: responses.url(requestId),
  });
  const fail = (reason: string): never => {
    throw new CustomResourceError(key, resource.Type, reason);
  };
  const serviceToken = event.ServiceToken;
  if (typeof serviceToken !== 'string') return fail(`ServiceToken ${JSON.stringify(serviceToken)} is not an ARN`);
  const provider = functionByArn(app, serviceToken);
  if (!provider) {
    return fail(`its ServiceToken ${serviceToken} is not a Lambda function of the app, so the twin cannot run it`);
  }
  const resolveEnv = (fn: TwinFunction, name: string): string =>
    app.resolver.resolveString(fn.rawEnvironment[name], {
      stack: app.assembly.stacks.find((s) => s.name === fn.stack) ?? stack,
      where: `${fn.stack}/${fn.logicalId} Environment.Variables.${name}`,
      endpoint,
    });
  const userFunction = (name: string): TwinFunction => {
    const arn = resolveEnv(provider, name);
    return functionByArn(app, arn) ?? fail(`the Provider framework's ${name} ${arn} is not a function of the app`);
  };

  let answer: CustomResourceAnswer;
  let handler: TwinFunction;
  if (provider.rawEnvironment[USER_ON_EVENT] !== undefined) {
    handler = userFunction(USER_ON_EVENT);
    // framework.js: onEvent's answer merged into the event; the default physical id is the request id.
    const onEvent = (await invokeUser(runnerOf(handler), handler, event, fail)) ?? {};
    const physicalResourceId = stringField(onEvent.PhysicalResourceId) ?? requestId;
    let data = (onEvent.Data ?? {}) as Record<string, unknown>;
    if (provider.rawEnvironment[USER_IS_COMPLETE] !== undefined) {
      const isCompleteFn = userFunction(USER_IS_COMPLETE);
      const waiter = waiterOf(app, provider, stack);
      const runner = runnerOf(isCompleteFn);
      const request = { ...event, ...onEvent, PhysicalResourceId: physicalResourceId };
      let interval = waiter.intervalSeconds * 1000 * (options.waiterIntervalScale ?? 1);
      for (let attempt = 1; ; attempt++) {
        // The waiter retries isComplete on any error too (States.ALL), until its attempts run out.
        const result = await runner.invoke(request);
        if (result.ok) {
          const complete = (result.payload ?? {}) as { IsComplete?: unknown; Data?: Record<string, unknown> };
          if (complete.IsComplete) {
            data = { ...data, ...complete.Data };
            break;
          }
          if (complete.Data && Object.keys(complete.Data).length > 0) {
            return fail('"Data" is not allowed if "IsComplete" is "False"');
          }
        } else {
          options.log?.(`${key}: isComplete failed, the waiter retries it: ${result.error.errorMessage}`);
        }
        if (attempt > waiter.maxAttempts) return fail('Operation timed out');
        await new Promise((resolve) => setTimeout(resolve, interval));
        interval *= waiter.backoffRate;
      }
    }
    answer = { physicalResourceId, data };
  } else {
    handler = provider;
    const result = await runnerOf(provider).invoke(event);
    const response = responses.take(requestId);
    if (!response) {
      const why = result.ok ? 'it returned' : `it failed (${result.error.errorType}: ${result.error.errorMessage})`;
      return fail(
        `${why} without sending a response to the ResponseURL; CloudFormation would wait for its ServiceTimeout, then fail`,
      );
    }
    if (response.Status !== 'SUCCESS') return fail(response.Reason ?? `status ${String(response.Status)}`);
    answer = {
      physicalResourceId: stringField(response.PhysicalResourceId) ?? fail('its response has no PhysicalResourceId'),
      data: response.Data ?? {},
    };
  }
  return { resource: key, type: resource.Type, handler: handler.path, answer, durationMs: performance.now() - started };
}

function stringField(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Invokes a Provider framework user function; its error becomes the framework's FAILED reason. */
async function invokeUser(
  runner: LambdaRunner,
  fn: TwinFunction,
  event: Record<string, unknown>,
  fail: (reason: string) => never,
): Promise<Record<string, unknown> | undefined> {
  // framework.js names the log group of the function, whatever its LoggingConfig says.
  const result: InvokeResult = await runner.invoke(event);
  if (!result.ok) return fail(`${result.error.errorMessage || 'error'} (Logs: /aws/lambda/${fn.name})`);
  return (result.payload ?? undefined) as Record<string, unknown> | undefined;
}

/** The framework's waiter: the isComplete task's Retry of the state machine WAITER_STATE_MACHINE_ARN names. */
function waiterOf(app: TwinApp, provider: TwinFunction, stack: StackView): typeof DEFAULT_WAITER {
  const ref = provider.rawEnvironment[WAITER_STATE_MACHINE] as { Ref?: unknown } | undefined;
  const machine = typeof ref?.Ref === 'string' ? stack.template.Resources?.[ref.Ref] : undefined;
  if (!machine) return DEFAULT_WAITER;
  try {
    const definition = JSON.parse(
      app.resolver.resolveString(machine.Properties?.DefinitionString, {
        stack,
        where: `${stack.name}/${String(ref?.Ref)} DefinitionString`,
      }),
    ) as {
      States?: Record<string, { Retry?: { IntervalSeconds?: number; MaxAttempts?: number; BackoffRate?: number }[] }>;
    };
    const task = Object.values(definition.States ?? {}).find((s) => (s.Retry ?? []).length > 0);
    const retry = task?.Retry?.[0];
    return {
      intervalSeconds: retry?.IntervalSeconds ?? DEFAULT_WAITER.intervalSeconds,
      maxAttempts: retry?.MaxAttempts ?? DEFAULT_WAITER.maxAttempts,
      backoffRate: retry?.BackoffRate ?? DEFAULT_WAITER.backoffRate,
    };
  } catch {
    return DEFAULT_WAITER;
  }
}

/** The ResponseURLs of direct handlers: HTTPS on 127.0.0.1, started on first use. */
class ResponseServer {
  private server?: https.Server;
  private port = 0;
  private readonly received = new Map<string, ResponseBody>();
  private starting?: Promise<void>;

  constructor(
    private readonly keystoreFile: string,
    private readonly host: string,
  ) {}

  /** The URL for `requestId`. */
  url(requestId: string): string {
    return `https://${this.host}/twin/${requestId}`;
  }

  /** Where the handlers' connections to the host go; valid once start() has run. */
  routes(): Record<string, number> {
    return { [`${this.host}:443`]: this.port };
  }

  start(): Promise<void> {
    this.starting ??= new Promise<void>((resolve) => {
      const pem = fs.readFileSync(this.keystoreFile);
      this.server = https.createServer({ key: pem, cert: pem }, (request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (c: Buffer) => chunks.push(c));
        request.on('end', () => {
          const id = (request.url ?? '').split('/').pop() ?? '';
          try {
            this.received.set(id, JSON.parse(Buffer.concat(chunks).toString('utf8')) as ResponseBody);
            response.writeHead(200).end();
          } catch {
            response.writeHead(400).end();
          }
        });
      });
      this.server.listen(0, '127.0.0.1', () => {
        const address = this.server?.address();
        this.port = typeof address === 'object' && address ? address.port : 0;
        resolve();
      });
    });
    return this.starting;
  }

  take(requestId: string): ResponseBody | undefined {
    const response = this.received.get(requestId);
    this.received.delete(requestId);
    return response;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
