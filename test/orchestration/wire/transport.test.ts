import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createTransport } from "../../../src/orchestration/wire/transport.ts";

const ANSWER = JSON.stringify({
  kind: "promise.get",
  head: { corrId: "c", status: 404, version: "" },
  data: "Promise not found",
});

/**
 * A server that answers the first request on each connection and keeps it alive, then resets
 * the connection as soon as a second request arrives on it: what a request sent on a socket the
 * server has just closed as idle meets.
 */
function resetsReusedSockets(): Promise<{
  server: Server;
  url: string;
  connections: () => number;
}> {
  let connections = 0;
  const server = createServer((socket: Socket) => {
    connections += 1;
    let answered = false;
    socket.on("data", () => {
      if (answered) {
        socket.resetAndDestroy();
        return;
      }
      answered = true;
      socket.write(
        `HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(ANSWER)}\r\nconnection: keep-alive\r\n\r\n${ANSWER}`,
      );
    });
    socket.on("error", () => undefined);
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, url: `http://127.0.0.1:${port}`, connections: () => connections });
    });
  });
}

const get = {
  kind: "promise.get" as const,
  head: { corrId: "c", version: "" },
  data: { id: "p" },
};

describe.each([
  ["node:http", false],
  ["HTTP by hand over node:net (lean)", true],
])("the transport through %s", (_name, lean) => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
    server = undefined;
  });

  it("sends a request again on a fresh socket when a kept-alive one is reset before answering", async () => {
    const fake = await resetsReusedSockets();
    server = fake.server;
    const transport = createTransport({ url: fake.url }, undefined, undefined, { lean });
    try {
      const first = await transport.send(get);
      expect(first.head.status).toBe(404);
      const second = await transport.send(get);
      expect(second.head.status).toBe(404);
      expect(fake.connections()).toBe(2);
    } finally {
      transport.close();
    }
  });
});
