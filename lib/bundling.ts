import * as path from 'node:path';

/** The Lambda handlers, by function name; each is bundled alone from `lambda/<name>/index.ts`. */
export const LAMBDA_HANDLERS = [
  'producer',
  'consumer',
  'topic-bootstrap',
  'cluster-endpoint',
  'availability-zones',
  'kafka-admin',
] as const;
export type LambdaHandlerName = (typeof LAMBDA_HANDLERS)[number];

/** The handlers that talk to Kafka (kafkajs and the MSK IAM token); each bundle must stay within 300 KB. */
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

/**
 * Cloud-assembly metadata type on each function resource, naming the handler bundled into it. The template
 * shows only an asset hash; the local twin reads this entry to run the same handler's bundle. It is written
 * to the assembly manifest, not to the template.
 */
export const BUNDLE_METADATA_TYPE = 'hello-msk:bundle';

/** The Node.js major the functions run on (Lambda's newest Node.js runtime that CDK offers). */
export const NODE_MAJOR = 24;

/**
 * esbuild settings shared by CDK's NodejsFunction bundling and `npm run build:lambdas`, so that the
 * bundles tested offline are built exactly like the deployed ones (test/lib/bundling.test.ts synthesizes the
 * app and compares the assets with build:lambdas' bundles byte for byte). Source maps are separate files,
 * outside each Kafka function's 300 KB budget; docs/benchmarks.md lists what the bundles are made of.
 */
export const ESBUILD_OPTIONS = {
  target: `node${NODE_MAJOR}`,
  minify: true,
  sourceMap: true,
  // Warnings and errors only: esbuild's size summary would repeat for every function of every synth.
  logLevel: 'warning',
  // Everything is bundled, AWS SDK included: the function never depends on the runtime's SDK version.
  externalModules: [] as string[],
  alias: {
    // The signer's token, byte for byte, from 1.6 KiB of node:crypto code instead of its 39.5 KiB dependency tree.
    'aws-msk-iam-sasl-signer-js': path.join(LAMBDA_ROOT, 'shared', 'msk-iam-signer.ts'),
  },
} as const;
