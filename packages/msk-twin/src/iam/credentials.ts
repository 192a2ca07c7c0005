/**
 * The local twin's credential issuer: what STS and the Lambda service do for a function's role on AWS. It issues
 * temporary credentials (access key id, secret access key, session token, expiration) for a role ARN into a
 * registry directory that the broker's token validator reads at every sign-in, so credentials issued or revoked
 * while the broker runs count from the next sign-in on (as when Lambda rotates a function's credentials).
 *
 * The values never look like real AWS credentials: access key ids start with `TWIN` (not AKIA/ASIA), secrets
 * and session tokens with `twin-`. The registry lives in the twin's temp directory and is removed with it.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

export const ACCESS_KEY_PREFIX = 'TWIN';
/** STS issues role credentials for 15 minutes to 12 hours; the twin also allows seconds, for tests of expiry. */
export const MAX_CREDENTIAL_TTL_SECONDS = 12 * 60 * 60;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/** Throws one line unless `roleArn` is an IAM role ARN. */
export function assertRoleArn(roleArn: string): void {
  if (!ROLE_ARN.test(roleArn)) {
    throw new Error(`roleArn must be an IAM role ARN like arn:aws:iam::111122223333:role/name, got "${roleArn}"`);
  }
}

export interface IssuedCredentials {
  readonly roleArn: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
}

/** The variables Lambda sets for a function's role credentials (the AWS SDKs and both MSK signers read them). */
export function credentialsEnvironment(credentials: IssuedCredentials): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_SESSION_TOKEN: credentials.sessionToken,
  };
}

/** 16 characters of RFC 4648 base32, like the random part of an AWS access key id. */
function base32(bytes: Buffer): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

export class CredentialIssuer {
  /** @param registryDir the directory the validator reads (its `credentials/` subdirectory holds one file per key). */
  constructor(readonly registryDir: string) {}

  private get credentialsDir(): string {
    return path.join(this.registryDir, 'credentials');
  }

  /** Issues credentials for `roleArn` that expire after `ttlSeconds` (1 s to 12 h). */
  issue(roleArn: string, ttlSeconds: number): IssuedCredentials {
    assertRoleArn(roleArn);
    if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0 || ttlSeconds > MAX_CREDENTIAL_TTL_SECONDS) {
      throw new Error(`ttlSeconds must be more than 0 and at most ${MAX_CREDENTIAL_TTL_SECONDS}, got ${ttlSeconds}`);
    }
    const credentials: IssuedCredentials = {
      roleArn,
      accessKeyId: ACCESS_KEY_PREFIX + base32(crypto.randomBytes(10)),
      secretAccessKey: `twin-secret-${crypto.randomBytes(20).toString('hex')}`,
      sessionToken: `twin-session-${crypto.randomBytes(32).toString('hex')}`,
      expiration: new Date(Date.now() + Math.round(ttlSeconds * 1000)),
    };
    fs.mkdirSync(this.credentialsDir, { recursive: true, mode: 0o700 });
    const file = path.join(this.credentialsDir, `${credentials.accessKeyId}.properties`);
    // Java properties: only the first '=' separates, and none of these values holds a backslash or a newline.
    const text = [
      `roleArn=${credentials.roleArn}`,
      `secretAccessKey=${credentials.secretAccessKey}`,
      `sessionToken=${credentials.sessionToken}`,
      `expiresAtMs=${credentials.expiration.getTime()}`,
      '',
    ].join('\n');
    // Written whole, then renamed: the validator never reads a half-written file.
    fs.writeFileSync(`${file}.tmp`, text, { mode: 0o600 });
    fs.renameSync(`${file}.tmp`, file);
    return credentials;
  }

  /** Withdraws credentials before they expire; later sign-ins with them are refused as unknown keys. */
  revoke(accessKeyId: string): void {
    if (!/^[A-Z0-9]+$/.test(accessKeyId)) throw new Error(`"${accessKeyId}" is not an access key id of this twin`);
    fs.rmSync(path.join(this.credentialsDir, `${accessKeyId}.properties`), { force: true });
  }
}
