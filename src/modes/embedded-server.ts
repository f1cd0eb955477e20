// Starts the embedded Resonate server for `server` and `dev`, with its start failures in the
// user's words (start-errors.ts).
import type { RunningServer, ServerOptions } from "../server/server.ts";
import { serverStartError } from "./start-errors.ts";

/** Starts a server; the caller closes it. Handed to modes, so tests may start their own. */
export type StartServer = (options: ServerOptions) => Promise<RunningServer>;

export const startEmbeddedServer: StartServer = async (options) => {
  // Loaded here, not at start-up, so that other commands never pay for the server.
  const { startServer } = await import("../server/server.ts");
  try {
    return await startServer(options);
  } catch (error) {
    throw serverStartError(error, options);
  }
};
