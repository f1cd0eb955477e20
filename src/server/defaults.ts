// The server's defaults, apart from the code that uses them, so the command line can show
// them without loading the server.
import { DEFAULT_MAX_BODY_BYTES as MAX_BODY_BYTES } from "../limits.ts";

/** Settled promises older than this are deleted: 7 days. */
export const DEFAULT_RETAIN_MS = 7 * 24 * 60 * 60 * 1000;
/** Largest accepted `POST /` body: 10 MiB. One value shared with the clients (src/limits.ts). */
export const DEFAULT_MAX_BODY_BYTES = MAX_BODY_BYTES;
