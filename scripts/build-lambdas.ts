/**
 * Bundles every Lambda handler to dist/lambda/<name>/index.js with the same esbuild settings CDK uses,
 * and prints each bundle's size. Integration tests and the offline demo load these files.
 */
import { build } from 'esbuild';
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { ESBUILD_OPTIONS, handlerEntry, LAMBDA_HANDLERS } from '../lib/bundling';

export const DIST = path.join(__dirname, '..', 'dist', 'lambda');

export function bundlePath(name: string): string {
  return path.join(DIST, name, 'index.js');
}

export async function buildLambdas(quiet = false): Promise<Record<string, number>> {
  const sizes: Record<string, number> = {};
  for (const name of LAMBDA_HANDLERS) {
    const outfile = bundlePath(name);
    await build({
      entryPoints: [handlerEntry(name)],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: ESBUILD_OPTIONS.target,
      minify: ESBUILD_OPTIONS.minify,
      sourcemap: ESBUILD_OPTIONS.sourceMap,
      external: [...ESBUILD_OPTIONS.externalModules],
      alias: { ...ESBUILD_OPTIONS.alias },
      logLevel: 'warning',
    });
    sizes[name] = statSync(outfile).size;
    if (!quiet)
      console.log(
        `${name.padEnd(16)} ${(sizes[name] / 1024).toFixed(1).padStart(7)} KiB  ${path.relative(process.cwd(), outfile)}`,
      );
  }
  return sizes;
}

if (require.main === module) {
  buildLambdas().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
