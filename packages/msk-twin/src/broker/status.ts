/**
 * What the recorded local Kafkas are doing (`npm run kafka:status`), and which of them `npm run kafka:stop`
 * stops.
 *
 * Status goes broker by broker. A broker counts as
 * answering only when it answers a metadata request itself: the cluster's metadata keeps listing a killed
 * broker until the controller fences it (broker.session.timeout.ms), so it cannot tell who is up.
 */
import { isOurProcess, waitForKafka, type LocalKafkaCluster } from './local-kafka';

export interface BrokerStatus {
  readonly id: number;
  readonly address: string;
  /** The broker's process: gone, stopped by SIGSTOP, or running. */
  readonly process: 'down' | 'paused' | 'running';
  readonly pid: number | null;
  /** It answered a metadata request on its own port just now. */
  readonly answering: boolean;
}

export interface ClusterStatus {
  readonly version: string;
  readonly port: number;
  readonly bootstrapBrokers: string;
  readonly dir: string;
  /** Started by `npm run kafka:start` (runs until stopped), rather than by a test run or the demo. */
  readonly detached: boolean;
  readonly brokers: BrokerStatus[];
  /** The controller, as an answering broker reports it. */
  readonly controller: number | null;
}

/** Asks every live broker of the cluster alone, in parallel, within `timeoutMs`. */
export async function clusterStatus(cluster: LocalKafkaCluster, timeoutMs = 1500): Promise<ClusterStatus> {
  let controller: number | null = null;
  const brokers = await Promise.all(
    cluster.brokers.map(async (b): Promise<BrokerStatus> => {
      const alive = b.pid !== null && isOurProcess(b.pid, cluster.dir);
      // The plaintext internal listener answers without sign-in, also on a twin whose client port needs IAM.
      const address = `127.0.0.1:${b.internalPort}`;
      const status = { id: b.id, address, pid: alive ? b.pid : null };
      if (!alive) return { ...status, process: 'down', answering: false };
      if (b.paused) return { ...status, process: 'paused', answering: false };
      try {
        const answer = await waitForKafka(address, { timeoutMs, clusterId: cluster.clusterId });
        controller ??= answer.controllerId;
        return { ...status, process: 'running', answering: true };
      } catch {
        return { ...status, process: 'running', answering: false };
      }
    }),
  );
  return {
    version: cluster.version,
    port: cluster.port,
    bootstrapBrokers: cluster.bootstrapBrokers,
    dir: cluster.dir,
    detached: cluster.detached,
    brokers,
    controller,
  };
}

export function formatStatus(status: ClusterStatus): string[] {
  const answering = status.brokers.filter((b) => b.answering);
  const summary =
    answering.length === 0
      ? 'not answering'
      : `${answering.length} of ${status.brokers.length} broker${status.brokers.length === 1 ? '' : 's'} answering` +
        (status.controller !== null ? `, controller ${status.controller}` : '');
  const owner = status.detached ? 'npm run kafka:start' : 'a test run or the demo';
  return [
    `Kafka ${status.version} on port ${status.port}: ${status.bootstrapBrokers} (${summary}; started by ${owner})`,
    ...status.brokers.map((b) => {
      const process = b.pid === null ? b.process : `${b.process} (pid ${b.pid})`;
      const answer = b.process === 'down' ? '' : b.answering ? ', answering' : ', not answering';
      return `  broker ${b.id} ${b.address} ${process}${answer}`;
    }),
    `  dir: ${status.dir}`,
  ];
}

/** A recorded cluster, as `stop` chooses among them. */
export interface RecordedCluster {
  readonly port: number;
  /** Started by `npm run kafka:start`, rather than owned by a running test or the demo. */
  readonly detached: boolean;
}

/**
 * The ports `stop` acts on: `--port N` that one, `--all` every recorded cluster, and no option every cluster
 * that `npm run kafka:start` left running, whatever its port, but none that a running test run or the demo owns.
 */
export function stopTargets(recorded: readonly RecordedCluster[], options: { port?: number; all?: boolean }): number[] {
  if (options.port !== undefined) return [options.port];
  return recorded.filter((c) => options.all || c.detached).map((c) => c.port);
}
