// Leases after a restart (issue 12, item 6): a lease that fell due while the server was down
// lapses only if its holder stays silent for one more lease after the start, since nobody
// could heartbeat while the server was away. Leases granted after the start are untouched.
import { afterEach, describe, expect, it } from "vitest";
import type { Request } from "../../src/server/protocol.ts";
import { Engine } from "../../src/server/engine.ts";
import { ResonateState } from "../../src/server/state.ts";
import { SqliteStore } from "../../src/server/store.ts";
import { eventually } from "../helpers/processes.ts";

const HEAD = { corrId: "c", version: "2026-04-01" };
const LEASE_MS = 8_000;
const stores: SqliteStore[] = [];

afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

function apply(store: SqliteStore, state: ResonateState, now: number, req: unknown): number {
  store.begin();
  const { reply } = state.apply(now, req as Request);
  store.commit();
  return reply.status;
}

function tick(store: SqliteStore, state: ResonateState, now: number): void {
  store.begin();
  state.tick(now);
  store.commit();
}

/** A store holding task `t` acquired at time 0 by `w1` with an 8 s lease, as before a crash. */
function storeWithAcquiredTask(): SqliteStore {
  const store = new SqliteStore({ path: ":memory:" });
  stores.push(store);
  const before = new ResonateState(store);
  const status = apply(store, before, 0, {
    kind: "task.create",
    head: HEAD,
    data: {
      pid: "w1",
      ttl: LEASE_MS,
      action: {
        kind: "promise.create",
        head: HEAD,
        data: {
          id: "t",
          timeoutAt: 10 * 60_000,
          param: { headers: {}, data: "" },
          tags: { "resonate:target": "poll://any@g" },
        },
      },
    },
  });
  expect(status).toBe(200);
  return store;
}

describe("leases after a server restart", () => {
  it("lapse at once without a grace, as the Resonate server does", () => {
    const store = storeWithAcquiredTask();
    const restarted = new ResonateState(store);
    tick(store, restarted, 30_000);
    expect(store.tasks.get("t")?.state).toBe("pending");
  });

  it("give the holder one lease from the start to heartbeat or answer", () => {
    const store = storeWithAcquiredTask();
    // Down from 1 s to 30 s: the lease fell due at 8 s, while nobody could heartbeat.
    const restarted = new ResonateState(store, { leaseGraceFrom: 30_000 });
    tick(store, restarted, 30_000);
    expect(store.tasks.get("t")?.state).toBe("acquired");
    tick(store, restarted, 30_000 + LEASE_MS - 1);
    expect(store.tasks.get("t")?.state).toBe("acquired");
    // The holder's answer lands at its old version.
    const fulfilled = apply(store, restarted, 31_000, {
      kind: "task.fulfill",
      head: HEAD,
      data: {
        id: "t",
        version: 1,
        action: {
          kind: "promise.settle",
          head: HEAD,
          data: { id: "t", state: "resolved", value: { headers: {}, data: "" } },
        },
      },
    });
    expect(fulfilled).toBe(200);
    expect(store.promises.get("t")?.state).toBe("resolved");
  });

  it("lapse one lease after the start when the holder stays silent", () => {
    const store = storeWithAcquiredTask();
    const restarted = new ResonateState(store, { leaseGraceFrom: 30_000 });
    tick(store, restarted, 30_000);
    tick(store, restarted, 30_000 + LEASE_MS);
    expect(store.tasks.get("t")?.state).toBe("pending");
  });

  it("are renewed by a heartbeat in the grace as at any other time", () => {
    const store = storeWithAcquiredTask();
    const restarted = new ResonateState(store, { leaseGraceFrom: 30_000 });
    tick(store, restarted, 30_000);
    const beat = apply(store, restarted, 33_000, {
      kind: "task.heartbeat",
      head: HEAD,
      data: { pid: "w1", tasks: [{ id: "t", version: 1 }] },
    });
    expect(beat).toBe(200);
    tick(store, restarted, 33_000 + LEASE_MS - 1);
    expect(store.tasks.get("t")?.state).toBe("acquired");
    tick(store, restarted, 33_000 + LEASE_MS);
    expect(store.tasks.get("t")?.state).toBe("pending");
  });

  it("do not stretch a lease granted after the start", () => {
    const store = new SqliteStore({ path: ":memory:" });
    stores.push(store);
    const state = new ResonateState(store, { leaseGraceFrom: 0 });
    apply(store, state, 5_000, {
      kind: "task.create",
      head: HEAD,
      data: {
        pid: "w1",
        ttl: 1_000,
        action: {
          kind: "promise.create",
          head: HEAD,
          data: {
            id: "t",
            timeoutAt: 10 * 60_000,
            param: { headers: {}, data: "" },
            tags: { "resonate:target": "poll://any@g" },
          },
        },
      },
    });
    tick(store, state, 6_000);
    expect(store.tasks.get("t")?.state).toBe("pending");
  });
});

describe("leases after the server stood still", () => {
  it("get the same grace when the server could not run past them (a stall)", async () => {
    const store = new SqliteStore({ path: ":memory:" });
    const engine = new Engine({ store, clock: Date.now, onMessages: () => {} });
    const stateOfT = async (): Promise<string> => {
      const got = await engine.submit({
        kind: "task.get",
        head: HEAD,
        data: { id: "t" },
      });
      return (got.data as { task: { state: string } }).task.state;
    };
    try {
      const leaseMs = 1_000;
      const created = await engine.submit({
        kind: "task.create",
        head: HEAD,
        data: {
          pid: "w1",
          ttl: leaseMs,
          action: {
            kind: "promise.create",
            head: HEAD,
            data: {
              id: "t",
              timeoutAt: Date.now() + 10 * 60_000,
              param: { headers: {}, data: "" },
              tags: { "resonate:target": "poll://any@g" },
            },
          },
        },
      });
      expect(created.status).toBe(200);
      // The server (in this process) stands still for longer than the lease: the holder's
      // heartbeats could not have landed. This busy loop is the stall under test.
      const stallUntil = Date.now() + 2.5 * leaseMs;
      while (Date.now() < stallUntil) {
        // standing still
      }
      // A batch's requests are applied before its timers fire: the second look is after them.
      await stateOfT();
      expect(await stateOfT()).toBe("acquired");
      // A holder that stays silent for a lease after the stall loses it, as any holder does.
      await eventually(async () => (await stateOfT()) === "pending", "the lease to lapse", 10_000);
    } finally {
      engine.stop();
      await store.close();
    }
  });
});
