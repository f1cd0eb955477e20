// A step of a running task that the server refuses as invalid (400) can never succeed: the
// task ends with the server's words instead of going back to the server to be handed out again
// (issue 14, item 4: a router spun 8,000 times in 24 s so). Shown with a checking proxy whose
// profile refuses the router's fenced create of a job's execute promise.
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli, startRouterProcess } from "../helpers/cluster.ts";
import { JOB_FIXTURES, startServerProcess, stopAll } from "../helpers/processes.ts";
import { checkingProxy, type CheckingProxy } from "../helpers/protocol-profiles/checking-proxy.ts";
import { obj, str } from "../helpers/protocol-profiles/envelope.ts";
import { PROFILES, type Profile } from "../helpers/protocol-profiles/profiles.ts";
import type { Rule } from "../helpers/protocol-profiles/rules.ts";

const proxies: CheckingProxy[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()));
  await stopAll();
});

/** Refuses every fenced create of an execute promise, as a server with a rule against it would. */
const noExecute: Rule = {
  code: "test_no_execute",
  cites: ["this test"],
  check: (data) =>
    (str(obj(obj(data, "action"), "data"), "id") ?? "").endsWith(".execute")
      ? "execute promises are not taken here"
      : undefined,
};

const profile: Profile = {
  ...PROFILES["v0.9.8"],
  byKind: {
    ...PROFILES["v0.9.8"].byKind,
    "task.fence": [...(PROFILES["v0.9.8"].byKind["task.fence"] ?? []), noExecute],
  },
};

describe("a task step the server refuses as invalid", () => {
  it("ends the job with the server's reason, once, instead of handing the task out again", async () => {
    const server = await startServerProcess(["--in-memory"]);
    const proxy = await checkingProxy(server.url, profile);
    proxies.push(proxy);
    await startRouterProcess(proxy.url);
    const submitted = await runCli(
      proxy.url,
      "submit",
      join(JOB_FIXTURES, "quick.py"),
      "--group",
      "g",
      "--detach",
    );
    expect(submitted.code).toBe(0);
    const id = submitted.out.trim().split("\n").pop() ?? "";
    const got = await runCli(proxy.url, "get", id, "--wait", "--json");
    expect(got.record).toMatchObject({ id, state: "failed" });
    expect(got.record.reason).toContain(
      "the server refused this task's task.fence as invalid (HTTP 400: execute promises are not taken here)",
    );
    // Given time to spin, it does not: the refusal came once (or twice, if the SDK retried
    // before the task ended).
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(proxy.count("test_no_execute")).toBeLessThanOrEqual(2);
  });
});
