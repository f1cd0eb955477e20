// The HTTP face over a real socket: bad input gets a clear 4xx and changes nothing, search
// pages and filters like the real server, auth answers 401/403 with a reason.
import { Resonate } from "@resonatehq/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { createAuthenticator } from "../../src/server/auth.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { send } from "../helpers/protocol-client.ts";
import { ed25519KeyPair, signJwt } from "./jwt-helper.ts";

const servers: RunningServer[] = [];
const clients: Resonate[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.stop()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(
  options: Partial<Parameters<typeof startServer>[0]> = {},
): Promise<RunningServer> {
  const s = await startServer({ host: "127.0.0.1", port: 0, ...options });
  servers.push(s);
  return s;
}

async function post(
  url: string,
  body: string,
): Promise<{ status: number; json: { head: { status: number }; data: unknown } }> {
  const res = await fetch(`${url}/`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  return {
    status: res.status,
    json: (await res.json()) as { head: { status: number }; data: unknown },
  };
}

const FAR = Date.now() + 3_600_000;

describe("bad input", () => {
  it.each([
    ["malformed JSON", "{not json", /not valid JSON/],
    [
      "an unknown kind",
      JSON.stringify({ kind: "promise.explode", head: { corrId: "1", version: "v" }, data: {} }),
      /unknown kind "promise.explode"/,
    ],
    [
      "a wrong field type",
      JSON.stringify({
        kind: "promise.create",
        head: { corrId: "1", version: "v" },
        data: { id: "x", timeoutAt: "soon", param: {}, tags: {} },
      }),
      /data.timeoutAt must be an integer, got "soon"/,
    ],
    [
      "a missing head",
      JSON.stringify({ kind: "promise.get", data: { id: "x" } }),
      /request.head must be an object/,
    ],
    [
      "a search limit over 1000",
      JSON.stringify({
        kind: "promise.search",
        head: { corrId: "1", version: "v" },
        data: { limit: 5000 },
      }),
      /limit must be between 1 and 1000/,
    ],
  ])("answers %s with 400 and a reason, storing nothing", async (_name, body, reason) => {
    const s = await server();
    const answer = await post(s.url, body);
    expect(answer.status).toBe(400);
    expect(answer.json.head.status).toBe(400);
    expect(String(answer.json.data)).toMatch(reason);
    const search = await send(s.url, "promise.search", {});
    expect((search.data as { promises: unknown[] }).promises).toEqual([]);
    expect((await send(s.url, "promise.get", { id: "x" })).status).toBe(404);
  });

  it("answers an oversized body with 413 and keeps serving", async () => {
    const s = await server({ maxBodyBytes: 1024 });
    const big = JSON.stringify({
      kind: "promise.create",
      head: { corrId: "1", version: "v" },
      data: { id: "big", timeoutAt: FAR, param: { data: "x".repeat(4096) }, tags: {} },
    });
    const res = await fetch(`${s.url}/`, { method: "POST", body: big });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { data: string }).data).toMatch(
      /larger than the server's limit of 0 MiB \(modulate server --max-body\)/,
    );
    expect((await send(s.url, "promise.get", { id: "big" })).status).toBe(404);
    expect(
      (await send(s.url, "promise.create", { id: "small", timeoutAt: FAR, param: {}, tags: {} }))
        .status,
    ).toBe(200);
  });

  it("answers unknown routes with 404 naming the routes there are", async () => {
    const s = await server();
    const res = await fetch(`${s.url}/promises`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: string }).error).toContain("POST /");
  });

  it("reports health and readiness", async () => {
    const s = await server();
    expect((await fetch(`${s.url}/health`)).status).toBe(200);
    expect((await fetch(`${s.url}/ready`)).status).toBe(200);
  });
});

describe("search", () => {
  it("pages through promises in id order with a cursor", async () => {
    const s = await server();
    for (let i = 0; i < 25; i++) {
      await send(s.url, "promise.create", {
        id: `job-${String(i).padStart(2, "0")}`,
        timeoutAt: FAR,
        param: {},
        tags: {},
      });
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const answer = await send(s.url, "promise.search", {
        limit: 10,
        ...(cursor ? { cursor } : {}),
      });
      const data = answer.data as { promises: { id: string }[]; cursor?: string };
      seen.push(...data.promises.map((p) => p.id));
      cursor = data.cursor;
    } while (cursor);
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => `job-${String(i).padStart(2, "0")}`));
  });

  it("filters promises by state and by every given tag", async () => {
    const s = await server();
    await send(s.url, "promise.create", {
      id: "a",
      timeoutAt: FAR,
      param: {},
      tags: { group: "gpu", owner: "ann" },
    });
    await send(s.url, "promise.create", {
      id: "b",
      timeoutAt: FAR,
      param: {},
      tags: { group: "gpu", owner: "bob" },
    });
    await send(s.url, "promise.create", {
      id: "c",
      timeoutAt: FAR,
      param: {},
      tags: { group: "cpu" },
    });
    await send(s.url, "promise.settle", { id: "b", state: "resolved", value: {} });
    const ids = async (data: unknown): Promise<string[]> =>
      (
        (await send(s.url, "promise.search", data)).data as { promises: { id: string }[] }
      ).promises.map((p) => p.id);
    expect(await ids({ tags: { group: "gpu" } })).toEqual(["a", "b"]);
    expect(await ids({ tags: { group: "gpu", owner: "bob" } })).toEqual(["b"]);
    expect(await ids({ state: "pending" })).toEqual(["a", "c"]);
    expect(await ids({ state: "resolved", tags: { group: "gpu" } })).toEqual(["b"]);
  });

  it("finds tasks by state and schedules by their promise tags", async () => {
    const s = await server();
    await send(s.url, "promise.create", {
      id: "t1",
      timeoutAt: FAR,
      param: {},
      tags: { "resonate:target": "poll://any@g" },
    });
    const tasks = (await send(s.url, "task.search", { state: "pending" })).data as {
      tasks: { id: string; resumes: number }[];
    };
    expect(tasks.tasks).toEqual([{ id: "t1", state: "pending", version: 0, resumes: 0 }]);
    await send(s.url, "schedule.create", {
      id: "nightly",
      cron: "0 3 * * *",
      promiseId: "n-{{.timestamp}}",
      promiseTimeout: 60_000,
      promiseParam: {},
      promiseTags: { "resonate:target": "poll://any@g", team: "ml" },
    });
    const found = (await send(s.url, "schedule.search", { tags: { team: "ml" } })).data as {
      schedules: { id: string }[];
    };
    expect(found.schedules.map((x) => x.id)).toEqual(["nightly"]);
  });
});

describe("token authentication", () => {
  it("serves an SDK client that presents the token and refuses one that does not", async () => {
    const s = await server({
      auth: createAuthenticator({ kind: "token", token: "s3cret" }, Date.now),
    });
    const missing = await send(s.url, "promise.get", { id: "x" });
    expect(missing.status).toBe(401);
    expect(String(missing.data)).toMatch(/missing token/);
    expect((await send(s.url, "promise.get", { id: "x" }, "wrong")).status).toBe(401);
    expect((await fetch(`${s.url}/poll/g/p`)).status).toBe(401);

    const worker = new Resonate({ url: s.url, group: "w", token: "s3cret", logLevel: "error" });
    const caller = new Resonate({ url: s.url, group: "c", token: "s3cret", logLevel: "error" });
    clients.push(worker, caller);
    worker.register("double", (_ctx, n: number) => n * 2);
    expect(await caller.rpc("double-1", "double", 21, caller.options({ target: "w" }))).toBe(42);
  });
});

describe("retention", () => {
  it("deletes settled promises older than --retain and keeps pending ones", async () => {
    let now = Date.now();
    const s = await server({ clock: () => now, retainMs: 1_000 });
    await send(s.url, "promise.create", { id: "old", timeoutAt: FAR, param: {}, tags: {} });
    await send(s.url, "promise.settle", { id: "old", state: "resolved", value: {} });
    await send(s.url, "promise.create", { id: "pending", timeoutAt: FAR, param: {}, tags: {} });
    now += 120_000; // past the retention and the collection interval
    await send(s.url, "promise.get", { id: "pending" }); // a request runs the collector's batch
    expect((await send(s.url, "promise.get", { id: "old" })).status).toBe(404);
    expect((await send(s.url, "promise.get", { id: "pending" })).status).toBe(200);
  });
});

describe("JWT authentication", () => {
  it("serves SDK clients whose tokens carry the right prefix, and refuses others with 403", async () => {
    const keys = ed25519KeyPair();
    const s = await server({
      auth: createAuthenticator({ kind: "jwt", publicKeyPem: keys.publicKeyPem }, Date.now),
    });
    const exp = Math.floor(Date.now() / 1000) + 600;
    const admin = signJwt({ alg: "EdDSA" }, { role: "admin", exp }, keys.privateKey);
    const teamA = signJwt({ alg: "EdDSA" }, { prefix: "team-a/", exp }, keys.privateKey);

    expect(
      (
        await send(
          s.url,
          "promise.create",
          { id: "team-b/x", timeoutAt: FAR, param: {}, tags: {} },
          teamA,
        )
      ).status,
    ).toBe(403);
    expect(
      (
        await send(
          s.url,
          "promise.create",
          { id: "team-a/x", timeoutAt: FAR, param: {}, tags: {} },
          teamA,
        )
      ).status,
    ).toBe(200);

    const worker = new Resonate({ url: s.url, group: "w", token: admin, logLevel: "error" });
    const caller = new Resonate({ url: s.url, group: "c", token: admin, logLevel: "error" });
    clients.push(worker, caller);
    worker.register("triple", (_ctx, n: number) => n * 3);
    expect(await caller.rpc("triple-1", "triple", 14, caller.options({ target: "w" }))).toBe(42);
  });
});
