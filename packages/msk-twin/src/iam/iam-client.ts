/**
 * kafkajs options for signing in to the twin's IAM listener as a role, with the real MSK signer
 * (aws-msk-iam-sasl-signer-js) and credentials the twin issued: what a Lambda function does on MSK, for the
 * twin's own admin tools and for tests that act as a given role.
 */
import * as fs from 'fs';
import { generateAuthTokenFromCredentialsProvider } from 'aws-msk-iam-sasl-signer-js';
import { logLevel, type KafkaConfig, type OauthbearerProviderResponse } from 'kafkajs';
import { dropKafkajsTimeoutWarnings } from '../kafkajs-warnings';
import type { IssuedCredentials } from './credentials';

export interface IamClientOptions {
  /** The IAM listener's host:port list. */
  readonly brokers: readonly string[];
  /** The twin CA (PEM file): clients in this process cannot use NODE_EXTRA_CA_CERTS, which Node reads at start. */
  readonly caFile: string;
  readonly region: string;
  /** Signs each new session; a function returns the current ones, so rotated credentials are picked up. */
  readonly credentials: IssuedCredentials | (() => IssuedCredentials);
  readonly clientId?: string;
  /** @default logLevel.NOTHING */
  readonly logLevel?: logLevel;
}

/**
 * The OAUTHBEARER token provider: a fresh token per sign-in. The credentials go to the signer without their
 * expiration, as a Lambda function's do (from the environment): with an expiration less than 15 minutes away the
 * signer 1.0.3 writes a fractional X-Amz-Expires, which MSK and the twin refuse.
 */
export function iamTokenProvider(
  region: string,
  credentials: IssuedCredentials | (() => IssuedCredentials),
): () => Promise<OauthbearerProviderResponse> {
  return async () => {
    const current = typeof credentials === 'function' ? credentials() : credentials;
    const { token } = await generateAuthTokenFromCredentialsProvider({
      region,
      awsCredentialsProvider: () =>
        Promise.resolve({
          accessKeyId: current.accessKeyId,
          secretAccessKey: current.secretAccessKey,
          sessionToken: current.sessionToken,
        }),
    });
    return { value: token };
  };
}

/** kafkajs options: TLS with hostname verification against the twin CA, SASL/OAUTHBEARER signed as the role. */
export function iamKafkaConfig(options: IamClientOptions): KafkaConfig {
  dropKafkajsTimeoutWarnings();
  return {
    clientId: options.clientId ?? 'hello-msk-twin',
    brokers: [...options.brokers],
    ssl: { ca: [fs.readFileSync(options.caFile, 'utf8')] },
    sasl: { mechanism: 'oauthbearer', oauthBearerProvider: iamTokenProvider(options.region, options.credentials) },
    logLevel: options.logLevel ?? logLevel.NOTHING,
  };
}
