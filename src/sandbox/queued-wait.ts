// Waiting in line for a pooled resource (GPUs, disk areas) that a cancel can leave early.

/**
 * Puts the waiter `make` builds at the end of `queue` and resolves once the pool grants it
 * (calls the resolve it was given). If `signal` aborts first, the waiter leaves the queue and
 * the promise rejects with the abort's reason, or an error naming `what`.
 */
export function waitInQueue<T, W>(
  queue: W[],
  make: (grant: (value: T) => void) => W,
  signal: AbortSignal | undefined,
  what: string,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const waiter = make(resolve);
    queue.push(waiter);
    signal?.addEventListener(
      "abort",
      () => {
        const index = queue.indexOf(waiter);
        if (index === -1) return;
        queue.splice(index, 1);
        reject(signal.reason instanceof Error ? signal.reason : new Error(`${what} aborted`));
      },
      { once: true },
    );
  });
}
