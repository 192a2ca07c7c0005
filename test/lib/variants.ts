/**
 * The app variants that the whole-app scanners (cdk-nag, checkov, cfn-lint) synthesize and scan, as
 * `[name, context]` pairs with context overrides as `-c key=value` would give them. One more variant is one more
 * line here.
 */
export type Variant = readonly [name: string, context: Record<string, unknown>];

/** The shipped stages. */
export const PROFILE_VARIANTS: readonly Variant[] = [
  ['dev', {}],
  ['prod', { stage: 'prod' }],
];

/** The shipped stages and the options that add or change resources. */
export const APP_VARIANTS: readonly Variant[] = [
  ...PROFILE_VARIANTS,
  ['destroy topics', { topicRemovalPolicy: 'destroy' }],
  ['native topic resources', { topicResource: 'native' }],
  [
    'customer-managed key and SCRAM',
    { encryptionKey: 'customer-managed', saslScram: 'true', alarmEmail: 'ops@example.com' },
  ],
  ['alarm e-mail with AWS managed keys', { alarmEmail: 'ops@example.com' }],
  ['event-source-mapping consumer', { consumer: 'event-source-mapping' }],
  [
    'reserved consumer, three named AZs',
    { consumerConcurrency: 1, azCount: 3, availabilityZones: '["eu-west-1a","eu-west-1b","eu-west-1c"]' },
  ],
];

/** MSK Serverless and Express brokers: `npx cdk synth -c clusterKind=serverless` and `-c stage=express`. */
export const KIND_VARIANTS: readonly Variant[] = [
  ['serverless', { clusterKind: 'serverless' }],
  ['express', { stage: 'express' }],
];
