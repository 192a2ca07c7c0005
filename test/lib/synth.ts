import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp, type BuildAppOptions, type HelloMskStacks } from '../../lib/app';
import recommendedFlags from 'aws-cdk-lib/recommended-feature-flags.json';
import cdkJson from '../../cdk.json';

/**
 * Builds the app the way `cdk synth` does, from cdk.json's context plus the given overrides. Function code is
 * not bundled (CDK's `bundling-stacks` context); the bundles are built and tested on their own.
 */
export function buildTestApp(
  context: Record<string, unknown> = {},
  outdir?: string,
  options: BuildAppOptions = {},
): HelloMskStacks & { app: App } {
  const app = new App({
    outdir,
    context: { ...recommendedFlags, ...cdkJson.context, 'aws:cdk:bundling-stacks': [], ...context },
    analyticsReporting: false,
  });
  return { app, ...buildApp(app, options) };
}

/** Builds the app and returns the template of every stack, keyed by the stack's short name. */
export function synthTemplates(
  context: Record<string, unknown> = {},
): Record<'network' | 'cluster' | 'clients' | 'monitoring', Template> {
  const { network, cluster, clients, monitoring } = buildTestApp(context);
  return {
    network: Template.fromStack(network),
    cluster: Template.fromStack(cluster),
    clients: Template.fromStack(clients),
    monitoring: Template.fromStack(monitoring),
  };
}

const ASSET_HASH = /[0-9a-f]{64}/g;

/**
 * A template as it should appear in a snapshot: asset hashes and values that change with the CDK version
 * (bootstrap version check, the runtime of CDK's own helper functions) replaced by placeholders.
 */
export function normalise(template: Template): unknown {
  const json = template.toJSON() as Record<string, Record<string, unknown>>;
  delete json.Parameters?.BootstrapVersion;
  delete json.Rules?.CheckBootstrapVersion;
  for (const section of ['Parameters', 'Rules']) {
    if (json[section] && Object.keys(json[section]).length === 0) delete json[section];
  }
  const text = JSON.stringify(json).replace(ASSET_HASH, '<asset-hash>');
  const normalised = JSON.parse(text) as {
    Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  };
  for (const resource of Object.values(normalised.Resources)) {
    const props = resource.Properties;
    const code = props?.Code as { S3Key?: unknown } | undefined;
    // CDK picks the Node.js runtime of its own helper functions; ours are asserted explicitly.
    if (
      props &&
      typeof code?.S3Key === 'string' &&
      typeof props.Runtime === 'string' &&
      props.Runtime.startsWith('nodejs')
    ) {
      props.Runtime = '<nodejs-runtime>';
    }
    if (resource.Type === 'AWS::CloudFormation::CustomResource' || resource.Type.startsWith('Custom::')) {
      // Some CDK custom resources carry the library version to force updates on upgrade.
      delete props?.ServiceTokenVersion;
    }
  }
  return normalised;
}
