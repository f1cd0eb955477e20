import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { LeanHttpClient, type LeanAnswer } from "../../../src/orchestration/wire/lean-http.ts";

/** A server that writes `answer` (split into `pieces` writes) to each request it reads. */
function scripted(
  answer: (request: string, n: number) => string[],
): Promise<{ server: Server; port: number; connections: () => number; requests: string[] }> {
  let connections = 0;
  const requests: string[] = [];
  const server = createServer((socket: Socket) => {
    connections += 1;
    let pending = "";
    socket.on("data", (data) => {
      pending += data.toString("latin1");
      for (;;) {
        const end = pending.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = pending.slice(0, end);
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (pending.length < end + 4 + length) return;
        const request = pending.slice(0, end + 4 + length);
        pending = pending.slice(request.length);
        requests.push(request);
        for (const piece of answer(request, requests.length)) {
          if (piece === "<close>") socket.end();
          else socket.write(piece);
        }
      }
    });
    socket.on("error", () => undefined);
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, port, connections: () => connections, requests });
    });
  });
}

async function text(answer: LeanAnswer): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of answer) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

describe("HTTP/1.1 by hand over node:net", () => {
  let server: Server | undefined;
  let client: LeanHttpClient | undefined;
  afterEach(async () => {
    client?.close();
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
    server = undefined;
  });

  it("reads bodies by length and chunked, split anywhere, on one kept-alive socket", async () => {
    const body = JSON.stringify({ ok: "é".repeat(10) });
    const fake = await scripted((_request, n) =>
      n === 1
        ? // The head and the body split mid-header and mid-character.
          [
            "HTTP/1.1 200 OK\r\ncontent-le",
            `ngth: ${Buffer.byteLength(body)}\r\nx-modulate-max-body: 123\r\n\r\n${body.slice(0, 9)}`,
            body.slice(9),
          ]
        : [
            "HTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked\r\n\r\n",
            "5;ext=1\r\nhel",
            "lo\r\n6\r\n world\r\n0\r\n",
            "trailer: x\r\n\r\n",
          ],
    );
    server = fake.server;
    client = new LeanHttpClient("127.0.0.1", fake.port);
    const first = await client.request({
      method: "POST",
      path: "/",
      headers: { "content-type": "application/json" },
      body: '{"q":"ü"}',
    });
    expect(first.statusCode).toBe(200);
    expect(first.headers["x-modulate-max-body"]).toBe("123");
    expect(await text(first)).toBe(body);
    const second = await client.request({ method: "GET", path: "/x", headers: {} });
    expect(second.statusCode).toBe(404);
    expect(await text(second)).toBe("hello world");
    expect(fake.connections()).toBe(1);
    // The body's length is its bytes, not its characters.
    expect(fake.requests[0]).toContain(`content-length: ${Buffer.byteLength('{"q":"ü"}')}`);
    expect(fake.requests[0]?.endsWith(Buffer.from('{"q":"ü"}').toString("latin1"))).toBe(true);
  });

  it("takes a body that ends with the connection, and opens a new socket after it", async () => {
    const fake = await scripted(() => ["HTTP/1.1 200 OK\r\n\r\n", "all ", "of it", "<close>"]);
    server = fake.server;
    client = new LeanHttpClient("127.0.0.1", fake.port);
    expect(await text(await client.request({ method: "GET", path: "/", headers: {} }))).toBe(
      "all of it",
    );
    expect(await text(await client.request({ method: "GET", path: "/", headers: {} }))).toBe(
      "all of it",
    );
    expect(fake.connections()).toBe(2);
  });

  it("streams a chunked body as it comes, and gives up its socket when the stream is destroyed", async () => {
    let socketOfStream: Socket | undefined;
    const fake = await scripted(() => [
      "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n",
      "d\r\n: connected\n\n\r\n",
    ]);
    server = fake.server;
    server.on("connection", (socket: Socket) => (socketOfStream = socket));
    client = new LeanHttpClient("127.0.0.1", fake.port);
    const stream = await client.request({ method: "GET", path: "/poll/g/p", headers: {} });
    const first = await new Promise<string>((resolve) =>
      stream.once("data", (chunk: Buffer) => resolve(chunk.toString())),
    );
    expect(first).toBe(": connected\n\n");
    const closed = new Promise((resolve) => socketOfStream?.once("close", resolve));
    stream.destroy();
    await closed;
  });

  it("fails a request whose connection is refused, and one cut short, with the reason", async () => {
    const fake = await scripted(() => [
      "HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc",
      "<close>",
    ]);
    server = fake.server;
    client = new LeanHttpClient("127.0.0.1", fake.port);
    const cut = await client.request({ method: "GET", path: "/", headers: {} });
    await expect(text(cut)).rejects.toThrow(/closed the connection before its answer ended/);
    await new Promise((resolve) => fake.server.close(resolve));
    server = undefined;
    await expect(client.request({ method: "GET", path: "/", headers: {} })).rejects.toThrow(
      /ECONNREFUSED/,
    );
  });
});
