/**
 * The deployed cluster's shape on the twin: as many brokers as it declares, and the client listeners its
 * `ClientAuthentication` and `EncryptionInTransit` open, each with the port MSK gives it (MSK developer guide,
 * "Port information"). Whatever MSK would refuse, or the twin cannot run, fails here in one line.
 */
import { MSK_PORTS } from 'msk-catalog';
import { MAX_LOCAL_BROKERS } from './local-kafka';
import type { TwinCluster } from '../assembly/assembly';

/** The client listeners MSK opens, by how clients sign in. */
export type ListenerKind = 'iam' | 'scram' | 'tls' | 'plaintext';

export interface ClientListenerPlan {
  readonly kind: ListenerKind;
  /** The port MSK clients use for it (the twin's brokers listen on free local ports instead). */
  readonly mskPort: number;
  /** TLS listener only: clients must present a certificate (ClientAuthentication.Tls without Unauthenticated). */
  readonly clientCertificates?: 'required' | 'requested';
}

/**
 * MSK Serverless has no brokers to count; the twin runs three, so that the replication factor 3 MSK Serverless
 * gives every topic can be created.
 */
export const SERVERLESS_LOCAL_BROKERS = 3;

/** The deployed cluster's topology does not fit MSK's rules or the twin. */
export class TwinTopologyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TwinTopologyError';
  }
}

function where(cluster: TwinCluster, property: string): string {
  return `${cluster.stack}/${cluster.logicalId} ${property}`;
}

/** The brokers the twin runs for `cluster`: NumberOfBrokerNodes, or SERVERLESS_LOCAL_BROKERS for MSK Serverless. */
export function localBrokerCount(cluster: TwinCluster): number {
  if (cluster.serverless) return SERVERLESS_LOCAL_BROKERS;
  const count = cluster.brokerCount;
  if (count === undefined || !Number.isInteger(count) || count < 1) {
    throw new TwinTopologyError(
      `${where(cluster, 'NumberOfBrokerNodes')}: ${String(count)} is not valid; allowed: a whole number >= 1`,
    );
  }
  if (count > MAX_LOCAL_BROKERS) {
    throw new TwinTopologyError(
      `${where(cluster, 'NumberOfBrokerNodes')}: ${count} brokers; the twin runs at most ${MAX_LOCAL_BROKERS} on one machine`,
    );
  }
  return count;
}

/**
 * The client listeners of `cluster`, in MSK's port order: 9092 plaintext when ClientBroker allows plaintext; over
 * TLS (ClientBroker TLS or TLS_PLAINTEXT) 9094 for mutual-TLS or unauthenticated clients, 9096 for SASL/SCRAM, 9098
 * for IAM. MSK Serverless has one: IAM on 9098.
 */
export function clientListeners(cluster: TwinCluster): ClientListenerPlan[] {
  if (cluster.serverless) return [{ kind: 'iam', mskPort: MSK_PORTS.iam }];
  const auth = cluster.clientAuthentication;
  const clientBroker = cluster.encryptionInTransit.clientBroker;
  const tls = clientBroker !== 'PLAINTEXT';
  if (!tls && (auth.iam || auth.scram || auth.tls)) {
    const method = auth.iam ? 'Sasl.Iam' : auth.scram ? 'Sasl.Scram' : 'Tls';
    throw new TwinTopologyError(
      `${where(cluster, 'EncryptionInfo.EncryptionInTransit.ClientBroker')}: PLAINTEXT with ClientAuthentication.${method} is not valid; allowed: TLS or TLS_PLAINTEXT (MSK authenticates clients over TLS only)`,
    );
  }
  const listeners: ClientListenerPlan[] = [];
  if (clientBroker !== 'TLS') listeners.push({ kind: 'plaintext', mskPort: MSK_PORTS.plaintext });
  if (tls && (auth.tls || auth.unauthenticated)) {
    listeners.push({
      kind: 'tls',
      mskPort: MSK_PORTS.tls,
      ...(auth.tls ? { clientCertificates: auth.unauthenticated ? 'requested' : 'required' } : {}),
    });
  }
  if (tls && auth.scram) listeners.push({ kind: 'scram', mskPort: MSK_PORTS.saslScram });
  if (tls && auth.iam) listeners.push({ kind: 'iam', mskPort: MSK_PORTS.iam });
  if (listeners.length === 0) {
    throw new TwinTopologyError(
      `${where(cluster, 'ClientAuthentication')}: no client can connect (no authentication enabled over TLS, and ClientBroker TLS)`,
    );
  }
  return listeners;
}
