// Learning, once at start, which generation of the Resonate server a process talks to
// (wire/generation-probe.ts), and naming what jobs create by it from then on (names.ts).
// Routers, workers and clients each learn it from the same server, so they agree.
import { ExitCode, UserError } from "../common/errors.ts";
import { useGeneration } from "./jobs/names.ts";
import type { Connection } from "./wire/connection.ts";
import { probeGeneration, UnknownGeneration } from "./wire/generation-probe.ts";
import type { Generation } from "./wire/origins.ts";
import { tokenPrefix } from "./wire/token-claims.ts";
import { createTransport, ServerUnavailable, type Transport } from "./wire/transport.ts";
import { unreachable } from "./wire/wire.ts";

/**
 * Asks the server behind `connection` (over `transport` when given, else a transport of its
 * own) which generation it is, and names ids by it. Failures are the user's errors: the
 * server cannot be reached (exit 3), refuses the token (exit 5), or fits no known generation
 * (exit 5, naming what it answered).
 */
export async function learnServerGeneration(
  connection: Connection,
  transport?: Transport,
): Promise<Generation> {
  const own = transport === undefined ? createTransport(connection, 10_000) : undefined;
  try {
    const generation = await probeGeneration(transport ?? own!, tokenPrefix(connection.token));
    useGeneration(generation);
    return generation;
  } catch (error) {
    if (error instanceof ServerUnavailable) throw unreachable(connection, error);
    if (error instanceof UnknownGeneration) {
      throw new UserError(
        `the server at ${connection.url} is no Resonate server generation modulate knows (${error.message}): modulate runs on its own server, Resonate v0.9.8, and Resonate c8d7c7b or later`,
        ExitCode.refused,
      );
    }
    throw error;
  } finally {
    own?.close();
  }
}
