import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { normalise } from '../lib/synth';
import { buildIntegApp, INTEG_MESSAGE, integContext } from './integ.hello-msk';

interface AssertionProperties extends Record<string, unknown> {
  parameters: Record<string, unknown>;
  actualPath?: string;
  expected?: string;
  stateMachineArn?: unknown;
}
type Resource = { Type: string; Properties: AssertionProperties; DependsOn?: string[] };

/** A template as it should appear in the snapshot: `normalise`, plus the assertions' per-synth `salt`. */
function normaliseInteg(template: Record<string, unknown>): unknown {
  const json = normalise(Template.fromJSON(template)) as { Resources: Record<string, Resource> };
  for (const resource of Object.values(json.Resources)) {
    // integ-tests-alpha stamps every assertion with Date.now() so that it runs on every deployment.
    if (resource.Type.startsWith('Custom::DeployAssert') && 'salt' in resource.Properties) {
      resource.Properties.salt = '<salt>';
    }
  }
  return json;
}

/** Synthesizes the integration app the way integ-runner does, offline: no credentials, no bundling. */
function synthIntegApp() {
  const outdir = mkdtempSync(join(tmpdir(), 'hello-msk-integ-'));
  try {
    const app = new App({
      outdir,
      context: { ...integContext(), 'aws:cdk:bundling-stacks': [] },
      analyticsReporting: false,
    });
    const { integ } = buildIntegApp(app);
    const assembly = app.synth();
    const manifest = JSON.parse(readFileSync(join(outdir, 'integ.json'), 'utf8')) as {
      testCases: Record<string, { stacks: string[]; stackUpdateWorkflow?: boolean; assertionStackName?: string }>;
    };
    const templates = Object.fromEntries(
      assembly.stacks.map((s) => [s.stackName, s.template as Record<string, unknown>]),
    );
    return { integ, manifest, templates };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

describe('integ.hello-msk (checked offline)', () => {
  const { manifest, templates } = synthIntegApp();
  const [testCase] = Object.values(manifest.testCases);
  const assertions = templates[testCase.assertionStackName as string];
  const resources = (assertions.Resources ?? {}) as Record<string, Resource>;
  const custom = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

  test('matches the snapshot of the app stacks and the assertion stack', () => {
    expect(Object.keys(templates).sort()).toEqual([
      'HelloMsk-integ-Clients',
      'HelloMsk-integ-Cluster',
      'HelloMsk-integ-Monitoring',
      'HelloMsk-integ-Network',
      testCase.assertionStackName,
    ]);
    expect(
      Object.fromEntries(Object.entries(templates).map(([name, template]) => [name, normaliseInteg(template)])),
    ).toMatchSnapshot();
  });

  test('deploys the whole app under its own integ profile, without the update workflow', () => {
    expect(Object.keys(manifest.testCases)).toEqual(['HelloMskInteg/DefaultTest']);
    expect(testCase.stacks).toEqual([
      'HelloMsk-integ-Network',
      'HelloMsk-integ-Cluster',
      'HelloMsk-integ-Clients',
      'HelloMsk-integ-Monitoring',
    ]);
    expect(testCase.stackUpdateWorkflow).toBe(false);
  });

  test('sends the message, runs the consumer, then waits for the log line of exactly the record sent', () => {
    const [[sendId, send], [readId, read]] = custom('Custom::DeployAssert@SdkCallLambdainvoke').sort(
      ([, a], [, b]) => (a.DependsOn?.length ?? 0) - (b.DependsOn?.length ?? 0),
    );
    const [[logId, log]] = custom('Custom::DeployAssert@SdkCallCloudWatchLogsfilterLogEvents');

    expect(JSON.stringify(send.Properties.parameters.FunctionName)).toContain('ExportsOutputRefProducer');
    expect(JSON.parse(JSON.parse(send.Properties.parameters.Payload as string) as string)).toEqual({
      message: INTEG_MESSAGE,
    });
    expect(send.Properties).toMatchObject({ actualPath: 'Payload.topic', expected: '{"$Exact":"test-topic"}' });

    expect(JSON.stringify(read.Properties.parameters.FunctionName)).toContain('ExportsOutputRefConsumer');
    expect(read.DependsOn).toContain(sendId);
    expect(read.Properties.stateMachineArn).toBeDefined();

    expect(JSON.stringify(log.Properties.parameters.logGroupName)).toContain('ExportsOutputRefConsumerLogs');
    const pattern = JSON.stringify(log.Properties.parameters.filterPattern);
    expect(pattern).toContain(`($.message = \\\\\\"${INTEG_MESSAGE}\\\\\\")`);
    expect(pattern).toContain(`{"Fn::GetAtt":["${sendId}","apiCallResponse.Payload.messages.0.partition"]}`);
    expect(pattern).toContain(`{"Fn::GetAtt":["${sendId}","apiCallResponse.Payload.messages.0.offset"]}`);
    expect(JSON.parse(log.Properties.expected as string)).toEqual({
      $ObjectLike: {
        events: {
          $ArrayWith: [
            {
              $ObjectLike: {
                message: { $SerializedJson: { $ObjectLike: { message: INTEG_MESSAGE, topic: 'test-topic' } } },
              },
            },
          ],
        },
      },
    });
    expect(log.DependsOn).toContain(readId);
    expect(log.Properties.stateMachineArn).toBeDefined();
    expect(logId).toBeDefined();
  });
});
