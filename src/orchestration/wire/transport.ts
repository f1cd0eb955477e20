// Protocol requests over node:http with kept-alive connections. A command-line client is a
// fresh process each time: node:http is ready at once, where fetch first loads undici (tens
// of milliseconds). Statuses are read as the SDK reads them: 200, 300, 404, 409, 422 and 501
// are answers; anything else, or no answer, means the server cannot be used.
import type { IncomingHttpHeaders } from "node:http";
import type { Readable } from "node:stream";
import type { Request, Response } from "@resonatehq/sdk";
import type { Connection } from "./connection.ts";
import type { ServerLimits } from "./server-limits.ts";
import { LeanHttpClient, LeanStaleSocket } from "./lean-http.ts";
import { traceStep, traceSubject, tracing } from "../../common/trace.ts";

const ANSWERS = new Set([200, 300, 404, 409, 422, 501]);

/**
 * Why the server could not be used, for callers to decide on (the user's message, whether a
 * request can ever succeed) without reading the error's text.
 */
export type Unavailability =
  /** No answer: nothing listens, the connection broke, or the answer took too long. */
  | { kind: "no-answer" }
  /** An HTTP answer with a status the protocol does not allow (401, 413, 500, ...). */
  | { kind: "status"; status: number; reason?: string }
  /** An answer whose body is not the protocol's JSON: something else listens at the address. */
  | { kind: "not-protocol" };

export class ServerUnavailable extends Error {
  override readonly name = "ServerUnavailable";
  readonly why: Unavailability;
  /** The HTTP status where the server did answer (with one the protocol does not allow). */
  readonly status: number | undefined;
  /** The server's own words for that answer (its envelope's `data`), where it gave some. */
  readonly reason: string | undefined;

  constructor(message: string, why: Unavailability = { kind: "no-answer" }) {
    super(message);
    this.why = why;
    this.status = why.kind === "status" ? why.status : undefined;
    this.reason = why.kind === "status" ? why.reason : undefined;
  }
}

/** A reused keep-alive socket that was reset before it carried an answer. */
class StaleSocket extends ServerUnavailable {}

/** The envelope's `data` of an answer outside the protocol, or its first bytes. */
function reasonOf(body: string): string {
  try {
    const data = (JSON.parse(body) as { data?: unknown }).data;
    if (typeof data === "string") return data;
  } catch {
    // Not an envelope: its first bytes say what there is to say.
  }
  return body.slice(0, 200);
}

export interface Transport {
  send<K extends Request["kind"]>(
    req: Extract<Request, { kind: K }>,
  ): Promise<Extract<Response, { kind: K }>>;
  /** Opens `GET path` as a stream (server-sent events); resolves once the server answered 200. */
  stream(path: string): Promise<Readable>;
  /** Asks `GET /health`, for what its answer's headers say (the server's request limit). */
  health(): Promise<void>;
  close(): void;
}

/** An answer's status, headers and body, from node:http or lean-http.ts. */
type Answer = Readable & { statusCode?: number | undefined; headers: IncomingHttpHeaders };

export interface TransportOptions {
  /**
   * Speak HTTP/1.1 over node:net (lean-http.ts) to a plain-http server instead of loading
   * node:http: what a short-lived command's start and every process's requests cost it in
   * CPU, mostly (a worker's 7 requests a job among them). Default true; false keeps node:http,
   * as an https: server always does.
   */
  readonly lean?: boolean;
}

/** `limits`, when given, learns the server's request limit from every answer. */
export function createTransport(
  connection: Connection,
  timeoutMs = 10_000,
  limits?: ServerLimits,
  { lean = true }: TransportOptions = {},
): Transport {
  const url = new URL(connection.url);
  const base = url.pathname.replace(/\/+$/, "");
  const authorization: Record<string, string> = connection.token
    ? { authorization: `Bearer ${connection.token}` }
    : {};
  if (lean && url.protocol === "http:") {
    return transportOver(leanOpener(url, base, authorization, timeoutMs, limits), connection);
  }
  return transportOver(nodeHttpOpener(url, base, authorization, timeoutMs, limits), connection);
}

interface Opener {
  readonly open: (method: "GET" | "POST", path: string, body?: string) => Promise<Answer>;
  readonly close: () => void;
}

/** Requests made by hand over node:net (lean-http.ts), for an http: server. */
function leanOpener(
  url: URL,
  base: string,
  authorization: Record<string, string>,
  timeoutMs: number,
  limits: ServerLimits | undefined,
): Opener {
  // URL keeps an IPv6 host in brackets; node:net wants it bare.
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const client = new LeanHttpClient(host, Number(url.port || 80));
  const openOnce = async (method: "GET" | "POST", path: string, body?: string) => {
    try {
      const answer = await client.request(
        {
          method,
          path: `${base}${path}`,
          headers: {
            ...authorization,
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          ...(body === undefined ? {} : { body }),
        },
        body === undefined ? undefined : timeoutMs,
      );
      limits?.noteAnswer(answer.headers);
      return answer;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw error instanceof LeanStaleSocket
        ? new StaleSocket(message)
        : new ServerUnavailable(message);
    }
  };
  return { open: sentAgainIfStale(openOnce), close: () => client.close() };
}

/** Requests through node:http (or node:https) with a kept-alive agent. */
function nodeHttpOpener(
  url: URL,
  base: string,
  authorization: Record<string, string>,
  timeoutMs: number,
  limits: ServerLimits | undefined,
): Opener {
  // Not `import ... from "node:http"`: the ESM wrapper of a built-in reads every export, and
  // node:http's WebSocket and EventSource getters then load undici, about 30 ms of a
  // command's start. getBuiltinModule hands over the module as it is, in about 3 ms.
  const { Agent, request } = process.getBuiltinModule(
    url.protocol === "https:" ? "node:https" : "node:http",
  );
  const agent = new Agent({ keepAlive: true });

  function openOnce(method: "GET" | "POST", path: string, body?: string): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent,
          protocol: url.protocol,
          hostname: url.hostname,
          port: url.port,
          path: `${base}${path}`,
          method,
          headers: {
            ...authorization,
            ...(body === undefined
              ? {}
              : { "content-type": "application/json", "content-length": Buffer.byteLength(body) }),
          },
        },
        (res) => {
          limits?.noteAnswer(res.headers);
          resolve(res);
        },
      );
      req.on("error", (error: NodeJS.ErrnoException) => {
        const stale = req.reusedSocket && (error.code === "ECONNRESET" || error.code === "EPIPE");
        reject(stale ? new StaleSocket(error.message) : new ServerUnavailable(error.message));
      });
      if (body !== undefined) {
        req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
        req.end(body);
      } else {
        req.end();
      }
    });
  }

  return { open: sentAgainIfStale(openOnce), close: () => agent.destroy() };
}

/**
 * A kept-alive socket the server closed as idle just as a request went out is reset before
 * any answer: the request was never read, so it goes again once on a fresh socket (the retry
 * Node's documentation gives for `request.reusedSocket`). Both openers report it as StaleSocket.
 */
function sentAgainIfStale(openOnce: Opener["open"]): Opener["open"] {
  return (method, path, body) =>
    openOnce(method, path, body).catch((error: unknown) => {
      if (error instanceof StaleSocket) return openOnce(method, path, body);
      throw error;
    });
}

/** The protocol's requests over `opener`. */
function transportOver({ open, close }: Opener, connection: Connection): Transport {
  return {
    async send(req) {
      const withAuth = connection.token
        ? { ...req, head: { ...req.head, auth: connection.token } }
        : req;
      const subject = tracing ? `${req.kind} ${traceSubject(req.data)}` : "";
      traceStep("send", subject);
      const res = await open("POST", "/", JSON.stringify(withAuth));
      const chunks: Buffer[] = [];
      for await (const chunk of res) chunks.push(chunk as Buffer);
      const status = res.statusCode ?? 0;
      traceStep("answer", `${subject} ${status}`);
      if (!ANSWERS.has(status)) {
        const body = Buffer.concat(chunks).toString("utf8");
        throw new ServerUnavailable(`HTTP ${status}: ${body.slice(0, 200)}`, {
          kind: "status",
          status,
          reason: reasonOf(body),
        });
      }
      try {
        return JSON.parse(Buffer.concat(chunks).toString("utf8")) as Extract<
          Response,
          { kind: typeof req.kind }
        >;
      } catch {
        throw new ServerUnavailable(`the answer (HTTP ${status}) is not JSON`, {
          kind: "not-protocol",
        });
      }
    },
    async stream(path) {
      const res = await open("GET", path);
      const status = res.statusCode ?? 0;
      if (status !== 200) {
        // Not read: a stream that is not granted may not end, and its status says enough.
        res.resume();
        throw new ServerUnavailable(`HTTP ${status} for GET ${path}`, { kind: "status", status });
      }
      return res;
    },
    async health() {
      const res = await open("GET", "/health");
      res.resume();
    },
    close,
  };
}
