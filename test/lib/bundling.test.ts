/**
 * The bundles CDK ships are the bundles `npm run build:lambdas` builds and the tests load: NodejsFunction (through
 * HandlerFunction) and scripts/build-lambdas.ts both take their esbuild settings from lib/bundling.ts. This
 * synthesizes the app with bundling on, as `cdk synth` does, and compares every function's asset with the bundle
 * build:lambdas makes, byte for byte.
 */
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Metafile } from 'esbuild';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { KAFKA_HANDLERS, LAMBDA_HANDLERS, type LambdaHandlerName } from '../../lib/bundling';
import { HandlerFunction } from '../../lib/constructs/handler-function';
import { buildLambda } from '../../scripts/build-lambdas';
import { buildTestApp } from './synth';

jest.setTimeout(180_000);

let dir: string;
/** The index.js CDK staged for each function, by handler name (a handler may back several functions). */
const assets = new Map<LambdaHandlerName, string[]>();
/** esbuild's metafile of each handler's build:lambdas bundle. */
const metafiles = new Map<LambdaHandlerName, Metafile>();

/** Synthesizes the app with every function bundled, as `cdk synth` does, and finds each function's index.js. */
function synthesizeWithBundling(outdir: string, context: Record<string, unknown> = {}): void {
  const { app } = buildTestApp(
    { 'aws:cdk:bundling-stacks': ['**'], 'aws:cdk:enable-asset-metadata': true, ...context },
    outdir,
  );
  app.synth();
  for (const fn of app.node.findAll().filter((c): c is HandlerFunction => c instanceof HandlerFunction)) {
    const cfn = fn.node.defaultChild as lambda.CfnFunction;
    const name = fn.handlerName;
    const assetPath = cfn.getMetadata('aws:asset:path') as string;
    assets.set(name, [...(assets.get(name) ?? []), path.join(outdir, assetPath, 'index.js')]);
  }
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'hello-msk-bundling-'));
  // CDK announces each function it bundles on stderr; the assertions below say what matters.
  const write = process.stderr.write.bind(process.stderr);
  const quiet = jest
    .spyOn(process.stderr, 'write')
    .mockImplementation((chunk: string | Uint8Array) => chunk.toString().startsWith('Bundling asset ') || write(chunk));
  try {
    synthesizeWithBundling(path.join(dir, 'cdk.out'));
    // The event-source-mapping consumer's handler is bundled only in that variant.
    synthesizeWithBundling(path.join(dir, 'cdk.esm.out'), { consumer: 'event-source-mapping' });
  } finally {
    quiet.mockRestore();
  }
  for (const name of LAMBDA_HANDLERS)
    metafiles.set(name, await buildLambda(name, path.join(dir, 'dist', name, 'index.js')));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('the app and its event-source-mapping variant bundle every handler for at least one function', () => {
  expect([...assets.keys()].sort()).toEqual([...LAMBDA_HANDLERS].sort());
});

test.each(LAMBDA_HANDLERS)('%s: the asset CDK ships is the bundle build:lambdas makes, byte for byte', (name) => {
  const built = readFileSync(path.join(dir, 'dist', name, 'index.js'));
  for (const asset of assets.get(name) ?? []) expect(readFileSync(asset).equals(built)).toBe(true);
});

test.each(LAMBDA_HANDLERS)('%s: the asset CDK ships carries its source map as a separate file', (name) => {
  for (const asset of assets.get(name) ?? []) expect(statSync(`${asset}.map`).isFile()).toBe(true);
});

/** The packages a bundle leaves to the Lambda runtime: its external imports, from esbuild's metafile. */
function runtimeRequires(name: LambdaHandlerName): string[] {
  const outputs = Object.values(metafiles.get(name)?.outputs ?? {});
  const external = outputs.flatMap((output) => output.imports.filter((i) => i.external).map((i) => i.path));
  return [...new Set(external.filter((module) => !isBuiltin(module)))].sort();
}

test.each(KAFKA_HANDLERS)('%s: bundles everything it uses, the MSK IAM signer’s AWS SDK included', (name) => {
  expect(runtimeRequires(name)).toEqual([]);
});

test.each([
  ['availability-zones', ['@aws-sdk/client-ec2']],
  ['cluster-endpoint', ['@aws-sdk/client-kafka']],
] as const)('%s: takes the AWS SDK from the Lambda runtime', (name, sdk) => {
  expect(runtimeRequires(name)).toEqual(sdk);
});
