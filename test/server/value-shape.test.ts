// Values that would hold the event loop: parsing and re-serialising JSON costs time in
// proportion to its structure, so an 8 MB value nested 4 million levels deep froze the server
// for 26 s, and every read of it for 13 s more. Such bodies are refused before JSON.parse;
// values sent as strings (what the SDK sends) are carried through unchanged.
import { request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { send } from "../helpers/protocol-client.ts";

const servers: RunningServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(): Promise<RunningServer> {
  const s = await startServer({ host: "127.0.0.1", port: 0 });
  servers.push(s);
  return s;
}

const FAR = Date.now() + 3_600_000;

/** A promise.create body with `data` spliced in as raw JSON text. */
function createWithData(id: string, dataJson: string): Buffer {
  const head = `{"kind":"promise.create","head":{"corrId":"1","version":"2026-04-01"},"data":{"id":"${id}","timeoutAt":${FAR},"param":{"headers":{},"data":`;
  return Buffer.concat([Buffer.from(head), Buffer.from(dataJson), Buffer.from(`},"tags":{}}}`)]);
}

/** POSTs raw bytes with node's http client, which sends a Buffer without re-encoding it. */
function post(url: string, body: Buffer): Promise<{ status: number; json: { data: unknown } }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/`,
      { method: "POST", headers: { "content-length": body.length } },
      (res) => {
        const parts: Buffer[] = [];
        res.on("data", (part: Buffer) => parts.push(part));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            json: JSON.parse(Buffer.concat(parts).toString("utf8")) as { data: unknown },
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * The longest the event loop went without running a 1 ms timer while `work` ran. The server
 * runs in this process, so this is its event loop's lag.
 */
async function maxLagMs(work: () => Promise<void>): Promise<number> {
  let last = performance.now();
  let max = 0;
  const probe = setInterval(() => {
    const now = performance.now();
    max = Math.max(max, now - last);
    last = now;
  }, 1);
  try {
    await work();
  } finally {
    clearInterval(probe);
  }
  return max;
}

describe("a value that would freeze the server", () => {
  it("nested 4 million levels deep (8 MB) is refused with 400 naming the depth, without a freeze", async () => {
    const s = await server();
    const nested = "[".repeat(4_000_000) + "]".repeat(4_000_000);
    let answer: Awaited<ReturnType<typeof post>> | undefined;
    const lagMs = await maxLagMs(async () => {
      answer = await post(s.url, createWithData("deep", nested));
    });
    expect(answer?.status).toBe(400);
    expect(String(answer?.json.data)).toMatch(/nests arrays and objects deeper than 64 levels/);
    expect((await send(s.url, "promise.get", { id: "deep" })).status).toBe(404);
    // Not a performance bound: before the fix this was 13-28 s; a loaded machine adds less
    // than a second.
    expect(lagMs).toBeLessThan(5_000);
  }, 120_000);

  it("of millions of empty arrays (8 MB) is refused with 400 naming the element count", async () => {
    const s = await server();
    const wide = `[${Array.from({ length: 2_600_000 }, () => "[]").join(",")}]`;
    const answer = await post(s.url, createWithData("wide", wide));
    expect(answer.status).toBe(400);
    expect(String(answer.json.data)).toMatch(/more than 100000 JSON elements/);
  }, 60_000);
});

describe("values the server carries", () => {
  it("stores an 8 MB string full of brackets, quotes and backslashes as it came", async () => {
    const s = await server();
    const text = '[[{"\\'.repeat(1_200_000);
    const created = await post(s.url, createWithData("text", JSON.stringify(text)));
    expect(created.status).toBe(200);
    const got = await send(s.url, "promise.get", { id: "text" });
    expect((got.data as { promise: { param: { data: string } } }).promise.param.data).toBe(text);
  }, 60_000);

  it("still accepts structured data within the limits, as the protocol allows", async () => {
    const s = await server();
    const data = { a: [1, 2, { b: [[["deep"]]] }], c: "x" };
    const created = await post(s.url, createWithData("structured", JSON.stringify(data)));
    expect(created.status).toBe(200);
    const got = await send(s.url, "promise.get", { id: "structured" });
    expect((got.data as { promise: { param: { data: unknown } } }).promise.param.data).toEqual(
      data,
    );
  });
});
