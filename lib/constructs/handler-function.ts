import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ESBUILD_OPTIONS, externalModules, handlerEntry, type LambdaHandlerName } from '../bundling';
import { CHECKOV_REASONS, skipCheckov } from '../checkov-suppressions';
import { acknowledgeLambdaExecutionRole } from '../nag-acknowledgements';

export interface HandlerFunctionProps {
  /** Which handler under `lambda/` to bundle. */
  readonly handlerName: LambdaHandlerName;
  /**
   * The exported function to call.
   * @default 'handler'
   */
  readonly exportName?: string;
  /** What the function does, shown in the Lambda console. */
  readonly description: string;
  /**
   * Environment variables besides NODE_OPTIONS.
   * @default {}
   */
  readonly environment?: Record<string, string>;
  /**
   * @default Duration.seconds(30)
   */
  readonly timeout?: Duration;
  /**
   * @default 256
   */
  readonly memorySize?: number;
  /** Days to keep the function's logs. */
  readonly logRetentionDays: number;
  /** What happens to the log group when the function is removed. */
  readonly removalPolicy: RemovalPolicy;
  /**
   * The VPC to run in; omit for functions that only call AWS APIs.
   * @default - not in a VPC
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Subnets within the VPC.
   * @default - the VPC's private subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Security groups, when in a VPC.
   * @default - none
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * Reserved concurrency.
   * @default - unreserved
   */
  readonly reservedConcurrentExecutions?: number;
  /**
   * How often Lambda retries a failed asynchronous invocation (0 to 2).
   * @default 2 (Lambda's default)
   */
  readonly retryAttempts?: number;
  /**
   * How long Lambda keeps an asynchronous event it could not run yet (60 s to 6 h).
   * @default Duration.hours(6) (Lambda's default)
   */
  readonly maxEventAge?: Duration;
  /**
   * Why the function has no dead-letter queue (the reason on its checkov skip).
   * @default - it is only invoked synchronously
   */
  readonly noDeadLetterQueueReason?: string;
  /**
   * Why the function runs outside a VPC (the reason on its checkov skip).
   * @default - it calls only AWS control-plane APIs
   */
  readonly outsideVpcReason?: string;
}

/** Node.js runtime of every project function: the newest Lambda offers through CDK. */
export const FUNCTION_RUNTIME = lambda.Runtime.NODEJS_24_X;

/**
 * The project's defaults for a Node.js function: newest runtime on arm64, bundled locally by esbuild
 * (minified, with source maps), its own log group with retention, JSON logs.
 */
export class HandlerFunction extends nodejs.NodejsFunction {
  /** The handler under `lambda/` bundled into this function. */
  readonly handlerName: LambdaHandlerName;

  constructor(scope: Construct, id: string, props: HandlerFunctionProps) {
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: props.removalPolicy,
    });
    super(scope, id, {
      entry: handlerEntry(props.handlerName),
      handler: props.exportName ?? 'handler',
      description: props.description,
      runtime: FUNCTION_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(30),
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      vpc: props.vpc,
      vpcSubnets: props.vpc ? props.vpcSubnets : undefined,
      securityGroups: props.securityGroups,
      allowAllOutbound: props.vpc && !props.securityGroups ? false : undefined,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      retryAttempts: props.retryAttempts,
      maxEventAge: props.maxEventAge,
      bundling: {
        target: ESBUILD_OPTIONS.target,
        minify: ESBUILD_OPTIONS.minify,
        sourceMap: ESBUILD_OPTIONS.sourceMap,
        logLevel: ESBUILD_OPTIONS.logLevel as nodejs.LogLevel,
        externalModules: externalModules(props.handlerName),
        format: nodejs.OutputFormat.CJS,
      },
    });
    if (this.role) acknowledgeLambdaExecutionRole(this.role, props.vpc !== undefined);
    this.handlerName = props.handlerName;
    skipCheckov(this, 'CKV_AWS_116', props.noDeadLetterQueueReason ?? CHECKOV_REASONS.synchronousOnly);
    skipCheckov(this, 'CKV_AWS_173', CHECKOV_REASONS.noSecretsInEnvironment);
    if (props.reservedConcurrentExecutions === undefined) {
      skipCheckov(this, 'CKV_AWS_115', CHECKOV_REASONS.noReservedConcurrency);
    }
    if (!props.vpc) skipCheckov(this, 'CKV_AWS_117', props.outsideVpcReason ?? CHECKOV_REASONS.controlPlaneOnly);
  }
}
