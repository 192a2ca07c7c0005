/**
 * The cloud assembly as the local twin sees it: a synthesized CDK app (`cdk synth`'s output directory), read
 * with the CDK's cloud-assembly API. Every value the twin needs (a function's environment, its role's policies, the
 * cluster's broker configuration) is resolved for the local cluster: the account, region and partition are
 * the twin's, the MSK cluster gets a twin ARN, resources without a physical name get a deterministic one
 * derived from their stack and logical id, and the bootstrap-broker value becomes the twin's address.
 * Whatever cannot be resolved fails with one line naming the resource and the property; nothing is guessed.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AssetManifestArtifact, CloudAssembly } from 'aws-cdk-lib/cx-api';
import { DEFAULT_TWIN_IDENTITY, type TwinIdentity } from '../identity';
import type { CustomResourceAnswer, TwinDeployment } from './deployment';

/**
 * The UUID part of the twin cluster's ARN, fixed so that every ARN the twin derives is stable between runs.
 * MSK's own have the same shape (a UUID and a `-<n>` suffix).
 */
export const TWIN_CLUSTER_UUID = '7e1f0c2a-5b9d-4c3e-8f60-000000000001-1';

/** The twin cluster's `CurrentVersion` (GetAtt, DescribeClusterV2); MSK's are opaque strings of this kind. */
export const TWIN_CLUSTER_CURRENT_VERSION = 'K1TWIN';

/** A value of the assembly that the twin cannot resolve or use; the message names the resource and property. */
export class TwinAssemblyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TwinAssemblyError';
  }
}

// ---------------------------------------------------------------------------------------------------------
// Reading the cloud assembly
// ---------------------------------------------------------------------------------------------------------

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Condition?: string;
  readonly Metadata?: Record<string, unknown>;
}

export interface CfnTemplate {
  readonly Resources?: Record<string, CfnResource>;
  readonly Outputs?: Record<string, { readonly Value: unknown; readonly Export?: { readonly Name: unknown } }>;
  readonly Parameters?: Record<string, { readonly Type: string; readonly Default?: unknown }>;
  readonly Conditions?: Record<string, unknown>;
  readonly Mappings?: Record<string, Record<string, Record<string, unknown>>>;
}

export interface MetadataEntry {
  readonly type: string;
  readonly data?: unknown;
}

/** One stack of a cloud assembly: its template and the construct metadata CDK wrote beside it. */
export interface StackView {
  readonly name: string;
  readonly template: CfnTemplate;
  /** Construct path (`/Stack/Producer/Resource`) to its metadata entries. */
  readonly metadata: Readonly<Record<string, readonly MetadataEntry[]>>;
  /** File assets of the stack's asset manifest: hash to the staged directory or file (absolute). */
  readonly fileAssets: Readonly<Record<string, string>>;
}

export interface CloudAssemblyView {
  readonly dir: string;
  /** In deployment order (a stack after the stacks it depends on). */
  readonly stacks: readonly StackView[];
}

/** Reads a cloud assembly directory (`cdk.out`, or any `cdk synth -o DIR`). */
export function readCloudAssembly(dir: string): CloudAssemblyView {
  if (!fs.existsSync(path.join(dir, 'manifest.json'))) {
    throw new TwinAssemblyError(
      `${dir} is not a cloud assembly (no manifest.json): synthesize the app first (cdk synth)`,
    );
  }
  const assembly = new CloudAssembly(dir, { topoSort: true });
  const stacks = assembly.stacksRecursively.map((stack): StackView => {
    const fileAssets: Record<string, string> = {};
    for (const manifest of stack.dependencies.filter(AssetManifestArtifact.isAssetManifestArtifact)) {
      for (const [hash, asset] of Object.entries(manifest.contents.files ?? {})) {
        if (asset.source.path) fileAssets[hash] = path.resolve(manifest.assembly.directory, asset.source.path);
      }
    }
    return {
      name: stack.stackName,
      template: stack.template as CfnTemplate,
      metadata: stack.metadata,
      fileAssets,
    };
  });
  return { dir, stacks };
}

// ---------------------------------------------------------------------------------------------------------
// Names and ARNs of the twin
// ---------------------------------------------------------------------------------------------------------

/**
 * A deterministic physical name for a resource the template leaves unnamed (CloudFormation would add a
 * random suffix): `<stack>-<logicalId>`, shortened with a hash of the full name when longer than `max`.
 */
export function twinPhysicalName(stack: string, logicalId: string, max = 64): string {
  const full = `${stack}-${logicalId}`;
  if (full.length <= max) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 8);
  return `${full.slice(0, max - hash.length - 1)}-${hash}`;
}

export function twinClusterArn(clusterName: string, identity: TwinIdentity = DEFAULT_TWIN_IDENTITY): string {
  return `arn:${identity.partition}:kafka:${identity.region}:${identity.account}:cluster/${clusterName}/${TWIN_CLUSTER_UUID}`;
}

export function twinRoleArn(roleName: string, rolePath = '/', identity: TwinIdentity = DEFAULT_TWIN_IDENTITY): string {
  return `arn:${identity.partition}:iam::${identity.account}:role${rolePath}${roleName}`;
}

// ---------------------------------------------------------------------------------------------------------
// Resolving CloudFormation values for the twin
// ---------------------------------------------------------------------------------------------------------

/** The twin's id of a security group of the app (`sg-` and 17 hex digits, as EC2's), stable per logical id. */
export function twinSecurityGroupId(stack: string, logicalId: string): string {
  return `sg-${createHash('sha256').update(`${stack}/${logicalId}`).digest('hex').slice(0, 17)}`;
}

/** Where the twin's brokers listen; needed only for values that name the bootstrap brokers. */
export interface TwinEndpoint {
  /** `host:port[,host:port]` of the twin's IAM listener. */
  readonly bootstrapBrokers: string;
  /**
   * The environment variable that carries the bootstrap brokers, for templates whose value the twin cannot trace
   * to the cluster (a literal, a parameter): it gets `bootstrapBrokers` whatever the template says.
   * @default found from the template (an SSM parameter or custom resource attribute holding the IAM brokers)
   */
  readonly brokersVariable?: string;
}

/** The resource types whose cluster the twin runs. */
const CLUSTER_TYPES = ['AWS::MSK::Cluster', 'AWS::MSK::ServerlessCluster'];
/**
 * Attributes of a custom resource that carry a cluster's IAM bootstrap brokers: the project's
 * cluster-endpoint resource, or an AwsCustomResource calling GetBootstrapBrokers.
 */
const IAM_BOOTSTRAP_ATTRIBUTE = /^BootstrapBroker(s|String)SaslIam$/;
const OTHER_BOOTSTRAP_ATTRIBUTE = /^BootstrapBroker/;
const NO_VALUE = Symbol('AWS::NoValue');

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

export function isCustomResource(type: string): boolean {
  return type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource';
}

export interface ResolveScope {
  readonly stack: StackView;
  /** `Stack/LogicalId Property.Path`, for error messages. */
  readonly where: string;
  readonly endpoint?: TwinEndpoint;
}

/** Resolves template values for the twin. One instance per assembly; stateless apart from its indexes. */
export class TwinResolver {
  private readonly exports = new Map<string, { stack: StackView; value: unknown; where: string }>();
  private readonly cluster?: { stack: StackView; logicalId: string; arn: string };

  constructor(
    readonly assembly: CloudAssemblyView,
    /** The partition, account and region every ARN and pseudo parameter resolves to. */
    readonly identity: TwinIdentity = DEFAULT_TWIN_IDENTITY,
    /**
     * What the twin's deploy has created so far: custom resource attributes and SSM parameters come from it. Without
     * one, the bootstrap-broker attributes resolve to the twin's address and SSM parameters to the template's values.
     */
    readonly deployment?: TwinDeployment,
  ) {
    const clusters = this.resourcesOfType(CLUSTER_TYPES);
    if (clusters.length > 1) {
      throw new TwinAssemblyError(
        `The local twin runs one MSK cluster; the assembly declares ${clusters.length}: ${clusters.map((c) => `${c.stack.name}/${c.logicalId}`).join(', ')}`,
      );
    }
    const [found] = clusters;
    if (found) {
      const where = `${found.stack.name}/${found.logicalId} ClusterName`;
      const name = this.resolve(found.resource.Properties?.ClusterName, { stack: found.stack, where });
      if (typeof name !== 'string' || name === '') {
        throw new TwinAssemblyError(`${where}: ${show(name)} is not a cluster name`);
      }
      this.cluster = { stack: found.stack, logicalId: found.logicalId, arn: twinClusterArn(name, identity) };
    }
    for (const stack of assembly.stacks) {
      for (const [outputId, output] of Object.entries(stack.template.Outputs ?? {})) {
        if (output.Export === undefined) continue;
        const where = `${stack.name} Outputs.${outputId}.Export.Name`;
        const name = this.resolve(output.Export.Name, { stack, where });
        if (typeof name !== 'string') throw new TwinAssemblyError(`${where}: ${show(name)} is not an export name`);
        this.exports.set(name, { stack, value: output.Value, where: `${stack.name} Outputs.${outputId}.Value` });
      }
    }
  }

  /** The twin ARN of the app's MSK cluster, if it has one. */
  get clusterArn(): string | undefined {
    return this.cluster?.arn;
  }

  /** Every resource of the given types, in every stack. */
  resourcesOfType(types: readonly string[]): { stack: StackView; logicalId: string; resource: CfnResource }[] {
    return this.assembly.stacks.flatMap((stack) =>
      Object.entries(stack.template.Resources ?? {})
        .filter(([, resource]) => types.includes(resource.Type) && this.exists(stack, resource))
        .map(([logicalId, resource]) => ({ stack, logicalId, resource })),
    );
  }

  /** A resource whose Condition is false is not created. */
  exists(stack: StackView, resource: CfnResource): boolean {
    if (resource.Condition === undefined) return true;
    return this.condition(resource.Condition, { stack, where: `${stack.name} Condition ${resource.Condition}` });
  }

  /** The resolved value: strings, numbers, booleans, arrays and objects without intrinsics. */
  resolve(value: unknown, scope: ResolveScope): unknown {
    const resolved = this.value(value, scope);
    return resolved === NO_VALUE ? undefined : resolved;
  }

  /** Resolves to a string, or fails naming the scope. */
  resolveString(value: unknown, scope: ResolveScope): string {
    const resolved = this.resolve(value, scope);
    if (typeof resolved === 'string') return resolved;
    if (typeof resolved === 'number' || typeof resolved === 'boolean') return String(resolved);
    throw new TwinAssemblyError(`${scope.where}: ${show(value)} resolves to ${show(resolved)}, not a string`);
  }

  private fail(scope: ResolveScope, value: unknown, why: string): never {
    throw new TwinAssemblyError(`${scope.where}: cannot resolve ${show(value)} for the local twin (${why})`);
  }

  private value(value: unknown, scope: ResolveScope): unknown {
    if (typeof value === 'string') return this.dynamicReferences(value, scope);
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) {
      return value.map((v) => this.value(v, scope)).filter((v) => v !== NO_VALUE);
    }
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    if (keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::'))) {
      return this.intrinsic(keys[0], record[keys[0]], scope);
    }
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(record)) {
      const resolved = this.value(v, scope);
      if (resolved !== NO_VALUE) out[key] = resolved;
    }
    return out;
  }

  private intrinsic(name: string, arg: unknown, scope: ResolveScope): unknown {
    const original = { [name]: arg };
    switch (name) {
      case 'Ref':
        if (typeof arg !== 'string') return this.fail(scope, original, 'Ref needs a name');
        return this.ref(arg, scope);
      case 'Fn::GetAtt': {
        const parts = typeof arg === 'string' ? [arg.slice(0, arg.indexOf('.')), arg.slice(arg.indexOf('.') + 1)] : arg;
        if (!Array.isArray(parts) || parts.length !== 2) return this.fail(scope, original, 'malformed Fn::GetAtt');
        const attribute = this.value(parts[1], scope);
        if (typeof parts[0] !== 'string' || typeof attribute !== 'string') {
          return this.fail(scope, original, 'malformed Fn::GetAtt');
        }
        return this.getAtt(parts[0], attribute, scope);
      }
      case 'Fn::Join': {
        if (!Array.isArray(arg) || arg.length !== 2 || typeof arg[0] !== 'string') {
          return this.fail(scope, original, 'malformed Fn::Join');
        }
        const list = this.value(arg[1], scope);
        if (!Array.isArray(list)) return this.fail(scope, original, 'Fn::Join needs a list');
        return list.map((item) => this.scalar(item, scope, original)).join(arg[0]);
      }
      case 'Fn::Select': {
        if (!Array.isArray(arg) || arg.length !== 2) return this.fail(scope, original, 'malformed Fn::Select');
        const index = Number(this.value(arg[0], scope));
        const list = this.value(arg[1], scope);
        if (!Array.isArray(list) || !Number.isInteger(index) || index < 0 || index >= list.length) {
          return this.fail(scope, original, `index ${index} is outside the list ${show(list)}`);
        }
        return list[index] as unknown;
      }
      case 'Fn::Split': {
        if (!Array.isArray(arg) || arg.length !== 2 || typeof arg[0] !== 'string') {
          return this.fail(scope, original, 'malformed Fn::Split');
        }
        return this.scalar(this.value(arg[1], scope), scope, original).split(arg[0]);
      }
      case 'Fn::Sub':
        return this.sub(arg, scope, original);
      case 'Fn::ImportValue': {
        const exportName = this.scalar(this.value(arg, scope), scope, original);
        const exported = this.exports.get(exportName);
        if (!exported) return this.fail(scope, original, `no stack of this app exports ${exportName}`);
        return this.value(exported.value, { ...scope, stack: exported.stack });
      }
      case 'Fn::If': {
        if (!Array.isArray(arg) || arg.length !== 3 || typeof arg[0] !== 'string') {
          return this.fail(scope, original, 'malformed Fn::If');
        }
        return this.value(this.condition(arg[0], scope) ? arg[1] : arg[2], scope);
      }
      case 'Fn::FindInMap': {
        if (!Array.isArray(arg) || arg.length !== 3) return this.fail(scope, original, 'malformed Fn::FindInMap');
        const [map, first, second] = arg.map((a) => this.scalar(this.value(a, scope), scope, original));
        const found = scope.stack.template.Mappings?.[map]?.[first]?.[second];
        if (found === undefined) return this.fail(scope, original, `no entry ${map}.${first}.${second}`);
        return this.value(found, scope);
      }
      case 'Fn::Base64':
        return Buffer.from(this.scalar(this.value(arg, scope), scope, original)).toString('base64');
      default:
        return this.fail(scope, original, `${name} is not supported by the twin`);
    }
  }

  private scalar(value: unknown, scope: ResolveScope, original: unknown): string {
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    return this.fail(scope, original, `${show(value)} is not a string`);
  }

  private condition(name: string, scope: ResolveScope): boolean {
    const definition = scope.stack.template.Conditions?.[name];
    if (definition === undefined) return this.fail(scope, { Condition: name }, 'no such condition');
    return this.evaluate(definition, scope);
  }

  private evaluate(expression: unknown, scope: ResolveScope): boolean {
    const record = (expression ?? {}) as Record<string, unknown>;
    const [name] = Object.keys(record);
    const arg = record[name];
    const args = Array.isArray(arg) ? arg : [];
    switch (name) {
      case 'Condition':
        return this.condition(String(arg), scope);
      case 'Fn::Equals':
        return show(this.value(args[0], scope)) === show(this.value(args[1], scope));
      case 'Fn::Not':
        return !this.evaluate(args[0], scope);
      case 'Fn::And':
        return args.every((a) => this.evaluate(a, scope));
      case 'Fn::Or':
        return args.some((a) => this.evaluate(a, scope));
      default:
        return this.fail(scope, expression, 'not a condition function');
    }
  }

  private sub(arg: unknown, scope: ResolveScope, original: unknown): string {
    const parts: unknown[] = typeof arg === 'string' ? [arg, {}] : Array.isArray(arg) ? arg : [];
    const text = parts[0];
    if (typeof text !== 'string') return this.fail(scope, original, 'malformed Fn::Sub');
    const vars = (parts[1] ?? {}) as Record<string, unknown>;
    // ${!Literal} writes ${Literal}; ${Name} and ${Resource.Attribute} are substituted.
    return text.replace(/\$\{([^}]*)\}/g, (_match, inner: string) => {
      if (inner.startsWith('!')) return `\${${inner.slice(1)}}`;
      if (inner in vars) return this.scalar(this.value(vars[inner], scope), scope, original);
      const dot = inner.indexOf('.');
      if (dot > 0 && !inner.startsWith('AWS::')) {
        return this.scalar(this.getAtt(inner.slice(0, dot), inner.slice(dot + 1), scope), scope, original);
      }
      return this.scalar(this.ref(inner, scope), scope, original);
    });
  }

  /** `{{resolve:ssm:NAME}}` names an SSM parameter; the twin knows its value when this app creates it. */
  private dynamicReferences(text: string, scope: ResolveScope): string {
    return text.replace(/\{\{resolve:([a-z-]+):([^}]*)\}\}/g, (match, service: string, reference: string) => {
      if (service !== 'ssm') {
        return this.fail(scope, match, `the twin resolves only ssm dynamic references, not ${service}`);
      }
      return this.ssmParameter(reference.replace(/:\d+$/, ''), scope);
    });
  }

  private ssmParameter(name: string, scope: ResolveScope): string {
    if (this.deployment) {
      const value = this.deployment.parameters[name];
      if (value !== undefined) return value;
      return this.fail(
        scope,
        `{{resolve:ssm:${name}}}`,
        `SSM parameter ${name} does not exist: no stack deployed before this one creates it`,
      );
    }
    for (const found of this.resourcesOfType(['AWS::SSM::Parameter'])) {
      const where = `${found.stack.name}/${found.logicalId} Name`;
      const paramName =
        found.resource.Properties?.Name === undefined
          ? twinPhysicalName(found.stack.name, found.logicalId, 2048)
          : this.resolveString(found.resource.Properties.Name, { ...scope, stack: found.stack, where });
      if (paramName !== name) continue;
      return this.resolveString(found.resource.Properties?.Value, {
        ...scope,
        stack: found.stack,
        where: `${found.stack.name}/${found.logicalId} Value`,
      });
    }
    return this.fail(scope, `{{resolve:ssm:${name}}}`, `SSM parameter ${name} is not created by this app`);
  }

  private ref(name: string, scope: ResolveScope): unknown {
    switch (name) {
      case 'AWS::Region':
        return this.identity.region;
      case 'AWS::AccountId':
        return this.identity.account;
      case 'AWS::Partition':
        return this.identity.partition;
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return scope.stack.name;
      case 'AWS::NoValue':
        return NO_VALUE;
      default:
        break;
    }
    const parameter = scope.stack.template.Parameters?.[name];
    if (parameter) {
      if (parameter.Default === undefined) {
        return this.fail(scope, { Ref: name }, `parameter ${name} has no default and the twin passes no parameters`);
      }
      if (parameter.Type.startsWith('AWS::SSM::Parameter::Value<')) {
        return this.ssmParameter(this.scalar(parameter.Default, scope, { Ref: name }), scope);
      }
      return parameter.Default;
    }
    const resource = scope.stack.template.Resources?.[name];
    if (!resource) return this.fail(scope, { Ref: name }, `no resource or parameter ${name} in ${scope.stack.name}`);
    const props = resource.Properties ?? {};
    const own = (key: string, max: number): string =>
      props[key] === undefined
        ? twinPhysicalName(scope.stack.name, name, max)
        : this.resolveString(props[key], { ...scope, where: `${scope.stack.name}/${name} ${key}` });
    switch (resource.Type) {
      case 'AWS::MSK::Cluster':
      case 'AWS::MSK::ServerlessCluster':
        return this.clusterArnOf(scope.stack, name, scope);
      case 'AWS::IAM::Role':
        return own('RoleName', 64);
      case 'AWS::Lambda::Function':
        return own('FunctionName', 64);
      case 'AWS::Logs::LogGroup':
        return own('LogGroupName', 512);
      case 'AWS::SSM::Parameter':
        return own('Name', 2048);
      case 'AWS::IAM::ManagedPolicy':
        return this.managedPolicyArn(scope.stack, name, scope);
      case 'AWS::EC2::SecurityGroup':
        return twinSecurityGroupId(scope.stack.name, name);
      default:
        if (isCustomResource(resource.Type) && this.deployment) {
          return this.answerOf(scope, name, { Ref: name }).physicalResourceId;
        }
        return this.fail(scope, { Ref: name }, `the twin has no value for a Ref to ${resource.Type}`);
    }
  }

  private getAtt(logicalId: string, attribute: string, scope: ResolveScope): unknown {
    const original = { 'Fn::GetAtt': [logicalId, attribute] };
    const resource = scope.stack.template.Resources?.[logicalId];
    if (!resource) return this.fail(scope, original, `no resource ${logicalId} in ${scope.stack.name}`);
    const arn = (service: string, rest: string): string =>
      `arn:${this.identity.partition}:${service}:${this.identity.region}:${this.identity.account}:${rest}`;
    switch (`${resource.Type}.${attribute}`) {
      case 'AWS::MSK::Cluster.Arn':
      case 'AWS::MSK::ServerlessCluster.Arn':
        return this.clusterArnOf(scope.stack, logicalId, scope);
      case 'AWS::MSK::Cluster.CurrentVersion':
        this.clusterArnOf(scope.stack, logicalId, scope);
        return TWIN_CLUSTER_CURRENT_VERSION;
      case 'AWS::IAM::Role.Arn': {
        const props = resource.Properties ?? {};
        const rolePath = props.Path === undefined ? '/' : this.resolveString(props.Path, scope);
        return twinRoleArn(this.ref(logicalId, scope) as string, rolePath, this.identity);
      }
      case 'AWS::Lambda::Function.Arn':
        return arn('lambda', `function:${String(this.ref(logicalId, scope))}`);
      case 'AWS::Logs::LogGroup.Arn':
        return arn('logs', `log-group:${String(this.ref(logicalId, scope))}:*`);
      case 'AWS::SSM::Parameter.Value':
        return this.value(resource.Properties?.Value, { ...scope, where: `${scope.stack.name}/${logicalId} Value` });
      case 'AWS::IAM::ManagedPolicy.PolicyArn':
        return this.managedPolicyArn(scope.stack, logicalId, scope);
      case 'AWS::EC2::SecurityGroup.GroupId':
        return twinSecurityGroupId(scope.stack.name, logicalId);
      default:
        break;
    }
    if (isCustomResource(resource.Type) && this.deployment) {
      const answer = this.answerOf(scope, logicalId, original);
      if (!(attribute in answer.data)) {
        const known = Object.keys(answer.data).join(', ') || 'none';
        return this.fail(scope, original, `the resource's answer has no attribute ${attribute}; it has: ${known}`);
      }
      return answer.data[attribute];
    }
    if (isCustomResource(resource.Type) && IAM_BOOTSTRAP_ATTRIBUTE.test(attribute)) {
      if (!scope.endpoint) {
        return this.fail(scope, original, "it is the cluster's bootstrap brokers and no twin address was given");
      }
      return scope.endpoint.bootstrapBrokers;
    }
    if (isCustomResource(resource.Type) && OTHER_BOOTSTRAP_ATTRIBUTE.test(attribute)) {
      return this.fail(scope, original, 'the twin listens only for TLS with IAM, as the cluster does');
    }
    return this.fail(scope, original, `the twin has no value for ${resource.Type} attribute ${attribute}`);
  }

  /** The answer of a custom resource the deploy ran; fails naming why there is none. */
  private answerOf(scope: ResolveScope, logicalId: string, original: unknown): CustomResourceAnswer {
    const key = `${scope.stack.name}/${logicalId}`;
    const answer = this.deployment?.answers[key];
    if (answer) return answer;
    const notRun = this.deployment?.notRun[key];
    return this.fail(
      scope,
      original,
      notRun === undefined ? `custom resource ${key} has not been created` : `the twin did not run ${key}: ${notRun}`,
    );
  }

  private clusterArnOf(stack: StackView, logicalId: string, scope: ResolveScope): string {
    if (!this.cluster || this.cluster.stack !== stack || this.cluster.logicalId !== logicalId) {
      return this.fail(scope, { Ref: logicalId }, 'not the cluster the twin runs');
    }
    return this.cluster.arn;
  }

  private managedPolicyArn(stack: StackView, logicalId: string, scope: ResolveScope): string {
    const props = stack.template.Resources?.[logicalId]?.Properties ?? {};
    const policyPath = props.Path === undefined ? '/' : this.resolveString(props.Path, scope);
    const name =
      props.ManagedPolicyName === undefined
        ? twinPhysicalName(stack.name, logicalId, 128)
        : this.resolveString(props.ManagedPolicyName, scope);
    return `arn:${this.identity.partition}:iam::${this.identity.account}:policy${policyPath}${name}`;
  }
}

// ---------------------------------------------------------------------------------------------------------
// What the twin needs from the assembly
// ---------------------------------------------------------------------------------------------------------

export interface TwinCluster {
  readonly stack: string;
  readonly logicalId: string;
  readonly name: string;
  /** `arn:<partition>:kafka:<region>:<account>:cluster/<name>/<TWIN_CLUSTER_UUID>` (the twin's identity) */
  readonly arn: string;
  readonly serverless: boolean;
  /** The cluster's Tags: what `aws:ResourceTag/<key>` conditions on cluster actions see. @default none */
  readonly tags?: Readonly<Record<string, string>>;
  /** MSK version string, e.g. `3.9.x.kraft`. */
  readonly kafkaVersion?: string;
  readonly instanceType?: string;
  readonly brokerCount?: number;
  /** Availability zones (one client subnet each). */
  readonly azCount?: number;
  /** The `ServerProperties` text of the cluster's `AWS::MSK::Configuration`; undefined when it has none. */
  readonly serverProperties?: string;
  /** `Stack/LogicalId` of that configuration. */
  readonly configuration?: string;
  /** The client authentication methods `ClientAuthentication` enables (none enabled: unauthenticated). */
  readonly clientAuthentication: ClientAuthentication;
  /** `EncryptionInfo.EncryptionInTransit`, with MSK's defaults (TLS, in-cluster encryption on). */
  readonly encryptionInTransit: EncryptionInTransit;
}

export interface ClientAuthentication {
  readonly iam: boolean;
  readonly scram: boolean;
  /** Mutual TLS with client certificates (`ClientAuthentication.Tls`). */
  readonly tls: boolean;
  readonly unauthenticated: boolean;
}

export interface EncryptionInTransit {
  readonly clientBroker: 'TLS' | 'TLS_PLAINTEXT' | 'PLAINTEXT';
  readonly inCluster: boolean;
}

/** A Lambda function of the app, as the twin runs it. */
export interface TwinFunction {
  readonly stack: string;
  readonly logicalId: string;
  /** The function's name (FunctionName, or the twin's deterministic name). */
  readonly name: string;
  /** `index.handler`: the file and export Lambda calls. */
  readonly handler: string;
  /** Construct path without the stack and `/Resource`, e.g. `Producer` or `Topics/OnEvent`; how tests and the CLI name it. */
  readonly path: string;
  /** The staged code (the asset directory `cdk deploy` zips); undefined when the assembly holds none. */
  readonly codeDir?: string;
  readonly runtime?: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly roleArn: string;
  readonly logGroupName: string;
  /** LoggingConfig.LogFormat, e.g. `JSON`. */
  readonly logFormat?: string;
  readonly applicationLogLevel?: string;
  /** True when it reaches Kafka: KAFKA_BROKERS in its environment, or kafka-cluster actions on its role. */
  readonly kafka: boolean;
  /** Environment.Variables, unresolved, as in the template. */
  readonly rawEnvironment: Readonly<Record<string, unknown>>;
}

/** One statement of a policy attached to a role; Resource is resolved on demand. */
export interface RoleStatement {
  /** `Stack/PolicyLogicalId PolicyDocument.Statement[1]` */
  readonly where: string;
  /** The policy the statement belongs to, e.g. `AWS::IAM::Policy ProducerServiceRoleDefaultPolicyC3F7E596`. */
  readonly policy: string;
  readonly sid?: string;
  readonly effect: string;
  readonly actions?: readonly string[];
  readonly notActions?: readonly string[];
  readonly hasCondition: boolean;
  readonly hasNotResource: boolean;
  /** The Resource element, resolved for the twin (throws TwinAssemblyError naming the statement). */
  resources(): string[];
  /** The NotResource element, resolved; undefined when the statement has none. */
  notResources(): string[] | undefined;
  /** The Condition element, resolved; undefined when the statement has none. */
  condition(): Record<string, unknown> | undefined;
}

export interface TwinRole {
  readonly stack: string;
  readonly logicalId: string;
  readonly name: string;
  /** `arn:<partition>:iam::<account>:role/<name>` */
  readonly arn: string;
  /** The statements of its inline policies and of the app's managed policies attached to it. */
  readonly statements: readonly RoleStatement[];
  /**
   * Managed policies attached to it whose documents the assembly does not hold: AWS managed ones
   * (`arn:aws:iam::aws:policy/...`) and customer managed ones created outside the app.
   */
  readonly externalManagedPolicyArns: readonly string[];
  /** Its PermissionsBoundary: the managed policy's ARN, and its statements when the app creates it. */
  readonly permissionsBoundary?: { readonly arn: string; readonly statements?: readonly RoleStatement[] };
}

export interface TwinApp {
  readonly assembly: CloudAssemblyView;
  readonly resolver: TwinResolver;
  readonly cluster: TwinCluster;
  readonly functions: readonly TwinFunction[];
  /** The functions that reach Kafka. */
  readonly kafkaFunctions: readonly TwinFunction[];
  readonly roles: readonly TwinRole[];
}

/** Lambda's defaults when a template leaves Timeout and MemorySize out (AWS::Lambda::Function reference). */
const DEFAULT_TIMEOUT_SECONDS = 3;
const DEFAULT_MEMORY_MB = 128;

/** Reads the cluster, the functions and the roles (with their policies) the twin needs from an assembly. */
export function describeTwinApp(assembly: CloudAssemblyView, identity: TwinIdentity = DEFAULT_TWIN_IDENTITY): TwinApp {
  const resolver = new TwinResolver(assembly, identity);
  const cluster = describeCluster(resolver);
  const roles = describeRoles(resolver);
  const functions = resolver.resourcesOfType(['AWS::Lambda::Function']).map(({ stack, logicalId, resource }) => {
    const scope = (property: string) => ({ stack, where: `${stack.name}/${logicalId} ${property}` });
    const props = resource.Properties ?? {};
    const env = (props.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
    const roleArn = resolver.resolveString(props.Role, scope('Role'));
    const name = resolver.resolveString({ Ref: logicalId }, scope('FunctionName'));
    const logging = (props.LoggingConfig ?? {}) as Record<string, unknown>;
    const logGroupName =
      logging.LogGroup === undefined
        ? `/aws/lambda/${name}`
        : resolver.resolveString(logging.LogGroup, scope('LoggingConfig.LogGroup'));
    const role = roles.find((r) => r.arn === roleArn);
    const kafka =
      'KAFKA_BROKERS' in env || (role?.statements.some((s) => (s.actions ?? []).some(mayNameKafkaAction)) ?? false);
    const fn: TwinFunction = {
      stack: stack.name,
      logicalId,
      name,
      handler: resolver.resolveString(props.Handler, scope('Handler')),
      path: constructPath(resource, stack, logicalId),
      codeDir: codeDirOf(resource, stack, assembly.dir),
      runtime: props.Runtime === undefined ? undefined : resolver.resolveString(props.Runtime, scope('Runtime')),
      timeoutSeconds:
        props.Timeout === undefined
          ? DEFAULT_TIMEOUT_SECONDS
          : Number(resolver.resolve(props.Timeout, scope('Timeout'))),
      memoryMb:
        props.MemorySize === undefined
          ? DEFAULT_MEMORY_MB
          : Number(resolver.resolve(props.MemorySize, scope('MemorySize'))),
      roleArn,
      logGroupName,
      logFormat:
        logging.LogFormat === undefined
          ? undefined
          : resolver.resolveString(logging.LogFormat, scope('LoggingConfig.LogFormat')),
      applicationLogLevel:
        logging.ApplicationLogLevel === undefined
          ? undefined
          : resolver.resolveString(logging.ApplicationLogLevel, scope('LoggingConfig.ApplicationLogLevel')),
      kafka,
      rawEnvironment: env,
    };
    return fn;
  });
  return {
    assembly,
    resolver,
    cluster,
    functions,
    kafkaFunctions: functions.filter((f) => f.kafka),
    roles,
  };
}

/** The app resolving custom resource attributes and SSM parameters from `deployment` (see TwinResolver). */
export function withDeployment(app: TwinApp, deployment: TwinDeployment): TwinApp {
  return { ...app, resolver: new TwinResolver(app.assembly, app.resolver.identity, deployment) };
}

/**
 * The function's Environment.Variables resolved for the twin: the bootstrap-broker value becomes
 * `endpoint.bootstrapBrokers`, every other intrinsic its twin value.
 */
export function functionEnvironment(
  app: Pick<TwinApp, 'assembly' | 'resolver'>,
  fn: TwinFunction,
  endpoint: TwinEndpoint,
): Record<string, string> {
  const stack = app.assembly.stacks.find((s) => s.name === fn.stack);
  if (!stack) throw new TwinAssemblyError(`${fn.stack}/${fn.logicalId}: stack ${fn.stack} is not in the assembly`);
  return Object.fromEntries(
    Object.entries(fn.rawEnvironment).map(([key, value]) => [
      key,
      key === endpoint.brokersVariable
        ? endpoint.bootstrapBrokers
        : app.resolver.resolveString(value, {
            stack,
            endpoint,
            where: `${fn.stack}/${fn.logicalId} Environment.Variables.${key}`,
          }),
    ]),
  );
}

/** `kafka-cluster:…`, or a wildcard that can stand for such an action (`*`, `kafka*:…`). */
function mayNameKafkaAction(action: string): boolean {
  const lower = action.toLowerCase();
  return lower.startsWith('kafka-cluster:') || lower === '*' || /^kafka[^:]*\*/.test(lower);
}

/** The resource's construct path (the template's `aws:cdk:path`, else the manifest's logical-id metadata). */
function constructPath(resource: CfnResource, stack: StackView, logicalId: string): string {
  let full = resource.Metadata?.['aws:cdk:path'];
  if (typeof full !== 'string') {
    full = Object.entries(stack.metadata)
      .find(([, entries]) => entries.some((e) => e.type === 'aws:cdk:logicalId' && e.data === logicalId))?.[0]
      ?.replace(/^\//, '');
  }
  if (typeof full !== 'string') return logicalId;
  return full.replace(/\/Resource$/, '').slice(stack.name.length + 1) || logicalId;
}

/** The asset of `Code.S3Key` in the stack's asset manifest, else the `aws:asset:path` metadata CDK adds. */
function codeDirOf(resource: CfnResource, stack: StackView, assemblyDir: string): string | undefined {
  const code = (resource.Properties?.Code ?? {}) as { S3Key?: unknown };
  const key = typeof code.S3Key === 'string' ? code.S3Key.replace(/\.zip$/, '') : undefined;
  if (key && stack.fileAssets[key]) return stack.fileAssets[key];
  const assetPath = resource.Metadata?.['aws:asset:path'];
  return typeof assetPath === 'string' ? path.resolve(assemblyDir, assetPath) : undefined;
}

/**
 * The function named `name`: its construct path (`Topics/OnEvent`, or any tail of it such as `OnEvent`), its
 * path with the stack's name, its logical id or its function name. Fails in one line listing the names it knows.
 */
export function findFunction(functions: readonly TwinFunction[], name: string): TwinFunction {
  const matches = functions.filter(
    (f) =>
      f.path === name ||
      f.path.endsWith(`/${name}`) ||
      `${f.stack}/${f.path}` === name ||
      f.logicalId === name ||
      f.name === name,
  );
  if (matches.length === 1) return matches[0];
  const known = functions.map((f) => f.path).join(', ');
  if (matches.length === 0)
    throw new TwinAssemblyError(`No function of the assembly is named ${name}; known: ${known}`);
  throw new TwinAssemblyError(
    `${name} names ${matches.length} functions (${matches.map((f) => `${f.stack}/${f.path}`).join(', ')}); give more of the construct path`,
  );
}

function describeCluster(resolver: TwinResolver): TwinCluster {
  const [found] = resolver.resourcesOfType(CLUSTER_TYPES);
  if (!found || !resolver.clusterArn) {
    throw new TwinAssemblyError(
      'The assembly declares no MSK cluster (AWS::MSK::Cluster or AWS::MSK::ServerlessCluster)',
    );
  }
  const { stack, logicalId, resource } = found;
  const props = resource.Properties ?? {};
  const scope = (property: string) => ({ stack, where: `${stack.name}/${logicalId} ${property}` });
  const name = resolver.resolveString(props.ClusterName, scope('ClusterName'));
  const serverless = resource.Type === 'AWS::MSK::ServerlessCluster';
  const nodeGroup = (props.BrokerNodeGroupInfo ?? {}) as Record<string, unknown>;
  const subnets = (serverless ? undefined : nodeGroup.ClientSubnets) as unknown[] | undefined;
  let serverProperties: string | undefined;
  let configuration: string | undefined;
  const info = props.ConfigurationInfo as { Arn?: unknown } | undefined;
  if (info?.Arn !== undefined) {
    const arn = info.Arn as Record<string, unknown>;
    const target = (arn['Fn::GetAtt'] as unknown[] | undefined)?.[0] ?? arn.Ref;
    const config = typeof target === 'string' ? stack.template.Resources?.[target] : undefined;
    if (!config || config.Type !== 'AWS::MSK::Configuration') {
      throw new TwinAssemblyError(
        `${stack.name}/${logicalId} ConfigurationInfo.Arn: ${show(info.Arn)} does not name an AWS::MSK::Configuration of this stack`,
      );
    }
    configuration = `${stack.name}/${String(target)}`;
    serverProperties = resolver.resolveString(config.Properties?.ServerProperties ?? '', {
      stack,
      where: `${configuration} ServerProperties`,
    });
  }
  return {
    stack: stack.name,
    logicalId,
    name,
    arn: resolver.clusterArn,
    serverless,
    tags: props.Tags === undefined ? undefined : clusterTags(resolver.resolve(props.Tags, scope('Tags'))),
    kafkaVersion:
      props.KafkaVersion === undefined ? undefined : resolver.resolveString(props.KafkaVersion, scope('KafkaVersion')),
    instanceType:
      nodeGroup.InstanceType === undefined
        ? undefined
        : resolver.resolveString(nodeGroup.InstanceType, scope('BrokerNodeGroupInfo.InstanceType')),
    brokerCount:
      props.NumberOfBrokerNodes === undefined
        ? undefined
        : Number(resolver.resolve(props.NumberOfBrokerNodes, scope('NumberOfBrokerNodes'))),
    azCount: Array.isArray(subnets) ? subnets.length : undefined,
    serverProperties,
    configuration,
    clientAuthentication: clientAuthenticationOf(
      resolver.resolve(props.ClientAuthentication, scope('ClientAuthentication')),
    ),
    encryptionInTransit: encryptionInTransitOf(
      resolver.resolve(props.EncryptionInfo, scope('EncryptionInfo')),
      `${stack.name}/${logicalId} EncryptionInfo.EncryptionInTransit.ClientBroker`,
    ),
  };
}

/** MSK creates a cluster without `ClientAuthentication` for unauthenticated clients. */
function clientAuthenticationOf(value: unknown): ClientAuthentication {
  const auth = (value ?? {}) as {
    Sasl?: { Iam?: { Enabled?: unknown }; Scram?: { Enabled?: unknown } };
    Tls?: { Enabled?: unknown; CertificateAuthorityArnList?: unknown[] };
    Unauthenticated?: { Enabled?: unknown };
  };
  const on = (v: unknown) => v === true || v === 'true';
  const iam = on(auth.Sasl?.Iam?.Enabled);
  const scram = on(auth.Sasl?.Scram?.Enabled);
  const tls =
    auth.Tls !== undefined &&
    (auth.Tls.Enabled === undefined ? (auth.Tls.CertificateAuthorityArnList ?? []).length > 0 : on(auth.Tls.Enabled));
  const unauthenticated = on(auth.Unauthenticated?.Enabled) || (value === undefined && !iam && !scram && !tls);
  return { iam, scram, tls, unauthenticated };
}

function encryptionInTransitOf(value: unknown, where: string): EncryptionInTransit {
  const inTransit = ((value ?? {}) as { EncryptionInTransit?: { ClientBroker?: unknown; InCluster?: unknown } })
    .EncryptionInTransit;
  const clientBroker = inTransit?.ClientBroker ?? 'TLS';
  if (clientBroker !== 'TLS' && clientBroker !== 'TLS_PLAINTEXT' && clientBroker !== 'PLAINTEXT') {
    throw new TwinAssemblyError(`${where}: ${show(clientBroker)} is not valid; allowed: TLS, TLS_PLAINTEXT, PLAINTEXT`);
  }
  return { clientBroker, inCluster: inTransit?.InCluster === undefined ? true : inTransit.InCluster !== false };
}

/** MSK's Tags are a JSON object of strings; a list of `{ Key, Value }` is accepted too. */
function clusterTags(value: unknown): Record<string, string> {
  if (Array.isArray(value)) {
    return Object.fromEntries(value.map((t: { Key?: unknown; Value?: unknown }) => [String(t.Key), String(t.Value)]));
  }
  return Object.fromEntries(Object.entries((value ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
}

function describeRoles(resolver: TwinResolver): TwinRole[] {
  const roles = resolver.resourcesOfType(['AWS::IAM::Role']).map((found) => {
    const { stack, logicalId } = found;
    const scope = (property: string) => ({ stack, where: `${stack.name}/${logicalId} ${property}` });
    const name = resolver.resolveString({ Ref: logicalId }, scope('RoleName'));
    const arn = resolver.resolveString({ 'Fn::GetAtt': [logicalId, 'Arn'] }, scope('Path'));
    return {
      found,
      name,
      arn,
      statements: [] as RoleStatement[],
      managedPolicyArns: [] as string[],
      boundaryArn: undefined as string | undefined,
    };
  });
  const byName = (name: string) => roles.find((r) => r.name === name);

  const collect = (into: RoleStatement[], stack: StackView, document: unknown, where: string, policy: string) => {
    const raw = (document as { Statement?: unknown } | undefined)?.Statement;
    const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
    list.forEach((s: unknown, i) => {
      const statement = (s ?? {}) as Record<string, unknown>;
      const at = `${where}.Statement[${i}]`;
      const scope = { stack, where: at };
      const names = (key: string): string[] | undefined => {
        if (statement[key] === undefined) return undefined;
        const value = resolver.resolve(statement[key], { ...scope, where: `${at}.${key}` });
        const arr = Array.isArray(value) ? value : [value];
        return arr.map((a) => String(a));
      };
      into.push({
        where: at,
        policy,
        sid: typeof statement.Sid === 'string' ? statement.Sid : undefined,
        effect: typeof statement.Effect === 'string' ? statement.Effect : show(statement.Effect),
        actions: names('Action'),
        notActions: names('NotAction'),
        hasCondition: statement.Condition !== undefined,
        hasNotResource: statement.NotResource !== undefined,
        resources: () => names('Resource') ?? [],
        notResources: () => names('NotResource'),
        condition: () =>
          statement.Condition === undefined
            ? undefined
            : (resolver.resolve(statement.Condition, { ...scope, where: `${at}.Condition` }) as Record<
                string,
                unknown
              >),
      });
    });
  };

  for (const role of roles) {
    const { stack, logicalId, resource } = role.found;
    const props = resource.Properties ?? {};
    const inline = (props.Policies ?? []) as { PolicyName?: unknown; PolicyDocument?: unknown }[];
    inline.forEach((p, i) =>
      collect(
        role.statements,
        stack,
        p.PolicyDocument,
        `${stack.name}/${logicalId} Policies[${i}].PolicyDocument`,
        `inline policy ${String(p.PolicyName)} of ${logicalId}`,
      ),
    );
    const managed = resolver.resolve(props.ManagedPolicyArns ?? [], {
      stack,
      where: `${stack.name}/${logicalId} ManagedPolicyArns`,
    }) as string[];
    role.managedPolicyArns.push(...managed);
    if (props.PermissionsBoundary !== undefined) {
      role.boundaryArn = resolver.resolveString(props.PermissionsBoundary, {
        stack,
        where: `${stack.name}/${logicalId} PermissionsBoundary`,
      });
    }
  }
  const inApp = new Map<string, RoleStatement[]>();

  for (const { stack, logicalId, resource } of resolver.resourcesOfType([
    'AWS::IAM::Policy',
    'AWS::IAM::RolePolicy',
    'AWS::IAM::ManagedPolicy',
  ])) {
    const props = resource.Properties ?? {};
    const scope = (property: string) => ({ stack, where: `${stack.name}/${logicalId} ${property}` });
    const targets: string[] =
      resource.Type === 'AWS::IAM::RolePolicy'
        ? [resolver.resolveString(props.RoleName, scope('RoleName'))]
        : ((resolver.resolve(props.Roles ?? [], scope('Roles')) as unknown[]) ?? []).map(String);
    if (resource.Type === 'AWS::IAM::ManagedPolicy') {
      const arn = resolver.resolveString({ Ref: logicalId }, scope('ManagedPolicyName'));
      const statements: RoleStatement[] = [];
      collect(
        statements,
        stack,
        props.PolicyDocument,
        `${stack.name}/${logicalId} PolicyDocument`,
        `${resource.Type} ${logicalId}`,
      );
      inApp.set(arn, statements);
      for (const role of roles) {
        const attached = resolver.resolve(role.found.resource.Properties?.ManagedPolicyArns ?? [], {
          stack: role.found.stack,
          where: `${role.found.stack.name}/${role.found.logicalId} ManagedPolicyArns`,
        }) as string[];
        if (attached.includes(arn) && !targets.includes(role.name)) targets.push(role.name);
      }
    }
    for (const target of targets) {
      const role = byName(target);
      if (!role) continue;
      collect(
        role.statements,
        stack,
        props.PolicyDocument,
        `${stack.name}/${logicalId} PolicyDocument`,
        `${resource.Type} ${logicalId}`,
      );
    }
  }

  return roles.map((r) => ({
    stack: r.found.stack.name,
    logicalId: r.found.logicalId,
    name: r.name,
    arn: r.arn,
    statements: r.statements,
    externalManagedPolicyArns: r.managedPolicyArns.filter((arn) => !inApp.has(arn)),
    permissionsBoundary:
      r.boundaryArn === undefined ? undefined : { arn: r.boundaryArn, statements: inApp.get(r.boundaryArn) },
  }));
}
