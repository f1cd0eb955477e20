// One `POST /` body in, one answer out: the part of the HTTP face that touches a request's
// bytes (measuring, decoding, parsing, checking, applying, encoding). It runs where the engine
// runs, so that on the engine's thread a large value never holds the event loop that serves
// sockets, polls and health checks.
import type { Authenticator } from "./auth.ts";
import { MAX_BODY_DEPTH, MAX_BODY_ELEMENTS } from "./defaults.ts";
import type { RequestEngine } from "./engine.ts";
import { fieldRefusal } from "./field-rules.ts";
import { checkJsonShape } from "./json-shape.ts";
import {
  EncodedData,
  PROTOCOL_VERSION,
  UNKNOWN_CORR_ID,
  envelope,
  type Reply,
} from "./protocol.ts";
import { parseRequest } from "./validate.ts";

/** An answer ready to write: the HTTP status equals `head.status` of the encoded envelope. */
export interface ApiAnswer {
  status: number;
  /** The request's kind (`promise.create`, ...), or "unknown": for `/metrics`. */
  kind: string;
  /** The envelope's JSON: as text when small (ANSWER_TEXT_MAX_CHARS), else as UTF-8 bytes. */
  body: Uint8Array | string;
}

/**
 * Answers up to this many characters stay text: the thread hand-off copies a short string
 * for less than it costs to make bytes of their own (an ArrayBuffer a request, on each side),
 * and HTTP writes the text behind its headers in one write. Longer ones are encoded once here,
 * on the engine's thread, and written a slice at a time.
 */
export const ANSWER_TEXT_MAX_CHARS = 64 * 1024;

/** What the HTTP face asks of the server's core, on this thread or on another one. */
export interface ApiHandler {
  answer(body: Uint8Array): Promise<ApiAnswer>;
  isReady(): Promise<boolean>;
}

/** Refuses bytes that are not UTF-8 instead of storing U+FFFD in their place. */
const utf8 = new TextDecoder("utf-8", { fatal: true });

export function encodeAnswer(kind: string, corrId: string, reply: Reply): ApiAnswer {
  const text = envelopeText(kind, corrId, reply);
  // A large one is encoded once: measuring the text and then writing it would encode it twice.
  return {
    status: reply.status,
    kind,
    body: text.length <= ANSWER_TEXT_MAX_CHARS ? text : Buffer.from(text, "utf8"),
  };
}

/** The envelope's JSON text; data already encoded goes in as it is, last, as envelope() orders. */
function envelopeText(kind: string, corrId: string, reply: Reply): string {
  if (!(reply.data instanceof EncodedData)) return JSON.stringify(envelope(kind, corrId, reply));
  const around = JSON.stringify(envelope(kind, corrId, { ...reply, data: null }));
  const tail = ',"data":null}';
  if (!around.endsWith(tail)) throw new Error("envelope() no longer ends with its data");
  return `${around.slice(0, -tail.length)},"data":${reply.data.json}}`;
}

/** The real server's words for a version it does not speak (server.rs:232-237). */
export function unsupportedVersion(version: string): string {
  return `Unsupported protocol version '${version}', supported versions: ${JSON.stringify([PROTOCOL_VERSION])}`;
}

export async function answerApiBody(
  bytes: Uint8Array,
  engine: RequestEngine,
  auth: Authenticator | undefined,
): Promise<ApiAnswer> {
  // Before JSON.parse: its time grows with the structure, so a body is measured first.
  const shape = checkJsonShape(bytes, { maxDepth: MAX_BODY_DEPTH, maxElements: MAX_BODY_ELEMENTS });
  if (!shape.ok)
    return encodeAnswer("unknown", UNKNOWN_CORR_ID, { status: 400, data: shape.reason });
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return encodeAnswer("unknown", UNKNOWN_CORR_ID, {
      status: 400,
      data: "request body is not valid UTF-8: send JSON encoded as UTF-8",
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return encodeAnswer("unknown", UNKNOWN_CORR_ID, {
      status: 400,
      data: "request body is not valid JSON",
    });
  }
  const parsed = parseRequest(json);
  if (!parsed.ok) {
    return encodeAnswer(parsed.kind, parsed.corrId, { status: 400, data: parsed.reason });
  }
  const request = parsed.request;
  // Before the credentials, as the real server does (server.rs:227-239): a client that speaks
  // another protocol version is told so, whatever its token.
  if (request.head.version !== PROTOCOL_VERSION) {
    return encodeAnswer(request.kind, request.head.corrId, {
      status: 400,
      data: unsupportedVersion(request.head.version),
    });
  }
  if (auth) {
    const decision = auth.checkRequest(request);
    if (!decision.ok) {
      return encodeAnswer(request.kind, request.head.corrId, {
        status: decision.status,
        data: decision.reason,
      });
    }
  }
  // After the credentials, as on the real server: its fields are checked by each operation.
  const refused = fieldRefusal(request);
  if (refused !== undefined) {
    return encodeAnswer(request.kind, request.head.corrId, { status: 400, data: refused });
  }
  const reply = await engine.submit(request);
  return encodeAnswer(request.kind, request.head.corrId, reply);
}

/** The handler for an engine on this thread (tests with an injected clock, the benchmark). */
export function inThreadApi(engine: RequestEngine, auth?: Authenticator): ApiHandler {
  return {
    answer: (body) => answerApiBody(body, engine, auth),
    isReady: () => Promise.resolve(engine.isReady()),
  };
}
