/**
 * Stands in for `aws-msk-iam-sasl-signer-js` inside the function bundles (an esbuild alias, see lib/bundling.ts).
 * The signer's own code (compiled to ES5) with its SigV4, SHA-256 and URL-formatting dependencies takes
 * 39.5 KiB of a Kafka function's 300 KB budget, next to kafkajs' 263 KiB; this module makes the same token with
 * node:crypto in 1.6 KiB. For the same credentials, region and clock its token and expiry are the signer's,
 * byte for byte (test/lambda/msk-iam-signer.test.ts compares them over many inputs).
 *
 * The token is MSK's IAM format, as the signer and AWS's aws-msk-iam-auth document it: a SigV4-presigned
 * `GET https://kafka.<region>.amazonaws.com/?Action=kafka-cluster:Connect` signed for the `kafka-cluster` service,
 * valid 900 seconds, with a `User-Agent` parameter added after signing, base64url-encoded without padding.
 * The credentials are the function role's, which Lambda puts in the environment: where the signer's default
 * chain finds them in a function, without its STS, SSO and profile providers.
 */
import { createHash, createHmac } from 'node:crypto';

/** The signer release whose tokens these are (its User-Agent parameter names it; a test checks the installed one). */
export const SIGNER_VERSION = '1.0.3';

const SERVICE = 'kafka-cluster';
const ALGORITHM = 'AWS4-HMAC-SHA256';
/** The signer's token lifetime when the credentials carry no expiry time, as those in the environment do not. */
const EXPIRY_SECONDS = 900;
/** SHA-256 of the empty body of the presigned GET. */
const EMPTY_BODY_SHA256 = createHash('sha256').digest('hex');

export interface AuthTokenOptions {
  /** The cluster's region (the token names the region's endpoint, not a broker). */
  readonly region: string;
}

export interface AuthToken {
  readonly token: string;
  /** When the token expires, in milliseconds since the epoch. */
  readonly expiryTime: number;
}

/** SigV4's URI encoding: encodeURIComponent, plus the five characters it leaves as they are. */
function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Parameters sorted by name, as SigV4's canonical query and the signer's URL both have them. */
function queryString(query: Record<string, string>): string {
  return Object.keys(query)
    .sort()
    .map((name) => `${uriEncode(name)}=${uriEncode(query[name])}`)
    .join('&');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** A token for MSK IAM sign-in from the function role's credentials, as the signer's `generateAuthToken` makes it. */
export async function generateAuthToken(options: AuthTokenOptions): Promise<AuthToken> {
  const { region, ...others } = options;
  const unsupported = Object.keys(others);
  if (unsupported.length > 0) {
    throw new Error(`The MSK IAM signer inside the function bundle takes only a region, not ${unsupported.join(', ')}`);
  }
  if (!region) throw new Error('Region cannot be empty to generate auth token.');
  const accessKeyId = process.env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw new Error('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set; cannot sign the MSK IAM token');
  }
  const sessionToken = process.env.AWS_SESSION_TOKEN;

  const signedAt = Math.floor(Date.now() / 1000) * 1000;
  const amzDate = new Date(signedAt)
    .toISOString()
    .replace(/\.000Z$/, 'Z')
    .replace(/[-:]/g, '');
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${region}/${SERVICE}/aws4_request`;
  const host = `kafka.${region}.amazonaws.com`;
  const query: Record<string, string> = {
    Action: 'kafka-cluster:Connect',
    ...(sessionToken ? { 'X-Amz-Security-Token': sessionToken } : {}),
    'X-Amz-Algorithm': ALGORITHM,
    'X-Amz-Credential': `${accessKeyId}/${scope}`,
    'X-Amz-Date': amzDate,
    'X-Amz-Expires': String(EXPIRY_SECONDS),
    'X-Amz-SignedHeaders': 'host',
  };
  const canonicalRequest = ['GET', '/', queryString(query), `host:${host}`, '', 'host', EMPTY_BODY_SHA256].join('\n');
  const stringToSign = [ALGORITHM, amzDate, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join(
    '\n',
  );
  let signingKey: string | Buffer = `AWS4${secretAccessKey}`;
  for (const part of [day, region, SERVICE, 'aws4_request']) signingKey = hmac(signingKey, part);
  query['X-Amz-Signature'] = hmac(signingKey, stringToSign).toString('hex');
  query['User-Agent'] = `aws-msk-iam-sasl-signer-js/${SIGNER_VERSION}`;
  const url = `https://${host}/?${queryString(query)}`;
  return { token: Buffer.from(url, 'utf8').toString('base64url'), expiryTime: signedAt + EXPIRY_SECONDS * 1000 };
}
