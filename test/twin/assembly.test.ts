/** The twin's reading of this app's own assembly (the package's own tests use hand-written ones). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  describeTwinApp,
  findFunction,
  functionEnvironment,
  readCloudAssembly,
  type TwinApp,
  twinClusterArn,
} from 'msk-twin';
import { synthesizeApp, type SynthesizedApp } from '../../scripts/app-twin';

const ENDPOINT = { bootstrapBrokers: '127.0.0.1:29098,127.0.0.1:29099' };

describe('the synthesized app', () => {
  let dev: SynthesizedApp;
  let app: TwinApp;

  beforeAll(async () => {
    dev = await synthesizeApp();
    app = describeTwinApp(dev.assembly);
  }, 180_000);

  test('synthesizes the dev stage offline into a cloud assembly, in deployment order', () => {
    expect(dev.assembly.stacks.map((s) => s.name)).toEqual([
      'HelloMsk-dev-Network',
      'HelloMsk-dev-Cluster',
      'HelloMsk-dev-Clients',
      'HelloMsk-dev-Monitoring',
    ]);
    expect(dev.synthMs).toBeGreaterThan(0);
    expect(readCloudAssembly(dev.assembly.dir).stacks).toHaveLength(4);
  });

  test('finds the cluster with its twin ARN, size and broker configuration', () => {
    expect(app.cluster).toMatchObject({
      stack: 'HelloMsk-dev-Cluster',
      arn: twinClusterArn(app.cluster.name),
      kafkaVersion: '3.9.x.kraft',
      instanceType: 'kafka.t3.small',
      brokerCount: 2,
      azCount: 2,
    });
    expect(app.cluster.name).toMatch(/^HelloMskdevCluster-[0-9A-F]{8}$/);
    expect(app.cluster.serverProperties).toContain('auto.create.topics.enable=false');
  });

  test('the Kafka functions are the producer, the consumer, the kafka-admin and the topic bootstrap handlers, each with its bundled code', () => {
    expect(app.kafkaFunctions.map((f) => [f.path, f.handler, f.timeoutSeconds, f.memoryMb, f.runtime]).sort()).toEqual([
      ['Consumer', 'index.handler', 900, 256, 'nodejs24.x'],
      ['KafkaAdmin', 'index.handler', 30, 256, 'nodejs24.x'],
      ['Producer', 'index.handler', 60, 256, 'nodejs24.x'],
      ['Topics/IsComplete', 'index.isComplete', 60, 256, 'nodejs24.x'],
      ['Topics/OnEvent', 'index.onEvent', 180, 256, 'nodejs24.x'],
    ]);
    for (const fn of app.kafkaFunctions) {
      expect(fs.existsSync(path.join(fn.codeDir ?? '', 'index.js'))).toBe(true);
    }
    // CDK's own provider-framework functions do not reach Kafka.
    expect(app.functions.filter((f) => f.handler.startsWith('framework.')).every((f) => !f.kafka)).toBe(true);
  });

  test('finds a function by its construct path, a tail of it, its logical id or its name, and names the known ones otherwise', () => {
    const producer = findFunction(app.functions, 'Producer');
    expect(producer.path).toBe('Producer');
    expect(findFunction(app.functions, 'Topics/OnEvent').handler).toBe('index.onEvent');
    expect(findFunction(app.functions, 'HelloMsk-dev-Clients/Producer')).toBe(producer);
    expect(findFunction(app.functions, producer.logicalId)).toBe(producer);
    expect(findFunction(app.functions, producer.name)).toBe(producer);
    expect(() => findFunction(app.functions, 'Nope')).toThrow(
      /^No function of the assembly is named Nope; known: .*Topics\/IsComplete/,
    );
    expect(() => findFunction(app.functions, 'OnEvent')).toThrow(
      /^OnEvent names \d+ functions .*; give more of the construct path$/,
    );
  });

  test("resolves the producer's environment with the bootstrap brokers (the cluster stack's SSM parameter) pointing at the twin", () => {
    const producer = app.kafkaFunctions.find((f) => f.path === 'Producer');
    if (!producer) throw new Error('no producer');
    expect(functionEnvironment(app, producer, ENDPOINT)).toEqual({
      NODE_OPTIONS: '--enable-source-maps',
      KAFKA_BROKERS: ENDPOINT.bootstrapBrokers,
      KAFKA_AUTH: 'iam',
      TOPIC: 'test-topic',
      MAX_MESSAGE_BYTES: '1048588',
    });
    expect(producer.roleArn).toMatch(/^arn:aws:iam::111122223333:role\/HelloMsk-dev-Clients-ProducerServiceRole/);
    expect(producer.logGroupName).toMatch(/^HelloMsk-dev-Clients-ProducerLogs/);
  });

  test("resolves the kafka-admin function's environment: the same bootstrap brokers and IAM, no topic", () => {
    const admin = app.kafkaFunctions.find((f) => f.path === 'KafkaAdmin');
    if (!admin) throw new Error('no kafka-admin function');
    expect(functionEnvironment(app, admin, ENDPOINT)).toEqual({
      NODE_OPTIONS: '--enable-source-maps',
      KAFKA_BROKERS: ENDPOINT.bootstrapBrokers,
      KAFKA_AUTH: 'iam',
    });
    expect(admin.roleArn).toMatch(/^arn:aws:iam::111122223333:role\/HelloMsk-dev-Clients-KafkaAdminServiceRole/);
  });

  test('synthesizes another stage on request (prod: three brokers, Kafka 4.1)', async () => {
    const prod = await synthesizeApp({ stage: 'prod' });
    const { cluster } = describeTwinApp(prod.assembly);
    expect(cluster).toMatchObject({ kafkaVersion: '4.1.x.kraft', brokerCount: 3, azCount: 3 });
    expect(cluster.serverProperties).toContain('min.insync.replicas=2');
  }, 180_000);
});
