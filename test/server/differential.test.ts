// The SDK's in-memory reference server, corrected where the real Resonate server answers
// otherwise (differential-reference.ts), is the oracle: the same random request sequences must
// give the same replies and the same outgoing messages from modulate's durable state machine.
import { type Context, Resonate } from "@resonatehq/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { createAuthenticator } from "../../src/server/auth.ts";
import type { Request } from "../../src/server/protocol.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { ResonateState } from "../../src/server/state.ts";
import { SqliteStore } from "../../src/server/store.ts";
import { openPoll, send, type PollStream } from "../helpers/protocol-client.ts";
import {
  type Answer,
  SdkServer as ReferenceServer,
  applyReal,
  applySdk,
  isResponse,
  sentMessages,
} from "./differential-reference.ts";

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
/** A nested action's own head: the real server answers a fence with the outer corrId. */
const innerHead = { corrId: "inner", version: "2026-04-01" };

/**
 * `versionOf` reads a task's current version from the reference: most version guesses take it,
 * so that acquires, suspends, fulfills and fences get past the version check often enough.
 */
function generator(rand: () => number, versionOf: (id: string) => number | undefined) {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)];
  const ids = ["a", "b", "c", "d", "e"];
  const id = (): string => pick(ids);
  const version = (taskId: string): number => {
    const current = versionOf(taskId);
    return current !== undefined && rand() < 0.7 ? current : Math.floor(rand() * 4);
  };
  const targets = ["poll://any@g1", "poll://any@g2/p1", "poll://uni@g1/p2"];

  function tags(): Record<string, string> {
    const t: Record<string, string> = {};
    if (rand() < 0.7) t["resonate:target"] = pick(targets);
    // A target the real server cannot route to: refused with 400.
    if (rand() < 0.03) t["resonate:target"] = pick(["poll://all@g1", "nowhere"]);
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
        return {
          kind,
          head,
          data: { awaited: id(), address: rand() < 0.05 ? "nowhere" : "poll://uni@g1/listener" },
        };
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
      case "task.acquire": {
        const taskId = id();
        return {
          kind,
          head,
          data: {
            id: taskId,
            version: version(taskId),
            pid: pick(["p1", "p2"]),
            ttl: pick([5_000, 60_000]),
          },
        };
      }
      case "task.release": {
        const taskId = id();
        return { kind, head, data: { id: taskId, version: version(taskId) } };
      }
      case "task.fulfill": {
        const taskId = id();
        return {
          kind,
          head,
          data: {
            id: taskId,
            version: version(taskId),
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
            version: version(taskId),
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
      case "task.fence": {
        const taskId = id();
        return {
          kind,
          head,
          data: {
            id: taskId,
            version: version(taskId),
            action:
              rand() < 0.5
                ? { kind: "promise.create", head: innerHead, data: createData(now) }
                : { kind: "promise.settle", head: innerHead, data: settleData() },
          },
        };
      }
      case "task.heartbeat":
        return {
          kind,
          head,
          data: {
            pid: pick(["p1", "p2"]),
            tasks: ids.map((x) => ({ id: x, version: version(x) })),
          },
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
    const oracle = new ReferenceServer();
    const next = generator(rand, (id) => oracle.tasks.get(id)?.version);
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
          expect(sortedMessages(actual.messages), `seed ${seed} step ${step}: tick`).toEqual(
            sortedMessages(sentMessages(expected.changes)),
          );
          continue;
        }
        const req = next(now);
        const expected = applyReal(oracle, now, req);
        store.begin();
        const actual = state.apply(now, req);
        store.commit();
        const where = `seed ${seed} step ${step}: ${JSON.stringify(req)}`;
        expect({ status: actual.reply.status, data: normalise(actual.reply.data) }, where).toEqual({
          status: expected.answer.status,
          data: normalise(expected.answer.data),
        });
        expect(sortedMessages(actual.messages), where).toEqual(
          sortedMessages(sentMessages(expected.changes)),
        );
      }
    } finally {
      await store.close();
    }
  });
});

// Where the SDK's in-memory server and the real Resonate server (c8d7c7b) answer differently,
// modulate's server follows the real one (issue 14, item 6). Each case runs one request
// sequence through modulate's server over HTTP (with a clock that stands still, so that both
// sides see the same time) and through the SDK's in-memory server, raw and corrected
// (differential-reference.ts); modulate must answer as the corrected one at every step, in
// envelopes the SDK's client accepts, and the raw one's differing answer is recorded.
describe("where the SDK's in-memory server and the real one differ, modulate's answers as the real one", () => {
  const NOW = 1_700_000_000_000;
  const FAR = NOW + 3_600_000;
  const servers: RunningServer[] = [];
  const polls: PollStream[] = [];
  afterEach(async () => {
    for (const poll of polls.splice(0)) poll.close();
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  async function modulate(): Promise<RunningServer> {
    const s = await startServer({ host: "127.0.0.1", port: 0, clock: () => NOW });
    servers.push(s);
    return s;
  }

  async function poll(url: string, group: string, pid: string): Promise<PollStream> {
    const stream = await openPoll(url, group, pid);
    polls.push(stream);
    return stream;
  }

  let corr = 0;
  function req<K extends Request["kind"]>(kind: K, data: Extract<Request, { kind: K }>["data"]) {
    return { kind, head: { corrId: `c${++corr}`, version: "2026-04-01" }, data } as Request;
  }

  interface Step {
    modulate: Answer;
    real: Answer;
    sdk: Answer;
  }

  /** Sends `steps` to modulate's server, checking each answer's envelope. */
  async function fetchAnswers(url: string, steps: Request[]): Promise<Answer[]> {
    const answers: Answer[] = [];
    for (const step of steps) {
      const res = await fetch(`${url}/`, { method: "POST", body: JSON.stringify(step) });
      const body = (await res.json()) as {
        kind: string;
        head: { corrId: string; status: number; version: string };
        data: unknown;
      };
      // The real server's envelope (server.rs:146-150): HTTP status = head.status.
      expect(res.status).toBe(body.head.status);
      expect(body.kind).toBe(step.kind);
      expect(body.head).toEqual({
        corrId: step.head.corrId,
        status: body.head.status,
        version: "2026-04-01",
      });
      expect(isResponse(body), `the SDK's client accepts ${JSON.stringify(body)}`).toBe(true);
      answers.push({ status: body.head.status, data: body.data });
    }
    return answers;
  }

  /** Sends `steps` to all three; checks modulate = corrected reference, and every envelope. */
  async function run(url: string, steps: Request[]): Promise<Step[]> {
    const raw = new ReferenceServer();
    const corrected = new ReferenceServer();
    const answers = await fetchAnswers(url, steps);
    const out: Step[] = [];
    for (const [i, step] of steps.entries()) {
      const answer = answers[i];
      const real = applyReal(corrected, NOW, step).answer;
      expect(normalise(answer), JSON.stringify(step)).toEqual(normalise(real));
      out.push({ modulate: answer, real, sdk: applySdk(raw, NOW, step).answer });
    }
    return out;
  }

  it("takes a listener on a promise with no target, scope or timer tag, and tells it when the promise settles", async () => {
    const s = await modulate();
    const listener = await poll(s.url, "g", "l1");
    const [, listen] = await run(s.url, [
      req("promise.create", { id: "plain", timeoutAt: FAR, param: {}, tags: {} }),
      req("promise.register_listener", { awaited: "plain", address: "poll://uni@g/l1" }),
      req("promise.settle", { id: "plain", state: "resolved", value: { data: "v" } }),
    ]);
    expect(listen?.modulate).toMatchObject({
      status: 200,
      data: { promise: { state: "pending" } },
    });
    expect(listen?.sdk).toEqual({ status: 422, data: "Awaited promise is not awaitable" });
    await listener.until((m) =>
      m.some((x) => x.kind === "unblock" && x.data.promise?.id === "plain"),
    );
  });

  it("resumes a suspended awaiter at once when its callback names a promise already settled", async () => {
    const s = await modulate();
    const member = await poll(s.url, "g", "m1");
    const target = { "resonate:target": "poll://any@g" };
    const steps = await run(s.url, [
      req("task.create", {
        pid: "p1",
        ttl: 60_000,
        action: req("promise.create", { id: "w", timeoutAt: FAR, param: {}, tags: target }),
      } as Extract<Request, { kind: "task.create" }>["data"]),
      req("promise.create", { id: "x", timeoutAt: FAR, param: {}, tags: {} }),
      req("promise.create", { id: "y", timeoutAt: FAR, param: {}, tags: {} }),
      req("task.suspend", {
        id: "w",
        version: 1,
        actions: [req("promise.register_callback", { awaited: "x", awaiter: "w" })],
      } as Extract<Request, { kind: "task.suspend" }>["data"]),
      req("promise.settle", { id: "y", state: "resolved", value: {} }),
      req("promise.register_callback", { awaited: "y", awaiter: "w" }),
      req("task.get", { id: "w" }),
    ]);
    expect(steps[3]?.modulate.status).toBe(200);
    expect(steps[6]?.modulate).toMatchObject({
      status: 200,
      data: { task: { state: "pending", resumes: ["y"] } },
    });
    expect(steps[6]?.sdk).toMatchObject({ status: 200, data: { task: { state: "suspended" } } });
    await member.until((m) =>
      m.some((x) => x.kind === "execute" && x.data.task?.id === "w" && x.data.task.version === 1),
    );
  });

  it("answers a fence with the task's branch as it is after the action, under the request's corrId", async () => {
    const s = await modulate();
    const branch = { "resonate:branch": "r" };
    const fence = req("task.fence", {
      id: "r",
      version: 1,
      action: {
        kind: "promise.create",
        head: { corrId: "inner", version: "2026-04-01" },
        data: { id: "r.c", timeoutAt: FAR, param: {}, tags: branch },
      },
    });
    const steps = await run(s.url, [
      req("task.create", {
        pid: "p1",
        ttl: 60_000,
        action: req("promise.create", {
          id: "r",
          timeoutAt: FAR,
          param: {},
          tags: { ...branch, "resonate:target": "poll://any@g" },
        }),
      } as Extract<Request, { kind: "task.create" }>["data"]),
      req("promise.create", { id: "r.s", timeoutAt: FAR, param: {}, tags: branch }),
      fence,
    ]);
    const answer = steps[2]?.modulate.data as {
      action: { head: { corrId: string } };
      preload: { id: string }[];
    };
    expect(answer.preload.map((p) => p.id).sort()).toEqual(["r.c", "r.s"]);
    expect(answer.action.head.corrId).toBe(fence.head.corrId);
    expect(steps[2]?.sdk.data).toMatchObject({
      preload: [],
      action: { head: { corrId: "inner" } },
    });
  });

  it("lists a preload in id order, as the real server does, not in the order of creation", async () => {
    let now = NOW;
    const s = await startServer({ host: "127.0.0.1", port: 0, clock: () => now });
    servers.push(s);
    const branch = { "resonate:branch": "r" };
    const target = { ...branch, "resonate:target": "poll://any@g" };
    await send(s.url, "promise.create", { id: "r.z", timeoutAt: FAR, param: {}, tags: branch });
    now += 1_000;
    await send(s.url, "promise.create", { id: "r.a", timeoutAt: FAR, param: {}, tags: branch });
    const created = await send(s.url, "task.create", {
      pid: "p1",
      ttl: 60_000,
      action: req("promise.create", { id: "r", timeoutAt: FAR, param: {}, tags: target }),
    });
    const preload = (created.data as { preload: { id: string }[] }).preload;
    expect(preload.map((p) => p.id)).toEqual(["r.a", "r.z"]);
  });

  it("refuses a suspend on a promise that does not exist with 422 and a message", async () => {
    const s = await modulate();
    const steps = await run(s.url, [
      req("task.create", {
        pid: "p1",
        ttl: 60_000,
        action: req("promise.create", {
          id: "t",
          timeoutAt: FAR,
          param: {},
          tags: { "resonate:target": "poll://any@g" },
        }),
      } as Extract<Request, { kind: "task.create" }>["data"]),
      req("task.suspend", {
        id: "t",
        version: 1,
        actions: [req("promise.register_callback", { awaited: "missing", awaiter: "t" })],
      } as Extract<Request, { kind: "task.suspend" }>["data"]),
    ]);
    expect(steps[1]?.modulate).toEqual({ status: 422, data: "Awaited promise not found" });
    // The SDK's in-memory server answers `{}`, which its own client takes for a malformed answer.
    expect(steps[1]?.sdk).toEqual({ status: 422, data: {} });
  });

  it("refuses a target or a listener address the real server cannot route to, with 400, storing nothing", async () => {
    const s = await modulate();
    const unroutable = { "resonate:target": "poll://all@g" };
    const steps = await run(s.url, [
      req("promise.create", { id: "u", timeoutAt: FAR, param: {}, tags: unroutable }),
      req("promise.get", { id: "u" }),
      req("promise.create", { id: "p", timeoutAt: FAR, param: {}, tags: {} }),
      req("promise.register_listener", { awaited: "p", address: "nowhere" }),
      req("task.fence", {
        id: "no-such-task",
        version: 1,
        action: req("promise.create", { id: "f", timeoutAt: FAR, param: {}, tags: unroutable }),
      } as Extract<Request, { kind: "task.fence" }>["data"]),
    ]);
    expect(steps.map((x) => x.modulate)).toMatchObject([
      { status: 400, data: "Invalid resonate:target address" },
      { status: 404 },
      { status: 200 },
      { status: 400, data: "Invalid listener address" },
      { status: 400, data: "Invalid resonate:target address" },
    ]);
    expect(steps.map((x) => x.sdk.status)).toEqual([200, 200, 200, 422, 404]);
  });

  it('answers a body whose corrId cannot be read under corrId "0", as the real server does', async () => {
    const s = await modulate();
    for (const [body, kind] of [
      ["{not json", "unknown"],
      [
        JSON.stringify({ kind: "promise.get", head: { version: "2026-04-01" }, data: {} }),
        "promise.get",
      ],
    ] as const) {
      const res = await fetch(`${s.url}/`, { method: "POST", body });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({
        kind,
        head: { corrId: "0", status: 400, version: "2026-04-01" },
        data: expect.any(String) as unknown,
      });
    }
  });

  // types.rs, `#[validate]` on each request's data (the same at v0.9.8); the SDK's in-memory
  // server has no such rules.
  const create = {
    id: "t",
    timeoutAt: FAR,
    param: {},
    tags: { "resonate:target": "poll://any@g" },
  };
  it.each([
    ["promise.get", { id: "" }, "Promise ID is required"],
    [
      "promise.create",
      { id: "", timeoutAt: -1, param: {}, tags: {} },
      "Promise ID is required; TimeoutAt must be a non-negative integer",
    ],
    [
      "promise.create",
      { id: "a\0b", timeoutAt: FAR, param: {}, tags: {} },
      "Promise ID must not contain null bytes",
    ],
    [
      "promise.register_listener",
      { awaited: "", address: "poll://uni@g/l" },
      "Awaited promise ID is required",
    ],
    [
      "task.create",
      { pid: "", ttl: 60_000, action: req("promise.create", create) },
      "Process ID is required",
    ],
    [
      "task.acquire",
      { id: "t", version: -1, pid: "p", ttl: 0 },
      "Version must be a non-negative integer; TTL must be a positive integer",
    ],
    ["task.heartbeat", { pid: "p", tasks: [] }, "Tasks array must not be empty"],
    [
      "task.fence",
      { id: "t", version: 1, action: req("promise.create", create) },
      "Action ID must not equal the task ID",
    ],
    [
      "schedule.create",
      { id: "s", cron: "", promiseId: "x", promiseTimeout: -1, promiseParam: {}, promiseTags: {} },
      "Cron expression is required; Promise timeout must be a non-negative integer",
    ],
  ] as const)(
    "refuses %s with fields the real server refuses, in its words: %j",
    async (kind, data, message) => {
      const s = await modulate();
      const [step] = await fetchAnswers(s.url, [req(kind, data as never)]);
      expect(step).toEqual({ status: 400, data: message });
    },
  );

  it("checks the fields after the credentials, as the real server does", async () => {
    const s = await startServer({
      host: "127.0.0.1",
      port: 0,
      clock: () => NOW,
      auth: createAuthenticator({ kind: "token", token: "s3cret" }, () => NOW),
    });
    servers.push(s);
    expect((await send(s.url, "promise.get", { id: "" })).status).toBe(401);
    expect(await send(s.url, "promise.get", { id: "" }, "s3cret")).toMatchObject({
      status: 400,
      data: "Promise ID is required",
    });
  });

  it("refuses a request in another protocol version with 400, before its credentials, and applies nothing", async () => {
    const s = await startServer({
      host: "127.0.0.1",
      port: 0,
      clock: () => NOW,
      auth: createAuthenticator({ kind: "token", token: "s3cret" }, () => NOW),
    });
    servers.push(s);
    const create = {
      kind: "promise.create",
      head: { corrId: "old", version: "2025-01-01" },
      data: { id: "v", timeoutAt: FAR, param: {}, tags: {} },
    } as const;
    const res = await fetch(`${s.url}/`, { method: "POST", body: JSON.stringify(create) });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      kind: "promise.create",
      head: { corrId: "old", status: 400, version: "2026-04-01" },
      data: `Unsupported protocol version '2025-01-01', supported versions: ["2026-04-01"]`,
    });
    expect((await send(s.url, "promise.get", { id: "v" }, "s3cret")).status).toBe(404);
    // The SDK's in-memory server does not look at the version.
    expect(applySdk(new ReferenceServer(), NOW, create as Request).answer.status).toBe(200);
  });
});

// A fence's preload is what the SDK's client caches a replay from (util.js buildEffects): its
// own client must still run a durable function's steps once each, and get the right answer.
describe("the SDK's client against modulate's server", () => {
  const servers: RunningServer[] = [];
  const clients: Resonate[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.stop()));
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  it("runs a function's local steps once each across the suspend and replay of a remote call", async () => {
    const s = await startServer({ host: "127.0.0.1", port: 0 });
    servers.push(s);
    const worker = new Resonate({ url: s.url, group: "w", logLevel: "error" });
    const caller = new Resonate({ url: s.url, group: "c", logLevel: "error" });
    clients.push(worker, caller);
    const runs = { a: 0, b: 0, c: 0 };
    const step = (name: keyof typeof runs, n: number): number => {
      runs[name]++;
      return n + 1;
    };
    worker.register("double", (_ctx: Context, n: number) => n * 2);
    worker.register("steps", function* (ctx: Context, n: number) {
      const a = yield* ctx.run((_c: Context) => step("a", n));
      const b = yield* ctx.run((_c: Context) => step("b", a));
      const doubled = yield* ctx.rpc<number>("double", b, ctx.options({ target: "w" }));
      const c = yield* ctx.run((_c: Context) => step("c", doubled));
      return c;
    });
    expect(await caller.rpc("steps-1", "steps", 1, caller.options({ target: "w" }))).toBe(7);
    expect(runs).toEqual({ a: 1, b: 1, c: 1 });
  });
});
