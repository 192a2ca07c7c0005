/**
 * The msk-twin command line, in the spirit of `sam local invoke`:
 *
 *   msk-twin up --assembly cdk.out [--port N] [--brokers-variable NAME]
 *               [--region R] [--account A] [--partition P] [--policy-document ARN=FILE]...
 *                                                               start the twin of a synthesized app, run its custom
 *                                                               resources as a deploy would; leaves it running
 *   msk-twin invoke <function> [--payload JSON]                 run a function of the app once, as Lambda would
 *   msk-twin down                                              stop the twin that `up` started
 *   msk-twin policy --assembly cdk.out                         each role's kafka-cluster statements the twin evaluates
 *   msk-twin config --assembly cdk.out [--brokers N]           the brokers' settings: deployed and on the twin
 *
 * The response goes to stdout and everything else to stderr, so that `msk-twin invoke … | jq` works. The running
 * twin is recorded in the state directory (`.kafka/` of the working directory, or MSK_TWIN_STATE_DIR).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { describeTwinApp, readCloudAssembly, type TwinApp } from '../assembly/assembly';
import { formatPolicyTable, policiesOf, type PolicyDocument } from '../authorization/policies';
import { brokerConfigFor, formatBrokerConfig } from '../broker/broker-config';
import { MAX_LOCAL_BROKERS, STATE_DIR } from '../broker/local-kafka';
import { localBrokerCount } from '../broker/topology';
import { dropKafkajsTimeoutWarnings } from '../kafkajs-warnings';
import { LocalTwin } from '../twin';
import { startTwinApp, twinAppOn } from '../twin-app';
import { twinIdentity } from '../identity';
import type { TwinDeployment } from '../assembly/deployment';

const USAGE = `usage:
  msk-twin up --assembly DIR [--port N] [--brokers-variable NAME]
              [--region R] [--account A] [--partition P] [--policy-document ARN=FILE]...
  msk-twin invoke FUNCTION [--payload JSON]
  msk-twin down
  msk-twin policy --assembly DIR [--region R] [--account A] [--partition P] [--policy-document ARN=FILE]...
  msk-twin config --assembly DIR [--brokers N]`;

/** What `up` records for `invoke` and `down`. */
interface CurrentTwin {
  readonly port: number;
  readonly assembly: string;
  readonly brokersVariable?: string;
  /** `--policy-document` files by policy ARN. */
  readonly policyDocuments?: Record<string, string>;
  /** What `up` deployed: the custom resources' answers and the SSM parameters, for the functions `invoke` runs. */
  readonly deployment?: TwinDeployment;
}

interface IdentityValues {
  region?: string;
  account?: string;
  partition?: string;
  'policy-document'?: string[];
}

/** `--policy-document ARN=FILE`, each file read as JSON: the documents, and the files by ARN. */
function policyDocumentsOption(values: IdentityValues): {
  documents: Record<string, PolicyDocument>;
  files: Record<string, string>;
} {
  const documents: Record<string, PolicyDocument> = {};
  const files: Record<string, string> = {};
  for (const entry of values['policy-document'] ?? []) {
    const at = entry.indexOf('=');
    if (!entry.startsWith('arn:') || at < 0) {
      throw new Error(
        `--policy-document is ${JSON.stringify(entry)}; allowed: ARN=FILE (a policy ARN and a JSON file)`,
      );
    }
    const file = path.resolve(entry.slice(at + 1));
    try {
      documents[entry.slice(0, at)] = JSON.parse(fs.readFileSync(file, 'utf8')) as PolicyDocument;
    } catch (error) {
      throw new Error(`--policy-document ${entry}: ${(error as Error).message}`);
    }
    files[entry.slice(0, at)] = file;
  }
  return { documents, files };
}

function identityOption(values: IdentityValues) {
  return { region: values.region, account: values.account, partition: values.partition };
}

const CURRENT_FILE = path.join(STATE_DIR, 'msk-twin.json');

function info(message: string): void {
  process.stderr.write(`${message}\n`);
}

function readCurrent(): CurrentTwin {
  let current: CurrentTwin | undefined;
  try {
    current = JSON.parse(fs.readFileSync(CURRENT_FILE, 'utf8')) as CurrentTwin;
  } catch {
    current = undefined;
  }
  if (!current) throw new Error(`No twin is running here (${CURRENT_FILE} is missing): start one with msk-twin up`);
  return current;
}

function attach(current: CurrentTwin): LocalTwin {
  const twin = LocalTwin.attach(current.port);
  if (!twin?.cluster.isRunning) {
    throw new Error(`The twin on port ${current.port} is not running: msk-twin down, then msk-twin up again`);
  }
  return twin;
}

function assemblyOption(values: { assembly?: string }): string {
  if (!values.assembly) throw new Error(`--assembly DIR is required (a cloud assembly: cdk synth -o DIR)\n${USAGE}`);
  return path.resolve(values.assembly);
}

function functionList(app: TwinApp): string {
  return app.functions
    .map((f) => `  ${f.path}${f.kafka ? ' (Kafka)' : ''}  ${f.name}  ${f.runtime ?? ''} ${f.handler}`)
    .join('\n');
}

async function up(
  values: {
    assembly?: string;
    brokers?: string;
    port?: string;
    'brokers-variable'?: string;
  } & IdentityValues,
): Promise<void> {
  if (fs.existsSync(CURRENT_FILE)) {
    const current = readCurrent();
    if (LocalTwin.attach(current.port)?.cluster.isRunning) {
      throw new Error(`A twin is already running on port ${current.port} (${current.assembly}): msk-twin down first`);
    }
  }
  if (values.brokers !== undefined) {
    throw new Error(
      '--brokers: up runs as many brokers as the cluster declares (NumberOfBrokerNodes); msk-twin config --brokers N shows another count',
    );
  }
  const assembly = assemblyOption(values);
  const { documents, files } = policyDocumentsOption(values);
  const instance = await startTwinApp({
    assembly,
    identity: identityOption(values),
    policyDocuments: documents,
    port: values.port === undefined ? 0 : Number(values.port),
    detached: true,
    brokersVariable: values['brokers-variable'],
    log: info,
  });
  fs.mkdirSync(STATE_DIR, { recursive: true });
  const current: CurrentTwin = {
    port: instance.twin.cluster.port,
    assembly,
    brokersVariable: values['brokers-variable'],
    policyDocuments: files,
    deployment: instance.deployment,
  };
  fs.writeFileSync(CURRENT_FILE, `${JSON.stringify(current, null, 2)}\n`);
  const { app, twin } = instance;
  info(
    [
      `Twin of ${app.cluster.name} ready in ${(instance.timings.totalMs / 1000).toFixed(1)} s: Kafka ${twin.cluster.version}, ${twin.cluster.brokers.length} broker(s), region ${twin.region}`,
      ...twin.listeners.map((l) => `Client listener ${l.name} (MSK port ${l.mskPort}): ${l.bootstrapBrokers}`),
      `CA certificate: ${twin.caFile}`,
      'Functions (msk-twin invoke NAME):',
      functionList(app),
    ].join('\n'),
  );
  process.stdout.write(`${twin.hasIamListener ? twin.bootstrapBrokers : twin.listeners[0].bootstrapBrokers}\n`);
}

async function invoke(name: string | undefined, values: { payload?: string }): Promise<number> {
  if (!name) throw new Error(`invoke needs a function name\n${USAGE}`);
  let event: unknown;
  try {
    event = JSON.parse(values.payload ?? '{}');
  } catch (error) {
    throw new Error(`--payload is not JSON: ${(error as Error).message}`);
  }
  const current = readCurrent();
  const twin = attach(current);
  const app = describeTwinApp(readCloudAssembly(current.assembly), twin.identity);
  const policyDocuments = policyDocumentsOption({
    'policy-document': Object.entries(current.policyDocuments ?? {}).map(([arn, file]) => `${arn}=${file}`),
  }).documents;
  // `up` set the policies already.
  const instance = await twinAppOn(twin, app, {
    grant: false,
    brokersVariable: current.brokersVariable,
    policyDocuments,
    deployment: current.deployment,
  });
  const runner = instance.runner(name);
  try {
    const result = await runner.invoke(event);
    for (const line of result.logs) info(line.message);
    process.stdout.write(`${JSON.stringify(result.ok ? result.payload : result.error)}\n`);
    return result.ok ? 0 : 1;
  } finally {
    await instance.stop();
  }
}

async function down(): Promise<void> {
  const current = readCurrent();
  const twin = LocalTwin.attach(current.port);
  if (twin) await twin.stop();
  fs.rmSync(CURRENT_FILE, { force: true });
  info(`Stopped the twin on port ${current.port}`);
}

function policy(values: { assembly?: string } & IdentityValues): void {
  const app = describeTwinApp(readCloudAssembly(assemblyOption(values)), twinIdentity(identityOption(values)));
  const roles = policiesOf(app, { policyDocuments: policyDocumentsOption(values).documents });
  process.stdout.write(`${formatPolicyTable(app, roles)}\n`);
  info(
    `Function roles whose policies the twin evaluates: ${roles.length}; brokers the cluster declares: ${app.cluster.brokerCount ?? 'serverless'}, the twin runs ${localBrokerCount(app.cluster)}`,
  );
}

function config(values: { assembly?: string; brokers?: string }): void {
  const { cluster } = describeTwinApp(readCloudAssembly(assemblyOption(values)));
  const brokers = brokerCountOption(values.brokers) ?? localBrokerCount(cluster);
  process.stdout.write(`${formatBrokerConfig(brokerConfigFor(cluster, { brokers }), brokers)}\n`);
}

function brokerCountOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > MAX_LOCAL_BROKERS) {
    throw new Error(`--brokers is ${value}; allowed: a whole number from 1 to ${MAX_LOCAL_BROKERS}`);
  }
  return Number(value);
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      assembly: { type: 'string' },
      brokers: { type: 'string' },
      port: { type: 'string' },
      payload: { type: 'string' },
      'brokers-variable': { type: 'string' },
      region: { type: 'string' },
      account: { type: 'string' },
      partition: { type: 'string' },
      'policy-document': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, name] = positionals;
  if (values.help || command === undefined) {
    info(USAGE);
    return values.help ? 0 : 2;
  }
  switch (command) {
    case 'up':
      await up(values);
      return 0;
    case 'invoke':
      return invoke(name, values);
    case 'down':
      await down();
      return 0;
    case 'policy':
      policy(values);
      return 0;
    case 'config':
      config(values);
      return 0;
    default:
      throw new Error(`unknown command "${command}"\n${USAGE}`);
  }
}

if (require.main === module) {
  dropKafkajsTimeoutWarnings();
  main(process.argv.slice(2)).then(
    // kafkajs can leave timers behind; the brokers of `up` are detached and outlive this process.
    (code) => process.exit(code),
    (error: unknown) => {
      info(error instanceof Error ? error.message : String(error));
      process.exit(1);
    },
  );
}
