/** Helpers for integration tests of the local MSK twin's IAM listener (sign-in, ACLs). */
import * as fs from 'fs';
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import { describeTwinApp, LocalTwin, startTwin, TWIN_ACCOUNT, type TwinAppInstance, twinAppOn } from 'msk-twin';
import { synthesizeApp } from '../../scripts/app-twin';
import { ensureBundles } from '../lambda/bundles';
import { kafkaClient, uniqueName } from './kafka-helpers';

/** Set by globalSetup: the port of the shared twin, so workers attach to it. */
export const TWIN_PORT_VARIABLE = 'HELLO_MSK_TWIN_PORT';

/**
 * The twin of a test file: the shared one from globalSetup, or (when KAFKA_BROKERS named another broker and
 * there is no shared twin) one started for this file and stopped after it.
 */
export function useTwin(): () => LocalTwin {
  let twin: LocalTwin | undefined;
  let own = false;
  beforeAll(async () => {
    const port = Number(process.env[TWIN_PORT_VARIABLE]);
    twin = port ? LocalTwin.attach(port) : undefined;
    if (!twin) {
      twin = await startTwin({ brokers: 1 });
      own = true;
    }
  }, 120_000);
  afterAll(async () => {
    if (own) await twin?.stop();
  }, 60_000);
  return () => {
    if (!twin) throw new Error('the local MSK twin did not start');
    return twin;
  };
}

/** A role ARN no other test uses: its policies on the shared twin are the ones its test sets. */
export function uniqueRole(prefix: string): string {
  return `arn:aws:iam::${TWIN_ACCOUNT}:role/${uniqueName(prefix)}`;
}

/** kafkajs that signs in with this fixed token and neither retries nor re-authenticates on its own. */
export function kafkaWithToken(twin: LocalTwin, token: string, extra: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({
    clientId: 'hello-msk-twin-test',
    brokers: twin.bootstrapBrokers.split(','),
    ssl: { ca: [fs.readFileSync(twin.caFile, 'utf8')] },
    sasl: { mechanism: 'oauthbearer', oauthBearerProvider: () => Promise.resolve({ value: token }) },
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    ...extra,
  });
}

/** The broker log line that explains the refusal with this request id ("[id]: Access denied" on the client). */
export function refusalReason(twin: LocalTwin, clientMessage: string): string {
  const id = /\[([0-9a-f-]{36})\]: Access denied/.exec(clientMessage)?.[1];
  if (!id) throw new Error(`not an MSK-style refusal: ${clientMessage}`);
  for (const broker of twin.cluster.brokers) {
    const line = fs
      .readFileSync(broker.logFile, 'utf8')
      .split('\n')
      .find((l) => l.includes(`MSK IAM sign-in refused [${id}]`));
    if (line) return line.replace(/^.*MSK IAM sign-in refused \[[0-9a-f-]+\]: /, '').replace(/ \(hellomsk\..*$/, '');
  }
  throw new Error(`no broker logged the refusal ${id}`);
}

/** Lines of every broker's log that contain `text`. */
export function brokerLogLines(twin: LocalTwin, text: string): string[] {
  return twin.cluster.brokers.flatMap((broker) =>
    fs
      .readFileSync(broker.logFile, 'utf8')
      .split('\n')
      .filter((line) => line.includes(text)),
  );
}

/** When the sessions signed in with this access key end, as the broker logged them at sign-in. */
export function sessionEnds(twin: LocalTwin, accessKeyId: string): Date[] {
  return brokerLogLines(twin, `with access key ${accessKeyId}, session until `).map(
    (line) => new Date(/session until (\S+)/.exec(line)?.[1] ?? 'invalid'),
  );
}

/**
 * The synthesized dev app on the shared twin (see useTwin), its roles' policies set: what the functions'
 * integration tests run the bundled handlers against. Each test renames the app's topic and group to names of its
 * own (policy-variants.ts) in a variant, which runs as roles of its own, so tests neither share topics nor policies.
 */
export function useTwinApp(): () => TwinAppInstance {
  const twin = useTwin();
  let instance: TwinAppInstance | undefined;
  beforeAll(async () => {
    await ensureBundles();
    const synthesized = await synthesizeApp();
    instance = await twinAppOn(twin(), describeTwinApp(synthesized.assembly));
  }, 120_000);
  afterAll(async () => {
    await instance?.stop();
  }, 60_000);
  return () => {
    if (!instance) throw new Error('the app was not set up on the local MSK twin');
    return instance;
  };
}

/** Sums of the topic's high watermarks: what the brokers hold, read over the plaintext listener. */
export async function storedMessages(twin: LocalTwin, topic: string): Promise<number> {
  const admin = kafkaClient(twin.plaintextBrokers).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, p) => n + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}
