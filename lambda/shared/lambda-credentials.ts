/**
 * Stands in for `@aws-sdk/credential-providers` inside the function bundles (an esbuild alias, see
 * lib/bundling.ts). The MSK IAM signer asks it for the default credential chain; in Lambda that chain
 * ends at the function role's credentials, which the runtime puts in the environment. Reading them
 * directly keeps the STS, SSO and Cognito clients out of the bundle and makes signing purely local.
 */
interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

type Provider = () => Promise<Credentials>;

export function fromNodeProviderChain(): Provider {
  return () => {
    const accessKeyId = process.env.AWS_ACCESS_KEY_ID;
    const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY;
    if (!accessKeyId || !secretAccessKey) {
      return Promise.reject(
        new Error('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set; cannot sign the MSK IAM token'),
      );
    }
    return Promise.resolve({ accessKeyId, secretAccessKey, sessionToken: process.env.AWS_SESSION_TOKEN });
  };
}

function unavailable(name: string): () => Provider {
  return () => () => Promise.reject(new Error(`${name} credentials are not available inside the function bundle`));
}

export const fromIni = unavailable('Profile (fromIni)');
export const fromTemporaryCredentials = unavailable('Assumed-role (fromTemporaryCredentials)');
