/**
 * kafkajs 2.2.4 arms its request queue with `setTimeout(-1 - Date.now())` until a broker throttles; Node.js 24
 * runs such a timer after 1 ms but also prints a TimeoutNegativeWarning (kafkajs #1751). The twin's own kafkajs
 * clients (readiness checks, the admin) run in the caller's process, so the twin drops that one warning there.
 */
let installed = false;

export function dropKafkajsTimeoutWarnings(): void {
  if (installed) return;
  installed = true;
  const original = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = (warning: unknown, ...rest: unknown[]) => {
    const [typeOrOptions] = rest;
    const type = typeof typeOrOptions === 'object' ? (typeOrOptions as { type?: unknown })?.type : typeOrOptions;
    if (type !== 'TimeoutNegativeWarning') original(warning, ...rest);
  };
}
