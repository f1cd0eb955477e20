// How a command that waits stops when the user stops it (Ctrl+C, SIGTERM): at once, whatever
// it waits for, with the exit code a shell gives a process that signal ended.
import { ExitCode } from "../common/errors.ts";

/** What `unlessStopped` resolves with once the stop signal fired. */
export const STOPPED: unique symbol = Symbol("stopped");

/** 143 for SIGTERM, 130 for Ctrl+C (SIGINT) or any other stop. */
export function stoppedExitCode(signal: AbortSignal): number {
  return signal.reason === "SIGTERM" ? ExitCode.terminated : ExitCode.canceled;
}

/**
 * The value of `work`, or STOPPED as soon as `signal` fires, whichever comes first. Once
 * stopped, a later failure of `work` is ignored: the command is over.
 */
export function unlessStopped<T>(
  work: Promise<T>,
  signal: AbortSignal,
): Promise<T | typeof STOPPED> {
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.resolve(STOPPED);
  }
  return new Promise<T | typeof STOPPED>((resolve, reject) => {
    const onStop = (): void => resolve(STOPPED);
    signal.addEventListener("abort", onStop, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onStop);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onStop);
        if (signal.aborted) resolve(STOPPED);
        else reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
