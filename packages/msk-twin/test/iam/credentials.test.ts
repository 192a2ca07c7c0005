import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CredentialIssuer, credentialsEnvironment } from 'msk-twin';

const ROLE = 'arn:aws:iam::111122223333:role/hello-msk-producer';
let dir: string;
let issuer: CredentialIssuer;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hello-msk-credentials-test-'));
  issuer = new CredentialIssuer(dir);
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The registry file of an access key, as the Java validator reads it (java.util.Properties). */
function registryEntry(accessKeyId: string): Record<string, string> {
  const text = fs.readFileSync(path.join(dir, 'credentials', `${accessKeyId}.properties`), 'utf8');
  return Object.fromEntries(
    text
      .split('\n')
      .filter(Boolean)
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

describe('the twin credential issuer', () => {
  test('issues temporary credentials for a role into a registry file only the owner can read', () => {
    const before = Date.now();
    const issued = issuer.issue(ROLE, 900);
    expect(issued.roleArn).toBe(ROLE);
    expect(issued.expiration.getTime()).toBeGreaterThanOrEqual(before + 900_000);
    expect(issued.expiration.getTime()).toBeLessThanOrEqual(Date.now() + 900_000);
    expect(registryEntry(issued.accessKeyId)).toEqual({
      roleArn: ROLE,
      secretAccessKey: issued.secretAccessKey,
      sessionToken: issued.sessionToken,
      expiresAtMs: String(issued.expiration.getTime()),
    });
    const mode = fs.statSync(path.join(dir, 'credentials', `${issued.accessKeyId}.properties`)).mode & 0o777;
    expect(mode).toBe(0o600);
  });

  test('never issues values that look like real AWS credentials', () => {
    const issued = Array.from({ length: 20 }, () => issuer.issue(ROLE, 60));
    for (const credentials of issued) {
      expect(credentials.accessKeyId).toMatch(/^TWIN[A-Z2-7]{16}$/);
      expect(credentials.accessKeyId).not.toMatch(/^(AKIA|ASIA|AROA|AIDA)/);
      expect(credentials.secretAccessKey).toMatch(/^twin-secret-[0-9a-f]{40}$/);
      expect(credentials.sessionToken).toMatch(/^twin-session-[0-9a-f]{64}$/);
    }
    expect(new Set(issued.map((c) => c.accessKeyId)).size).toBe(20);
  });

  test('issues new credentials for the same role while the old ones stay valid (rotation)', () => {
    const first = issuer.issue(ROLE, 60);
    const second = issuer.issue(ROLE, 60);
    expect(second.accessKeyId).not.toBe(first.accessKeyId);
    expect(registryEntry(first.accessKeyId).roleArn).toBe(ROLE);
    expect(registryEntry(second.accessKeyId).roleArn).toBe(ROLE);
  });

  test('revoke removes the credentials from the registry', () => {
    const issued = issuer.issue(ROLE, 60);
    issuer.revoke(issued.accessKeyId);
    expect(fs.existsSync(path.join(dir, 'credentials', `${issued.accessKeyId}.properties`))).toBe(false);
    expect(() => issuer.revoke('../etc/passwd')).toThrow('"../etc/passwd" is not an access key id of this twin');
  });

  test.each([
    [
      'arn:aws:iam::111122223333:user/alice',
      900,
      'roleArn must be an IAM role ARN like arn:aws:iam::111122223333:role/name, got "arn:aws:iam::111122223333:user/alice"',
    ],
    [
      'arn:aws:iam::1111:role/short-account',
      900,
      'roleArn must be an IAM role ARN like arn:aws:iam::111122223333:role/name, got "arn:aws:iam::1111:role/short-account"',
    ],
    [ROLE, 0, 'ttlSeconds must be more than 0 and at most 43200, got 0'],
    [ROLE, 43201, 'ttlSeconds must be more than 0 and at most 43200, got 43201'],
    [ROLE, Number.NaN, 'ttlSeconds must be more than 0 and at most 43200, got NaN'],
  ])('refuses issue(%j, %j) in one line', (roleArn, ttl, message) => {
    expect(() => issuer.issue(roleArn, ttl)).toThrow(message);
    expect(fs.existsSync(path.join(dir, 'credentials'))).toBe(false);
  });

  test('credentialsEnvironment gives the variables Lambda sets for a role', () => {
    const issued = issuer.issue(ROLE, 60);
    expect(credentialsEnvironment(issued)).toEqual({
      AWS_ACCESS_KEY_ID: issued.accessKeyId,
      AWS_SECRET_ACCESS_KEY: issued.secretAccessKey,
      AWS_SESSION_TOKEN: issued.sessionToken,
    });
  });
});
