// The request envelope as the real Resonate server reads it, and its error answer, for the
// protocol profiles. Readers here never throw: a malformed field reads as absent, and the
// upstream `modulate server` answers it, since shape errors are not what profiles tell apart.

/** A JSON object read off the wire. */
export type Obj = Record<string, unknown>;

/** `{kind, head, data}` on `POST /` (resonate src/types.rs:140-144 at c8d7c7b). */
export interface Envelope {
  kind: string;
  head: Obj;
  data: Obj;
}

/** What a generation answers instead of doing the request. */
export interface Refusal {
  /** The server's validation code (`dot_in_origin`), or a name for an inline check. */
  rule: string;
  /** The HTTP status, which the server also puts in `head.status`. */
  status: number;
  /** The server's message: the error answer's whole `data`. */
  reason: string;
}

/** The protocol version every generation here accepts (types.rs:135 at v0.9.8 and c8d7c7b). */
export const PROTOCOL_VERSION = "2026-04-01";

export function isObj(value: unknown): value is Obj {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function str(o: Obj | undefined, key: string): string | undefined {
  const v = o?.[key];
  return typeof v === "string" ? v : undefined;
}

export function obj(o: Obj | undefined, key: string): Obj | undefined {
  const v = o?.[key];
  return isObj(v) ? v : undefined;
}

export function list(o: Obj | undefined, key: string): unknown[] {
  const v = o?.[key];
  return Array.isArray(v) ? v : [];
}

/** A promise's tags, string values only (the server's `HashMap<String, String>`). */
export function tags(o: Obj | undefined, key = "tags"): Record<string, string> {
  const t = obj(o, key) ?? {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(t)) if (typeof v === "string") out[k] = v;
  return out;
}

/** The envelope in `body`, or undefined when it is not one (the upstream then answers). */
export function readEnvelope(body: unknown): Envelope | undefined {
  if (!isObj(body)) return undefined;
  const { kind, head, data } = body;
  if (typeof kind !== "string" || !isObj(head) || !isObj(data)) return undefined;
  return { kind, head, data };
}

/**
 * The real server's error answer: `ResponseEnvelope::error` puts the message as the whole
 * `data` string and the status in `head` (types.rs:823-838 at c8d7c7b), and `into_response`
 * makes the HTTP status the same (server.rs:146-150).
 */
export function refusalAnswer(envelope: Envelope, refusal: Refusal): Obj {
  return {
    kind: envelope.kind,
    head: {
      corrId: str(envelope.head, "corrId") ?? "",
      status: refusal.status,
      version: PROTOCOL_VERSION,
    },
    data: refusal.reason,
  };
}
