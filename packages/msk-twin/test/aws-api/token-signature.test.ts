/**
 * The sign-in token's signature check the brokers' validator asks the decision service for: a token from
 * aws-msk-iam-sasl-signer-js matches when signed with the issued secret, and not once anything it signed changes.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateAuthTokenFromCredentialsProvider } from 'aws-msk-iam-sasl-signer-js';
import { CredentialIssuer, TWIN_REGION, type IssuedCredentials } from 'msk-twin';
import { tokenSignatureMatches } from '../../src/aws-api/sigv4';

const registryDir = fs.mkdtempSync(path.join(os.tmpdir(), 'msk-twin-token-'));
const issued = new CredentialIssuer(registryDir).issue('arn:aws:iam::111122223333:role/token-test', 300);
afterAll(() => fs.rmSync(registryDir, { recursive: true, force: true }));

async function sign(credentials: IssuedCredentials, secretAccessKey = credentials.secretAccessKey): Promise<string> {
  const { token } = await generateAuthTokenFromCredentialsProvider({
    region: TWIN_REGION,
    awsCredentialsProvider: () =>
      Promise.resolve({
        accessKeyId: credentials.accessKeyId,
        secretAccessKey,
        sessionToken: credentials.sessionToken,
      }),
  });
  return token;
}

const edit = (token: string, change: (url: string) => string) =>
  Buffer.from(change(Buffer.from(token, 'base64url').toString('utf8'))).toString('base64url');

test('a token signed with the issued secret matches, whatever its User-Agent', async () => {
  const token = await sign(issued);
  expect(await tokenSignatureMatches(token, registryDir)).toEqual({ matches: true });
  const otherAgent = edit(token, (url) => url.replace(/User-Agent=[^&]*/, 'User-Agent=something-else'));
  expect(await tokenSignatureMatches(otherAgent, registryDir)).toEqual({ matches: true });
});

test.each<[string, (url: string) => string]>([
  ['X-Amz-Expires was raised', (url) => url.replace('X-Amz-Expires=900', 'X-Amz-Expires=901')],
  [
    'action was changed',
    (url) => url.replace('Action=kafka-cluster%3AConnect', 'Action=kafka-cluster%3ADescribeCluster'),
  ],
  [
    'session token was changed',
    (url) => url.replace(/X-Amz-Security-Token=[^&]*/, 'X-Amz-Security-Token=twin-session-x'),
  ],
])('a token whose %s after signing does not match', async (_what, change) => {
  const token = edit(await sign(issued), change);
  expect(await tokenSignatureMatches(token, registryDir)).toEqual({
    matches: false,
    reason: 'the signature does not match',
  });
});

test('a token signed with another secret, or by a key the twin never issued, does not match', async () => {
  expect((await tokenSignatureMatches(await sign(issued, 'not-the-secret'), registryDir)).matches).toBe(false);
  const unknown = await sign({ ...issued, accessKeyId: 'TWINAAAAAAAAAAAAAAAA' });
  expect(await tokenSignatureMatches(unknown, registryDir)).toEqual({
    matches: false,
    reason: 'access key TWINAAAAAAAAAAAAAAAA was not issued by this twin',
  });
});
