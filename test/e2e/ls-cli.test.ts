// `modulate ls` as a user reads it, against real server, router and worker processes: a job
// waiting on a group with nobody to run it says so, a running one names its worker, and the
// history pages past the 1,000 a search answers at once (issue 15).
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listJobs, type ListedJob } from "../../src/orchestration/client/list.ts";
import type { JobResult, JobSpec } from "../../src/orchestration/jobs/job.ts";
import { SUBMIT_FUNCTION, TAG } from "../../src/orchestration/jobs/names.ts";
import { encodeValue } from "../../src/orchestration/wire/values.ts";
import { createTransport } from "../../src/orchestration/wire/transport.ts";
import { senderOver, type Send } from "../../src/orchestration/wire/wire.ts";
import {
  freePort,
  runCli,
  startRouterProcess,
  startWorkerProcess,
  type CliRun,
  type WorkerProcess,
} from "../helpers/cluster.ts";
import { send } from "../helpers/protocol-client.ts";
import {
  eventually,
  JOB_FIXTURES,
  startServerProcess,
  stopAll,
  tempDir,
  type ServerProcess,
} from "../helpers/processes.ts";

afterAll(stopAll);

/** The JSON array `ls --json` printed (stderr's lines, if any, are beside it). */
function jobsOf(run: CliRun): ListedJob[] {
  expect(run.code).toBe(0);
  const line = run.out.split("\n").find((l) => l.startsWith("["));
  if (line === undefined) throw new Error(`no JSON array in: ${run.out}`);
  return JSON.parse(line) as ListedJob[];
}

async function submitDetached(url: string, script: string, group: string, ...args: string[]) {
  const run = await runCli(
    url,
    "submit",
    join(JOB_FIXTURES, script),
    "--group",
    group,
    "--detach",
    ...(args.length > 0 ? ["--", ...args] : []),
  );
  expect(run.code).toBe(0);
  return run.out.trim().split("\n").pop() ?? "";
}

describe("modulate ls: outstanding jobs", () => {
  let server: ServerProcess;
  let cpu: WorkerProcess;

  beforeAll(async () => {
    server = await startServerProcess();
    await startRouterProcess(server.url);
    cpu = await startWorkerProcess(server.url, "cpu", tempDir(), ["--slots", "1"]);
  });

  it("shows a job waiting on a group with no worker, and a running one with its worker", async () => {
    const running = await submitDetached(server.url, "sleepy.py", "cpu", "60");
    await eventually(async () => {
      const jobs = jobsOf(await runCli(server.url, "ls", "--json"));
      return jobs.find((j) => j.id === running)?.stage === "running" ? true : undefined;
    }, `${running} running`);
    const stranded = await submitDetached(server.url, "quick.py", "nobody");
    const second = await submitDetached(server.url, "quick.py", "cpu");
    const third = await submitDetached(server.url, "quick.py", "cpu");

    const jobs = await eventually(async () => {
      const listed = jobsOf(await runCli(server.url, "ls", "--json"));
      return listed.filter((j) => j.stage === "queued").length === 3 ? listed : undefined;
    }, "three jobs queued");
    // Newest first.
    expect(jobs.map((j) => j.id)).toEqual([third, second, stranded, running]);
    const byId = new Map(jobs.map((j) => [j.id, j]));
    expect(byId.get(stranded)).toMatchObject({
      group: "nobody",
      script: "quick.py",
      stage: "queued",
      state: "pending",
      reason: "no live worker in group nobody",
    });
    expect(byId.get(running)).toMatchObject({
      group: "cpu",
      script: "sleepy.py",
      stage: "running",
      state: "running",
      attempt: 1,
    });
    expect(byId.get(running)?.worker?.pid).toBe(cpu.workerPid);
    expect(byId.get(second)?.reason).toBe("all 1 slot of group cpu busy");
    expect(byId.get(third)?.reason).toBe("all 1 slot of group cpu busy; queued behind 1");

    const table = await runCli(server.url, "ls");
    expect(table.code).toBe(0);
    const lines = table.out.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID +GROUP +SCRIPT +STATE +WORKER +ATTEMPT +AGE +REASON$/);
    const lineOf = (id: string) => lines.find((l) => l.startsWith(id)) ?? "";
    expect(lineOf(stranded)).toMatch(
      /^\S+ +nobody +quick\.py +queued +- +- +\d\S* +no live worker in group nobody$/,
    );
    expect(lineOf(running)).toMatch(
      new RegExp(`^\\S+ +cpu +sleepy\\.py +running +${cpu.workerPid} +1 +\\d\\S* +running on `),
    );

    expect(jobsOf(await runCli(server.url, "ls", "--json", "--group", "nobody"))).toHaveLength(1);
    const runningOnly = jobsOf(await runCli(server.url, "ls", "--json", "--state", "running"));
    expect(runningOnly.map((j) => j.id)).toEqual([running]);
    const waiting = jobsOf(await runCli(server.url, "ls", "--json", "--state", "pending"));
    expect(waiting.map((j) => j.id)).toEqual([third, second, stranded]);
  });

  it("says which worker stopped answering for a job whose run was cut off", async () => {
    const fragile = await startWorkerProcess(server.url, "fragile", tempDir(), ["--lease", "2s"]);
    const id = await submitDetached(server.url, "sleepy.py", "fragile", "60");
    await fragile.waitFor(new RegExp(`start ${id} attempt 1`));
    fragile.kill("SIGKILL");
    const job = await eventually(async () => {
      const listed = jobsOf(await runCli(server.url, "ls", "--json", "--group", "fragile"));
      const found = listed.find((j) => j.id === id);
      return found?.stage === "queued" ? found : undefined;
    }, `${id} back in its queue`);
    expect(job.attempt).toBe(1);
    expect(job.reason).toMatch(
      new RegExp(
        `^worker ${fragile.workerPid} on \\S+ stopped answering during attempt 1; no live worker in group fragile$`,
      ),
    );
  });

  it("says in one line that nothing matched", async () => {
    const run = await runCli(server.url, "ls", "--group", "empty");
    expect(run.code).toBe(0);
    expect(run.out).toBe(
      "no outstanding jobs in group empty (modulate ls --all lists finished ones too)\n",
    );
  });

  it("exits 3 when the server cannot be reached", async () => {
    const run = await runCli(`http://127.0.0.1:${await freePort()}`, "ls");
    expect(run.code).toBe(3);
  });

  it("refuses a state it does not know, naming the ones it does", async () => {
    const run = await runCli(server.url, "ls", "--state", "done");
    expect(run.code).toBe(2);
    expect(run.out).toContain('--state "done" is not a state: use one of pending, queued');
  });
});

const FINISHED_JOBS = 2_500;
/** A minute apart, half a minute before the first: `--since 2h` has room for a slow machine. */
const SPACING_MS = 60_000;

/**
 * A finished job's promises as modulate's client and router leave them: the root written as
 * `submit` writes it, resolved with the job's record. Written over the protocol, 2,500 take
 * seconds where running 2,500 scripts would take minutes. No router runs here, so the root
 * carries no task target.
 */
async function writeFinishedJob(url: string, i: number, now: number): Promise<void> {
  const id = `job-hist-${String(i).padStart(5, "0")}`;
  const submittedAt = now - SPACING_MS / 2 - i * SPACING_MS;
  const group = i % 2 === 0 ? "cpu" : "gpu";
  const spec: JobSpec = {
    id,
    group,
    script: { name: "hist.py", content: "print(1)\n" },
    args: [],
    timeoutMs: 60_000,
    mode: "detach",
    submittedAt,
  };
  const failed = i % 10 === 0;
  const record: JobResult = {
    id,
    group,
    state: failed ? "failed" : "succeeded",
    reason: failed ? "exited with code 3" : "",
    exitCode: failed ? 3 : 0,
    stdout: "",
    stderr: "",
    durationMs: 1_500,
    worker: { host: "h", pid: `${group}-h-1`, group },
    attempt: 1,
    submittedAt,
    startedAt: submittedAt + 100,
    finishedAt: submittedAt + 1_600,
  };
  const created = await send(url, "promise.create", {
    id,
    timeoutAt: now + 3_600_000,
    param: encodeValue({ func: SUBMIT_FUNCTION, args: [spec], version: 1 }),
    tags: { [TAG.kind]: "job", [TAG.group]: group },
  });
  expect(created.status).toBe(200);
  const settled = await send(url, "promise.settle", {
    id,
    state: "resolved",
    value: encodeValue(record),
  });
  expect(settled.status).toBe(200);
}

describe("modulate ls --all: history", () => {
  let server: ServerProcess;

  beforeAll(async () => {
    server = await startServerProcess();
    const now = Date.now();
    const indexes = Array.from({ length: FINISHED_JOBS }, (_, i) => i);
    for (let at = 0; at < indexes.length; at += 50) {
      await Promise.all(
        indexes.slice(at, at + 50).map((i) => writeFinishedJob(server.url, i, now)),
      );
    }
  }, 120_000);

  it("pages through 2,500 finished jobs, newest first", async () => {
    const jobs = jobsOf(await runCli(server.url, "ls", "--all", "--limit", "3000", "--json"));
    expect(jobs).toHaveLength(FINISHED_JOBS);
    expect(jobs[0]?.id).toBe("job-hist-00000");
    expect(jobs.at(-1)?.id).toBe(`job-hist-0${FINISHED_JOBS - 1}`);
    expect(jobs[10]).toMatchObject({ stage: "failed", exitCode: 3, durationMs: 1_500 });
    expect(jobs[1]).toMatchObject({ stage: "succeeded", exitCode: 0, script: "hist.py" });

    // The same read, counting the searches the server answered: more than one page of jobs.
    const transport = createTransport({ url: server.url });
    const through = senderOver(transport, { url: server.url });
    let jobPages = 0;
    const counting: Send = (req) => {
      const data = req.data as { tags?: Record<string, string> } | undefined;
      if (req.kind === "promise.search" && data?.tags?.[TAG.kind] === "job") jobPages += 1;
      return through(req);
    };
    try {
      const listed = await listJobs(counting, { all: true, limit: 3_000 }, Date.now());
      expect(listed.jobs).toHaveLength(FINISHED_JOBS);
    } finally {
      transport.close();
    }
    expect(jobPages).toBeGreaterThan(1);
  });

  it("shows the newest 100 by default, and says how many more there are", async () => {
    const run = await runCli(server.url, "ls", "--all");
    expect(run.code).toBe(0);
    const lines = run.out.trimEnd().split("\n");
    expect(lines[0]).toMatch(
      /^ID +GROUP +SCRIPT +STATE +WORKER +ATTEMPT +AGE +EXIT +DURATION +REASON$/,
    );
    expect(lines[1]).toMatch(
      /^job-hist-00000 +cpu +hist\.py +failed +cpu-h-1 +1 +\S+ +3 +1\.5s +exited with code 3$/,
    );
    expect(lines.filter((l) => l.startsWith("job-hist-"))).toHaveLength(100);
    expect(run.out).toContain(`${FINISHED_JOBS - 100} more jobs matched: --limit ${FINISHED_JOBS}`);
  });

  it("filters by group, state and age", async () => {
    const gpu = jobsOf(
      await runCli(server.url, "ls", "--all", "--group", "gpu", "--limit", "3000", "--json"),
    );
    expect(gpu).toHaveLength(FINISHED_JOBS / 2);
    expect(gpu.every((j) => j.group === "gpu")).toBe(true);
    // A finished state needs no --all.
    const failed = jobsOf(
      await runCli(server.url, "ls", "--state", "failed", "--limit", "3000", "--json"),
    );
    expect(failed).toHaveLength(FINISHED_JOBS / 10);
    // Submitted 30s + i minutes ago: within 2h are i = 0..119.
    const recent = jobsOf(
      await runCli(server.url, "ls", "--all", "--since", "2h", "--limit", "3000", "--json"),
    );
    expect(recent).toHaveLength(120);
    // Without --all, nothing here is outstanding.
    const outstanding = await runCli(server.url, "ls");
    expect(outstanding.out).toBe(
      "no outstanding jobs (modulate ls --all lists finished ones too)\n",
    );
  });
});
