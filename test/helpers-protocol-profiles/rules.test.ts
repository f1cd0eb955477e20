// The protocol profiles' rules, each with a request its server accepts and one it refuses,
// taken from the logic of the source line it cites (resonate src/types.rs, server.rs at
// c8d7c7b and v0.9.8; SDK 0.11.5's ids.js for the ':' generation).
import { describe, expect, it } from "vitest";
import { checkRequest } from "../helpers/protocol-profiles/check.ts";
import type { Envelope, Obj } from "../helpers/protocol-profiles/envelope.ts";
import { COLON_LINEAGE, DOT_LINEAGE } from "../helpers/protocol-profiles/lineage.ts";
import { PROFILES, type ProfileName } from "../helpers/protocol-profiles/profiles.ts";
import { suspendActionRules } from "../helpers/protocol-profiles/rules.ts";
import { isValidAddress } from "../helpers/protocol-profiles/server-checks.ts";

const TARGET = "poll://any@entry";

function env(kind: string, data: Obj, version = "2026-04-01"): Envelope {
  return { kind, head: { corrId: "c1", version }, data };
}

function create(id: string, tags: Record<string, string> = {}, timeoutAt = 1_000_000): Envelope {
  return env("promise.create", { id, timeoutAt, param: {}, tags });
}

function lineageTags(origin: string, branch = origin, parent = origin): Record<string, string> {
  return { "resonate:origin": origin, "resonate:branch": branch, "resonate:parent": parent };
}

function ruleOf(profile: ProfileName, request: Envelope): string | undefined {
  return checkRequest(PROFILES[profile], request)?.rule;
}

describe("the lineages", () => {
  it("c8d7c7b's origin ends at the first '.' and an id extends '{tag}.'", () => {
    expect(DOT_LINEAGE.origin("a.b.c")).toBe("a");
    expect(DOT_LINEAGE.origin("a")).toBe("a");
    expect(DOT_LINEAGE.extendsId("a.1", "a")).toBe(true);
    expect(DOT_LINEAGE.extendsId("ab", "a")).toBe(false);
  });

  it("the ':' lineage ends the origin at the first ':' and nests by the SDK's joinId", () => {
    expect(COLON_LINEAGE.origin("my.app:1.2")).toBe("my.app");
    expect(COLON_LINEAGE.extendsId("root:1", "root")).toBe(true);
    expect(COLON_LINEAGE.extendsId("root:1.2", "root:1")).toBe(true);
    expect(COLON_LINEAGE.extendsId("root.1", "root")).toBe(false);
    expect(COLON_LINEAGE.extendsId("root:12", "root:1")).toBe(false);
  });
});

describe("promise.create under c8d7c7b", () => {
  const cases: [string, Envelope, Envelope, string][] = [
    ["null_bytes", create("a"), create("a\0b"), "Promise ID must not contain null bytes"],
    [
      "dot_in_origin",
      create("job-1", lineageTags("job-1")),
      create("modulate-execute.job-1", lineageTags("modulate-execute.job-1")),
      "resonate:origin must not contain '.'",
    ],
    [
      "origin_prefix",
      create("job-1.execute", { "resonate:origin": "job-1" }),
      create("execute-job-1", { "resonate:origin": "job-1" }),
      "Promise ID must be prefixed by resonate:origin",
    ],
    [
      "branch_prefix",
      create("job-1.a.b", { "resonate:branch": "job-1.a" }),
      create("job-1.ab", { "resonate:branch": "job-1.a" }),
      "Promise ID must be prefixed by resonate:branch",
    ],
    [
      "parent_prefix",
      create("job-1.a", { "resonate:parent": "job-1" }),
      create("job-2.a", { "resonate:parent": "job-1" }),
      "Promise ID must be prefixed by resonate:parent",
    ],
    [
      "dot_in_prefix",
      create("t1", { "resonate:prefix": "t1" }),
      create("t1", { "resonate:prefix": "t.1" }),
      "resonate:prefix must not contain '.'",
    ],
    [
      "invalid_delay",
      create("d", { "resonate:delay": "5", "resonate:target": TARGET }),
      create("d", { "resonate:delay": "-5", "resonate:target": TARGET }),
      "resonate:delay must be a non-negative integer",
    ],
    [
      "delay_exceeds_timeout",
      create("d", { "resonate:delay": "999", "resonate:target": TARGET }, 1000),
      create("d", { "resonate:delay": "1000", "resonate:target": TARGET }, 1000),
      "resonate:delay must be less than timeoutAt",
    ],
    [
      "delay_without_target",
      create("d", { "resonate:delay": "5", "resonate:target": TARGET }),
      create("d", { "resonate:delay": "5" }),
      "resonate:delay requires a resonate:target tag",
    ],
    [
      "invalid_target_address",
      create("t", { "resonate:target": "poll://any@entry/router-1" }),
      create("t", { "resonate:target": "poll://someone@entry" }),
      "Invalid resonate:target address",
    ],
  ];
  it.each(cases)("%s: accepts one and refuses the other", (rule, accepted, refused, reason) => {
    expect(checkRequest(PROFILES.c8d7c7b, accepted)).toBeUndefined();
    expect(checkRequest(PROFILES.c8d7c7b, refused)).toEqual({ rule, status: 400, reason });
  });

  it("checks the origin's dot before its prefix, as the source does", () => {
    expect(ruleOf("c8d7c7b", create("x", { "resonate:origin": "a.b" }))).toBe("dot_in_origin");
  });
});

describe("the other requests under c8d7c7b", () => {
  const callback = (awaiter: string, awaited: string) =>
    env("promise.register_callback", { awaiter, awaited });
  const suspend = (id: string, awaiter: string, awaited: string) =>
    env("task.suspend", {
      id,
      version: 1,
      actions: [{ kind: "promise.register_callback", head: {}, data: { awaiter, awaited } }],
    });
  const taskCreate = (tags: Record<string, string>) =>
    env("task.create", { pid: "p", ttl: 1000, action: create("job-1", tags) });
  const heartbeat = (...ids: string[]) =>
    env("task.heartbeat", { pid: "p", tasks: ids.map((id) => ({ id, version: 1 })) });
  const fulfill = (id: string, settled: string) =>
    env("task.fulfill", { id, version: 1, action: env("promise.settle", { id: settled }) });
  const fence = (id: string, inner: Envelope) =>
    env("task.fence", { id, version: 1, action: inner });
  const schedule = (id: string, promiseTags: Record<string, string>) =>
    env("schedule.create", {
      id,
      cron: "* * * * *",
      promiseId: "{{.id}}",
      promiseTimeout: 1,
      promiseTags,
    });

  const cases: [string, Envelope, Envelope, string][] = [
    [
      "awaited_equals_awaiter",
      callback("a", "a.1"),
      callback("a", "a"),
      "Awaited and awaiter must be different promises",
    ],
    [
      "origin_mismatch",
      callback("a.1", "a.2"),
      callback("a.1", "b.1"),
      "Awaiter and awaited must belong to the same origin",
    ],
    [
      "awaiter_mismatch",
      suspend("a", "a", "a.1"),
      suspend("a", "a.9", "a.1"),
      "All action awaiter IDs must match the task ID",
    ],
    [
      "missing_target",
      taskCreate({ "resonate:target": TARGET }),
      taskCreate({}),
      "Action must have a resonate:target tag",
    ],
    [
      "delay_in_task_action",
      taskCreate({ "resonate:target": TARGET }),
      taskCreate({ "resonate:target": TARGET, "resonate:delay": "1" }),
      "Action must not have a resonate:delay tag",
    ],
    [
      "origin_mismatch",
      heartbeat("a.1", "a.2"),
      heartbeat("modulate-presence.g.p.1", "job-1"),
      "All tasks must belong to the same origin",
    ],
    [
      "action_id_mismatch",
      fulfill("a", "a"),
      fulfill("a", "b"),
      "Action ID must match the task ID",
    ],
    [
      "action_id_equals_task_id",
      fence("a", create("a.1")),
      fence("a", create("a")),
      "Action ID must not equal the task ID",
    ],
    [
      "dot_in_origin",
      fence("a", create("a.1", lineageTags("a", "a", "a"))),
      fence("a", create("m.a", lineageTags("m.a"))),
      "resonate:origin must not contain '.'",
    ],
    [
      "dot_in_schedule_id",
      schedule("nightly", { "resonate:target": TARGET }),
      schedule("night.ly", { "resonate:target": TARGET }),
      "Schedule ID must not contain '.'",
    ],
    [
      "missing_target",
      schedule("nightly", { "resonate:target": TARGET }),
      schedule("nightly", {}),
      "promiseTags must include a resonate:target tag",
    ],
    [
      "invalid_listener_address",
      env("promise.register_listener", { awaited: "a", address: "poll://any@g/p" }),
      env("promise.register_listener", { awaited: "a", address: "nowhere" }),
      "Invalid listener address",
    ],
    [
      "limit_too_large",
      env("promise.search", { limit: 1000 }),
      env("promise.search", { limit: 1001 }),
      "Invalid 'limit' — must be between 1 and 1000",
    ],
    [
      "unsupported_version",
      create("a"),
      env("promise.get", { id: "a" }, "2025-01-01"),
      `Unsupported protocol version '2025-01-01', supported versions: ["2026-04-01"]`,
    ],
  ];
  it.each(cases)("%s: accepts one and refuses the other", (rule, accepted, refused, reason) => {
    expect(checkRequest(PROFILES.c8d7c7b, accepted)).toBeUndefined();
    expect(checkRequest(PROFILES.c8d7c7b, refused)).toEqual({ rule, status: 400, reason });
  });

  it("task.suspend's awaits are refused by the nested callback's rules first", () => {
    // Each action is a PromiseRegisterCallbackData, validated (nested) before the suspend's own
    // schema, which runs only once awaiter == task id: so awaited_is_self (types.rs:478-481) and
    // the suspend's origin_mismatch (482-488) can never be the ones that answer.
    expect(ruleOf("c8d7c7b", suspend("a.1", "a.1", "a.1"))).toBe("awaited_equals_awaiter");
    const refused = suspend("job-1", "job-1", "modulate-execute.job-1");
    expect(checkRequest(PROFILES.c8d7c7b, refused)).toEqual({
      rule: "origin_mismatch",
      status: 400,
      reason: "Awaiter and awaited must belong to the same origin",
    });
    expect(
      checkRequest(PROFILES.c8d7c7b, suspend("job-1", "job-1", "job-1.execute")),
    ).toBeUndefined();
    const [, isSelf, sameOrigin] = suspendActionRules(DOT_LINEAGE);
    expect(isSelf?.check({ taskId: "a.1", awaiter: "a.1", awaited: "a.2" })).toBeUndefined();
    expect(isSelf?.check({ taskId: "a.1", awaiter: "x", awaited: "a.1" })).toBe(
      "Action awaited promise must not equal the task ID",
    );
    expect(sameOrigin?.check({ taskId: "job-1", awaiter: "x", awaited: "m.job-1" })).toBe(
      "Awaited promise must belong to the same origin as the task",
    );
  });

  it("task.create checks its action's promise before its own rules, as the validator nests", () => {
    expect(ruleOf("c8d7c7b", taskCreate({ "resonate:origin": "a.b" }))).toBe("dot_in_origin");
  });

  it("task.suspend names every failing action's reason once, in order", () => {
    const actions = ["b", "c"].map((awaiter) => ({
      kind: "promise.register_callback",
      head: {},
      data: { awaiter, awaited: awaiter },
    }));
    expect(
      checkRequest(PROFILES.c8d7c7b, env("task.suspend", { id: "a", version: 1, actions })),
    ).toEqual({
      rule: "awaited_equals_awaiter",
      status: 400,
      reason: "Awaited and awaiter must be different promises",
    });
  });
});

describe("the ':' generation (SDK 0.11.5)", () => {
  it("takes the SDK's own lineage: root, root:1, root:1.2 and a detached root:d…", () => {
    expect(ruleOf("colon", create("root", lineageTags("root")))).toBeUndefined();
    expect(ruleOf("colon", create("root:1", lineageTags("root", "root", "root")))).toBeUndefined();
    expect(
      ruleOf("colon", create("root:1.2", lineageTags("root", "root", "root:1"))),
    ).toBeUndefined();
    expect(
      ruleOf("colon", create("root:d00ab", lineageTags("root", "root:d00ab", "root"))),
    ).toBeUndefined();
    expect(ruleOf("colon", create("my.app", lineageTags("my.app")))).toBeUndefined();
  });

  it("refuses a ':' in the origin, and an id that does not extend its tags by joinId", () => {
    expect(ruleOf("colon", create("a:b", lineageTags("a:b")))).toBe("colon_in_origin");
    expect(ruleOf("colon", create("root.1", { "resonate:origin": "root" }))).toBe("origin_prefix");
    expect(ruleOf("colon", create("root:1:2", { "resonate:parent": "root:1" }))).toBe(
      "parent_prefix",
    );
    expect(ruleOf("colon", create("root:2", { "resonate:branch": "root:1" }))).toBe(
      "branch_prefix",
    );
  });

  it("keeps awaits within one origin, and lets a heartbeat batch origins as the SDK sends it", () => {
    const callback = (awaiter: string, awaited: string) =>
      env("promise.register_callback", { awaiter, awaited });
    expect(ruleOf("colon", callback("job-1", "job-1:execute"))).toBeUndefined();
    expect(ruleOf("colon", callback("job-1", "modulate-execute.job-1"))).toBe("origin_mismatch");
    const beat = env("task.heartbeat", {
      pid: "p",
      tasks: [
        { id: "a", version: 1 },
        { id: "b", version: 1 },
      ],
    });
    expect(ruleOf("colon", beat)).toBeUndefined();
  });
});

describe("v0.9.8", () => {
  it("has no origin rules: today's ids and mixed heartbeats pass", () => {
    expect(
      ruleOf("v0.9.8", create("modulate-execute.job-1", lineageTags("modulate-execute.job-1"))),
    ).toBeUndefined();
    expect(
      ruleOf("v0.9.8", create("x", { "resonate:origin": "a:b.c", "resonate:parent": "zzz" })),
    ).toBeUndefined();
    const beat = env("task.heartbeat", {
      pid: "p",
      tasks: [
        { id: "a.1", version: 1 },
        { id: "b.1", version: 1 },
      ],
    });
    expect(ruleOf("v0.9.8", beat)).toBeUndefined();
  });

  it("knows no resonate:delay: a delay is no reason to refuse", () => {
    expect(ruleOf("v0.9.8", create("d", { "resonate:delay": "-1" }))).toBeUndefined();
  });

  it("still refuses what it always did: null bytes, a task.create without a target, a self-await", () => {
    expect(ruleOf("v0.9.8", create("a\0"))).toBe("null_bytes");
    expect(ruleOf("v0.9.8", env("task.create", { pid: "p", ttl: 1, action: create("a") }))).toBe(
      "missing_target",
    );
    expect(ruleOf("v0.9.8", env("promise.register_callback", { awaiter: "a", awaited: "a" }))).toBe(
      "awaited_equals_awaiter",
    );
  });
});

describe("addresses", () => {
  it("are the transports the server routes: http(s), poll uni/any with a group, gcps topic, bash", () => {
    for (const ok of [
      "http://h/x",
      "https://h",
      "poll://any@g",
      "poll://uni@g/p",
      "gcps://proj/topic",
      "bash://",
    ])
      expect(isValidAddress(ok), ok).toBe(true);
    for (const bad of ["poll://g", "poll://all@g", "gcps://proj", "nats://x", "entry", ""])
      expect(isValidAddress(bad), bad).toBe(false);
  });
});
