// A command's context whose writers keep what the command prints, for tests that call a
// mode's runX (or main) in this process.
import type { CliContext } from "../../src/modes/command.ts";

export interface CapturedContext extends CliContext {
  out(): string;
  err(): string;
  /** Fires the context's stop signal, as SIGINT or SIGTERM would. */
  stop(reason?: NodeJS.Signals): void;
}

export function captureContext(env: NodeJS.ProcessEnv = {}, signal?: AbortSignal): CapturedContext {
  let out = "";
  let err = "";
  const controller = new AbortController();
  return {
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
    env,
    signal: signal ?? controller.signal,
    out: () => out,
    err: () => err,
    stop: (reason = "SIGINT") => controller.abort(reason),
  };
}
