// A small HTTP listener answering `GET /metrics` for processes that have no server of their
// own (worker --metrics-port). Anything else is 404; it binds loopback unless told otherwise.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { UserError } from "../common/errors.ts";
import { answerScrape } from "../common/metrics.ts";

export interface MetricsEndpoint {
  readonly url: string;
  close(): Promise<void>;
}

export async function serveMetrics(options: {
  host: string;
  port: number;
  exposition: () => Promise<string>;
  /** Told of a scrape that failed (answered 500). */
  onError?: (error: unknown) => void;
}): Promise<MetricsEndpoint> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path !== "/metrics" || req.method !== "GET") {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("only GET /metrics is served here\n");
      return;
    }
    answerScrape(res, options.exposition(), (error) => {
      options.onError?.(error);
      res.writeHead(500, { "content-type": "text/plain" });
      res.end("metrics failed\n");
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port, options.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") {
      throw new UserError(
        `--metrics-port ${options.port} on ${options.host} is in use: pick another, or 0 for a free one`,
      );
    }
    if (code === "EADDRNOTAVAIL") {
      throw new UserError(
        `--metrics-host ${options.host} is not an address of this machine: use one it has, e.g. 127.0.0.1`,
      );
    }
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
