/**
 * Checks the SigV4 signature of a request to the twin's AWS API endpoint: the access key must be one the twin issued
 * (the credential registry the brokers' validator reads), with its session token, not expired, signed for the twin's
 * region within five minutes of now. The signature is recomputed with @smithy/signature-v4, the signer the AWS SDK
 * for JavaScript uses, over the headers the request says it signed.
 */
import { timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

/** What AWS answers a request it cannot authenticate (the code and HTTP status of its common errors). */
export class SignatureError extends Error {
  constructor(
    readonly code:
      | 'MissingAuthenticationToken'
      | 'UnrecognizedClientException'
      | 'SignatureDoesNotMatch'
      | 'ExpiredToken'
      | 'InvalidSignatureException',
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}

export interface SignedCaller {
  readonly roleArn: string;
  readonly accessKeyId: string;
  /** The service of the credential scope (`kafka`, `ssm`, `ec2`, …): which API the request is for. */
  readonly service: string;
}

export interface IncomingSignedRequest {
  readonly method: string;
  /** The path and query as received (still percent-encoded). */
  readonly url: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/** AWS refuses a request whose time stamp is more than five minutes from its clock. */
const MAX_SKEW_MS = 5 * 60 * 1000;

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/;

interface RegistryEntry {
  readonly roleArn: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiresAtMs: number;
}

function readRegistryEntry(registryDir: string, accessKeyId: string): RegistryEntry | undefined {
  if (!/^[A-Z0-9]+$/.test(accessKeyId)) return undefined;
  let text: string;
  try {
    text = fs.readFileSync(path.join(registryDir, 'credentials', `${accessKeyId}.properties`), 'utf8');
  } catch {
    return undefined;
  }
  const values = Object.fromEntries(
    text
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  return {
    roleArn: values.roleArn ?? '',
    secretAccessKey: values.secretAccessKey ?? '',
    sessionToken: values.sessionToken ?? '',
    expiresAtMs: Number(values.expiresAtMs),
  };
}

/** `20240102T030405Z` as a Date. */
function amzDate(text: string | undefined): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text ?? '');
  return m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])) : undefined;
}

/** The caller of a signed request, or a SignatureError saying, as AWS would, why it is not accepted. */
export async function verifySignature(
  request: IncomingSignedRequest,
  registryDir: string,
  region: string,
  now = new Date(),
): Promise<SignedCaller> {
  const header = request.headers.authorization;
  if (!header) {
    throw new SignatureError('MissingAuthenticationToken', 'Missing Authentication Token');
  }
  const m = AUTHORIZATION.exec(header);
  if (!m)
    throw new SignatureError('InvalidSignatureException', `Authorization header is not SigV4: ${header.slice(0, 40)}…`);
  const [, accessKeyId, scopeDate, scopeRegion, service, signedHeaderList, signature] = m;
  const entry = readRegistryEntry(registryDir, accessKeyId);
  if (!entry || entry.sessionToken !== request.headers['x-amz-security-token']) {
    throw new SignatureError('UnrecognizedClientException', 'The security token included in the request is invalid.');
  }
  if (!(entry.expiresAtMs > now.getTime())) {
    throw new SignatureError('ExpiredToken', 'The security token included in the request is expired');
  }
  if (scopeRegion !== region) {
    throw new SignatureError(
      'SignatureDoesNotMatch',
      `Credential should be scoped to a valid region. The twin's region is ${region}, the request is signed for ${scopeRegion}.`,
    );
  }
  const date = amzDate(request.headers['x-amz-date']);
  if (!date || !date.toISOString().replace(/-/g, '').startsWith(scopeDate)) {
    throw new SignatureError(
      'SignatureDoesNotMatch',
      'X-Amz-Date is missing or does not match the credential scope date.',
    );
  }
  if (Math.abs(date.getTime() - now.getTime()) > MAX_SKEW_MS) {
    throw new SignatureError(
      'InvalidSignatureException',
      `Signature expired: ${request.headers['x-amz-date']} is more than 5 minutes from the twin's time ${now.toISOString()}.`,
    );
  }

  const signed = signedHeaderList.split(';');
  const headers = Object.fromEntries(signed.map((name) => [name, request.headers[name] ?? '']));
  const queryIndex = request.url.indexOf('?');
  const query: Record<string, string | string[]> = {};
  if (queryIndex >= 0) {
    for (const pair of request.url
      .slice(queryIndex + 1)
      .split('&')
      .filter(Boolean)) {
      const eq = pair.indexOf('=');
      const key = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
      const value = eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1));
      const before = query[key];
      query[key] = before === undefined ? value : [...(Array.isArray(before) ? before : [before]), value];
    }
  }
  const signer = new SignatureV4({
    credentials: { accessKeyId, secretAccessKey: entry.secretAccessKey, sessionToken: entry.sessionToken },
    region: scopeRegion,
    service,
    sha256: Sha256,
    applyChecksum: signed.includes('x-amz-content-sha256'),
  });
  const recomputed = await signer.sign(
    {
      method: request.method,
      protocol: 'http:',
      hostname: (headers.host ?? '').replace(/:\d+$/, ''),
      path: queryIndex >= 0 ? request.url.slice(0, queryIndex) : request.url,
      query,
      headers,
      body: request.body.length > 0 ? request.body : undefined,
    },
    { signingDate: date, signableHeaders: new Set(signed) },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(String(recomputed.headers.authorization))?.[1];
  if (expected !== signature) {
    throw new SignatureError(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    );
  }
  return { roleArn: entry.roleArn, accessKeyId, service };
}

/** The query parameters of an MSK IAM token that its signers add after signing, so that it does not sign them. */
const UNSIGNED_TOKEN_PARAMETERS = ['X-Amz-Signature', 'User-Agent'];

/**
 * Whether an MSK IAM sign-in token (the base64url text of a SigV4-presigned `kafka-cluster:Connect` URL, as
 * aws-msk-iam-sasl-signer-js and aws-msk-iam-auth make it) carries the signature its access key's secret gives. The
 * signature is recomputed with @smithy/signature-v4's presign over the token's own query, at its X-Amz-Date, for its
 * X-Amz-Expires and with its X-Amz-Security-Token; the brokers' validator checks everything else (region, host,
 * expiry, that the session token is the issued one).
 */
export async function tokenSignatureMatches(
  token: string,
  registryDir: string,
): Promise<{ matches: boolean; reason?: string }> {
  let url: URL;
  try {
    url = new URL(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    return { matches: false, reason: 'the token is not a URL' };
  }
  const query = Object.fromEntries(url.searchParams);
  const [accessKeyId, , region, service] = (query['X-Amz-Credential'] ?? '').split('/');
  const date = amzDate(query['X-Amz-Date']);
  const signature = query['X-Amz-Signature'] ?? '';
  if (!accessKeyId || !region || !service || !date) return { matches: false, reason: 'the token has no SigV4 scope' };
  const entry = readRegistryEntry(registryDir, accessKeyId);
  if (!entry) return { matches: false, reason: `access key ${accessKeyId} was not issued by this twin` };
  const signed = Object.fromEntries(
    Object.entries(query).filter(([name]) => !UNSIGNED_TOKEN_PARAMETERS.includes(name)),
  );
  const signer = new SignatureV4({
    credentials: { accessKeyId, secretAccessKey: entry.secretAccessKey, sessionToken: query['X-Amz-Security-Token'] },
    region,
    service,
    sha256: Sha256,
  });
  const presigned = await signer.presign(
    {
      method: 'GET',
      protocol: url.protocol,
      hostname: url.hostname,
      path: url.pathname,
      query: signed,
      headers: { host: url.host },
    },
    { signingDate: date, expiresIn: Number(query['X-Amz-Expires']) },
  );
  const expected = Buffer.from(String(presigned.query?.['X-Amz-Signature'] ?? ''));
  const given = Buffer.from(signature);
  const matches = expected.length === given.length && timingSafeEqual(expected, given);
  return matches ? { matches } : { matches, reason: 'the signature does not match' };
}
