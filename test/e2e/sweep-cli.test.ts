// Sweeps (issue 17, items 1-2) as a user runs them, against real server, router and worker
// processes: many scripts in one submission, failures listed with their reasons and rerun
// alone, an array's indices in each job's environment, a cap on how many run at once (read
// from the worker's own log), and cancel of what has not finished.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { SweepView } from "../../src/orchestration/client/sweep.ts";
import {
  runCli,
  startRouterProcess,
  startWorkerProcess,
  type CliRun,
  type WorkerProcess,
} from "../helpers/cluster.ts";
import { eventually, startServerProcess, stopAll, tempDir } from "../helpers/processes.ts";

afterEach(stopAll);

async function cluster(slots: number): Promise<{ url: string; worker: WorkerProcess }> {
  const server = await startServerProcess();
  await startRouterProcess(server.url);
  const worker = await startWorkerProcess(server.url, "cpu", tempDir(), ["--slots", String(slots)]);
  return { url: server.url, worker };
}

/** The sweep `get --json` printed. */
function sweepOf(run: CliRun): SweepView {
  const line = run.out
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .pop();
  if (line === undefined) throw new Error(`no JSON in: ${run.out}`);
  return JSON.parse(line) as SweepView;
}

function write(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The most jobs a worker ran at once, from its log's `start` and `done` lines, in order. */
function mostAtOnce(log: string, prefix: string): number {
  let now = 0;
  let most = 0;
  for (const line of log.split("\n")) {
    if (line.startsWith(`start ${prefix}`)) most = Math.max(most, ++now);
    else if (line.startsWith(`done ${prefix}`)) now--;
  }
  return most;
}

describe("modulate sweeps", () => {
  it("a sweep of 20 scripts where 3 fail: get lists the 3 with reasons, retry --failed reruns only those", async () => {
    const { url } = await cluster(4);
    const dir = tempDir();
    const failing = new Set([4, 11, 17]);
    const scripts = Array.from({ length: 20 }, (_, at) => {
      const n = at + 1;
      return failing.has(n)
        ? write(
            dir,
            `s${n}.py`,
            `import sys\nprint("broken ${n}", file=sys.stderr)\nsys.exit(${n})\n`,
          )
        : write(dir, `s${n}.py`, `print("ok ${n}")\n`);
    });
    const submitted = await runCli(url, "submit", ...scripts, "--group", "cpu", "--id", "sw20");
    expect(submitted.code).toBe(0);
    expect(submitted.out.trim().split("\n").pop()).toBe("sw20");

    const waited = await runCli(url, "get", "sw20", "--wait", "--json");
    expect(waited.code).toBe(1);
    const view = sweepOf(waited);
    expect(view.finished).toBe(true);
    expect(view.progress).toEqual({ done: 17, failed: 3, running: 0, queued: 0 });
    const failed = view.jobs.filter((job) => job.stage !== "succeeded");
    expect(failed.map((job) => job.id)).toEqual(["sw20.4", "sw20.11", "sw20.17"]);
    expect(failed.map((job) => job.exitCode)).toEqual([4, 11, 17]);
    expect(failed.every((job) => job.reason === `exited with code ${job.exitCode}`)).toBe(true);

    const text = await runCli(url, "get", "sw20");
    expect(text.out).toContain("17/20 done, 3 failed");
    expect(text.out).toMatch(/sw20\.11\s+failed\s+11\s+s11\.py\s+exited with code 11/);

    const logs = await runCli(url, "logs", "sw20.12");
    expect(logs.code).toBe(0);
    expect(logs.out).toContain("ok 12");

    const retried = await runCli(url, "retry", "sw20", "--failed", "--json");
    expect(retried.code).toBe(0);
    expect(JSON.parse(retried.out.trim().split("\n").pop() ?? "[]")).toEqual([
      "sw20.4-r2",
      "sw20.11-r2",
      "sw20.17-r2",
    ]);
    const again = sweepOf(await runCli(url, "get", "sw20", "--wait", "--json"));
    // Only the three ran again: the others are still their first jobs.
    expect(again.jobs.filter((job) => job.retry === 2).map((job) => job.index)).toEqual([
      4, 11, 17,
    ]);
    expect(again.jobs.filter((job) => job.retry === 1)).toHaveLength(17);
    expect(again.progress).toEqual({ done: 17, failed: 3, running: 0, queued: 0 });

    const listed = await runCli(url, "ls", "--sweeps", "--all");
    expect(listed.out).toMatch(/sw20\s+cpu\s+\S+\s+\[#+!+\]\s+17\/20 done, 3 failed/);
  }, 120_000);

  it("an array with %2 never has more than 2 running, read from the worker's side, and each job gets its index", async () => {
    const { url, worker } = await cluster(4);
    const dir = tempDir();
    const script = write(
      dir,
      "arr.py",
      'import os, time\nprint(os.environ["MODULATE_ARRAY_INDEX"], os.environ["SLURM_ARRAY_TASK_ID"])\ntime.sleep(0.5)\n',
    );
    const run = await runCli(url, "submit", script, "--array", "10-17%2", "--id", "arr", "--wait");
    expect(run.code).toBe(0);
    expect(run.out).toContain("8/8 done, 0 failed");
    // The worker has 4 slots: only the sweep's cap held it to 2.
    expect(mostAtOnce(worker.output(), "arr.")).toBe(2);
    const third = await runCli(url, "logs", "arr.3");
    expect(third.out).toContain("12 12");
  }, 120_000);

  it("cancel SWEEP cancels what has not finished, held jobs too", async () => {
    const { url } = await cluster(2);
    const dir = tempDir();
    const script = write(dir, "long.py", "import time\ntime.sleep(60)\n");
    expect((await runCli(url, "submit", script, "--array", "1-5%2", "--id", "cx")).code).toBe(0);
    await eventually(async () => {
      const view = sweepOf(await runCli(url, "get", "cx", "--json"));
      return view.progress.running === 2 || undefined;
    }, "two of the sweep running");
    const canceled = await runCli(url, "cancel", "cx");
    expect(canceled.code).toBe(0);
    expect(canceled.out.match(/^canceled cx\.\d/gm)).toHaveLength(5);
    const view = sweepOf(await runCli(url, "get", "cx", "--json"));
    expect(view.finished).toBe(true);
    expect(view.jobs.map((job) => job.stage)).toEqual(Array(5).fill("canceled"));
  }, 120_000);
});
