/**
 * kafkajs warns while a new broker creates its internal topics on first use (`__consumer_offsets` for the first
 * consumer group, `__transaction_state` for the first idempotent producer) and retries until they are there.
 * The demo shows such warnings as one line that says they are normal, instead of JSON that reads like failure.
 */

/** Broker answers that only mean "not ready yet" on a new broker; kafkajs retries each of them. */
export const STARTUP_ERRORS: readonly string[] = [
  "The coordinator is loading and hence can't process requests for this group",
  'The group coordinator is not available',
  'There is no leader for this topic-partition as we are in the middle of a leadership election',
];

/** A handler's WARN log line about one of the STARTUP_ERRORS, or undefined for any other line. */
function startupError(line: string): string | undefined {
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch {
    return undefined;
  }
  const { level, kafkajs } = (entry ?? {}) as { level?: unknown; kafkajs?: { error?: unknown } };
  const error = kafkajs?.error;
  return level === 'WARN' && typeof error === 'string' && STARTUP_ERRORS.includes(error) ? error : undefined;
}

/** The lines as they are, with the startup warnings folded into one explanatory line where the first one was. */
export function explainStartupWarnings(lines: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  let noteAt = -1;
  for (const line of lines) {
    const error = startupError(line);
    if (error === undefined) {
      out.push(line);
      continue;
    }
    seen.add(error);
    if (noteAt < 0) {
      noteAt = out.length;
      out.push('');
    }
  }
  if (noteAt >= 0) {
    const said = [...seen].map((e) => `"${e}"`).join(', ');
    out[noteAt] =
      `(kafkajs warned ${said} and retried: normal on a new broker, which creates its internal topics on first use)`;
  }
  return out;
}
