// What runs a script, as a user meets it: the client, the router and the worker apply one rule
// (src/sandbox/script-kind.ts), so a script one accepts the others run the same way.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, startRouterProcess, startWorkerProcess } from "../helpers/cluster.ts";
import {
  JOB_FIXTURES,
  MODULATE,
  startServerProcess,
  stopAll,
  tempDir,
  type ServerProcess,
} from "../helpers/processes.ts";

let server: ServerProcess;

beforeAll(async () => {
  server = await startServerProcess(["--data", tempDir()]);
  await startRouterProcess(server.url);
  await startWorkerProcess(server.url, "cpu", tempDir());
});

afterAll(stopAll);

describe("what runs a submitted script", () => {
  it("runs a .bash script with bash, which the router accepts and the worker runs", async () => {
    const res = await runCli(server.url, "submit", join(JOB_FIXTURES, "shell.bash"), "--json");
    expect(res.code).toBe(0);
    expect(res.record.stdout).toMatch(/^bash \d+\n$/);
  });

  it("runs a .py whose #! line names /bin/sh with the worker's python3", async () => {
    const res = await runCli(server.url, "submit", join(JOB_FIXTURES, "says-sh.py"), "--json");
    expect(res.code).toBe(0);
    expect(res.record.stdout).toBe("python\n");
  });

  it("refuses a script on stdin whose #! line names nothing, before anything is sent", () => {
    const res = spawnSync(MODULATE, ["submit", "-", "--url", server.url], {
      input: "#!\necho hi\n",
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(res.status).toBe(2);
    expect(res.stderr.trim().split("\n")).toEqual([
      "modulate: a script read from stdin (-) needs a #! line naming its interpreter, e.g. #!/usr/bin/env python3; nothing was submitted",
    ]);
  });
});
