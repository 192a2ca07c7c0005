/**
 * The twin is a package of its own: nothing under packages/msk-twin reaches into the app that uses it (bin/, lib/,
 * lambda/, scripts/, test/ of the repository), by a relative path or otherwise.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const PACKAGE = path.join(__dirname, '..');
const IMPORT = /(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)(['"])([^'"]+)\1/gm;

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return ['node_modules', 'cdk.out'].includes(entry.name) ? [] : sourceFiles(full);
    return /\.(ts|cts|mts|js|cjs|mjs)$/.test(entry.name) ? [full] : [];
  });
}

export function importsOf(source: string): string[] {
  return [...source.matchAll(IMPORT)].map((m) => m[2]);
}

test('finds the imports of a file: static, type-only, dynamic and require', () => {
  const source = [
    "import * as fs from 'node:fs';",
    "import type { A } from '../a';",
    "export * from './b';",
    "const c = await import('../../c');",
    "const d = require('d');",
    "import 'e';",
  ].join('\n');
  expect(importsOf(source)).toEqual(['node:fs', '../a', './b', '../../c', 'd', 'e']);
});

test('no file of the package imports from outside it by a relative path', () => {
  // This file's own sample imports above are text, not imports.
  const files = sourceFiles(PACKAGE).filter((file) => file !== __filename);
  expect(files.length).toBeGreaterThan(20);
  const outside = files.flatMap((file) =>
    importsOf(fs.readFileSync(file, 'utf8'))
      .filter((spec) => spec.startsWith('.'))
      .filter((spec) => path.relative(PACKAGE, path.resolve(path.dirname(file), spec)).startsWith('..'))
      .map((spec) => `${path.relative(PACKAGE, file)}: ${spec}`),
  );
  expect(outside).toEqual([]);
});

test("the package's dependencies name nothing of the app", () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(PACKAGE, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  const app = (JSON.parse(fs.readFileSync(path.join(PACKAGE, '..', '..', 'package.json'), 'utf8')) as { name: string })
    .name;
  expect(Object.keys({ ...manifest.dependencies, ...manifest.devDependencies })).not.toContain(app);
});
