/** The bundle composition behind `npm run build:lambdas -- --analyze` and the table in docs/benchmarks.md. */
import type { Metafile } from 'esbuild';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { KAFKA_HANDLERS } from '../../lib/bundling';
import { analyzeKafkaBundles, composition, compositionTable, packageOf } from '../../scripts/build-lambdas';

describe('packageOf', () => {
  test.each([
    ['node_modules/kafkajs/src/protocol/requests/produce/v7/request.js', 'kafkajs'],
    ['node_modules/@aws-lambda-powertools/logger/lib/esm/Logger.js', '@aws-lambda-powertools/logger'],
    [
      'node_modules/aws-msk-iam-sasl-signer-js/node_modules/@smithy/signature-v4/dist-cjs/index.js',
      '@smithy/signature-v4',
    ],
    ['node_modules/@aws-crypto/sha256-js/node_modules/tslib/tslib.es6.js', 'tslib'],
    ['lambda/shared/kafka.ts', 'lambda/shared/kafka.ts'],
    ['lib/kafka-rules.ts', 'lib/kafka-rules.ts'],
  ])('%s belongs to %s', (input, expected) => {
    expect(packageOf(input)).toBe(expected);
  });
});

describe('composition', () => {
  const metafile = {
    inputs: {},
    outputs: {
      'dist/lambda/producer/index.js.map': { bytes: 5000, inputs: {}, imports: [], exports: [] },
      'dist/lambda/producer/index.js': {
        bytes: 1000,
        inputs: {
          'node_modules/kafkajs/src/index.js': { bytesInOutput: 600 },
          'node_modules/kafkajs/src/errors.js': { bytesInOutput: 200 },
          'lambda/producer/index.ts': { bytesInOutput: 150 },
          'lambda/shared/types.ts': { bytesInOutput: 0 },
        },
        imports: [],
        exports: [],
      },
    },
  } as unknown as Metafile;

  test('sums each package’s bytes, leaves out files that add none, and counts the rest as esbuild’s own', () => {
    expect(composition(metafile)).toEqual({
      bytes: 1000,
      packages: { kafkajs: 800, 'lambda/producer/index.ts': 150, 'esbuild wrappers and helpers': 50 },
    });
  });

  test('the table has a row per package, largest first, and the bundle in KiB and KB', () => {
    expect(compositionTable({ producer: composition(metafile) }).split('\n')).toEqual([
      '| package (KiB) | producer |',
      '|---|---:|',
      '| kafkajs | 0.8 |',
      '| lambda/producer/index.ts | 0.1 |',
      '| esbuild wrappers and helpers | 0.0 |',
      '| **bundle, KiB** | **1.0** |',
      '| **bundle, KB** | **1.0** |',
    ]);
  });
});

describe('npm run build:lambdas -- --analyze', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'hello-msk-analyze-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('reports each Kafka bundle: its size, kafkajs, Powertools Logger and the MSK IAM signer', async () => {
    const reports = await analyzeKafkaBundles(dir);
    expect(Object.keys(reports)).toEqual([...KAFKA_HANDLERS]);
    for (const [name, report] of Object.entries(reports)) {
      expect(report.bytes).toBe(statSync(path.join(dir, name, 'index.js')).size);
      expect(Object.values(report.packages).reduce((sum, bytes) => sum + bytes, 0)).toBe(report.bytes);
      expect(report.packages.kafkajs).toBeGreaterThan(250 * 1024);
      expect(report.packages['@aws-lambda-powertools/logger']).toBeGreaterThan(0);
      expect(report.packages['aws-msk-iam-sasl-signer-js']).toBeGreaterThan(0);
    }
    expect(compositionTable(reports)).toMatch(/^\| kafkajs \| 26\d\.\d \| 26\d\.\d \| 26\d\.\d \| 26\d\.\d \|$/m);
  }, 60_000);
});
