// How modulate's processes send protocol requests: over node:http (transport.ts), with
// "cannot reach the server" turned into the user-facing error and exit code 3.
import type { Network } from "@resonatehq/sdk";
import { ExitCode, UserError } from "../../common/errors.ts";
import { abortableSleep, backoffDelayMs, SERVER_RETRY } from "./backoff.ts";
import type { Connection } from "./connection.ts";
import { createTransport, ServerUnavailable, type Transport } from "./transport.ts";
import { PROTOCOL_VERSION, request } from "./wire-request.ts";

export type Send = Network["send"];
export { abortableSleep } from "./backoff.ts";
export type { Connection } from "./connection.ts";
export { decodeValue, encodeValue } from "./values.ts";
export { isOk, request } from "./wire-request.ts";

/**
 * The user's error for a server that could not be used, read from how it failed. A refusal
 * (400, 401, 403) is the server's answer, not a failure to reach it: it says the server's own
 * reason and exits 5, and nothing retries it.
 */
export function unreachable(connection: Connection, error: ServerUnavailable): UserError {
  const cause = error.message;
  const why = error.why;
  const said = why.kind === "status" && why.reason ? `HTTP ${why.status}: ${why.reason}` : cause;
  if (why.kind === "status" && why.status === 401) {
    return new UserError(
      `the Resonate server at ${connection.url} refused our credentials (${said}): check --token / RESONATE_TOKEN`,
      ExitCode.refused,
    );
  }
  if (why.kind === "status" && why.status === 403) {
    return new UserError(
      `the Resonate server at ${connection.url} does not allow this to our token (${said}): use ids inside the token's prefix, or a token that allows it`,
      ExitCode.refused,
    );
  }
  if (why.kind === "status" && why.status === 413) {
    // Too large is the request's fault, and sending it again cannot help: a usage error.
    return new UserError(
      `the Resonate server at ${connection.url} refused the request as too large (${cause}): make the submission smaller, or raise the server's --max-body`,
      ExitCode.usage,
    );
  }
  if (why.kind === "status" && why.status === 400) {
    return new UserError(
      `the Resonate server at ${connection.url} refused the request as invalid (${said}): check that it speaks protocol ${PROTOCOL_VERSION} and that this modulate supports its version`,
      ExitCode.refused,
    );
  }
  if (why.kind === "status") {
    // It answered, but not with an answer the protocol allows: say so, not "cannot reach".
    return new UserError(
      `the Resonate server at ${connection.url} refused the request (${cause}): check that it speaks protocol ${PROTOCOL_VERSION}`,
      ExitCode.unreachable,
    );
  }
  if (why.kind === "not-protocol") {
    // Something answers there, but not a Resonate server: a web server on that port, say.
    return new UserError(
      `what answers at ${connection.url} is not a Resonate server (${cause}): check --url / RESONATE_URL, and that the server there speaks protocol ${PROTOCOL_VERSION}`,
      ExitCode.unreachable,
    );
  }
  return new UserError(
    `cannot reach the Resonate server at ${connection.url} (${cause}): start one with 'modulate server' (or 'modulate dev'), or pass --url / set RESONATE_URL`,
    ExitCode.unreachable,
  );
}

/**
 * True for the error a sender throws when the server refused the request itself (exit code 5):
 * what the token does not allow, say a search under a prefix.
 */
export function isRefused(error: unknown): boolean {
  return error instanceof UserError && error.exitCode === ExitCode.refused;
}

/** True for the error a sender throws when the server cannot be used (exit code 3). */
export function isUnreachable(error: unknown): boolean {
  return error instanceof UserError && error.exitCode === ExitCode.unreachable;
}

/** A Send over `transport` whose failures to reach the server are user errors (exit code 3). */
export function senderOver(transport: Transport, connection: Connection): Send {
  return async (req) => {
    try {
      return await transport.send(req);
    } catch (error) {
      if (error instanceof ServerUnavailable) throw unreachable(connection, error);
      throw error;
    }
  };
}

export function requestSender(connection: Connection, timeoutMs = 10_000): Send {
  return senderOver(createTransport(connection, timeoutMs), connection);
}

/**
 * Resolves once the server answers; until then says so once and retries with backoff. A
 * router or worker started before its server (or during its restart) waits instead of
 * failing. Rejects if `signal` fires first.
 */
export async function awaitServer(
  connection: Connection,
  signal: AbortSignal,
  onWaiting: (why: string) => void,
): Promise<void> {
  const transport = createTransport(connection, 2_000);
  const send = senderOver(transport, connection);
  let told = false;
  try {
    for (let failures = 0; ; failures++) {
      try {
        // Any answer, found or not, proves the server is there and speaks the protocol.
        await send(request("promise.get", { id: "modulate-ping" }));
        return;
      } catch (error) {
        if (!told) onWaiting(error instanceof Error ? error.message : String(error));
        told = true;
      }
      await abortableSleep(backoffDelayMs(SERVER_RETRY, failures), signal);
      if (signal.aborted) {
        throw new UserError(
          `stopped while waiting for the server at ${connection.url}`,
          ExitCode.unreachable,
        );
      }
    }
  } finally {
    transport.close();
  }
}
