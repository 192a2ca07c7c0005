/**
 * Stands in for `@aws-sdk/client-sts` inside the function bundles (an esbuild alias, see lib/bundling.ts).
 * The MSK IAM signer calls STS only with its `awsDebugCreds` option, which the functions never set.
 */
export class GetCallerIdentityCommand {
  constructor(readonly input: unknown) {}
}

export class STSClient {
  constructor(readonly config: unknown) {}

  send(): Promise<never> {
    return Promise.reject(new Error('STS is not bundled; the awsDebugCreds option of the MSK signer is not supported'));
  }
}
