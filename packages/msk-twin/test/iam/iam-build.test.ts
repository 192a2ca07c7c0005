import * as path from 'path';
import { cacheRoot } from 'msk-twin';
import { VALIDATOR_CLASS, validatorJarPath, validatorSourceHash } from 'msk-twin';
import { consoleToolClasses, mskIamAuthVersion, mskIamClientProperties } from 'msk-twin';

const REPO = path.resolve(__dirname, '..', '..', '..', '..');

describe('the MSK IAM token validator build', () => {
  test('caches the jar outside the repository, under a name that changes with its sources', () => {
    const hash = validatorSourceHash();
    expect(hash).toMatch(/^[0-9a-f]{16}$/);
    expect(validatorSourceHash()).toBe(hash);
    expect(validatorJarPath()).toBe(path.join(cacheRoot(), `iam-validator-${hash}`, 'twin-iam-validator.jar'));
    expect(path.relative(REPO, validatorJarPath()).startsWith('..')).toBe(true);
  });

  test('names the class the broker loads', () => {
    expect(VALIDATOR_CLASS).toBe('hellomsk.twin.iam.MskIamValidatorCallbackHandler');
  });
});

describe('the aws-msk-iam-auth Java client', () => {
  test('is a 2.3.x release, configured as its README says for SASL/OAUTHBEARER', () => {
    expect(mskIamAuthVersion()).toMatch(/^2\.3\.\d+$/);
    expect(mskIamClientProperties('/tmp/ca.pem')).toEqual({
      'security.protocol': 'SASL_SSL',
      'sasl.mechanism': 'OAUTHBEARER',
      'sasl.jaas.config': 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;',
      'sasl.login.callback.handler.class': 'software.amazon.msk.auth.iam.IAMOAuthBearerLoginCallbackHandler',
      'sasl.client.callback.handler.class': 'software.amazon.msk.auth.iam.IAMOAuthBearerLoginCallbackHandler',
      'ssl.truststore.type': 'PEM',
      'ssl.truststore.location': '/tmp/ca.pem',
    });
  });

  test.each([
    ['3.9.2', 'kafka.tools.ConsoleProducer'],
    ['4.1.2', 'org.apache.kafka.tools.ConsoleProducer'],
  ])('Kafka %s has its console producer at %s', (version, producer) => {
    expect(consoleToolClasses(version)).toEqual({
      producer,
      consumer: 'org.apache.kafka.tools.consumer.ConsoleConsumer',
    });
  });
});
