/**
 * The profile and option combinations that the whole-app checks (cdk-nag, checkov) synthesize and scan. One more
 * variant is one more line here; each line is [name, context overrides as `-c key=value` would give them].
 */
export const APP_VARIANTS: readonly (readonly [name: string, context: Record<string, unknown>])[] = [
  ['dev', {}],
  ['prod', { profile: 'prod' }],
  ['destroy topics', { topicRemovalPolicy: 'destroy' }],
  [
    'customer-managed key and SCRAM',
    { encryptionKey: 'customer-managed', saslScram: 'true', alarmEmail: 'ops@example.com' },
  ],
  ['alarm e-mail with AWS managed keys', { alarmEmail: 'ops@example.com' }],
  [
    'reserved consumer, three named AZs',
    { consumerConcurrency: 1, azCount: 3, availabilityZones: '["eu-west-1a","eu-west-1b","eu-west-1c"]' },
  ],
];
