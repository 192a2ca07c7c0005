import {
  CLOCK_SKEW_SECONDS,
  DEFAULT_MAX_SESSION_MS,
  SESSION_MS_VARIABLE,
  sessionMsFromEnvironment,
  startTwin,
  twinBrokerConfig,
} from 'msk-twin';
import { AUTHORIZER_CLASS, VALIDATOR_CLASS } from 'msk-twin';
import { TWIN_ADMIN_ROLE_ARN, TWIN_REGION } from 'msk-twin';

const config = twinBrokerConfig({
  caFile: '/tmp/twin/tls/ca.pem',
  brokerKeystoreFile: '/tmp/twin/tls/broker-keystore.pem',
  registryDir: '/tmp/twin/iam',
  maxSessionMs: DEFAULT_MAX_SESSION_MS,
  region: TWIN_REGION,
  adminRoleArn: TWIN_ADMIN_ROLE_ARN,
});

describe('the twin broker configuration', () => {
  test('authorizes IAM principals by their policies, with only the admin role and the plaintext principal as super users', () => {
    expect(config).toMatchObject({
      'authorizer.class.name': AUTHORIZER_CLASS,
      'msk.twin.registry': '/tmp/twin/iam',
      'allow.everyone.if.no.acl.found': 'false',
      'super.users': `User:${TWIN_ADMIN_ROLE_ARN};User:ANONYMOUS`,
    });
  });

  test('signs clients in on the IAM listener with OAUTHBEARER, validated by the MSK IAM validator', () => {
    expect(config).toMatchObject({
      'listener.name.iam.sasl.enabled.mechanisms': 'OAUTHBEARER',
      'listener.name.iam.oauthbearer.sasl.server.callback.handler.class': VALIDATOR_CLASS,
      'listener.name.iam.oauthbearer.connections.max.reauth.ms': '900000',
      'listener.name.iam.ssl.keystore.type': 'PEM',
      'listener.name.iam.ssl.keystore.location': '/tmp/twin/tls/broker-keystore.pem',
      'listener.name.iam.ssl.client.auth': 'none',
    });
    expect(config['listener.name.iam.oauthbearer.sasl.jaas.config']).toBe(
      'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required ' +
        'unsecuredLoginStringClaim_sub="hello-msk-twin-broker" ' +
        `twinRegion="${TWIN_REGION}" twinRegistry="/tmp/twin/iam" twinAdminRoleArn="${TWIN_ADMIN_ROLE_ARN}" ` +
        `twinClockSkewSeconds="${CLOCK_SKEW_SECONDS}";`,
    );
  });

  test('sessions last at most 15 minutes (the tokens both MSK signers make); the skew allowed is 5 minutes', () => {
    expect(DEFAULT_MAX_SESSION_MS).toBe(15 * 60_000);
    expect(CLOCK_SKEW_SECONDS).toBe(300);
  });
});

describe('startTwin', () => {
  test.each([0, 999, 1500.5])('refuses maxSessionMs %j in one line, before starting anything', async (maxSessionMs) => {
    await expect(startTwin({ maxSessionMs })).rejects.toThrow(
      `maxSessionMs must be a whole number of milliseconds, at least 1000, got ${maxSessionMs}`,
    );
  });
});

describe('the session-expiry switch (MSK_TWIN_SESSION_MS)', () => {
  test('is the variable the docs name', () => {
    expect(SESSION_MS_VARIABLE).toBe('MSK_TWIN_SESSION_MS');
  });

  test('sets the session lifetime when present, and leaves the default when absent or empty', () => {
    expect(sessionMsFromEnvironment({ MSK_TWIN_SESSION_MS: '20000' })).toBe(20000);
    expect(sessionMsFromEnvironment({})).toBeUndefined();
    expect(sessionMsFromEnvironment({ MSK_TWIN_SESSION_MS: '' })).toBeUndefined();
  });

  test.each(['999', '20s', '1.5e4', '-20000'])('refuses %j in one line naming the variable', (raw) => {
    expect(() => sessionMsFromEnvironment({ MSK_TWIN_SESSION_MS: raw })).toThrow(
      `MSK_TWIN_SESSION_MS is ${JSON.stringify(raw)}; allowed: a whole number of milliseconds, at least 1000 (the IAM session lifetime)`,
    );
  });

  test('a startTwin option wins over the variable, which is checked before anything starts', async () => {
    const saved = process.env.MSK_TWIN_SESSION_MS;
    process.env.MSK_TWIN_SESSION_MS = 'soon';
    try {
      await expect(startTwin()).rejects.toThrow('MSK_TWIN_SESSION_MS is "soon"');
      await expect(startTwin({ maxSessionMs: 999 })).rejects.toThrow('maxSessionMs must be a whole number');
    } finally {
      if (saved === undefined) delete process.env.MSK_TWIN_SESSION_MS;
      else process.env.MSK_TWIN_SESSION_MS = saved;
    }
  });
});
