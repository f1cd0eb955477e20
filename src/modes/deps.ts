// The side effects modes share, behind small interfaces: each mode's runX takes them from its
// caller, so a test hands in a client of a server it started, or a fake that records. The
// defaults load what they need only when called: `modulate --help` pays for none of it.
import type { ModulateClient } from "../orchestration/client.ts";
import type { Connection } from "../orchestration/wire/connection.ts";

/** Opens a client of the Resonate server at `connection`; the caller closes it. */
export type OpenClient<Client = ModulateClient> = (connection: Connection) => Promise<Client>;

export const openModulateClient: OpenClient = async (connection) =>
  new (await import("../orchestration/client.ts")).ModulateClient(connection);

/**
 * Resolves once the server at `connection` answers, saying why once while it waits; rejects
 * when `signal` fires first. A router or worker started before its server waits for it.
 */
export type AwaitServer = (
  connection: Connection,
  signal: AbortSignal,
  onWaiting: (why: string) => void,
) => Promise<void>;

export const awaitResonateServer: AwaitServer = async (connection, signal, onWaiting) =>
  (await import("../orchestration/wire/wire.ts")).awaitServer(connection, signal, onWaiting);

/** Milliseconds since the epoch: when a job was submitted, when a token expires. */
export type Clock = () => number;
