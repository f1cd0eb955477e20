// Two tenants on one server, each with a JWT scoped to its prefix: every way issue 12 found
// to reach the other tenant's promises, tasks, schedules or messages is refused with 403 and
// a reason naming the field, and an SDK client working inside its own prefix still works.
import { Resonate } from "@resonatehq/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { createAuthenticator } from "../../src/server/auth.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { openPoll, send, type Answer } from "../helpers/protocol-client.ts";
import { ed25519KeyPair, signJwt } from "./jwt-helper.ts";

const servers: RunningServer[] = [];
const clients: Resonate[] = [];
const polls: AbortController[] = [];

afterEach(async () => {
  for (const poll of polls.splice(0)) poll.abort();
  await Promise.all(clients.splice(0).map((c) => c.stop()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const keys = ed25519KeyPair();
const exp = Math.floor(Date.now() / 1000) + 3600;
const tokenFor = (claims: Record<string, unknown>) =>
  signJwt({ alg: "EdDSA" }, { exp, ...claims }, keys.privateKey);
const t1 = tokenFor({ prefix: "t1-", role: "user" });
const t2 = tokenFor({ prefix: "t2-", role: "user" });
const FAR = Date.now() + 3_600_000;
const HEAD = { corrId: "inner", version: "2026-04-01" };

async function server(): Promise<RunningServer> {
  const auth = createAuthenticator({ kind: "jwt", publicKeyPem: keys.publicKeyPem }, Date.now);
  const s = await startServer({ host: "127.0.0.1", port: 0, auth });
  servers.push(s);
  return s;
}

/** A task.create of `id` addressed to `group`, with `tags` added to the promise's own. */
function taskCreate(id: string, group: string, tags: Record<string, string> = {}) {
  const data = {
    id,
    timeoutAt: FAR,
    param: { data: `script of ${id}` },
    tags: { "resonate:target": `poll://any@${group}`, "resonate:branch": id, ...tags },
  };
  return { pid: `${group}-pid`, ttl: 60_000, action: { kind: "promise.create", head: HEAD, data } };
}

/** Tenant t2's job: a root task with a settled child in its branch, as the SDK leaves them. */
async function startVictimJob(url: string): Promise<void> {
  expect((await send(url, "task.create", taskCreate("t2-job", "t2-cpu"), t2)).status).toBe(200);
  const child = { "resonate:branch": "t2-job", "resonate:parent": "t2-job" };
  const created = await send(
    url,
    "promise.create",
    { id: "t2-job.1", timeoutAt: FAR, param: {}, tags: child },
    t2,
  );
  expect(created.status).toBe(200);
  const settle = { id: "t2-job.1", state: "resolved", value: { data: "t2's secret result" } };
  expect((await send(url, "promise.settle", settle, t2)).status).toBe(200);
}

function expectForbidden(answer: Answer, reason: string): void {
  expect({ status: answer.status, data: answer.data }).toEqual({ status: 403, data: reason });
}

describe("a tenant cannot escape its prefix", () => {
  it("cannot pull another tenant's branch into its own task's preload", async () => {
    const s = await server();
    await startVictimJob(s.url);
    const spy = taskCreate("t1-spy", "t1-cpu", { "resonate:branch": "t2-job" });
    const answer = await send(s.url, "task.create", spy, t1);
    expectForbidden(
      answer,
      "task.create's inner promise.create tag resonate:branch 't2-job' is outside this token's prefix 't1-'",
    );
    expect(JSON.stringify(answer.data)).not.toContain("secret");
    expect((await send(s.url, "promise.get", { id: "t1-spy" }, t1)).status).toBe(404);
  });

  it("cannot settle or create another tenant's promises through a fence of its own task", async () => {
    const s = await server();
    await startVictimJob(s.url);
    expect((await send(s.url, "task.create", taskCreate("t1-task", "t1-cpu"), t1)).status).toBe(
      200,
    );
    const settle = {
      kind: "promise.settle",
      head: HEAD,
      data: { id: "t2-job", state: "rejected_canceled", value: {} },
    };
    expectForbidden(
      await send(s.url, "task.fence", { id: "t1-task", version: 1, action: settle }, t1),
      "task.fence's inner promise.settle id 't2-job' is outside this token's prefix 't1-'",
    );
    const plant = {
      kind: "promise.create",
      head: HEAD,
      data: { id: "t2-planted", timeoutAt: FAR, param: {}, tags: {} },
    };
    expectForbidden(
      await send(s.url, "task.fence", { id: "t1-task", version: 1, action: plant }, t1),
      "task.fence's inner promise.create id 't2-planted' is outside this token's prefix 't1-'",
    );
    const victim = await send(s.url, "promise.get", { id: "t2-job" }, t2);
    expect(victim.data).toMatchObject({ promise: { state: "pending" } });
    expect((await send(s.url, "promise.get", { id: "t2-planted" }, t2)).status).toBe(404);
  });

  it("cannot poll another tenant's group, nor under a pid outside its prefix", async () => {
    const s = await server();
    const pollAs = async (group: string, pid: string, authorization: string) => {
      const controller = new AbortController();
      polls.push(controller);
      const res = await fetch(`${s.url}/poll/${group}/${pid}`, {
        signal: controller.signal,
        headers: { authorization },
      });
      const body = res.status === 200 ? undefined : await res.json();
      return { status: res.status, body };
    };
    expect(await pollAs("t2-cpu", "t1-x", `Bearer ${t1}`)).toEqual({
      status: 403,
      body: { error: "/poll group 't2-cpu' is outside this token's prefix 't1-'" },
    });
    expect(await pollAs("cpu", "t1-x", `Bearer ${t1}`)).toEqual({
      status: 403,
      body: { error: "/poll group 'cpu' is outside this token's prefix 't1-'" },
    });
    expect(await pollAs("t1-cpu", "x", `Bearer ${t1}`)).toEqual({
      status: 403,
      body: { error: "/poll pid 'x' is outside this token's prefix 't1-'" },
    });
    expect(await pollAs("t1-cpu", "t1-x", `bearer ${t1}`)).toMatchObject({ status: 401 });

    // Inside its prefix the poll works and carries the tenant's own work.
    const own = await openPoll(s.url, "t1-cpu", "t1-x", t1);
    try {
      await send(
        s.url,
        "promise.create",
        {
          id: "t1-work",
          timeoutAt: FAR,
          param: {},
          tags: { "resonate:target": "poll://any@t1-cpu" },
        },
        t1,
      );
      await own.until((messages) => messages.some((m) => m.data.task?.id === "t1-work"));
    } finally {
      own.close();
    }
  });

  it("cannot create a schedule under another tenant's id", async () => {
    const s = await server();
    const schedule = (id: string, promiseId: string, group: string) => ({
      id,
      cron: "0 0 * * *",
      promiseId,
      promiseTimeout: 60_000,
      promiseParam: {},
      promiseTags: { "resonate:target": `poll://any@${group}` },
    });
    expectForbidden(
      await send(s.url, "schedule.create", schedule("t2-sched", "t1-{{.timestamp}}", "t1-cpu"), t1),
      "schedule.create id 't2-sched' is outside this token's prefix 't1-'",
    );
    const own = await send(
      s.url,
      "schedule.create",
      schedule("t2-sched", "t2-run-{{.timestamp}}", "t2-cpu"),
      t2,
    );
    expect(own.data).toMatchObject({ schedule: { promiseId: "t2-run-{{.timestamp}}" } });
  });

  it("cannot suspend its task on another tenant's promise", async () => {
    const s = await server();
    await startVictimJob(s.url);
    expect((await send(s.url, "task.create", taskCreate("t1-task", "t1-cpu"), t1)).status).toBe(
      200,
    );
    const awaitVictim = {
      kind: "promise.register_callback",
      head: HEAD,
      data: { awaited: "t2-job", awaiter: "t1-task" },
    };
    expectForbidden(
      await send(s.url, "task.suspend", { id: "t1-task", version: 1, actions: [awaitVictim] }, t1),
      "task.suspend's inner promise.register_callback awaited 't2-job' is outside this token's prefix 't1-'",
    );
    const task = await send(s.url, "task.get", { id: "t1-task" }, t1);
    expect(task.data).toMatchObject({ task: { state: "acquired" } });
  });
});

describe("a tenant inside its prefix", () => {
  it("runs an SDK rpc end to end with groups and pids in its prefix", async () => {
    const s = await server();
    const worker = new Resonate({
      url: s.url,
      group: "t1-workers",
      pid: "t1-worker-1",
      token: t1,
      logLevel: "error",
    });
    const caller = new Resonate({
      url: s.url,
      group: "t1-callers",
      pid: "t1-caller-1",
      token: t1,
      logLevel: "error",
    });
    clients.push(worker, caller);
    worker.register("triple", (_ctx, n: number) => n * 3);
    const options = caller.options({ target: "t1-workers" });
    expect(await caller.rpc("t1-triple-1", "triple", 14, options)).toBe(42);
  });
});

describe("a group open to every tenant (modulate's routers)", () => {
  async function openServer(): Promise<RunningServer> {
    const auth = createAuthenticator(
      { kind: "jwt", publicKeyPem: keys.publicKeyPem, openGroups: ["entry"] },
      Date.now,
    );
    const s = await startServer({ host: "127.0.0.1", port: 0, auth });
    servers.push(s);
    return s;
  }
  const create = (id: string, group: string) => ({
    id,
    timeoutAt: FAR,
    param: {},
    tags: { "resonate:target": `poll://any@${group}` },
  });

  it("takes work from any tenant, in that tenant's own ids", async () => {
    const s = await openServer();
    expect((await send(s.url, "promise.create", create("t1-job", "entry"), t1)).status).toBe(200);
    const outside = await send(s.url, "promise.create", create("t2-job", "entry"), t1);
    expect(outside.status).toBe(403);
  });

  it("is the only group outside its prefix a tenant may address, and none may poll it", async () => {
    const s = await openServer();
    const elsewhere = await send(s.url, "promise.create", create("t1-job", "gpu"), t1);
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.data).toMatch(/resonate:target 'poll:\/\/any@gpu' is outside/);
    const poll = await fetch(`${s.url}/poll/entry/t1-router`, {
      headers: { authorization: `Bearer ${t1}` },
    });
    await poll.body?.cancel();
    expect(poll.status).toBe(403);
  });

  it("stays closed where the server was not told to open it", async () => {
    const s = await server();
    const refused = await send(s.url, "promise.create", create("t1-job", "entry"), t1);
    expect(refused.status).toBe(403);
  });
});
