// What a command run as this process gets: the real streams, environment and a stop signal
// wired to SIGINT/SIGTERM; and the one way a command's failure becomes a line and an exit code.
// Shared by the parser (cli.ts) and the quick lanes that run a plain `submit` or `ls` without it
// (quick-submit.ts, quick-ls.ts).
import { ExitCode, UserError } from "./common/errors.ts";
import type { CliContext } from "./modes/command.ts";

/** Prints `error` as one line (a user's error) or with its stack (ours); returns the exit code. */
export function reportFailure(error: unknown, ctx: CliContext): number {
  if (error instanceof UserError) {
    ctx.stderr.write(`modulate: ${error.message}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  ctx.stderr.write(`modulate: internal error: ${message}\n`);
  return 1;
}

export function processContext(): CliContext {
  const controller = new AbortController();
  // A lasting listener, not `once`: execa's signal-exit re-raises a signal that it sees as the
  // only listener left, which would kill us in the middle of a clean stop.
  const stop = (signal: NodeJS.Signals): void => {
    if (!controller.signal.aborted) {
      // The signal's name is the reason: a command stopped by it exits 130 or 143.
      controller.abort(signal);
      return;
    }
    // A second Ctrl+C: the user will not wait for the clean stop.
    process.stderr.write(`modulate: ${signal} again: exiting now\n`);
    process.exit(signal === "SIGTERM" ? ExitCode.terminated : ExitCode.canceled);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    // Read when asked: process.stdin is made on first use, a few ms of a start that reads
    // no stdin (a plain `submit`).
    get isInteractive() {
      return process.stdin.isTTY && process.stdout.isTTY;
    },
    signal: controller.signal,
  };
}
