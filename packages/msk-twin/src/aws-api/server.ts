/**
 * The twin's local AWS API endpoint: the few AWS APIs an MSK app's functions call (services.ts), on 127.0.0.1 over
 * HTTP, reached through the SDK's standard endpoint variables (`AWS_ENDPOINT_URL_KAFKA`, `_SSM`, `_EC2`, and
 * `AWS_ENDPOINT_URL` for every other service, which it refuses in one line naming the API). Every call is signed
 * with credentials the twin issued (sigv4.ts) and authorized by the caller role's policies with the evaluator the
 * brokers' decision service uses (authorization/evaluator.ts), so a missing grant is refused as AWS refuses it.
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { Logger } from '../broker/local-kafka';
import { currentEvaluator } from '../authorization/decision-service';
import type { TwinIdentity } from '../identity';
import {
  ApiError,
  ec2Operation,
  kafkaOperation,
  notServed,
  ssmOperation,
  storeParameter,
  type ApiState,
  type AwsApiCluster,
  type Operation,
  type StoredParameter,
} from './services';
import { SignatureError, verifySignature, type IncomingSignedRequest } from './sigv4';

/** The services the endpoint answers, by their endpoint variable's suffix (the SDK's service id). */
export const AWS_API_SERVICES = ['KAFKA', 'SSM', 'EC2'];

export interface AwsApiOptions {
  /** The twin's credential registry and policy set (LocalTwin.registryDir). */
  readonly registryDir: string;
  readonly identity: TwinIdentity;
  readonly cluster: AwsApiCluster;
  /** SSM parameters that exist from the start, by name. @default none */
  readonly parameters?: Readonly<Record<string, string>>;
  /** A line per refused call, with the evaluator's reason. @default silent */
  readonly log?: Logger;
}

type Protocol = 'restJson' | 'json' | 'query';

/** A running endpoint (see startAwsApi). */
export class AwsApiEndpoint {
  constructor(
    private readonly server: http.Server,
    private readonly state: ApiState,
  ) {}

  /** `http://127.0.0.1:<port>` */
  get url(): string {
    const address = this.server.address();
    return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }

  /** The variables that send a function's AWS SDK calls here. */
  environment(): Record<string, string> {
    return {
      AWS_ENDPOINT_URL: this.url,
      ...Object.fromEntries(AWS_API_SERVICES.map((service) => [`AWS_ENDPOINT_URL_${service}`, this.url])),
    };
  }

  /** The value of an SSM parameter, if it exists. */
  parameter(name: string): string | undefined {
    return this.state.parameters.get(name)?.value;
  }

  /** Creates or replaces a String parameter, as CloudFormation's AWS::SSM::Parameter does. */
  putParameter(name: string, value: string): void {
    storeParameter(this.state.parameters, name, value, 'String');
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function protocolOf(service: string | undefined, headers: Readonly<Record<string, string>>): Protocol {
  if (service === 'kafka') return 'restJson';
  if (service === 'ec2' || (headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
    return 'query';
  }
  return headers['x-amz-target'] ? 'json' : 'restJson';
}

/** The operation a request for `service` names, for the refusal of services the endpoint does not answer. */
function otherOperation(service: string, request: IncomingSignedRequest): string {
  const target = request.headers['x-amz-target'];
  if (target) return `${service}:${target.slice(target.lastIndexOf('.') + 1)}`;
  const action = new URLSearchParams(request.body.toString('utf8')).get('Action');
  if (action) return `${service}:${action}`;
  return `${service} (${request.method} ${request.url.split('?')[0]})`;
}

function send(
  response: http.ServerResponse,
  protocol: Protocol,
  requestId: string,
  status: number,
  body: unknown,
): void {
  const headers: Record<string, string> = { 'x-amzn-requestid': requestId };
  if (protocol === 'query') {
    headers['content-type'] = 'text/xml;charset=UTF-8';
    response.writeHead(status, headers);
    response.end(String(body).replace('REQUEST_ID', requestId));
    return;
  }
  headers['content-type'] = protocol === 'json' ? 'application/x-amz-json-1.1' : 'application/json';
  response.writeHead(status, headers);
  response.end(JSON.stringify(body));
}

function sendError(response: http.ServerResponse, protocol: Protocol, requestId: string, error: ApiError): void {
  const escape = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  if (protocol === 'query') {
    send(
      response,
      protocol,
      requestId,
      error.status,
      `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${escape(error.code)}</Code><Message>${escape(error.message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`,
    );
    return;
  }
  if (protocol === 'json') {
    send(response, protocol, requestId, error.status, { __type: error.code, message: error.message });
    return;
  }
  response.writeHead(error.status, {
    'x-amzn-requestid': requestId,
    'x-amzn-errortype': error.code,
    'content-type': 'application/json',
  });
  response.end(JSON.stringify({ message: error.message }));
}

/** The assumed-role session ARN AWS names in a refusal; Lambda names the session after the function. */
function callerArn(roleArn: string, accessKeyId: string): string {
  const m = /^arn:([^:]+):iam::(\d+):role\/(?:.*\/)?([^/]+)$/.exec(roleArn);
  return m ? `arn:${m[1]}:sts::${m[2]}:assumed-role/${m[3]}/${accessKeyId}` : roleArn;
}

/** AWS's AccessDenied wording for an identity-based refusal (the IAM user guide's "access denied" messages). */
function accessDenied(protocol: Protocol, caller: string, operation: Operation, reason: string): ApiError {
  const why = /denied explicitly/.test(reason)
    ? 'with an explicit deny in an identity-based policy'
    : /permissions boundary/.test(reason)
      ? `because no permissions boundary allows the ${operation.action} action`
      : `because no identity-based policy allows the ${operation.action} action`;
  const on = operation.resource === '*' ? '' : ` on resource: ${operation.resource}`;
  const message = `User: ${caller} is not authorized to perform: ${operation.action}${on} ${why}`;
  if (protocol === 'query') {
    return new ApiError('UnauthorizedOperation', 403, `You are not authorized to perform this operation. ${message}`);
  }
  return new ApiError('AccessDeniedException', protocol === 'json' ? 400 : 403, message);
}

/** Starts the endpoint on a free port of 127.0.0.1. */
export async function startAwsApi(options: AwsApiOptions): Promise<AwsApiEndpoint> {
  const parameters = new Map<string, StoredParameter>();
  for (const [name, value] of Object.entries(options.parameters ?? {}))
    storeParameter(parameters, name, value, 'String');
  const state: ApiState = { identity: options.identity, cluster: options.cluster, parameters };
  const evaluatorNow = currentEvaluator(options.registryDir);

  const handle = async (request: IncomingSignedRequest, response: http.ServerResponse): Promise<void> => {
    const requestId = randomUUID();
    const scopeService = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\//.exec(request.headers.authorization ?? '')?.[1];
    let protocol = protocolOf(scopeService, request.headers);
    try {
      const caller = await verifySignature(request, options.registryDir, options.identity.region);
      protocol = protocolOf(caller.service, request.headers);
      let operation: Operation;
      switch (caller.service) {
        case 'kafka':
          operation = kafkaOperation(state, request.method, request.url);
          break;
        case 'ssm':
          operation = ssmOperation(state, request.headers['x-amz-target'], request.body);
          break;
        case 'ec2':
          operation = ec2Operation(state, request.body);
          break;
        default:
          throw notServed(otherOperation(caller.service, request));
      }
      const decision = await evaluatorNow().decideAction(caller.roleArn, operation.action, operation.resource);
      if (!decision.allowed) {
        options.log?.(`AWS API ${operation.action} refused [${requestId}]: ${decision.reason ?? ''}`);
        throw accessDenied(protocol, callerArn(caller.roleArn, caller.accessKeyId), operation, decision.reason ?? '');
      }
      send(response, protocol, requestId, 200, operation.answer());
    } catch (error) {
      if (error instanceof ApiError) {
        sendError(response, protocol, requestId, error);
      } else if (error instanceof SignatureError) {
        const code = protocol === 'query' && error.code === 'UnrecognizedClientException' ? 'AuthFailure' : error.code;
        sendError(response, protocol, requestId, new ApiError(code, 403, error.message));
      } else {
        const message = error instanceof Error ? error.message : String(error);
        sendError(
          response,
          protocol,
          requestId,
          new ApiError('InternalFailure', 500, `The MSK twin failed: ${message}`),
        );
      }
    }
  };

  const server = http.createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(incoming.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
      }
      void handle(
        { method: incoming.method ?? 'GET', url: incoming.url ?? '/', headers, body: Buffer.concat(chunks) },
        response,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return new AwsApiEndpoint(server, state);
}
