// The SDK's in-memory reference server is the oracle: the same random request sequences must
// give the same replies and the same outgoing messages from modulate's durable state machine.
import { describe, expect, it } from "vitest";
// Not in the SDK's exports map: imported by file path, as the issue says.
import { Server as ReferenceServer } from "../../node_modules/@resonatehq/sdk/dist/src/network/local.js";
import type { Request } from "../../src/server/protocol.ts";
import { ResonateState } from "../../src/server/state.ts";
import { SqliteStore } from "../../src/server/store.ts";

/** Small, seeded PRNG (mulberry32): a failing seed can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const head = { corrId: "c", version: "2026-04-01" };

function generator(rand: () => number) {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)];
  const ids = ["a", "b", "c", "d", "e"];
  const id = (): string => pick(ids);
  const version = (): number => Math.floor(rand() * 4);
  const targets = ["poll://any@g1", "poll://any@g2/p1", "poll://uni@g1/p2"];

  function tags(): Record<string, string> {
    const t: Record<string, string> = {};
    if (rand() < 0.7) t["resonate:target"] = pick(targets);
    if (rand() < 0.15) t["resonate:timer"] = "true";
    if (rand() < 0.3) t["resonate:branch"] = pick(["x", "y"]);
    if (rand() < 0.1) t["resonate:scope"] = "global";
    return t;
  }

  function createData(now: number) {
    return {
      id: id(),
      timeoutAt: now + Math.floor(rand() * 90_000) - 10_000,
      param: { data: pick(["", "p1", "p2"]) },
      tags: tags(),
    };
  }

  function settleData() {
    return {
      id: id(),
      state: pick(["resolved", "rejected", "rejected_canceled"] as const),
      value: { data: pick(["v1", "v2"]) },
    };
  }

  return (now: number): Request => {
    const kind = pick([
      "promise.get",
      "promise.create",
      "promise.create",
      "promise.settle",
      "promise.register_callback",
      "promise.register_listener",
      "task.get",
      "task.create",
      "task.acquire",
      "task.acquire",
      "task.release",
      "task.fulfill",
      "task.suspend",
      "task.halt",
      "task.continue",
      "task.fence",
      "task.heartbeat",
      "schedule.create",
      "schedule.get",
      "schedule.delete",
    ] as const);
    switch (kind) {
      case "promise.get":
      case "task.get":
      case "task.halt":
      case "task.continue":
      case "schedule.get":
      case "schedule.delete":
        return { kind, head, data: { id: id() } };
      case "promise.create":
        return { kind, head, data: createData(now) };
      case "promise.settle":
        return { kind, head, data: settleData() };
      case "promise.register_callback":
        return { kind, head, data: { awaited: id(), awaiter: id() } };
      case "promise.register_listener":
        return { kind, head, data: { awaited: id(), address: "poll://uni@g1/listener" } };
      case "task.create":
        return {
          kind,
          head,
          data: {
            pid: pick(["p1", "p2"]),
            ttl: pick([5_000, 60_000]),
            action: {
              kind: "promise.create",
              head,
              data: { ...createData(now), tags: { ...tags(), "resonate:target": "poll://any@g1" } },
            },
          },
        };
      case "task.acquire":
        return {
          kind,
          head,
          data: {
            id: id(),
            version: version(),
            pid: pick(["p1", "p2"]),
            ttl: pick([5_000, 60_000]),
          },
        };
      case "task.release":
        return { kind, head, data: { id: id(), version: version() } };
      case "task.fulfill": {
        const taskId = id();
        return {
          kind,
          head,
          data: {
            id: taskId,
            version: version(),
            action: { kind: "promise.settle", head, data: { ...settleData(), id: taskId } },
          },
        };
      }
      case "task.suspend": {
        const taskId = id();
        const awaited = ids.filter((x) => x !== taskId && rand() < 0.4);
        return {
          kind,
          head,
          data: {
            id: taskId,
            version: version(),
            actions: (awaited.length ? awaited : [ids.find((x) => x !== taskId) ?? "a"]).map(
              (a) => ({
                kind: "promise.register_callback" as const,
                head,
                data: { awaited: a, awaiter: taskId },
              }),
            ),
          },
        };
      }
      case "task.fence":
        return {
          kind,
          head,
          data: {
            id: id(),
            version: version(),
            action:
              rand() < 0.5
                ? { kind: "promise.create", head, data: createData(now) }
                : { kind: "promise.settle", head, data: settleData() },
          },
        };
      case "task.heartbeat":
        return {
          kind,
          head,
          data: { pid: pick(["p1", "p2"]), tasks: ids.map((x) => ({ id: x, version: version() })) },
        };
      case "schedule.create":
        return {
          kind,
          head,
          data: {
            id: pick(["s1", "s2"]),
            cron: pick(["* * * * *", "*/2 * * * *", "not a cron"]),
            promiseId: "sched.{{.id}}.{{.timestamp}}",
            promiseTimeout: 60_000,
            promiseParam: { data: "sp" },
            promiseTags: rand() < 0.9 ? { "resonate:target": "poll://any@g2" } : {},
          },
        };
    }
  };
}

/** Order-free comparison: preloads and message lists are sets, not sequences. */
function normalise(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(normalise);
    return items.every((x) => typeof x === "object" && x !== null && "id" in x)
      ? [...items].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))
      : items;
  }
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [
          k,
          k === "resumes" && Array.isArray(v) ? [...(v as string[])].sort() : normalise(v),
        ]),
    );
  }
  return value;
}

function sortedMessages(messages: { address: string; message: unknown }[]): string[] {
  return messages.map((m) => JSON.stringify(normalise(m))).sort();
}

describe("the state machine against the SDK's reference server", () => {
  const seeds = Array.from({ length: 150 }, (_, i) => i + 1);
  it.each(seeds)("agrees on replies and messages for random sequence %i", async (seed) => {
    const rand = random(seed);
    const next = generator(rand);
    const oracle = new ReferenceServer();
    const store = new SqliteStore({ path: ":memory:" });
    const state = new ResonateState(store);
    let now = 1_700_000_000_000;
    try {
      for (let step = 0; step < 200; step++) {
        now += Math.floor(rand() * 8_000);
        if (rand() < 0.15) {
          const expected = oracle.apply(now, { kind: "debug.tick", head, data: { time: now } });
          store.begin();
          const actual = state.tick(now);
          store.commit();
          const expectedMessages = expected.changes.flatMap((c) =>
            c.kind === "message.send" ? [{ address: c.address, message: c.message }] : [],
          );
          expect(sortedMessages(actual.messages), `seed ${seed} step ${step}: tick`).toEqual(
            sortedMessages(expectedMessages),
          );
          continue;
        }
        const req = next(now);
        const expected = oracle.apply(now, req);
        store.begin();
        const actual = state.apply(now, req);
        store.commit();
        const where = `seed ${seed} step ${step}: ${JSON.stringify(req)}`;
        expect({ status: actual.reply.status, data: normalise(actual.reply.data) }, where).toEqual({
          status: expected.response.head.status,
          data: normalise(expected.response.data),
        });
        const expectedMessages = expected.changes.flatMap((c) =>
          c.kind === "message.send" ? [{ address: c.address, message: c.message }] : [],
        );
        expect(sortedMessages(actual.messages), where).toEqual(sortedMessages(expectedMessages));
      }
    } finally {
      await store.close();
    }
  });
});
