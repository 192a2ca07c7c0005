/**
 * kafkajs 2.2.4 schedules its request queue's check with `setTimeout(throttledUntil - Date.now())`, and
 * `throttledUntil` is -1 until a broker throttles, so the delay is minus the current time. Node.js has always run
 * such a timer after 1 ms; Node.js 24 also prints a TimeoutNegativeWarning, once per process (kafkajs issue #1751,
 * unfixed in 2.2.4). The functions drop it in lambda/shared/kafka.ts; the local tools' own kafkajs clients drop it
 * here, so that it does not read like a failure in the demo's and the tools' output.
 */
let ignored = false;

export function ignoreNegativeTimeoutWarnings(): void {
  if (ignored) return;
  ignored = true;
  const emit = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = (warning: unknown, ...rest: unknown[]) => {
    const options = rest[0];
    const type = typeof options === 'string' ? options : (options as { type?: unknown } | undefined)?.type;
    if (type === 'TimeoutNegativeWarning') return;
    emit(warning, ...rest);
  };
}
