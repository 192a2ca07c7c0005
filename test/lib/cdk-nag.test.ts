import { App, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTestApp } from './synth';
import { APP_VARIANTS, KIND_VARIANTS, type Variant } from './variants';

interface Violation {
  ruleName: string;
  violatingConstructs: { constructPath: string }[];
}

/** Synthesizes with the AwsSolutions pack and returns every finding that is neither fixed nor acknowledged. */
function nagFindings(build: (outdir: string) => App): string[] {
  const outdir = mkdtempSync(join(tmpdir(), 'hello-msk-nag-'));
  try {
    const app = build(outdir);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    try {
      app.synth({ force: true });
    } catch (error) {
      // Synthesis fails on errors; the report beside the templates lists them.
      if (!String(error).includes('ValidationFailed') && !String((error as Error).name).includes('Validation'))
        throw error;
    }
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: { pluginName: string; violations: Violation[] }[];
    };
    return report.pluginReports
      .filter((r) => r.pluginName === 'AwsSolutions')
      .flatMap((r) =>
        r.violations.flatMap((v) => v.violatingConstructs.map((c) => `${v.ruleName} at ${c.constructPath}`)),
      );
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

describe('cdk-nag AwsSolutions pack', () => {
  const silence = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  afterAll(() => silence.mockRestore());

  test.each<Variant>([
    ...APP_VARIANTS,
    ...KIND_VARIANTS,
    ['serverless, destroy topics', { clusterKind: 'serverless', topicRemovalPolicy: 'destroy' }],
  ])('finds nothing unfixed or unacknowledged in the %s app', (_name, context) => {
    expect(nagFindings((outdir) => buildTestApp(context, outdir).app)).toEqual([]);
  });

  test('reports a finding that is neither fixed nor acknowledged', () => {
    const findings = nagFindings((outdir) => {
      const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
      const stack = new Stack(app, 'Throwaway');
      const vpc = new ec2.Vpc(stack, 'Vpc', {
        natGateways: 0,
        subnetConfiguration: [{ name: 'p', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
      });
      const open = new ec2.SecurityGroup(stack, 'Open', { vpc });
      open.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(9092), 'deliberately open to the world');
      new iam.Role(stack, 'Admin', {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        inlinePolicies: {
          all: new iam.PolicyDocument({
            statements: [new iam.PolicyStatement({ actions: ['kafka-cluster:*'], resources: ['*'] })],
          }),
        },
      });
      return app;
    });
    expect(findings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^AwsSolutions-EC23 at Throwaway\/Open\/Resource$/),
        expect.stringMatching(/^AwsSolutions-IAM5\[Action::kafka-cluster:\*\] at Throwaway\/Admin\/Resource$/),
        expect.stringMatching(/^AwsSolutions-VPC7 at Throwaway\/Vpc\/Resource$/),
      ]),
    );
  });
});
