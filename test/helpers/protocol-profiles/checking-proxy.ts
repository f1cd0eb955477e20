// A proxy on 127.0.0.1 in front of a `modulate server` that refuses what one generation of the
// real Resonate server would refuse, as that server answers it, and passes everything else on:
// `POST /` after its profile's rules, poll streams and the rest untouched and unbuffered. Tests
// point modulate's processes at it and assert on what it refused. Tests stop it with close().
import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { checkRequest } from "./check.ts";
import { isObj, list, obj, readEnvelope, refusalAnswer, str, type Envelope } from "./envelope.ts";
import type { Profile } from "./profiles.ts";

/** One refused request: what it was, and which rule refused it. */
export interface RefusedRequest {
  kind: string;
  /** The id it names: a create's promise, a fence's action, a callback's awaited, a task. */
  id: string;
  rule: string;
  status: number;
  reason: string;
}

export interface CheckingProxy {
  url: string;
  profile: Profile;
  /** Every refusal so far, in order. */
  readonly refused: readonly RefusedRequest[];
  /** How many requests of each kind reached the proxy. */
  readonly seen: ReadonlyMap<string, number>;
  /** Refusals by rule, optionally of one request kind only. */
  count(rule?: string, kind?: string): number;
  close(): Promise<void>;
}

/** The id a request is about, for telling refusals apart in a report. */
export function requestId(envelope: Envelope): string {
  const { kind, data } = envelope;
  const action = obj(obj(data, "action"), "data");
  if (kind === "task.create") return str(action, "id") ?? "";
  if (kind === "task.fence") return str(action, "id") ?? str(data, "id") ?? "";
  if (kind.startsWith("promise.register_")) return str(data, "awaited") ?? "";
  if (kind === "task.heartbeat") {
    return list(data, "tasks")
      .map((t) => (isObj(t) ? str(t, "id") : undefined) ?? "?")
      .join(",");
  }
  return str(data, "id") ?? "";
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function parse(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
}

export interface CheckingProxyOptions {
  /**
   * "refuse" (the default) answers a refusal as the server would; "observe" records it and
   * passes the request on anyway, to list everything a whole flow would have had refused.
   */
  mode?: "refuse" | "observe";
}

export async function checkingProxy(
  target: string,
  profile: Profile,
  options: CheckingProxyOptions = {},
): Promise<CheckingProxy> {
  const observeOnly = options.mode === "observe";
  const upstream = new URL(target);
  const refused: RefusedRequest[] = [];
  const seen = new Map<string, number>();

  const forward = (req: IncomingMessage, res: ServerResponse, body?: Buffer): void => {
    const out = request(
      {
        hostname: upstream.hostname,
        port: upstream.port,
        path: req.url,
        method: req.method,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        // A poll stream's headers go now: its first event may be hours away.
        res.flushHeaders();
        answer.pipe(res);
      },
    );
    out.on("error", () => res.destroy());
    // A client that hangs up (a poll stream closed) hangs up upstream too.
    res.on("close", () => {
      if (!res.writableFinished) out.destroy();
    });
    if (body === undefined) req.pipe(out);
    else out.end(body);
  };

  const server = createServer((req, res) => {
    if (req.method !== "POST" || (req.url ?? "/").split("?")[0] !== "/") {
      forward(req, res);
      return;
    }
    readBody(req).then(
      (body) => {
        const envelope = readEnvelope(parse(body));
        if (envelope === undefined) return forward(req, res, body);
        seen.set(envelope.kind, (seen.get(envelope.kind) ?? 0) + 1);
        const refusal = checkRequest(profile, envelope);
        if (refusal === undefined) return forward(req, res, body);
        refused.push({ kind: envelope.kind, id: requestId(envelope), ...refusal });
        if (observeOnly) return forward(req, res, body);
        const answer = JSON.stringify(refusalAnswer(envelope, refusal));
        res.writeHead(refusal.status, { "content-type": "application/json" });
        res.end(answer);
      },
      () => res.destroy(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    profile,
    refused,
    seen,
    count: (rule, kind) =>
      refused.filter(
        (r) => (rule === undefined || r.rule === rule) && (kind === undefined || r.kind === kind),
      ).length,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
