// The sizes the server, the router, the worker and the client must agree on, all derived from
// one: the largest request body the server accepts (`modulate server --max-body`). A value
// travels in a request as base64 of its JSON (orchestration/wire/values.ts), so a record of N bytes
// of JSON costs 4/3 N in the body, plus the envelope around it (ids, tags, the token).

/** Largest accepted `POST /` body by default: 10 MiB (`modulate server --max-body`). */
export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

/**
 * The header in which modulate's server says, on every answer, the largest body it accepts,
 * so that clients and workers fit what they send to a server started with another --max-body.
 */
export const MAX_BODY_HEADER = "x-modulate-max-body";

/**
 * What a server that does not say its limit is taken to accept: 2 MiB, the Resonate server's
 * (it reads `POST /` with axum's `Bytes` extractor, whose default body limit this is).
 */
export const UNANNOUNCED_MAX_BODY_BYTES = 2 * 1024 * 1024;

/**
 * Kept free in every request for what surrounds its one large value: the request's kind and
 * ids, tags, a bearer token. 64 KiB is many times what they take.
 */
export const REQUEST_ENVELOPE_BYTES = 64 * 1024;

/** Length of the base64 text of `bytes` bytes. */
export function base64Bytes(bytes: number): number {
  return 4 * Math.ceil(bytes / 3);
}

/**
 * The most bytes of JSON a value may have (a submission, a result record) for the request that
 * carries it to fit in `maxBodyBytes`.
 */
export function maxValueJsonBytes(maxBodyBytes: number = DEFAULT_MAX_BODY_BYTES): number {
  return Math.floor(Math.max(0, maxBodyBytes - REQUEST_ENVELOPE_BYTES) / 4) * 3;
}

/**
 * The largest script accepted (the router's `--max-script` default): half of what a value may
 * hold, because JSON doubles every quote, backslash and newline of the script; the client
 * also measures the encoded submission itself before sending it. 3.7 MiB for 10 MiB.
 */
function maxScriptBytesFor(maxBodyBytes: number = DEFAULT_MAX_BODY_BYTES): number {
  return Math.floor(maxValueJsonBytes(maxBodyBytes) / 2);
}

/** The router's `--max-script` default, from the server's default body limit. */
export const DEFAULT_MAX_SCRIPT_BYTES = maxScriptBytesFor(DEFAULT_MAX_BODY_BYTES);

/** How many bytes `value` occupies in a request, base64 of its JSON (as values.ts writes it). */
export function encodedValueBytes(value: unknown): number {
  return base64Bytes(Buffer.byteLength(JSON.stringify(value) ?? "", "utf8"));
}
