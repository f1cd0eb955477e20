// A caller's connection to `POST /`: it sends protocol envelopes and reads the answers, over
// one of three HTTP clients, each holding one keep-alive connection per caller.
import { Agent, request } from "node:http";
import { PROTOCOL_VERSION } from "../../src/server/protocol.ts";
import { RawHttpConnection } from "./raw-http-client.ts";

/**
 * "raw": a minimal HTTP/1.1 client on node:net, the cheapest on CPU (the default);
 * "node-http": node:http with Agent({ keepAlive: true }); "fetch": the global fetch (undici),
 * as the SDK itself sends.
 */
export const HTTP_CLIENTS = ["raw", "node-http", "fetch"] as const;
export type HttpClientKind = (typeof HTTP_CLIENTS)[number];

export interface ProtocolReply {
  status: number;
  data: unknown;
}

interface Transport {
  /** Posts a JSON body to `/` and resolves with the response body. */
  post(body: string): Promise<string>;
  close(): void;
}

export class ProtocolClient {
  readonly #transport: Transport;

  constructor(kind: HttpClientKind, url: string) {
    this.#transport = openTransport(kind, new URL(url));
  }

  /** Sends one protocol request; resolves with `head.status` and `data` of the answer. */
  async send(kind: string, corrId: string, data: unknown): Promise<ProtocolReply> {
    const body = JSON.stringify({ kind, head: { corrId, version: PROTOCOL_VERSION }, data });
    const envelope = JSON.parse(await this.#transport.post(body)) as {
      head?: { status?: number };
      data?: unknown;
    };
    return { status: envelope.head?.status ?? 0, data: envelope.data };
  }

  close(): void {
    this.#transport.close();
  }
}

function openTransport(kind: HttpClientKind, url: URL): Transport {
  switch (kind) {
    case "raw":
      return new RawHttpConnection(url.hostname, Number(url.port));
    case "node-http":
      return nodeHttpTransport(url);
    case "fetch":
      return fetchTransport(url);
  }
}

function nodeHttpTransport(url: URL): Transport {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  return {
    post: (body) =>
      new Promise((resolve, reject) => {
        const req = request(
          {
            agent,
            host: url.hostname,
            port: Number(url.port),
            path: "/",
            method: "POST",
            headers: {
              "content-type": "application/json",
              "content-length": Buffer.byteLength(body),
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (chunk: Buffer) => chunks.push(chunk));
            res.on("error", reject);
            res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
          },
        );
        req.on("error", reject);
        req.end(body);
      }),
    close: () => agent.destroy(),
  };
}

function fetchTransport(url: URL): Transport {
  const endpoint = new URL("/", url);
  return {
    // fetch keeps connections alive in its global pool; one per caller in flight at a time.
    post: async (body) => {
      const res = await fetch(endpoint, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      return res.text();
    },
    close: () => {},
  };
}
