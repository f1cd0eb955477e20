// Raw protocol calls for what the SDK's client does not offer (search, task reads, leases),
// through the SDK's own HTTP network, so every server that speaks the protocol serves them.
import {
  Codec,
  HttpNetwork,
  NoopEncryptor,
  type Network,
  type Request,
  type Response,
} from "@resonatehq/sdk";
import { randomUUID } from "node:crypto";
import { ExitCode, UserError } from "../errors.ts";

export type Send = Network["send"];

const PROTOCOL_VERSION = "2026-04-01";
const codec = new Codec(new NoopEncryptor());

export interface Connection {
  url: string;
  token?: string;
}

/** The server to use: --url, else RESONATE_URL, else the embedded default on this machine. */
export function resolveConnection(
  url: string | undefined,
  token: string | undefined,
  env: NodeJS.ProcessEnv,
): Connection {
  const resolvedToken = token ?? env["RESONATE_TOKEN"];
  return {
    url: (url ?? env["RESONATE_URL"] ?? "http://127.0.0.1:8001").replace(/\/+$/, ""),
    ...(resolvedToken ? { token: resolvedToken } : {}),
  };
}

export function requestSender(connection: Connection, timeoutMs = 10_000): Send {
  const network = new HttpNetwork({
    url: connection.url,
    timeout: timeoutMs,
    ...(connection.token ? { token: connection.token } : {}),
  });
  return async (req) => {
    try {
      return await network.send(req);
    } catch (error) {
      throw unreachable(connection, error);
    }
  };
}

export function unreachable(connection: Connection, error: unknown): UserError {
  const cause = error instanceof Error ? error.message : String(error);
  const hint = /HTTP 401|HTTP 403/.test(cause)
    ? "check --token / RESONATE_TOKEN"
    : "start one with 'modulate server' (or 'modulate dev'), or pass --url / set RESONATE_URL";
  return new UserError(
    `cannot reach the Resonate server at ${connection.url} (${cause}): ${hint}`,
    ExitCode.unreachable,
  );
}

/** Builds an envelope for `send`: the SDK's types check the data. */
export function request<K extends Request["kind"]>(
  kind: K,
  data: Extract<Request, { kind: K }>["data"],
): Extract<Request, { kind: K }> {
  return { kind, head: { corrId: randomUUID(), version: PROTOCOL_VERSION }, data } as Extract<
    Request,
    { kind: K }
  >;
}

export function isOk<R extends Response>(res: R): res is Extract<R, { head: { status: 200 } }> {
  return res.head.status === 200;
}

/** A promise's value or param as the SDK encodes it (base64 JSON), decoded. */
export function decodeValue(
  value: { headers?: Record<string, string>; data?: unknown } | undefined,
): unknown {
  if (!value || typeof value.data !== "string" || value.data === "") return undefined;
  return codec.decode({ headers: value.headers ?? {}, data: value.data });
}

export function encodeValue(value: unknown): { headers: Record<string, string>; data: string } {
  const encoded = codec.encode(value);
  return { headers: encoded.headers ?? {}, data: String(encoded.data ?? "") };
}

/**
 * Resolves once the server answers; until then says so once and retries with backoff. A
 * router or worker started before its server (or during its restart) waits instead of
 * failing. Rejects with the abort reason if `signal` fires first.
 */
export async function awaitServer(
  connection: Connection,
  signal: AbortSignal,
  onWaiting: (why: string) => void,
): Promise<void> {
  const send = requestSender(connection, 2_000);
  let told = false;
  for (let delayMs = 250; ; delayMs = Math.min(delayMs * 2, 5_000)) {
    try {
      // Any answer, found or not, proves the server is there and speaks the protocol.
      await send(request("promise.get", { id: "modulate-ping" }));
      return;
    } catch (error) {
      if (!told) onWaiting(error instanceof Error ? error.message : String(error));
      told = true;
    }
    await abortableSleep(delayMs, signal);
    if (signal.aborted) {
      throw new UserError(
        `stopped while waiting for the server at ${connection.url}`,
        ExitCode.unreachable,
      );
    }
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
