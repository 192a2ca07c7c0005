import * as path from 'node:path';

/** The Lambda handlers, by function name; each is bundled alone from `lambda/<name>/index.ts`. */
export const LAMBDA_HANDLERS = [
  'producer',
  'consumer',
  'consumer-esm',
  'topic-bootstrap',
  'cluster-endpoint',
  'availability-zones',
  'kafka-admin',
] as const;
export type LambdaHandlerName = (typeof LAMBDA_HANDLERS)[number];

/** The handlers that talk to Kafka (kafkajs and the MSK IAM token). */
export const KAFKA_HANDLERS = [
  'producer',
  'consumer',
  'topic-bootstrap',
  'kafka-admin',
] as const satisfies readonly LambdaHandlerName[];

export const LAMBDA_ROOT = path.join(__dirname, '..', 'lambda');

export function handlerEntry(name: LambdaHandlerName): string {
  return path.join(LAMBDA_ROOT, name, 'index.ts');
}

/** The Node.js major the functions run on (Lambda's newest Node.js runtime that CDK offers). */
export const NODE_MAJOR = 24;

/**
 * esbuild settings shared by CDK's NodejsFunction bundling and `npm run build:lambdas`, so that the
 * bundles tested offline are built exactly like the deployed ones (test/lib/bundling.test.ts synthesizes the
 * app and compares the assets with build:lambdas' bundles byte for byte). docs/benchmarks.md lists the sizes.
 */
export const ESBUILD_OPTIONS = {
  target: `node${NODE_MAJOR}`,
  minify: true,
  sourceMap: true,
  // Warnings and errors only: esbuild's size summary would repeat for every function of every synth.
  logLevel: 'warning',
} as const;

/**
 * The deploy-time custom resources call only long-stable AWS APIs and take the AWS SDK v3 of the Lambda runtime;
 * every other function bundles all it uses, so that its Kafka sign-in never depends on the runtime's SDK version
 * (docs/decisions.md).
 */
const RUNTIME_SDK_HANDLERS: readonly LambdaHandlerName[] = ['cluster-endpoint', 'availability-zones'];

/** Modules left out of a handler's bundle, for the Lambda runtime to provide. */
export function externalModules(name: LambdaHandlerName): string[] {
  return RUNTIME_SDK_HANDLERS.includes(name) ? ['@aws-sdk/*'] : [];
}
