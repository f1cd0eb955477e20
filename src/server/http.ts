// The server's HTTP face: `POST /` protocol envelopes, `GET /poll/:group/:pid` server-sent
// events, `GET /health` and `GET /ready`. The HTTP status always equals `head.status`.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Authenticator } from "./auth.ts";
import { DEFAULT_MAX_BODY_BYTES } from "./defaults.ts";
import type { RequestEngine } from "./engine.ts";
import type { PollConnection, PollRegistry } from "./poll-registry.ts";
import { envelope, type Message, type Reply } from "./protocol.ts";
import { parseRequest } from "./validate.ts";

export interface HttpOptions {
  engine: RequestEngine;
  registry: PollRegistry;
  auth?: Authenticator;
  /** Largest accepted `POST /` body. Default 10 MiB. */
  maxBodyBytes?: number;
  /** A poll connection with more than this much unsent is skipped for new messages. Default 4 MiB. */
  maxPollBacklogBytes?: number;
  /** Comment lines on idle poll streams, so that proxies and NATs keep them open. Default 15 s. */
  keepAliveMs?: number;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

function sendError(res: ServerResponse, kind: string, corrId: string, reply: Reply): void {
  sendJson(res, reply.status, envelope(kind, corrId, reply));
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > maxBytes) {
      reject(new BodyTooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(new BodyTooLarge());
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function mebibytes(bytes: number): string {
  return `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB`;
}

export function createHttpServer(options: HttpOptions): Server {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const maxBacklog = options.maxPollBacklogBytes ?? 4 * 1024 * 1024;
  const keepAliveMs = options.keepAliveMs ?? 15_000;

  async function handleApi(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body: Buffer;
    try {
      body = await readBody(req, maxBodyBytes);
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        res.setHeader("connection", "close");
        sendError(res, "unknown", "", {
          status: 413,
          data: `request body is larger than the server's limit of ${mebibytes(maxBodyBytes)} (modulate server --max-body)`,
        });
      }
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(body.toString("utf8"));
    } catch {
      sendError(res, "unknown", "", { status: 400, data: "request body is not valid JSON" });
      return;
    }
    const parsed = parseRequest(json);
    if (!parsed.ok) {
      sendError(res, parsed.kind, parsed.corrId, { status: 400, data: parsed.reason });
      return;
    }
    const request = parsed.request;
    if (options.auth) {
      const decision = options.auth.checkRequest(request);
      if (!decision.ok) {
        sendError(res, request.kind, request.head.corrId, {
          status: decision.status,
          data: decision.reason,
        });
        return;
      }
    }
    const reply = await options.engine.submit(request);
    sendJson(res, reply.status, envelope(request.kind, request.head.corrId, reply));
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
    const keepAlive = setInterval(() => res.write(": keep-alive\n\n"), keepAliveMs);
    keepAlive.unref();
    res.on("close", () => {
      clearInterval(keepAlive);
      disconnect();
    });
  }

  function route(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname;
    if (path === "/" && req.method === "POST") {
      handleApi(req, res).catch(() => {
        if (!res.headersSent)
          sendError(res, "unknown", "", { status: 500, data: "internal error" });
      });
      return;
    }
    const poll = /^\/poll\/([^/]+)\/([^/]+)$/.exec(path);
    if (poll && req.method === "GET") {
      handlePoll(req, res, decodeURIComponent(poll[1] ?? ""), decodeURIComponent(poll[2] ?? ""));
      return;
    }
    if (path === "/health" && req.method === "GET") {
      sendJson(res, 200, { status: "ok" });
      return;
    }
    if (path === "/ready" && req.method === "GET") {
      const ready = options.engine.isReady();
      sendJson(res, ready ? 200 : 503, { status: ready ? "ready" : "unavailable" });
      return;
    }
    sendJson(res, 404, {
      error: `no route for ${req.method ?? "?"} ${path}: use POST /, GET /poll/:group/:pid, GET /health or GET /ready`,
    });
  }

  const server = createServer(route);
  // Poll streams stay open for hours; only idle keep-alive sockets of POST time out.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  return server;
}
