/**
 * Sign-in to the local MSK twin's IAM listener: the tokens MSK accepts are accepted, the ones it refuses are
 * refused with MSK's answer ("[request id]: Access denied"), and the broker log says why in one line.
 */
import { generateAuthToken, generateAuthTokenFromCredentialsProvider } from 'aws-msk-iam-sasl-signer-js';
import { Kafka, logLevel } from 'kafkajs';
import { type IssuedCredentials, roleAllowing, TWIN_ADMIN_ROLE_ARN, TWIN_REGION } from 'msk-twin';
import { uniqueName } from '../integration/kafka-helpers';
import {
  brokerLogLines,
  kafkaWithToken,
  refusalReason,
  sessionEnds,
  uniqueRole,
  useTwin,
} from '../integration/twin-helpers';

const twin = useTwin();

const REFUSED = /^SASL OAUTHBEARER authentication failed: \[[0-9a-f-]{36}\]: Access denied$/;
const ALL_BUT_DATE = [
  'hrtime',
  'nextTick',
  'performance',
  'queueMicrotask',
  'setImmediate',
  'clearImmediate',
  'setInterval',
  'clearInterval',
  'setTimeout',
  'clearTimeout',
] as const;

interface SignOptions {
  readonly region?: string;
  /** Sign as if the clock showed this time. */
  readonly at?: Date;
  /** Hand the signer this expiration with the credentials (Lambda's environment carries none). */
  readonly expiration?: Date;
  readonly sessionToken?: string | null;
}

/** A token from the real signer (aws-msk-iam-sasl-signer-js) for these credentials. */
async function sign(credentials: IssuedCredentials, options: SignOptions = {}): Promise<string> {
  const sessionToken = options.sessionToken === null ? undefined : (options.sessionToken ?? credentials.sessionToken);
  if (options.at) jest.useFakeTimers({ now: options.at, doNotFake: [...ALL_BUT_DATE] });
  try {
    const { token } = await generateAuthTokenFromCredentialsProvider({
      region: options.region ?? TWIN_REGION,
      awsCredentialsProvider: () =>
        Promise.resolve({
          accessKeyId: credentials.accessKeyId,
          secretAccessKey: credentials.secretAccessKey,
          sessionToken,
          expiration: options.expiration,
        }),
    });
    return token;
  } finally {
    if (options.at) jest.useRealTimers();
  }
}

/** The presigned URL inside a token, changed by `edit`, as a token again. */
function tamper(token: string, edit: (url: string) => string): string {
  return Buffer.from(edit(Buffer.from(token, 'base64url').toString('utf8')), 'utf8').toString('base64url');
}

/** Signs in with `token`; resolves the client's error message (undefined when the sign-in succeeded). */
async function signIn(token: string): Promise<string | undefined> {
  const admin = kafkaWithToken(twin(), token).admin();
  try {
    await admin.connect();
    await admin.describeCluster();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await admin.disconnect();
  }
}

let allowed: string;
let credentials: IssuedCredentials;
const granted = uniqueName('signin-granted');
const notGranted = uniqueName('signin-not-granted');

beforeAll(async () => {
  allowed = uniqueRole('signin');
  await twin().withAdmin((admin) =>
    admin.createTopics({ topics: [granted, notGranted].map((topic) => ({ topic })), waitForLeaders: true }),
  );
  await twin().setPolicies([roleAllowing(allowed, twin().clusterArn, [['DescribeTopic', 'topic', granted]])]);
  credentials = twin().issueCredentials(allowed, 900);
});

describe('a token MSK accepts', () => {
  test('from generateAuthToken with issued credentials in the environment: signed in as the role, authorized by its ACLs', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_SESSION_TOKEN: credentials.sessionToken,
    });
    let token: string;
    try {
      ({ token } = await generateAuthToken({ region: TWIN_REGION }));
    } finally {
      process.env = saved;
    }
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    const admin = kafkaWithToken(twin(), token).admin();
    await admin.connect();
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [granted] });
      expect(topics.map((t) => t.name)).toEqual([granted]);
      await expect(admin.fetchTopicMetadata({ topics: [notGranted] })).rejects.toThrow(
        'Not authorized to access topics: [Topic authorization failed]',
      );
    } finally {
      await admin.disconnect();
    }
    const signedIn = brokerLogLines(twin(), `with access key ${credentials.accessKeyId}`);
    expect(signedIn.length).toBeGreaterThan(0);
    expect(signedIn[0]).toMatch(new RegExp(`MSK IAM sign-in \\[[0-9a-f-]{36}\\]: ${allowed} with access key`));
  });

  test('signed two minutes ahead of the broker clock (within the 5-minute skew)', async () => {
    expect(await signIn(await sign(credentials, { at: new Date(Date.now() + 120_000) }))).toBeUndefined();
  });

  test('with a User-Agent changed after signing (the parameter is not signed)', async () => {
    const token = tamper(await sign(credentials), (url) =>
      url.replace(/User-Agent=[^&]*/, 'User-Agent=aws-msk-iam-auth%2F2.3.5%2Fsomething-else'),
    );
    expect(await signIn(token)).toBeUndefined();
  });

  test('for the admin role, which needs no Connect grant', async () => {
    const admin = twin().issueCredentials(TWIN_ADMIN_ROLE_ARN, 300);
    expect(await signIn(await sign(admin))).toBeUndefined();
  });
});

describe('a token MSK refuses', () => {
  const cases: [string, () => Promise<string>, string][] = [
    [
      'tampered: X-Amz-Expires raised after signing',
      async () => tamper(await sign(credentials), (url) => url.replace('X-Amz-Expires=900', 'X-Amz-Expires=901')),
      `the signature does not match (access key ${'KEY'})`,
    ],
    [
      'tampered: one signature digit changed',
      async () =>
        tamper(await sign(credentials), (url) =>
          url.replace(/X-Amz-Signature=([0-9a-f])/, (_, d: string) => `X-Amz-Signature=${d === '0' ? '1' : '0'}`),
        ),
      'the signature does not match',
    ],
    [
      'expired: signed 16 minutes ago with X-Amz-Expires 900',
      () => sign(credentials, { at: new Date(Date.now() - 16 * 60_000) }),
      'the token expired at',
    ],
    [
      'from the future: signed 10 minutes ahead',
      () => sign(credentials, { at: new Date(Date.now() + 10 * 60_000) }),
      'more than 300 s in the future',
    ],
    [
      'wrong region: signed for kafka.eu-west-1.amazonaws.com',
      () => sign(credentials, { region: 'eu-west-1' }),
      `the token is signed for region eu-west-1 and host kafka.eu-west-1.amazonaws.com; this cluster is in ${TWIN_REGION}`,
    ],
    [
      'unknown key: credentials the twin never issued',
      () => sign({ ...credentials, accessKeyId: 'TWINAAAAAAAAAAAAAAAA' }),
      'access key TWINAAAAAAAAAAAAAAAA was not issued by this twin',
    ],
    [
      'wrong secret: the issued key signed with another secret',
      () => sign({ ...credentials, secretAccessKey: 'twin-secret-not-the-one-issued' }),
      'the signature does not match',
    ],
    ['session token missing (issued with one)', () => sign(credentials, { sessionToken: null }), 'is missing'],
    [
      'session token not the one issued',
      () => sign(credentials, { sessionToken: 'twin-session-another' }),
      'does not match',
    ],
    [
      'X-Amz-Expires with a fraction: the signer given credentials that expire in under 15 minutes',
      () => sign(credentials, { expiration: new Date(Date.now() + 120_500) }),
      'is not a whole number of seconds from 1 to 604800',
    ],
    [
      'not base64url without padding',
      async () => `${await sign(credentials)}==`,
      'the token is not base64url text without padding',
    ],
    [
      'another action than kafka-cluster:Connect',
      async () =>
        tamper(await sign(credentials), (url) =>
          url.replace('Action=kafka-cluster%3AConnect', 'Action=kafka-cluster%3AWriteData'),
        ),
      'Action is kafka-cluster:WriteData, expected kafka-cluster:Connect',
    ],
  ];

  test.each(cases)('%s', async (_, token, reason) => {
    const message = await signIn(await token());
    expect(message).toMatch(REFUSED);
    expect(refusalReason(twin(), message as string)).toContain(reason.replace('KEY', credentials.accessKeyId));
  });

  test('a role that is not allowed kafka-cluster:Connect', async () => {
    const stranger = uniqueRole('no-connect');
    const message = await signIn(await sign(twin().issueCredentials(stranger, 300)));
    expect(message).toMatch(REFUSED);
    expect(refusalReason(twin(), message as string)).toBe(
      `role ${stranger} is not allowed kafka-cluster:Connect on this cluster: no policy of role ${stranger} is known to the twin`,
    );
  });

  test('credentials that have expired, in a token signed before they did', async () => {
    const shortLived = twin().issueCredentials(allowed, 1);
    const token = await sign(shortLived);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const message = await signIn(token);
    expect(message).toMatch(REFUSED);
    expect(refusalReason(twin(), message as string)).toMatch(
      new RegExp(`^the credentials of access key ${shortLived.accessKeyId} expired at \\S+Z$`),
    );
  });

  test('revoked credentials, from the next sign-in on', async () => {
    const revoked = twin().issueCredentials(allowed, 300);
    expect(await signIn(await sign(revoked))).toBeUndefined();
    twin().revokeCredentials(revoked.accessKeyId);
    const message = await signIn(await sign(revoked));
    expect(message).toMatch(REFUSED);
    expect(refusalReason(twin(), message as string)).toBe(
      `access key ${revoked.accessKeyId} was not issued by this twin`,
    );
  });
});

describe('the session', () => {
  test('lasts as long as the credentials when they expire before the token: the broker then closes it', async () => {
    // 13 s: above kafkajs' 10 s re-authentication threshold, which it is turned off against here so that
    // only the broker decides when the session ends.
    const shortLived = twin().issueCredentials(allowed, 13);
    const admin = kafkaWithToken(twin(), await sign(shortLived), { reauthenticationThreshold: -1e12 }).admin();
    try {
      await admin.connect();
      await admin.describeCluster();
      expect(sessionEnds(twin(), shortLived.accessKeyId)).toEqual([shortLived.expiration]);

      await new Promise((resolve) => setTimeout(resolve, shortLived.expiration.getTime() - Date.now() + 500));
      await expect(admin.describeCluster()).rejects.toThrow(/Closed connection|closed/i);
    } finally {
      await admin.disconnect();
    }
  }, 30_000);

  test('lasts as long as the token (X-Amz-Date + X-Amz-Expires) when the credentials outlive it', async () => {
    const longLived = twin().issueCredentials(allowed, 3600);
    const token = await sign(longLived, { at: new Date(Date.now() - 60_000) });
    expect(await signIn(token)).toBeUndefined();
    const amzDate = /X-Amz-Date=(\d{8}T\d{6}Z)/.exec(Buffer.from(token, 'base64url').toString())?.[1] as string;
    const signed = Date.parse(
      `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
    );
    expect(sessionEnds(twin(), longLived.accessKeyId)).toEqual([new Date(signed + 900_000)]);
  });

  test('cannot change principal on re-authentication (KIP-368): Kafka refuses it on the open connection, as MSK does', async () => {
    const other = uniqueRole('signin-other');
    await twin().setPolicies([roleAllowing(other, twin().clusterArn, [])]);
    let current = twin().issueCredentials(allowed, 3600);
    const [first] = twin().bootstrapBrokers.split(',');
    const admin = new Kafka({
      ...twin().clientConfig(() => current),
      brokers: [first],
      retry: { retries: 0 },
      logLevel: logLevel.NOTHING,
      // Re-authenticate before the next request once 1 s of the 900 s session has passed.
      reauthenticationThreshold: 899_000,
    }).admin();
    try {
      await admin.connect();
      await admin.describeCluster();
      current = twin().issueCredentials(other, 3600);
      await new Promise((resolve) => setTimeout(resolve, 1200));
      const refused = `Cannot change principals during re-authentication from User.${allowed}: User.${other}`;
      // Kafka answers SASL_AUTHENTICATION_FAILED with this message and closes the connection; kafkajs reports
      // whichever it reads first.
      await expect(admin.describeCluster()).rejects.toThrow(/Cannot change principals|Closed connection/);
      expect(brokerLogLines(twin(), refused)).toHaveLength(1);
    } finally {
      await admin.disconnect();
    }
  });
});
