// A counting HTTP proxy in front of `modulate server`: the router and workers talk to it as to
// the server. Each `POST /` is read whole (to learn its protocol `kind`), sent on, and its
// arrival time kept under that kind; anything else (the workers' `GET /poll/...` streams) is
// piped both ways as it comes, uncounted. The server has no counters of its own.
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface CountingProxy {
  readonly url: string;
  /** Arrival times (performance.now()) of each kind's requests so far. */
  readonly arrivals: ReadonlyMap<string, readonly number[]>;
  close(): Promise<void>;
}

const KIND = /"kind"\s*:\s*"([^"]+)"/;

export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const arrivals = new Map<string, number[]>();
  const forward = (req: IncomingMessage, res: ServerResponse, body?: Buffer): void => {
    const out = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on("error", () => res.destroy());
    res.on("close", () => out.destroy());
    if (body) out.end(body);
    else req.pipe(out);
  };
  const server = createServer((req, res) => {
    if (req.method !== "POST") {
      forward(req, res);
      return;
    }
    const parts: Buffer[] = [];
    req.on("data", (part: Buffer) => parts.push(part));
    req.on("end", () => {
      const body = Buffer.concat(parts);
      const kind = KIND.exec(body.toString("latin1", 0, Math.min(body.length, 200)))?.[1] ?? "?";
      let list = arrivals.get(kind);
      if (!list) arrivals.set(kind, (list = []));
      list.push(performance.now());
      forward(req, res, body);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    arrivals,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      agent.destroy();
    },
  };
}

/** Requests that change the server's store; the rest (get, search) only read it. */
export function isWrite(kind: string): boolean {
  return !/\.(get|search)$/.test(kind) && kind !== "?";
}

/** Requests of each kind per second between `fromMs` and `toMs` (performance.now()). */
export function ratesBetween(
  arrivals: ReadonlyMap<string, readonly number[]>,
  fromMs: number,
  toMs: number,
): Record<string, number> {
  const seconds = (toMs - fromMs) / 1000;
  const rates: Record<string, number> = {};
  for (const [kind, times] of arrivals) {
    const n = times.filter((t) => t >= fromMs && t < toMs).length;
    if (n > 0) rates[kind] = Math.round((n / seconds) * 10) / 10;
  }
  return rates;
}
