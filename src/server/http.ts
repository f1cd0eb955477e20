// The server's HTTP face: `POST /` protocol envelopes, `GET /poll/:group/:pid` server-sent
// events, `GET /health`, `GET /ready` and `GET /metrics` (Prometheus text). The HTTP status
// always equals `head.status`.
// Nothing a request carries may end the process: routing runs inside one guard, and every
// way a request can be malformed (its target, its bytes, its size, its pace) gets a 4xx.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Authenticator } from "./auth.ts";
import { type ApiAnswer, type ApiHandler, encodeAnswer } from "./api-request.ts";
import {
  bodyDeadlineMs,
  DEFAULT_BODY_TIMEOUT_MS,
  DEFAULT_MAX_BODY_BYTES,
  MAX_DISCARDED_BODY_BYTES,
  MIN_BODY_BYTES_PER_S,
} from "./defaults.ts";
import type { PollConnection, PollRegistry } from "./poll-registry.ts";
import { type Message, type Reply, UNKNOWN_CORR_ID } from "./protocol.ts";
import { readBody } from "./request-body.ts";
import { MAX_BODY_HEADER } from "../common/limits.ts";
import { answerScrape } from "../common/metrics.ts";
import type { ServerMetrics } from "./metrics.ts";

export interface HttpOptions {
  /** Answers `POST /` bodies and `/ready`; on the engine's own thread in the server. */
  api: ApiHandler;
  registry: PollRegistry;
  /** Checks poll streams here; `POST /` bodies are checked by `api`. */
  auth?: Authenticator;
  /** Largest accepted `POST /` body. Default 10 MiB. */
  maxBodyBytes?: number;
  /** Longest a `POST /` body may take to arrive; past it, 408. Default 30 s. */
  bodyTimeoutMs?: number;
  /** A poll connection with more than this much unsent is skipped for new messages. Default 4 MiB. */
  maxPollBacklogBytes?: number;
  /** Comment lines on idle poll streams, so that proxies and NATs keep them open. Default 15 s. */
  keepAliveMs?: number;
  /** Counts requests and poll streams, and answers `GET /metrics`; without it, 404. */
  metrics?: ServerMetrics;
  /** `GET /metrics` without a token even when `auth` is on. Default false. */
  metricsPublic?: boolean;
  /** Told of a request that failed inside the server (answered 500). */
  onError?: (error: unknown) => void;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  sendAnswer(res, { status, kind: "http", body: JSON.stringify(body) });
}

/**
 * Written a slice at a time, each once the socket has taken the one before: on a fast link the
 * kernel takes all of a large answer at once, and copying 8 MB in one write held the thread
 * for 10 ms and more.
 */
const WRITE_SLICE_BYTES = 256 * 1024;

function sendAnswer(res: ServerResponse, answer: ApiAnswer): void {
  const body = answer.body;
  if (typeof body === "string") {
    res.writeHead(answer.status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body, "utf8"),
    });
    // Node writes a string that ends a response together with its headers, in one write.
    res.end(body, "utf8");
    return;
  }
  res.writeHead(answer.status, {
    "content-type": "application/json",
    "content-length": body.byteLength,
  });
  let offset = 0;
  const writeMore = (): void => {
    while (offset + WRITE_SLICE_BYTES < body.byteLength) {
      const slice = body.subarray(offset, offset + WRITE_SLICE_BYTES);
      offset += WRITE_SLICE_BYTES;
      if (!res.write(slice)) {
        res.once("drain", writeMore);
        return;
      }
    }
    res.end(body.subarray(offset));
  };
  writeMore();
}

function sendError(res: ServerResponse, kind: string, corrId: string, reply: Reply): void {
  sendAnswer(res, encodeAnswer(kind, corrId, reply));
}

/** Answers and closes the connection: what the sender is still writing is not read. */
function sendErrorAndClose(res: ServerResponse, reply: Reply): void {
  res.setHeader("connection", "close");
  sendError(res, "unknown", UNKNOWN_CORR_ID, reply);
}

function mebibytes(bytes: number): string {
  return `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB`;
}

/** A path segment decoded, or undefined where its percent-escapes are not UTF-8. */
function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** The path of a request target, or undefined where the target is not a URL (`http://[::1`). */
function targetPath(target: string): string | undefined {
  // Every protocol request's target: parsing it as a URL cost more than routing it.
  if (target === "/") return target;
  try {
    return new URL(target, "http://localhost").pathname;
  } catch {
    return undefined;
  }
}

export function createHttpServer(options: HttpOptions): Server {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const bodyTimeoutMs = options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
  const maxBacklog = options.maxPollBacklogBytes ?? 4 * 1024 * 1024;
  const keepAliveMs = options.keepAliveMs ?? 15_000;
  const onError = options.onError ?? (() => {});
  const tooLarge: Reply = {
    status: 413,
    data: `request body is larger than the server's limit of ${mebibytes(maxBodyBytes)} (modulate server --max-body)`,
  };

  const metrics = options.metrics;

  async function handleApi(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrivedAt = performance.now();
    const outcome = await readBody(req, {
      maxBytes: maxBodyBytes,
      maxDiscardedBytes: Math.max(maxBodyBytes, MAX_DISCARDED_BODY_BYTES),
      deadlineMs: (bytes) => bodyDeadlineMs(Math.min(bytes, maxBodyBytes), bodyTimeoutMs),
    });
    if (outcome.kind === "aborted") return;
    if (outcome.kind === "timed-out") {
      metrics?.answered("unknown", 408, (performance.now() - arrivedAt) / 1000);
      sendErrorAndClose(res, {
        status: 408,
        data: `request body did not arrive within ${Math.round(outcome.allowedMs / 100) / 10} s of its headers (${bodyTimeoutMs / 1000} s, and the time its length takes at ${MIN_BODY_BYTES_PER_S / 1024} KiB/s): send the body at that rate or faster`,
      });
      return;
    }
    if (outcome.kind === "too-large") {
      metrics?.answered("unknown", 413, (performance.now() - arrivedAt) / 1000);
      // Read to its end, the sender has finished writing and takes the answer; otherwise
      // (past the discard bound) there is no answering without closing under it.
      if (outcome.drained) sendError(res, "unknown", UNKNOWN_CORR_ID, tooLarge);
      else sendErrorAndClose(res, tooLarge);
      return;
    }
    const answer = await options.api.answer(outcome.bytes);
    metrics?.answered(answer.kind, answer.status, (performance.now() - arrivedAt) / 1000);
    sendAnswer(res, answer);
  }

  function handleMetrics(req: IncomingMessage, res: ServerResponse, metrics: ServerMetrics): void {
    if (options.auth && !options.metricsPublic) {
      const decision = options.auth.checkMetrics(req.headers.authorization);
      if (!decision.ok) {
        sendJson(res, decision.status, { error: decision.reason });
        return;
      }
    }
    answerScrape(res, metrics.exposition(), (error) => answerFailure(res, error));
  }

  function handlePoll(req: IncomingMessage, res: ServerResponse, group: string, pid: string): void {
    if (options.auth) {
      const decision = options.auth.checkPoll(req.headers.authorization, group, pid);
      if (!decision.ok) {
        sendJson(res, decision.status, { error: decision.reason });
        return;
      }
    }
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
    });
    res.write(": connected\n\n");
    const connection: PollConnection = {
      group,
      pid,
      send(message: Message): boolean {
        // A reader this far behind is stuck or gone: give the message to someone else.
        if (res.writableLength > maxBacklog || res.destroyed) return false;
        res.write(`data: ${JSON.stringify(message)}\n\n`);
        return true;
      },
    };
    const disconnect = options.registry.connect(connection);
    metrics?.pollOpened(group);
    const keepAlive = setInterval(() => res.write(": keep-alive\n\n"), keepAliveMs);
    keepAlive.unref();
    res.on("close", () => {
      clearInterval(keepAlive);
      disconnect();
      metrics?.pollClosed(group);
    });
  }

  function route(req: IncomingMessage, res: ServerResponse): void {
    const path = targetPath(req.url ?? "/");
    if (path === undefined) {
      sendJson(res, 400, {
        error: `request target ${JSON.stringify(req.url)} is not a URL path: use POST /, GET /poll/:group/:pid, GET /health or GET /ready`,
      });
      return;
    }
    if (path === "/" && req.method === "POST") {
      handleApi(req, res).catch((error: unknown) => answerFailure(res, error));
      return;
    }
    const poll = /^\/poll\/([^/]+)\/([^/]+)$/.exec(path);
    if (poll && req.method === "GET") {
      const group = decodeSegment(poll[1] ?? "");
      const pid = decodeSegment(poll[2] ?? "");
      if (group === undefined || pid === undefined) {
        sendJson(res, 400, {
          error: `poll path ${JSON.stringify(path)} has a percent-escape that is not UTF-8: escape the group and the process id with encodeURIComponent`,
        });
        return;
      }
      handlePoll(req, res, group, pid);
      return;
    }
    if (path === "/health" && req.method === "GET") {
      sendJson(res, 200, { status: "ok" });
      return;
    }
    if (path === "/ready" && req.method === "GET") {
      options.api.isReady().then(
        (ready) => sendJson(res, ready ? 200 : 503, { status: ready ? "ready" : "unavailable" }),
        (error: unknown) => answerFailure(res, error),
      );
      return;
    }
    if (path === "/metrics" && req.method === "GET" && metrics) {
      handleMetrics(req, res, metrics);
      return;
    }
    sendJson(res, 404, {
      error: `no route for ${req.method ?? "?"} ${path}: use POST /, GET /poll/:group/:pid, GET /health, GET /ready or GET /metrics`,
    });
  }

  /** A request the server failed on is answered 500 (or cut, once its answer has begun). */
  function answerFailure(res: ServerResponse, error: unknown): void {
    onError(error);
    try {
      if (res.headersSent) res.destroy();
      else sendError(res, "unknown", UNKNOWN_CORR_ID, { status: 500, data: "internal error" });
    } catch (failure) {
      onError(failure);
      res.destroy();
    }
  }

  function guardedRoute(req: IncomingMessage, res: ServerResponse): void {
    // Said on every answer, poll streams included, so that clients and workers fit what they
    // send to this server's limit (src/orchestration/wire/server-limits.ts).
    res.setHeader(MAX_BODY_HEADER, String(maxBodyBytes));
    try {
      route(req, res);
    } catch (error) {
      answerFailure(res, error);
    }
  }

  const server = createServer(guardedRoute);
  // `Expect: 100-continue` (curl sends it for large bodies): a body known to be over the limit
  // is refused before it is sent.
  server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => {
    res.setHeader(MAX_BODY_HEADER, String(maxBodyBytes));
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > maxBodyBytes) {
      sendErrorAndClose(res, tooLarge);
      return;
    }
    res.writeContinue();
    guardedRoute(req, res);
  });
  // Node's own deadline for a whole request, behind the body deadline above: it also ends
  // bodies that no handler reads (sent to an unknown route). A request is whole once its
  // body has arrived, so it does not touch poll streams, which have none and last for hours.
  server.requestTimeout = bodyDeadlineMs(maxBodyBytes, bodyTimeoutMs) + 10_000;
  server.headersTimeout = Math.min(60_000, server.requestTimeout);
  return server;
}
