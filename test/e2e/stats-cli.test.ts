// `modulate stats` against real server, router and worker processes: jobs per group and
// outcome, with queue wait and run time, read from the jobs' records (issue 18, item 5).
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StatsReport } from "../../src/orchestration/client/stats.ts";
import { runCli, startRouterProcess, startWorkerProcess } from "../helpers/cluster.ts";
import {
  eventually,
  JOB_FIXTURES,
  startServerProcess,
  stopAll,
  tempDir,
  type ServerProcess,
} from "../helpers/processes.ts";

afterAll(stopAll);

async function stats(url: string, ...args: string[]): Promise<StatsReport> {
  const run = await runCli(url, "stats", "--json", ...args);
  expect(run.code).toBe(0);
  const line = run.out.split("\n").find((l) => l.startsWith("{"));
  if (line === undefined) throw new Error(`no JSON in: ${run.out}`);
  return JSON.parse(line) as StatsReport;
}

describe("modulate stats", () => {
  let server: ServerProcess;

  beforeAll(async () => {
    server = await startServerProcess();
    await startRouterProcess(server.url);
    await startWorkerProcess(server.url, "cpu", tempDir(), ["--slots", "2"]);
    const submit = async (script: string, group: string, ...extra: string[]) =>
      runCli(server.url, "submit", join(JOB_FIXTURES, script), "--group", group, ...extra);
    expect((await submit("quick.py", "cpu")).code).toBe(0);
    expect((await submit("quick.py", "cpu")).code).toBe(0);
    expect((await submit("exit-7.py", "cpu")).code).toBe(7);
    expect((await submit("quick.py", "nobody", "--detach")).code).toBe(0);
  });

  it("counts each group's jobs by outcome, with queue wait and run time", async () => {
    const report = await eventually(async () => {
      const r = await stats(server.url);
      return r.total.jobs === 4 ? r : undefined;
    }, "four jobs counted");
    expect(report.sinceMs).toBe(24 * 60 * 60 * 1000);
    const cpu = report.groups.find((g) => g.group === "cpu");
    expect(cpu?.jobs).toBe(3);
    expect(cpu?.byStage).toEqual({ succeeded: 2, failed: 1 });
    expect(cpu?.queueWait.count).toBe(3);
    expect(cpu?.runTime.count).toBe(3);
    expect(cpu?.runTime.p50Ms).toBeGreaterThan(0);
    expect(cpu?.queueWait.p95Ms).toBeGreaterThanOrEqual(cpu?.queueWait.p50Ms ?? 0);
    const nobody = report.groups.find((g) => g.group === "nobody");
    expect(nobody?.byStage).toEqual({ queued: 1 });
    expect(nobody?.queueWait.count).toBe(0);
  });

  it("narrows to a group and a window, and prints a table", async () => {
    const cpuOnly = await stats(server.url, "--group", "cpu", "--since", "all");
    expect(cpuOnly.groups.map((g) => g.group)).toEqual(["cpu"]);
    expect(cpuOnly.sinceMs).toBeUndefined();
    const table = await runCli(server.url, "stats");
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/^GROUP\s+JOBS\s+SUCCEEDED/m);
    expect(table.out).toMatch(/^cpu\s+3\s+2\s+1\s+0\s+0\s+0\s/m);
    expect(table.out).toMatch(/^all\s+4\s/m);
  });

  it("refuses a --since that is not a duration with one line and exit 2", async () => {
    const run = await runCli(server.url, "stats", "--since", "yesterday");
    expect(run.code).toBe(2);
    expect(run.out.trim()).toBe(
      'modulate: --since "yesterday" is not a duration: use a number with ms, s, m, h or d, e.g. 90s, 10m or 1h30m',
    );
  });
});
