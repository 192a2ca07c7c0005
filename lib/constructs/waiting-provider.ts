import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { acknowledgeProviderFramework } from '../nag-acknowledgements';
import { vendedLogGroupName } from './vended-logs';

/**
 * The framework functions' application log level. CDK's default is FATAL, which hides the framework's own
 * failures (a response it could not deliver, an invocation of the handler that failed to start); ERROR shows
 * them without a line for every event.
 */
export const FRAMEWORK_LOG_LEVEL = lambda.ApplicationLogLevel.ERROR;

export interface WaitingProviderProps {
  /** Starts the change; returns the physical id. */
  readonly onEvent: lambda.IFunction;
  /** Says when the change is done; long waits live here. */
  readonly isComplete: lambda.IFunction;
  /** Time between completion checks. */
  readonly queryInterval: Duration;
  /** When to give up and fail the resource. */
  readonly totalTimeout: Duration;
  /** Days to keep the framework's function and waiter logs. */
  readonly logRetentionDays: number;
  /** What happens to those logs on removal. */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * CDK's custom-resource Provider framework with an isComplete waiter, its functions and waiter logging to
 * log groups with retention (the waiter logs every event, without execution data), and cdk-nag
 * acknowledgements for the roles CDK writes for it.
 */
export class WaitingProvider extends Construct {
  readonly provider: cr.Provider;
  readonly serviceToken: string;

  constructor(scope: Construct, id: string, props: WaitingProviderProps) {
    super(scope, id);
    const logGroup = (name: string, logGroupName?: string) =>
      new logs.LogGroup(this, name, {
        logGroupName,
        retention: props.logRetentionDays as logs.RetentionDays,
        removalPolicy: props.removalPolicy,
      });
    this.provider = new cr.Provider(this, 'Provider', {
      onEventHandler: props.onEvent,
      isCompleteHandler: props.isComplete,
      queryInterval: props.queryInterval,
      totalTimeout: props.totalTimeout,
      logGroup: logGroup('FrameworkLogs'),
      frameworkLambdaLoggingLevel: FRAMEWORK_LOG_LEVEL,
      disableWaiterStateMachineLogging: false,
      waiterStateMachineLogOptions: {
        // Step Functions writes through log delivery, like the services vendedLogGroupName names.
        destination: logGroup('WaiterLogs', vendedLogGroupName(this, 'states')),
        level: sfn.LogLevel.ALL,
        includeExecutionData: false,
      },
    });
    this.serviceToken = this.provider.serviceToken;
    acknowledgeProviderFramework(this.provider, [props.onEvent, props.isComplete]);
  }
}

export interface OneStepProviderProps {
  /** Makes the change and answers at once. */
  readonly onEvent: lambda.IFunction;
  /** Days to keep the framework function's logs. */
  readonly logRetentionDays: number;
  /** What happens to those logs on removal. */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * CDK's Provider framework without a waiter, for a resource whose onEvent answers at once: its function logs to
 * a log group with retention (`FrameworkLogs`, beside the `Provider` in `scope`), with the cdk-nag
 * acknowledgements for the roles CDK writes for it.
 */
export function oneStepProvider(scope: Construct, props: OneStepProviderProps): cr.Provider {
  const provider = new cr.Provider(scope, 'Provider', {
    onEventHandler: props.onEvent,
    logGroup: new logs.LogGroup(scope, 'FrameworkLogs', {
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: props.removalPolicy,
    }),
    frameworkLambdaLoggingLevel: FRAMEWORK_LOG_LEVEL,
  });
  acknowledgeProviderFramework(provider, [props.onEvent]);
  return provider;
}
