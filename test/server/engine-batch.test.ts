// Group commit applies a batch's requests without a savepoint each; a request that throws
// (a bug, a storage failure) must still undo its own writes alone, the others answered and
// durable, and the batch's messages those of the requests that stood.
import { afterEach, describe, expect, it } from "vitest";
import { Engine } from "../../src/server/engine.ts";
import type { Outgoing, Request } from "../../src/server/protocol.ts";
import { SqliteStore } from "../../src/server/store.ts";

const HEAD = { corrId: "c", version: "2026-04-01" };
const stores: SqliteStore[] = [];
const engines: Engine[] = [];

afterEach(async () => {
  for (const engine of engines.splice(0)) engine.stop();
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

function taskCreate(id: string): Request {
  return {
    kind: "task.create",
    head: HEAD,
    data: {
      pid: "w1",
      ttl: 60_000,
      action: promiseCreate(id, { group: "g" }),
    },
  } as unknown as Request;
}

function promiseCreate(id: string, tags: Record<string, string> = {}): Request {
  return {
    kind: "promise.create",
    head: HEAD,
    data: {
      id,
      timeoutAt: Date.now() + 600_000,
      param: { headers: {}, data: "" },
      tags: { "resonate:target": "poll://any@g", ...tags },
    },
  } as unknown as Request;
}

describe("a request that throws inside a batch", () => {
  it("undoes its own writes only; the rest of the batch is answered and stored", async () => {
    const store = new SqliteStore({ path: ":memory:" });
    stores.push(store);
    // Task "b" throws after its promise is written, before its task is.
    const putTask = store.tasks.put.bind(store.tasks);
    store.tasks.put = (task, address) => {
      if (task.id === "b") throw new Error("injected failure");
      putTask(task, address);
    };
    const sent: Outgoing[][] = [];
    const errors: unknown[] = [];
    const engine = new Engine({
      store,
      clock: Date.now,
      onMessages: (messages) => sent.push(messages),
      onError: (error) => errors.push(error),
    });
    engines.push(engine);
    // Submitted in one turn: one batch, one transaction.
    const replies = await Promise.all([
      engine.submit(taskCreate("a")),
      engine.submit(taskCreate("b")),
      engine.submit(promiseCreate("c")),
    ]);
    expect(replies.map((r) => r.status)).toEqual([200, 500, 200]);
    expect(errors.map((e) => (e as Error).message)).toEqual(["injected failure"]);
    expect(store.promises.get("a")?.state).toBe("pending");
    expect(store.tasks.get("a")?.state).toBe("acquired");
    expect(store.promises.get("b")).toBeUndefined();
    expect(store.tasks.get("b")).toBeUndefined();
    expect(store.promises.search({ limit: 10, tags: { group: "g" } }).map((p) => p.id)).toEqual([
      "a",
    ]);
    // "c" has a target and no task of a create by task: it is offered once, and only it.
    const offered = sent.flat().map((m) => JSON.stringify(m));
    expect(offered.filter((m) => m.includes('"b"'))).toEqual([]);
    expect(offered.filter((m) => m.includes('"c"')).length).toBe(1);
    // The next batch, with nothing failing, goes the quick way and still answers.
    store.tasks.put = putTask;
    expect((await engine.submit(taskCreate("b"))).status).toBe(200);
    expect(store.tasks.get("b")?.state).toBe("acquired");
  });
});
