// The prefix rule table, through the authenticator: a tenant's well-formed request of every
// kind passes, and each name a request can reach another tenant through is refused with a
// reason that says which field and which name.
import { describe, expect, it } from "vitest";
import { createAuthenticator } from "../../src/server/auth.ts";
import type { AuthDecision } from "../../src/server/auth.ts";
import type { RequestKind } from "../../src/server/protocol.ts";
import { parseRequest } from "../../src/server/validate.ts";
import { ed25519KeyPair, signJwt } from "./jwt-helper.ts";

const NOW_MS = Date.parse("2026-11-24T09:00:00Z");
const keys = ed25519KeyPair();
const auth = createAuthenticator({ kind: "jwt", publicKeyPem: keys.publicKeyPem }, () => NOW_MS);
const tokenWith = (claims: Record<string, unknown>) =>
  signJwt({ alg: "EdDSA" }, { exp: NOW_MS / 1000 + 3600, ...claims }, keys.privateKey);
const t1 = tokenWith({ prefix: "t1-", role: "user" });

const HEAD = { corrId: "c1", version: "2026-04-01" };
const inner = (kind: string, data: unknown) => ({ kind, head: HEAD, data });
const WORKERS = "poll://any@t1-workers";
/** A promise as the SDK creates one inside root "t1-root": lineage tags and a target. */
const created = (id: string) => ({
  id,
  timeoutAt: NOW_MS + 60_000,
  param: {},
  tags: {
    "resonate:origin": "t1-root",
    "resonate:branch": "t1-root",
    "resonate:parent": "t1-root",
    "resonate:target": WORKERS,
    "resonate:scope": "global",
  },
});

type SearchKind = "promise.search" | "task.search" | "schedule.search";
/** One request of every kind that names ids, all inside "t1-"; the compiler wants them all. */
const IN_PREFIX: Record<Exclude<RequestKind, SearchKind>, Record<string, unknown>> = {
  "promise.get": { id: "t1-a" },
  "promise.create": created("t1-a"),
  "promise.settle": { id: "t1-a", state: "resolved", value: {} },
  "promise.register_callback": { awaited: "t1-a", awaiter: "t1-b" },
  "promise.register_listener": { awaited: "t1-a", address: "poll://uni@t1-callers/t1-pid" },
  "task.get": { id: "t1-a" },
  "task.create": {
    pid: "t1-pid",
    ttl: 60_000,
    action: inner("promise.create", created("t1-a")),
  },
  "task.acquire": { id: "t1-a", version: 1, pid: "t1-pid", ttl: 60_000 },
  "task.release": { id: "t1-a", version: 1 },
  "task.fulfill": {
    id: "t1-a",
    version: 1,
    action: inner("promise.settle", { id: "t1-a", state: "resolved", value: {} }),
  },
  "task.suspend": {
    id: "t1-a",
    version: 1,
    actions: [
      inner("promise.register_callback", { awaited: "t1-a.1", awaiter: "t1-a" }),
      inner("promise.register_callback", { awaited: "t1-a.2", awaiter: "t1-a" }),
    ],
  },
  "task.halt": { id: "t1-a" },
  "task.continue": { id: "t1-a" },
  "task.fence": { id: "t1-a", version: 1, action: inner("promise.create", created("t1-a.1")) },
  "task.heartbeat": {
    pid: "t1-pid",
    tasks: [
      { id: "t1-a", version: 1 },
      { id: "t1-b", version: 2 },
    ],
  },
  "schedule.get": { id: "t1-nightly" },
  "schedule.create": {
    id: "t1-nightly",
    cron: "0 0 * * *",
    // The template the SDK's `resonate.schedule` uses.
    promiseId: "{{.id}}-{{.timestamp}}",
    promiseTimeout: 60_000,
    promiseParam: {},
    promiseTags: { "resonate:target": WORKERS },
  },
  "schedule.delete": { id: "t1-nightly" },
};
const KINDS = Object.keys(IN_PREFIX) as (keyof typeof IN_PREFIX)[];

function check(token: string, kind: string, data: unknown): AuthDecision {
  return auth.checkRequest({ kind, head: { ...HEAD, auth: token }, data });
}

/** IN_PREFIX's request of `kind` with the value at `path` replaced. */
function changed(kind: keyof typeof IN_PREFIX, path: (string | number)[], value: unknown): unknown {
  const data = structuredClone(IN_PREFIX[kind]) as Record<string | number, unknown>;
  let holder = data;
  for (const key of path.slice(0, -1)) holder = holder[key] as Record<string | number, unknown>;
  const last = path.at(-1);
  if (last === undefined) throw new Error("empty path");
  holder[last] = value;
  return data;
}

describe("a token with prefix 't1-'", () => {
  it.each(KINDS)("sends a well-formed %s inside its prefix", (kind) => {
    // The fixture is a request the server itself accepts, not just one the table passes.
    expect(parseRequest({ kind, head: HEAD, data: IN_PREFIX[kind] })).toMatchObject({ ok: true });
    expect(check(t1, kind, IN_PREFIX[kind])).toEqual({ ok: true });
  });

  const tag = (name: string) => ["tags", name];
  const innerTag = (name: string) => ["action", "data", "tags", name];
  const outsideGroup = ": its group must start with the prefix";
  it.each<[keyof typeof IN_PREFIX, (string | number)[], unknown, string]>([
    ["promise.get", ["id"], "t2-a", "promise.get id 't2-a'"],
    ["promise.create", ["id"], "t2-a", "promise.create id 't2-a'"],
    [
      "promise.create",
      tag("resonate:branch"),
      "t2-job",
      "promise.create tag resonate:branch 't2-job'",
    ],
    [
      "promise.create",
      tag("resonate:parent"),
      "t2-job",
      "promise.create tag resonate:parent 't2-job'",
    ],
    [
      "promise.create",
      tag("resonate:origin"),
      "t2-job",
      "promise.create tag resonate:origin 't2-job'",
    ],
    [
      "promise.create",
      tag("resonate:target"),
      "poll://any@t2-cpu",
      `promise.create tag resonate:target 'poll://any@t2-cpu'`,
    ],
    [
      "promise.create",
      tag("resonate:target"),
      "poll://uni@cpu/t1-pid",
      `promise.create tag resonate:target 'poll://uni@cpu/t1-pid'`,
    ],
    ["promise.settle", ["id"], "t2-a", "promise.settle id 't2-a'"],
    ["promise.register_callback", ["awaited"], "t2-a", "promise.register_callback awaited 't2-a'"],
    ["promise.register_callback", ["awaiter"], "t2-b", "promise.register_callback awaiter 't2-b'"],
    ["promise.register_listener", ["awaited"], "t2-a", "promise.register_listener awaited 't2-a'"],
    [
      "promise.register_listener",
      ["address"],
      "poll://uni@t2-callers/t1-pid",
      "promise.register_listener address 'poll://uni@t2-callers/t1-pid'",
    ],
    ["task.get", ["id"], "t2-a", "task.get id 't2-a'"],
    [
      "task.create",
      ["action", "data", "id"],
      "t2-a",
      "task.create's inner promise.create id 't2-a'",
    ],
    [
      "task.create",
      innerTag("resonate:branch"),
      "t2-job",
      "task.create's inner promise.create tag resonate:branch 't2-job'",
    ],
    [
      "task.create",
      innerTag("resonate:target"),
      "poll://any@cpu",
      "task.create's inner promise.create tag resonate:target 'poll://any@cpu'",
    ],
    ["task.acquire", ["id"], "t2-a", "task.acquire id 't2-a'"],
    ["task.release", ["id"], "t2-a", "task.release id 't2-a'"],
    ["task.fulfill", ["id"], "t2-a", "task.fulfill id 't2-a'"],
    [
      "task.fulfill",
      ["action", "data", "id"],
      "t2-a",
      "task.fulfill's inner promise.settle id 't2-a'",
    ],
    ["task.suspend", ["id"], "t2-a", "task.suspend id 't2-a'"],
    [
      "task.suspend",
      ["actions", 1, "data", "awaited"],
      "t2-job",
      "task.suspend's inner promise.register_callback awaited 't2-job'",
    ],
    [
      "task.suspend",
      ["actions", 0, "data", "awaiter"],
      "t2-a",
      "task.suspend's inner promise.register_callback awaiter 't2-a'",
    ],
    ["task.halt", ["id"], "t2-a", "task.halt id 't2-a'"],
    ["task.continue", ["id"], "t2-a", "task.continue id 't2-a'"],
    ["task.fence", ["id"], "t2-a", "task.fence id 't2-a'"],
    [
      "task.fence",
      ["action", "data", "id"],
      "t2-planted",
      "task.fence's inner promise.create id 't2-planted'",
    ],
    [
      "task.fence",
      innerTag("resonate:origin"),
      "t2-job",
      "task.fence's inner promise.create tag resonate:origin 't2-job'",
    ],
    [
      "task.fence",
      ["action"],
      inner("promise.settle", { id: "t2-x", state: "resolved", value: {} }),
      "task.fence's inner promise.settle id 't2-x'",
    ],
    ["task.heartbeat", ["tasks", 1, "id"], "t2-b", "task.heartbeat task id 't2-b'"],
    ["schedule.get", ["id"], "t2-nightly", "schedule.get id 't2-nightly'"],
    ["schedule.delete", ["id"], "t2-nightly", "schedule.delete id 't2-nightly'"],
    ["schedule.create", ["id"], "t2-sched", "schedule.create id 't2-sched'"],
    [
      "schedule.create",
      ["promiseTags", "resonate:branch"],
      "t2-job",
      "schedule.create promiseTags resonate:branch 't2-job'",
    ],
    [
      "schedule.create",
      ["promiseTags", "resonate:target"],
      "poll://any@t2-workers",
      "schedule.create promiseTags resonate:target 'poll://any@t2-workers'",
    ],
  ])("refuses a %s whose %j is %j", (kind, path, value, named) => {
    const reason = `${named} is outside this token's prefix 't1-'`;
    const isAddress = typeof value === "string" && value.startsWith("poll://");
    expect(check(t1, kind, changed(kind, path, value))).toEqual({
      ok: false,
      status: 403,
      reason: isAddress ? `${reason}${outsideGroup}` : reason,
    });
  });

  it("refuses a target that is not a poll address, since no group can be checked", () => {
    const data = changed("promise.create", tag("resonate:target"), "http://t1-host/hook");
    expect(check(t1, "promise.create", data)).toEqual({
      ok: false,
      status: 403,
      reason:
        "promise.create tag resonate:target 'http://t1-host/hook' is outside this token's prefix 't1-': it is not a poll://any@GROUP[/PID] or poll://uni@GROUP/PID address",
    });
  });

  it.each([
    ["{{.id}}-{{.timestamp}}", true],
    ["{{.id}}", true],
    ["t1-run-{{.timestamp}}", true],
    ["t1-{{.id}}.{{.timestamp}}", true],
    ["{{.timestamp}}-{{.id}}", false],
    ["{{.timestamp}}", false],
    ["t2-{{.id}}", false],
    ["t{{.timestamp}}1-x", false],
  ])("takes schedule promiseId %j only if every id it creates is in the prefix", (template, ok) => {
    const data = changed("schedule.create", ["promiseId"], template);
    expect(check(t1, "schedule.create", data)).toEqual(
      ok
        ? { ok: true }
        : {
            ok: false,
            status: 403,
            reason: `schedule.create promiseId '${template}' is outside this token's prefix 't1-': every promise id it creates must start with the prefix`,
          },
    );
  });

  it("refuses requests whose lists are missing, rather than reading them as empty", () => {
    expect(check(t1, "task.suspend", { id: "t1-a", version: 1 })).toMatchObject({ status: 403 });
    expect(check(t1, "task.heartbeat", { pid: "t1-pid" })).toMatchObject({ status: 403 });
    expect(check(t1, "task.fence", { id: "t1-a", version: 1 })).toMatchObject({ status: 403 });
  });
});

describe("a token with an empty prefix", () => {
  it("reaches every id, tag, address, schedule and search", () => {
    const everyone = tokenWith({ prefix: "", role: "user" });
    const foreign = changed("task.create", ["action"], inner("promise.create", created("t2-a")));
    expect(check(everyone, "task.create", foreign)).toEqual({ ok: true });
    for (const kind of KINDS) {
      const elsewhere: unknown = JSON.parse(
        JSON.stringify(IN_PREFIX[kind]).replaceAll("t1-", "t2-"),
      );
      expect(check(everyone, kind, elsewhere)).toEqual({ ok: true });
    }
    for (const kind of ["promise.search", "task.search", "schedule.search"]) {
      expect(check(everyone, kind, {})).toEqual({ ok: true });
    }
    expect(auth.checkPoll(`Bearer ${everyone}`, "cpu", "any-pid")).toEqual({ ok: true });
  });
});
