// Waiting in line for a pooled resource (GPUs, disk areas) that a cancel can leave early.

/**
 * Puts the waiter `make` builds at the end of `queue` and resolves once the pool grants it
 * (calls the resolve it was given). If `signal` aborts first, the waiter leaves the queue and
 * the promise rejects with the abort's reason, or an error naming `what`; a signal aborted
 * already rejects at once. Either way the wait's listener comes off `signal`: a worker's
 * per-job signal (AbortSignal.any of its stop and the job's cancel) that keeps an abort
 * listener is kept alive by Node until it aborts, and a worker's stop never comes.
 */
export function waitInQueue<T, W>(
  queue: W[],
  make: (grant: (value: T) => void) => W,
  signal: AbortSignal | undefined,
  what: string,
): Promise<T> {
  const abortError = (): Error =>
    signal?.reason instanceof Error ? signal.reason : new Error(`${what} aborted`);
  if (signal?.aborted) return Promise.reject(abortError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      const index = queue.indexOf(waiter);
      if (index === -1) return;
      queue.splice(index, 1);
      reject(abortError());
    };
    const waiter = make((value) => {
      signal?.removeEventListener("abort", onAbort);
      resolve(value);
    });
    queue.push(waiter);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
