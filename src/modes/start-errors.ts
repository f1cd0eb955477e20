// What a failed start says to the user, for every mode that starts a part of the cluster:
// one line naming the cause and the fix, with its exit code. `server` and `dev` start the
// embedded server, `router`, `worker` and `dev` join one.
import { ExitCode, UserError } from "../common/errors.ts";

/** Where an embedded server was asked to listen. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * The user's side of an embedded server that did not start: its port taken, its address
 * not one of this machine's, its store written by another version. Anything else is ours,
 * and goes on as it is.
 */
export function serverStartError(error: unknown, at: ListenAddress): unknown {
  if (error instanceof UserError) return error;
  // By name: the class lives in the server's store, which commands other than the server's
  // must not load at start-up; the store sets this name (src/server/store.ts).
  if (error instanceof Error && error.name === "IncompatibleStore") {
    return new UserError(error.message);
  }
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === "EADDRINUSE") {
    return new UserError(
      `port ${at.port} on ${at.host} is in use (another modulate server or dev?): stop what holds it, or pick another with --port`,
    );
  }
  if (code === "EADDRNOTAVAIL") {
    return new UserError(
      `--host ${at.host} is not an address of this machine: use one it has, e.g. 127.0.0.1`,
    );
  }
  return error;
}

/**
 * A router or worker that could not join the server at `url` once it answered: exit code 3,
 * as for a server that cannot be reached. An error that already says what to do (a refused
 * token, exit 3; a request too large, exit 2) keeps its words and its code.
 */
export function joinError(role: "router" | "worker", url: string, error: unknown): UserError {
  if (error instanceof UserError) return error;
  return new UserError(
    `${role} could not start against ${url}: ${error instanceof Error ? error.message : String(error)}`,
    ExitCode.unreachable,
  );
}
