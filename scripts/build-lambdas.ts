/**
 * Bundles every Lambda handler to dist/lambda/<name>/index.js with the same esbuild settings CDK uses,
 * and prints each bundle's size. Integration tests and the offline demo load these files.
 *
 * `npm run build:lambdas -- --analyze` also prints what each package contributes to the Kafka functions'
 * bundles (from esbuild's metafile), the table docs/benchmarks.md shows.
 */
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { statSync } from 'node:fs';
import * as path from 'node:path';
import {
  ESBUILD_OPTIONS,
  externalModules,
  handlerEntry,
  KAFKA_HANDLERS,
  LAMBDA_HANDLERS,
  type LambdaHandlerName,
} from '../lib/bundling';

const ROOT = path.join(__dirname, '..');
export const DIST = path.join(ROOT, 'dist', 'lambda');

export function bundlePath(name: string): string {
  return path.join(DIST, name, 'index.js');
}

/**
 * esbuild's options for bundling `entry` as CDK's NodejsFunction does with ESBUILD_OPTIONS: same settings, and
 * run from the project root as CDK runs it, since esbuild names bundled modules by their path from there.
 */
export function esbuildOptions(entry: string, outfile: string, external: readonly string[] = []): BuildOptions {
  return {
    absWorkingDir: ROOT,
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: ESBUILD_OPTIONS.target,
    minify: ESBUILD_OPTIONS.minify,
    sourcemap: ESBUILD_OPTIONS.sourceMap,
    external: [...external],
    metafile: true,
    logLevel: ESBUILD_OPTIONS.logLevel,
  };
}

/** Builds one handler's bundle to `outfile` exactly as `npm run build:lambdas` does, and returns its metafile. */
export async function buildLambda(name: LambdaHandlerName, outfile = bundlePath(name)): Promise<Metafile> {
  const result = await build(esbuildOptions(handlerEntry(name), outfile, externalModules(name)));
  return result.metafile as Metafile;
}

export async function buildLambdas(quiet = false): Promise<Record<string, number>> {
  const sizes: Record<string, number> = {};
  for (const name of LAMBDA_HANDLERS) {
    const outfile = bundlePath(name);
    await buildLambda(name, outfile);
    sizes[name] = statSync(outfile).size;
    if (!quiet)
      console.log(
        `${name.padEnd(18)} ${(sizes[name] / 1024).toFixed(1).padStart(7)} KiB ${(sizes[name] / 1000).toFixed(1).padStart(7)} KB  ${path.relative(process.cwd(), outfile)}`,
      );
  }
  return sizes;
}

/** What the bundle's bytes come from, by package. Source maps are separate files and not counted. */
export interface BundleComposition {
  /** Size of the bundle file in bytes. */
  readonly bytes: number;
  /** Bytes of minified output per package, and per file of our own (lambda/, lib/). */
  readonly packages: Record<string, number>;
}

/** esbuild's module wrappers and helpers (`__commonJS`, `__toESM`, …), which belong to no input file. */
const RUNTIME = 'esbuild wrappers and helpers';

/** The package an input file belongs to (the innermost node_modules package), or the file itself if it is ours. */
export function packageOf(inputPath: string): string {
  const parts = inputPath.split('/');
  const at = parts.lastIndexOf('node_modules');
  if (at < 0) return inputPath;
  const name = parts[at + 1];
  return name.startsWith('@') ? `${name}/${parts[at + 2]}` : name;
}

export function composition(metafile: Metafile): BundleComposition {
  const [output] = Object.entries(metafile.outputs).filter(([file]) => file.endsWith('.js'));
  const [, { bytes, inputs }] = output;
  const packages: Record<string, number> = {};
  let attributed = 0;
  for (const [input, { bytesInOutput }] of Object.entries(inputs)) {
    if (bytesInOutput === 0) continue;
    const name = packageOf(input);
    packages[name] = (packages[name] ?? 0) + bytesInOutput;
    attributed += bytesInOutput;
  }
  packages[RUNTIME] = bytes - attributed;
  return { bytes, packages };
}

/** A Markdown table: one row per package, one column per Kafka function, in KiB (KB = 1000 bytes in the total). */
export function compositionTable(reports: Record<string, BundleComposition>): string {
  const names = Object.keys(reports);
  const totals: Record<string, number> = {};
  for (const report of Object.values(reports)) {
    for (const [pkg, bytes] of Object.entries(report.packages)) totals[pkg] = (totals[pkg] ?? 0) + bytes;
  }
  const kib = (bytes: number | undefined) => (bytes ? (bytes / 1024).toFixed(1) : '');
  const rows = Object.keys(totals)
    .sort((a, b) => totals[b] - totals[a])
    .map((pkg) => `| ${pkg} | ${names.map((name) => kib(reports[name].packages[pkg])).join(' | ')} |`);
  return [
    `| package (KiB) | ${names.join(' | ')} |`,
    `|---|${names.map(() => '---:').join('|')}|`,
    ...rows,
    `| **bundle, KiB** | ${names.map((name) => `**${kib(reports[name].bytes)}**`).join(' | ')} |`,
    `| **bundle, KB** | ${names.map((name) => `**${(reports[name].bytes / 1000).toFixed(1)}**`).join(' | ')} |`,
  ].join('\n');
}

/** Builds the Kafka functions' bundles (into `dir`, by default dist/lambda) and reports what each package contributes. */
export async function analyzeKafkaBundles(dir = DIST): Promise<Record<string, BundleComposition>> {
  const reports: Record<string, BundleComposition> = {};
  for (const name of KAFKA_HANDLERS) {
    reports[name] = composition(await buildLambda(name, path.join(dir, name, 'index.js')));
  }
  return reports;
}

async function main(): Promise<void> {
  await buildLambdas();
  if (process.argv.includes('--analyze')) console.log(`\n${compositionTable(await analyzeKafkaBundles())}`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
