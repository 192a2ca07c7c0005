/**
 * TLS material of one local twin run: a throwaway certificate authority and one broker certificate it signs,
 * valid for `localhost` and `127.0.0.1` (every broker of a local cluster listens on 127.0.0.1). Made with the
 * openssl command line at start, kept in the run's directory, removed with it.
 *
 * Node.js clients trust the CA through NODE_EXTRA_CA_CERTS (or `ssl: { ca }`), so handler code keeps `ssl: true`
 * and hostname verification on; Kafka's Java clients through `ssl.truststore.type=PEM` and the same file.
 */
import * as fs from 'fs';
import * as path from 'path';
import { run } from '../broker/local-kafka';

const OPENSSL_MISSING = 'openssl is required for the local twin TLS certificates: apt-get install openssl';

/** The names a client may use to reach a local broker; hostname verification accepts exactly these. */
export const BROKER_HOST_NAMES: readonly string[] = ['localhost', '127.0.0.1'];

export interface TlsMaterial {
  /** The CA certificate (PEM): NODE_EXTRA_CA_CERTS, kafkajs `ssl.ca`, Java `ssl.truststore.location` (type PEM). */
  readonly caFile: string;
  /** The broker's private key (PKCS#8, unencrypted) and certificate chain in one PEM file: a Kafka PEM keystore. */
  readonly brokerKeystoreFile: string;
  /** The broker certificate alone (PEM), for inspection. */
  readonly brokerCertFile: string;
}

/** Server properties for a listener that serves this material (prefix: `listener.name.<name>.`). */
export function listenerTlsProperties(material: TlsMaterial, prefix: string): Record<string, string> {
  return {
    [`${prefix}ssl.keystore.type`]: 'PEM',
    [`${prefix}ssl.keystore.location`]: material.brokerKeystoreFile,
    [`${prefix}ssl.client.auth`]: 'none',
  };
}

async function openssl(args: readonly string[], cwd: string): Promise<void> {
  const result = await run('openssl', args, cwd).catch((error: NodeJS.ErrnoException) => {
    throw new Error(error.code === 'ENOENT' ? OPENSSL_MISSING : `openssl failed to start: ${error.message}`);
  });
  if (result.code !== 0) {
    const line = result.output.trim().split('\n')[0] ?? '';
    throw new Error(`openssl ${args[0]} failed (exit ${result.code}): ${line}`);
  }
}

/**
 * Issues a new CA and broker certificate into `dir` (created if missing). `validDays` bounds how long a copy of
 * the CA could be misused; the CA's private key is deleted once the broker certificate is signed. The certificate
 * names BROKER_HOST_NAMES and `moreHostNames` (the twin's CloudFormation response host, served on 127.0.0.1).
 */
export async function createTlsMaterial(
  dir: string,
  validDays = 7,
  moreHostNames: readonly string[] = [],
): Promise<TlsMaterial> {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const days = String(validDays);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await Promise.all([
    openssl(
      [
        'req',
        '-x509',
        ...ec,
        '-keyout',
        'ca.key',
        '-out',
        'ca.pem',
        '-days',
        days,
        '-subj',
        '/CN=hello-msk local twin CA',
        '-addext',
        'basicConstraints=critical,CA:TRUE,pathlen:0',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      ],
      dir,
    ),
    openssl(['req', ...ec, '-keyout', 'broker.key', '-out', 'broker.csr', '-subj', '/CN=localhost'], dir),
  ]);
  const san = [...BROKER_HOST_NAMES, ...moreHostNames]
    .map((name) => (/^[\d.]+$/.test(name) ? `IP:${name}` : `DNS:${name}`))
    .join(',');
  fs.writeFileSync(
    path.join(dir, 'broker.ext'),
    [
      `subjectAltName=${san}`,
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
      '',
    ].join('\n'),
  );
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      'broker.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'broker.pem',
      '-days',
      days,
      '-sha256',
      '-extfile',
      'broker.ext',
    ],
    dir,
  );
  for (const name of ['ca.key', 'ca.srl', 'broker.csr', 'broker.ext']) fs.rmSync(path.join(dir, name), { force: true });
  const keystore = path.join(dir, 'broker-keystore.pem');
  fs.writeFileSync(
    keystore,
    fs.readFileSync(path.join(dir, 'broker.key'), 'utf8') +
      fs.readFileSync(path.join(dir, 'broker.pem'), 'utf8') +
      fs.readFileSync(path.join(dir, 'ca.pem'), 'utf8'),
    { mode: 0o600 },
  );
  fs.rmSync(path.join(dir, 'broker.key'));
  return {
    caFile: path.join(dir, 'ca.pem'),
    brokerKeystoreFile: keystore,
    brokerCertFile: path.join(dir, 'broker.pem'),
  };
}
