import type { Template } from 'aws-cdk-lib/assertions';
import { synthTemplates } from './synth';

type Resource = { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string };

function resources(t: Template): Record<string, Resource> {
  return (t.toJSON() as { Resources: Record<string, Resource> }).Resources;
}

/** The logical id of the log group a `{ Ref }` or `{ Fn::GetAtt: [id, 'Arn'] }` points at. */
function logGroupId(reference: unknown): string | undefined {
  const r = reference as { Ref?: string; 'Fn::GetAtt'?: [string, string] } | undefined;
  return r?.Ref ?? r?.['Fn::GetAtt']?.[0];
}

/** The log groups that AWS services write to through CloudWatch Logs log delivery, by logical id. */
function deliveredLogGroups(t: Template): string[] {
  const ids: string[] = [];
  for (const r of Object.values(resources(t))) {
    if (r.Type === 'AWS::MSK::Cluster') {
      const broker = (r.Properties?.LoggingInfo as { BrokerLogs?: { CloudWatchLogs?: { LogGroup?: unknown } } })
        ?.BrokerLogs?.CloudWatchLogs?.LogGroup;
      ids.push(logGroupId(broker) as string);
    }
    if (r.Type === 'AWS::StepFunctions::StateMachine') {
      const destinations = (
        r.Properties?.LoggingConfiguration as { Destinations?: { CloudWatchLogsLogGroup: { LogGroupArn: unknown } }[] }
      )?.Destinations;
      for (const d of destinations ?? []) ids.push(logGroupId(d.CloudWatchLogsLogGroup.LogGroupArn) as string);
    }
  }
  return ids;
}

describe.each([
  ['dev', {}],
  ['prod', { stage: 'prod' }],
])('log groups (%s)', (_name, context) => {
  const templates = synthTemplates(context);

  test('those written through log delivery (MSK broker logs, Step Functions waiters) are named /aws/vendedlogs/…', () => {
    const delivered = Object.values(templates).flatMap((t) =>
      deliveredLogGroups(t).map((id) => ({ id, group: resources(t)[id] })),
    );
    // The broker logs and the topic bootstrap's waiter.
    expect(delivered.map((d) => d.group?.Type)).toEqual(['AWS::Logs::LogGroup', 'AWS::Logs::LogGroup']);
    for (const { group } of delivered) {
      const name = JSON.stringify(group.Properties?.LogGroupName);
      // The prefix, the service, the construct, and the stack's own id (so a retained group never collides).
      expect(name).toMatch(/^\{"Fn::Join":\["\/",\["\/aws\/vendedlogs\/(msk|states)\/HelloMsk[A-Za-z-]+-[0-9A-F]{8}",/);
      expect(name).toContain('{"Ref":"AWS::StackId"}');
    }
  });
});

describe.each([
  ['dev', {}, 'Delete'],
  ['prod', { stage: 'prod' }, 'Retain'],
])('every function’s log group (%s)', (_name, context, deletionPolicy) => {
  const templates = synthTemplates(context);

  test('is declared in the function’s own stack, with retention and the stack’s removal policy, so cdk destroy leaves none behind in dev', () => {
    let functions = 0;
    for (const t of Object.values(templates)) {
      const all = resources(t);
      for (const [id, fn] of Object.entries(all).filter(([, r]) => r.Type === 'AWS::Lambda::Function')) {
        functions += 1;
        // Without LoggingConfig, Lambda creates /aws/lambda/<name> itself, with no retention, and nothing deletes it.
        const target = logGroupId((fn.Properties?.LoggingConfig as { LogGroup?: unknown } | undefined)?.LogGroup);
        expect({ id, target: target && all[target]?.Type }).toEqual({ id, target: 'AWS::Logs::LogGroup' });
        const group = all[target as string];
        expect(group.Properties?.RetentionInDays).toEqual(expect.any(Number));
        expect(group.DeletionPolicy).toBe(deletionPolicy);
      }
    }
    expect(functions).toBeGreaterThan(5);
  });
});

describe('the custom-resource Provider framework functions', () => {
  test('log at ERROR, so that the framework’s own failures show (CDK’s default, FATAL, hides them)', () => {
    const framework = Object.values(synthTemplates())
      .flatMap((t) => Object.values(resources(t)))
      .filter((r) => r.Type === 'AWS::Lambda::Function' && String(r.Properties?.Handler).startsWith('framework.'));
    // Topics (onEvent, isComplete, onTimeout) and the cluster endpoint.
    expect(framework.length).toBeGreaterThanOrEqual(4);
    for (const fn of framework) {
      expect(fn.Properties?.LoggingConfig).toMatchObject({ ApplicationLogLevel: 'ERROR', LogFormat: 'JSON' });
    }
  });
});
