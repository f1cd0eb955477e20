// The hand-off between the server's main thread and its engine thread: what one turn of a
// thread's loop produces crosses as one message, in order, and a burst of requests from many
// connections is answered each with its own answer.
import { afterEach, describe, expect, it } from "vitest";
import { Outbox } from "../../src/server/engine-messages.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";

const servers: RunningServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe("Outbox", () => {
  it("sends what one turn pushed as one message, in order, with its transfers", async () => {
    const sent: { items: string[]; transfer: ArrayBuffer[] }[] = [];
    const outbox = new Outbox<string>((items, transfer) => sent.push({ items, transfer }));
    const first = new ArrayBuffer(8);
    const second = new ArrayBuffer(8);
    outbox.push("a", first);
    outbox.push("b");
    await Promise.resolve();
    outbox.push("c", second);
    expect(sent).toEqual([]);
    await nextTurn();
    expect(sent).toEqual([{ items: ["a", "b", "c"], transfer: [first, second] }]);
    outbox.push("d");
    await nextTurn();
    expect(sent.map((s) => s.items)).toEqual([["a", "b", "c"], ["d"]]);
  });

  it("sends nothing for a turn whose messages were dropped", async () => {
    const sent: string[][] = [];
    const outbox = new Outbox<string>((items) => sent.push(items));
    outbox.push("a");
    outbox.clear();
    await nextTurn();
    expect(sent).toEqual([]);
  });
});

describe("the engine thread's hand-off", () => {
  it("answers a burst of requests on many connections each with its own answer", async () => {
    const s = await startServer({ host: "127.0.0.1", port: 0 });
    servers.push(s);
    const count = 64;
    const answers = await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const res = await fetch(`${s.url}/`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            kind: "promise.create",
            head: { corrId: `corr-${i}`, version: "2026-04-01" },
            data: {
              id: `burst-${i}`,
              timeoutAt: Date.now() + 60_000,
              param: {},
              tags: { n: String(i) },
            },
          }),
        });
        const body = (await res.json()) as {
          head: { corrId: string; status: number };
          data: { promise: { id: string; tags: Record<string, string> } };
        };
        return { httpStatus: res.status, length: res.headers.get("content-length"), body };
      }),
    );
    answers.forEach(({ httpStatus, body }, i) => {
      expect(httpStatus).toBe(200);
      expect(body.head).toMatchObject({ corrId: `corr-${i}`, status: 200 });
      expect(body.data.promise).toMatchObject({ id: `burst-${i}`, tags: { n: String(i) } });
    });
  });

  it("gives a non-ASCII answer its length in bytes", async () => {
    const s = await startServer({ host: "127.0.0.1", port: 0 });
    servers.push(s);
    const res = await fetch(`${s.url}/`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        kind: "promise.create",
        head: { corrId: "é", version: "2026-04-01" },
        data: { id: "naïve-☃", timeoutAt: Date.now() + 60_000, param: {}, tags: {} },
      }),
    });
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(Number(res.headers.get("content-length"))).toBe(bytes.byteLength);
    const body = JSON.parse(bytes.toString("utf8")) as { data: { promise: { id: string } } };
    expect(body.data.promise.id).toBe("naïve-☃");
  });
});
