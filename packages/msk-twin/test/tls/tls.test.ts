import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tls from 'tls';
import { BROKER_HOST_NAMES, createTlsMaterial, type TlsMaterial } from 'msk-twin';

let dir: string;
let material: TlsMaterial;
let ca: crypto.X509Certificate;
let broker: crypto.X509Certificate;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hello-msk-tls-test-'));
  material = await createTlsMaterial(path.join(dir, 'tls'));
  ca = new crypto.X509Certificate(fs.readFileSync(material.caFile));
  broker = new crypto.X509Certificate(fs.readFileSync(material.brokerCertFile));
}, 30_000);

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the twin TLS material', () => {
  test('a throwaway CA signs the broker certificate, valid for a week at most', () => {
    expect(ca.ca).toBe(true);
    expect(broker.ca).toBe(false);
    expect(broker.checkIssued(ca)).toBe(true);
    expect(broker.verify(ca.publicKey)).toBe(true);
    const lifetimeDays = (Date.parse(broker.validTo) - Date.parse(broker.validFrom)) / 86_400_000;
    expect(lifetimeDays).toBeLessThanOrEqual(7);
  });

  test('the broker certificate names localhost and 127.0.0.1, and nothing else', () => {
    expect(BROKER_HOST_NAMES).toEqual(['localhost', '127.0.0.1']);
    expect(broker.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1');
    expect(broker.checkHost('localhost')).toBe('localhost');
    expect(broker.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(broker.checkHost('b-1.example.kafka.us-east-1.amazonaws.com')).toBeUndefined();
    expect(tls.checkServerIdentity('example.com', broker.toLegacyObject())?.message).toMatch(
      /does not match certificate's altnames/,
    );
  });

  test('the CA key is gone; the broker keystore holds its key and the chain up to the CA', () => {
    expect(fs.readdirSync(path.dirname(material.caFile)).sort()).toEqual([
      'broker-keystore.pem',
      'broker.pem',
      'ca.pem',
    ]);
    const keystore = fs.readFileSync(material.brokerKeystoreFile, 'utf8');
    expect(keystore.match(/-----BEGIN PRIVATE KEY-----/g)).toHaveLength(1);
    expect(keystore.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(2);
    expect(fs.statSync(material.brokerKeystoreFile).mode & 0o777).toBe(0o600);
    const key = crypto.createPrivateKey(keystore);
    expect(crypto.createPublicKey(key).export({ format: 'pem', type: 'spki' })).toBe(
      broker.publicKey.export({ format: 'pem', type: 'spki' }),
    );
  });

  test('every start issues a new CA', async () => {
    const again = await createTlsMaterial(path.join(dir, 'again'));
    expect(fs.readFileSync(again.caFile, 'utf8')).not.toBe(fs.readFileSync(material.caFile, 'utf8'));
  });
});
