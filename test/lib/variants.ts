/**
 * The app variants that every template scanner runs over (cdk-nag, cfn-lint), as `[name, context]` pairs: the
 * shipped profiles, the options that add resources, and one variant per kind of cluster. A scanner that wants
 * every kind adds `...KIND_VARIANTS` to its table, or one `KIND_VARIANTS[i]` line per kind.
 */
export type Variant = [name: string, context: Record<string, string>];

export const PROFILE_VARIANTS: Variant[] = [
  ['dev', {}],
  ['prod', { profile: 'prod' }],
];

/** MSK Serverless and Express brokers: `npx cdk synth -c clusterKind=serverless` and `-c profile=express`. */
export const KIND_VARIANTS: Variant[] = [
  ['serverless', { clusterKind: 'serverless' }],
  ['express', { profile: 'express' }],
];
