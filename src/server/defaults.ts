// The server's defaults, apart from the code that uses them, so the command line can show
// them without loading the server.
import { DEFAULT_MAX_BODY_BYTES as MAX_BODY_BYTES } from "../common/limits.ts";

/** Settled promises older than this are deleted: 7 days. */
export const DEFAULT_RETAIN_MS = 7 * 24 * 60 * 60 * 1000;
/** Largest accepted `POST /` body: 10 MiB. One value shared with the clients (src/common/limits.ts). */
export const DEFAULT_MAX_BODY_BYTES = MAX_BODY_BYTES;
/**
 * Time a `POST /` body is given to arrive, from its headers on, before the time its size needs
 * at MIN_BODY_BYTES_PER_S is added: 30 s. A body that trickles past its deadline is answered
 * 408 and its connection closed; poll streams have no body and stay open.
 */
export const DEFAULT_BODY_TIMEOUT_MS = 30_000;
/**
 * The slowest link a body may come over and still arrive: 64 KiB/s (about 0.5 Mbit/s). A
 * 10 MiB answer is given 30 s + 160 s, so a worker on a slow link is not refused (and sending
 * again) for ever, while a body that trickles slower than this is still ended.
 */
export const MIN_BODY_BYTES_PER_S = 64 * 1024;

/** How long a body of `bytes` may take to arrive: the base time and its size at the floor rate. */
export function bodyDeadlineMs(bytes: number, baseMs: number = DEFAULT_BODY_TIMEOUT_MS): number {
  return baseMs + Math.ceil((Math.max(0, bytes) * 1000) / MIN_BODY_BYTES_PER_S);
}
/**
 * How much of a body over the limit is still read (and thrown away) so that the sender, which
 * is still writing, receives the 413 instead of a reset connection: 1 GiB. Past it the
 * connection is closed.
 */
export const MAX_DISCARDED_BODY_BYTES = 1024 * 1024 * 1024;
/** Deepest nesting of arrays and objects in a request body, the envelope's own included. */
export const MAX_BODY_DEPTH = 64;
/** Most structural JSON characters (`[`, `{`, `,`, `:`) in a request body, outside strings. */
export const MAX_BODY_ELEMENTS = 100_000;
