// How long to wait before trying again, for every retry loop of modulate's processes: a
// worker's answer on its way, a poll stream reconnecting, a client or a router waiting for
// the server. Pure: the number of failed tries in, a delay out. The loops keep their own
// policies (each names its timings); this is the one place that turns a policy into delays.

export interface BackoffPolicy {
  /** The delay after the first failure. */
  readonly firstMs: number;
  /** No delay is longer than this. */
  readonly maxMs: number;
  /** Each failure multiplies the delay by this. Default 2. */
  readonly factor?: number;
  /**
   * Up to this fraction of each delay is taken off at random, so that processes that failed
   * together (a server restart) do not all try again at the same instant. Default 0: none.
   */
  readonly jitterRatio?: number;
}

/**
 * The delay before the next try, after `failures` failed tries (0 after the first): `firstMs`
 * multiplied by `factor` for each further failure, capped at `maxMs`, less its jitter.
 * `random` returns a number in [0, 1), as Math.random does.
 */
export function backoffDelayMs(
  policy: BackoffPolicy,
  failures: number,
  random: () => number = Math.random,
): number {
  const { firstMs, maxMs, factor = 2, jitterRatio = 0 } = policy;
  // Counted in steps up to the cap, not with `factor ** failures`: a loop that has failed a
  // thousand times still gets a finite delay (firstMs * Infinity would be Infinity, or NaN).
  let delayMs = Math.min(firstMs, maxMs);
  const grows = factor > 1 && delayMs > 0;
  for (let step = 0; grows && step < failures && delayMs < maxMs; step++) {
    delayMs = Math.min(delayMs * factor, maxMs);
  }
  if (jitterRatio <= 0) return delayMs;
  return delayMs * (1 - Math.min(jitterRatio, 1) * random());
}

/**
 * Waiting for the server to answer again: a router or worker started before it, a client
 * waiting through its restart, a poll stream reconnecting. A quarter of a second at first, so a
 * restart costs little, doubling to 5 s, so a server away for long is not flooded.
 */
export const SERVER_RETRY: BackoffPolicy = { firstMs: 250, maxMs: 5_000 };

/** Resolves after `ms`, or as soon as `signal` fires; holds no timer once it has fired. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
