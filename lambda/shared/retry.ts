/**
 * How long a refusal for want of a grant is retried: IAM is eventually consistent, and a grant made minutes
 * before in the same deploy (a policy naming the new cluster) can be refused for a while.
 */
export const NEW_GRANT_RETRY_MS = 60_000;

export interface RetryWindow {
  /** Epoch ms after which no retry starts. */
  readonly until: number;
  /** The first wait; each next one doubles, up to 8 s. */
  readonly firstDelayMs: number;
}

export function retryWindow(windowMs: number, firstDelayMs = 1000): RetryWindow {
  return { until: Date.now() + windowMs, firstDelayMs };
}

/**
 * Runs `attempt` until it succeeds or fails otherwise than `retryable` allows: while `retryable(error)` gives a
 * reason and the window lasts past the next wait, `onRetry` is told and the attempt runs again.
 */
export async function retryWithin<T>(
  window: RetryWindow,
  attempt: () => Promise<T>,
  retryable: (error: unknown) => string | undefined,
  onRetry: (reason: string, delayMs: number) => void,
): Promise<T> {
  for (let delay = window.firstDelayMs; ; delay = Math.min(8000, delay * 2)) {
    try {
      return await attempt();
    } catch (error) {
      const reason = retryable(error);
      if (reason === undefined || Date.now() + delay >= window.until) throw error;
      onRetry(reason, delay);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
