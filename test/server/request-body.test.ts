// How the server reads a `POST /` body: one over the limit is answered 413 with its reason
// even while the sender is still writing it (never a reset: EPIPE), and one that trickles
// past the body deadline is answered 408 and closed, while poll streams stay open. The server
// runs in a process of its own: on one event loop with the client, the client always read the
// answer before its write failed, and the reset the issue saw did not happen.
import { request } from "node:http";
import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { stopAll } from "../helpers/processes.ts";
import { openPoll, send } from "../helpers/protocol-client.ts";
import { serverProcess as server } from "./server-process.ts";

afterEach(stopAll);

const MiB = 1024 * 1024;

interface Posted {
  status: number;
  body: { head: { status: number }; data: unknown };
}

/**
 * POSTs `totalBytes` with node's http client: in one `end(body)` as modulate's transport sends
 * a script, or, chunked, 1 MiB at a time as the socket takes it; rejects with the client's
 * error (EPIPE, ECONNRESET).
 */
function postLarge(
  url: string,
  totalBytes: number,
  headers: Record<string, string | number> = { "content-length": totalBytes },
): Promise<Posted> {
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(MiB, "a");
    const req = request(`${url}/`, { method: "POST", headers }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (part: Buffer) => parts.push(part));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          body: JSON.parse(Buffer.concat(parts).toString("utf8")) as Posted["body"],
        }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    let sent = 0;
    const write = (): void => {
      while (sent < totalBytes) {
        const part = chunk.subarray(0, Math.min(MiB, totalBytes - sent));
        sent += part.length;
        if (!req.write(part)) {
          req.once("drain", write);
          return;
        }
      }
      req.end();
    };
    if (headers["expect"] === "100-continue") req.once("continue", write);
    else if (headers["transfer-encoding"] === "chunked") write();
    else req.end(Buffer.alloc(totalBytes, "a"));
  });
}

describe("a body over the limit", () => {
  it.each([
    ["12 MB", 12_000_000],
    ["100 MB", 100_000_000],
  ])(
    "of %s gets the 413 envelope with its reason, not a reset, with the default limit",
    async (_name, bytes) => {
      const s = await server();
      // A reset is a race between the sender's writes and the server's close: try thrice.
      for (let attempt = 0; attempt < 3; attempt++) {
        const answer = await postLarge(s.url, bytes);
        expect(answer.status).toBe(413);
        expect(answer.body.head.status).toBe(413);
        expect(String(answer.body.data)).toMatch(
          /larger than the server's limit of 10 MiB \(modulate server --max-body\)/,
        );
      }
      expect((await send(s.url, "promise.get", { id: "x" })).status).toBe(404);
    },
    120_000,
  );

  it("sent chunked, without a length, gets the 413 envelope too", async () => {
    const s = await server({ maxBodyBytes: MiB });
    const answer = await postLarge(s.url, 12_000_000, { "transfer-encoding": "chunked" });
    expect(answer.status).toBe(413);
    expect(answer.body.head.status).toBe(413);
  }, 60_000);

  it("announced with Expect: 100-continue is refused before it is sent", async () => {
    const s = await server();
    const answer = await postLarge(s.url, 12_000_000, {
      "content-length": 12_000_000,
      expect: "100-continue",
    });
    expect(answer.status).toBe(413);
    expect(answer.body.head.status).toBe(413);
  });
});

/** A POST whose body arrives one byte every 100 ms, over a raw socket; resolves with the answer. */
function trickle(port: number): Promise<{ answer: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let answer = "";
    socket.write("POST / HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 1000\r\n\r\n{");
    const drip = setInterval(() => socket.write(" "), 100);
    socket.on("data", (chunk: Buffer) => (answer += chunk.toString("utf8")));
    socket.on("error", () => {});
    socket.on("close", () => {
      clearInterval(drip);
      resolve({ answer, closed: true });
    });
  });
}

describe("a body that trickles", () => {
  it("is answered 408 once the body deadline passes, and closed, while poll streams stay open", async () => {
    const s = await server({ bodyTimeoutMs: 1_000 });
    const poll = await openPoll(s.url, "g", "p1");
    try {
      const { answer, closed } = await trickle(s.port);
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
      expect(answer).toContain("request body did not arrive within 1 s");
      expect(closed).toBe(true);
      // The poll stream opened before the deadline still delivers.
      await send(s.url, "promise.create", {
        id: "after-408",
        timeoutAt: Date.now() + 60_000,
        param: {},
        tags: { "resonate:target": "poll://any@g" },
      });
      await poll.until((messages) => messages.some((m) => m.kind === "execute"));
    } finally {
      poll.close();
    }
  }, 30_000);
});

/**
 * POSTs a valid promise.create of about `totalBytes`, `chunkBytes` every 100 ms over a raw
 * socket (a slow link), declaring its length or sending it chunked; resolves with the answer.
 */
function slowCreate(
  port: number,
  id: string,
  totalBytes: number,
  chunkBytes: number,
  chunked: boolean,
): Promise<string> {
  const head = `{"kind":"promise.create","head":{"corrId":"c1","version":"2026-04-01"},"data":{"id":"${id}","timeoutAt":${Date.now() + 600_000},"param":{"headers":{},"data":"`;
  const tail = `"},"tags":{}}}`;
  const body = Buffer.from(head + "A".repeat(totalBytes - head.length - tail.length) + tail);
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let answer = "";
    const framing = chunked ? "transfer-encoding: chunked" : `content-length: ${body.length}`;
    socket.write(`POST / HTTP/1.1\r\nhost: 127.0.0.1\r\n${framing}\r\nconnection: close\r\n\r\n`);
    let sent = 0;
    const drip = setInterval(() => {
      const part = body.subarray(sent, sent + chunkBytes);
      sent += part.length;
      if (chunked) socket.write(`${part.length.toString(16)}\r\n${part.toString()}\r\n`);
      else socket.write(part);
      if (sent >= body.length) {
        clearInterval(drip);
        if (chunked) socket.write("0\r\n\r\n");
      }
    }, 100);
    socket.on("data", (chunk: Buffer) => (answer += chunk.toString("utf8")));
    socket.on("error", () => {});
    socket.on("close", () => {
      clearInterval(drip);
      resolve(answer);
    });
  });
}

describe("a large body over a slow link", () => {
  // 320 KiB at 100 KiB/s takes about 3.2 s, three times the base deadline, and is above the
  // floor rate of 64 KiB/s: it is given 1 s + 5 s and arrives.
  it.each([
    ["declaring its length", false],
    ["chunked", true],
  ])(
    "is given the time its length needs at the floor rate (%s)",
    async (_, chunked) => {
      const s = await server({ bodyTimeoutMs: 1_000 });
      const answer = await slowCreate(
        s.port,
        `slow-${String(chunked)}`,
        320 * 1024,
        10 * 1024,
        chunked,
      );
      expect(answer).toMatch(/^HTTP\/1\.1 200/);
    },
    30_000,
  );

  it("is still answered 408 when it comes slower than the floor rate", async () => {
    const s = await server({ bodyTimeoutMs: 1_000 });
    // 200 KiB at 10 KiB/s needs 20 s; it is given 1 s + about 3 s.
    const answer = await slowCreate(s.port, "too-slow", 200 * 1024, 1024, false);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(answer).toMatch(/did not arrive within 4\.\d s of its headers/);
  }, 30_000);
});
