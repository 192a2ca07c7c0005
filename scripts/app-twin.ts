/**
 * hello-msk on the local MSK twin (the msk-twin package): synthesizes this app with its functions bundled, as
 * `cdk synth` does, and hands the cloud assembly to the twin. The demo, the bench and the tests start the app's
 * twin through here; the twin itself knows nothing of this app.
 *
 * Assemblies are cached by stage, context and the app's sources (bin/, lib/, lambda/, cdk.json, the lock
 * file), so that the test files that start the same app synthesize it once.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  customResourceCreateEvents,
  readCloudAssembly,
  startTwinApp,
  type CloudAssemblyView,
  type StartTwinAppOptions,
  type TwinAppInstance,
} from 'msk-twin';
import type { BuildAppOptions } from '../lib/app';

const ROOT = path.join(__dirname, '..');
const SOURCES = ['bin', 'lib', 'lambda', 'cdk.json', 'package-lock.json'];

export interface SynthesizeOptions {
  /** Stage from cdk.json's `hello-msk:stages`. @default dev */
  readonly stage?: string;
  /** @deprecated the former name of `stage` */
  readonly profile?: string;
  /** More context, as `cdk synth -c key=value` gives it. @default none */
  readonly context?: Readonly<Record<string, unknown>>;
  /** Progress lines (CDK's `Bundling asset …`, which would otherwise go to stderr). @default silent */
  readonly log?: (message: string) => void;
  /**
   * More Kafka client functions in the Clients stack (BuildAppOptions.moreClients); its source text joins the cache
   * key, so it should name its topics and groups literally or through the context. @default none
   */
  readonly moreClients?: BuildAppOptions['moreClients'];
}

export interface SynthesizedApp {
  /** The cloud assembly directory (cached; never removed by its user). */
  readonly dir: string;
  readonly assembly: CloudAssemblyView;
  /** From the call until the assembly was read back; a few ms when it came from the cache. */
  readonly synthMs: number;
}

function sourceFiles(entry: string): string[] {
  const full = path.join(ROOT, entry);
  if (!fs.existsSync(full)) return [];
  if (fs.statSync(full).isFile()) return [full];
  return fs
    .readdirSync(full, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

function stageOf(options: SynthesizeOptions): string | undefined {
  return options.stage ?? options.profile;
}

function cacheKey(options: SynthesizeOptions): string {
  const hash = createHash('sha256').update(
    JSON.stringify([
      stageOf(options) ?? null,
      options.context ?? {},
      ...(options.moreClients ? [options.moreClients.toString()] : []),
    ]),
  );
  for (const file of SOURCES.flatMap(sourceFiles)) {
    hash.update(path.relative(ROOT, file)).update(fs.readFileSync(file));
  }
  return hash.digest('hex').slice(0, 20);
}

/** The cache of synthesized assemblies: HELLO_MSK_ASSEMBLY_CACHE, else under the OS temp dir. */
export function assemblyCacheDir(): string {
  return process.env.HELLO_MSK_ASSEMBLY_CACHE || path.join(os.tmpdir(), 'hello-msk-assemblies');
}

/**
 * Synthesizes the app in this process exactly as `cdk synth` would (cdk.json's context, the stage, the
 * overrides, every function bundled with esbuild), into the assembly cache. Needs no credentials and no
 * network: every stack is environment-agnostic.
 */
export async function synthesizeApp(options: SynthesizeOptions = {}): Promise<SynthesizedApp> {
  const started = performance.now();
  const dir = path.join(assemblyCacheDir(), cacheKey(options));
  if (!fs.existsSync(path.join(dir, 'manifest.json'))) {
    // Loaded here so that a cached assembly does not load the CDK.
    const { App } = await import('aws-cdk-lib');
    const { buildApp } = await import('../lib/app');
    const cdkJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')) as {
      context?: Record<string, unknown>;
    };
    fs.mkdirSync(assemblyCacheDir(), { recursive: true });
    const outdir = fs.mkdtempSync(`${dir}.tmp-`);
    try {
      const app = new App({
        outdir,
        analyticsReporting: false,
        context: {
          ...cdkJson.context,
          ...(stageOf(options) !== undefined ? { stage: stageOf(options) } : {}),
          ...options.context,
        },
      });
      // Bundling happens as the functions are constructed.
      quietly(() => {
        buildApp(app, { moreClients: options.moreClients });
        app.synth();
      }, options.log);
      // Another process may have written the same assembly meanwhile; either copy serves.
      fs.renameSync(outdir, dir);
    } catch (error) {
      fs.rmSync(outdir, { recursive: true, force: true });
      if (!fs.existsSync(path.join(dir, 'manifest.json'))) throw error;
    }
  }
  return { dir, assembly: readCloudAssembly(dir), synthMs: performance.now() - started };
}

/** Runs `fn` with CDK's bundling lines sent to `log` instead of stderr. */
function quietly<T>(fn: () => T, log?: (message: string) => void): T {
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = (chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    if (text.startsWith('Bundling asset ')) {
      log?.(text.trimEnd());
      return true;
    }
    return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
  };
  try {
    return fn();
  } finally {
    process.stderr.write = write;
  }
}

export interface StartAppTwinOptions extends Omit<StartTwinAppOptions, 'assembly' | 'synthMs'>, SynthesizeOptions {}

/** Synthesizes the app (see synthesizeApp) and starts its twin. */
export async function startAppTwin(options: StartAppTwinOptions = {}): Promise<TwinAppInstance> {
  const { stage, profile, context, moreClients, ...twinOptions } = options;
  const synthesized = await synthesizeApp({ stage: stage ?? profile, context, moreClients, log: options.log });
  options.log?.(`synthesized the app in ${(synthesized.synthMs / 1000).toFixed(1)} s`);
  return startTwinApp({ ...twinOptions, assembly: synthesized.assembly, synthMs: synthesized.synthMs });
}

/** The resource type of each declared topic (lib/constructs/topic-bootstrap.ts). */
export const TOPIC_RESOURCE_TYPE = 'Custom::MskTopic';

/**
 * The Create events CloudFormation sends the topic resources, one per declared topic, with the properties the
 * template declares.
 */
export function topicsCreateEvents(twin: TwinAppInstance): Record<string, unknown>[] {
  return customResourceCreateEvents(twin.app, TOPIC_RESOURCE_TYPE, { bootstrapBrokers: twin.twin.bootstrapBrokers });
}

/** The Create event of the first declared topic (the dev stage declares one, the demo topic). */
export function topicsCreateEvent(twin: TwinAppInstance): Record<string, unknown> {
  const [first] = topicsCreateEvents(twin);
  if (!first) throw new Error(`The assembly declares no ${TOPIC_RESOURCE_TYPE} resource`);
  return first;
}
