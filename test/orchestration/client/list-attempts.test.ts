// Plain `ls`'s attempts of the jobs shown, against a real `modulate server`, router and
// worker: the walk tells them from the open attempt records and the queues it reads, reading a
// job's records by id only where those do not tell, and answers what reading every job and
// each shown job's records answers, for a job running, one never taken, one whose worker died
// mid-run, one whose worker died after a failed run with a later run's record open, and one
// re-queued between two retries (no record open).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listJobs, type ListFilter } from "../../../src/orchestration/client/list.ts";
import { ModulateClient } from "../../../src/orchestration/client.ts";
import type { JobSpec } from "../../../src/orchestration/jobs/job.ts";
import { attemptId, newJobId } from "../../../src/orchestration/jobs/names.ts";
import { requestSender, type Send } from "../../../src/orchestration/wire/wire.ts";
import { jobSpec, startRouterProcess, startWorkerProcess } from "../../helpers/cluster.ts";
import { writeAttemptRecord, writeRoutedJob } from "../../helpers/routed-jobs.ts";
import {
  eventually,
  startServerProcess,
  stopAll,
  tempDir,
  type ServerProcess,
} from "../../helpers/processes.ts";

afterAll(stopAll);

/** Attempt `n` of `spec` as a worker that is gone left it: open, or settled. */
function writeAttempt(
  url: string,
  spec: JobSpec,
  n: number,
  settled?: { state: string; reason: string },
): Promise<void> {
  return writeAttemptRecord(url, spec, n, {
    pid: `gone-${n}`,
    startedAt: spec.submittedAt + n,
    token: `t${n}`,
    ...(settled ? { settled } : {}),
  });
}

/** A job routed to a group nobody serves; its queue-timeout call settled once `taken`. */
function writeQueuedJob(url: string, spec: JobSpec, taken: boolean): Promise<void> {
  return writeRoutedJob(url, spec, { queueCall: taken ? "taken" : "pending" });
}

function nobodysJob(group: string, i: number): JobSpec {
  const at = Date.now() - 1_000 + i;
  return {
    id: `${newJobId(at)}-${i.toString(36)}`,
    group,
    script: { name: `fill-${i}.py`, content: "print(1)\n" },
    args: [],
    timeoutMs: 60_000,
    mode: "detach",
    submittedAt: at,
  };
}

describe("plain ls's attempts of the jobs it shows", () => {
  let server: ServerProcess;
  let send: Send;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    server = await startServerProcess();
    await startRouterProcess(server.url);
    const worker = await startWorkerProcess(server.url, "g", tempDir(), ["--slots", "1"]);
    const client = new ModulateClient({ url: server.url });
    try {
      // Running on the worker, and one queued behind it.
      const running = jobSpec("sleepy.py", { args: ["300"] });
      await client.submit(running, 60_000);
      await worker.waitFor(new RegExp(`start ${running.id} attempt 1`));
      ids["running"] = running.id;
      const behind = jobSpec("sleepy.py", { args: ["300"] });
      await client.submit(behind, 60_000);
      ids["behind"] = behind.id;
    } finally {
      await client.close();
    }
    const url = server.url;
    // Never taken: its call pending, no attempt.
    const fresh = [0, 1, 2, 3].map((i) => nobodysJob("nobody", i));
    for (const spec of fresh) await writeQueuedJob(url, spec, false);
    // Its worker died mid-run: attempt 1 open.
    const lost = nobodysJob("nobody", 10);
    await writeQueuedJob(url, lost, true);
    await writeAttempt(url, lost, 1);
    // Attempt 1's worker died; attempt 2 failed and was closed, and its worker died before
    // claiming attempt 3: attempt 1 open, 2 closed, no 3.
    const lostTwice = { ...nobodysJob("nobody", 11), retries: 2 };
    await writeQueuedJob(url, lostTwice, true);
    await writeAttempt(url, lostTwice, 1);
    await writeAttempt(url, lostTwice, 2, { state: "failed", reason: "exit code 1; retried" });
    // Re-queued between two retries: attempt 1 failed and closed, no attempt 2, nothing open.
    const between = { ...nobodysJob("nobody-c", 12), retries: 2 };
    await writeQueuedJob(url, between, true);
    await writeAttempt(url, between, 1, { state: "failed", reason: "exit code 1; retried" });
    Object.assign(ids, { lost: lost.id, lostTwice: lostTwice.id, between: between.id });
    send = requestSender({ url });
    await eventually(async () => {
      const listed = await listJobs(send, { all: false, limit: 1_000 }, Date.now());
      return listed.jobs.filter((job) => job.stage === "queued").length === 8;
    }, "every job queued or running");
  }, 120_000);

  it("answers as reading every job's records does", async () => {
    const now = Date.now();
    const filters: ListFilter[] = [
      { all: false, limit: 3 },
      { all: false, limit: 6, group: "nobody" },
      { all: false, limit: 5, group: "nobody", state: "queued" },
      { all: false, limit: 2, group: "g" },
      { all: false, limit: 1, state: "running" },
      { all: false, limit: 1_000 },
    ];
    for (const filter of filters) {
      const walked = await listJobs(send, filter, now);
      const full = await listJobs(send, filter, now, { readAll: true });
      expect(walked.jobs, JSON.stringify(filter)).toEqual(full.jobs);
      expect(walked.more, JSON.stringify(filter)).toBe(full.more);
    }
    const all = await listJobs(send, { all: false, limit: 1_000 }, now);
    const byId = new Map(all.jobs.map((job) => [job.id, job]));
    expect(byId.get(ids["running"] ?? "")).toMatchObject({ stage: "running", attempt: 1 });
    expect(byId.get(ids["behind"] ?? "")?.attempt).toBe(0);
    expect(byId.get(ids["lost"] ?? "")?.attempt).toBe(1);
    expect(byId.get(ids["lost"] ?? "")?.reason).toMatch(/stopped answering during attempt 1/);
    expect(byId.get(ids["lostTwice"] ?? "")?.attempt).toBe(2);
    expect(byId.get(ids["lostTwice"] ?? "")?.reason).not.toMatch(/stopped answering/);
    expect(byId.get(ids["between"] ?? "")?.attempt).toBe(1);
  });

  it("reads no record of a job never taken while walking", async () => {
    const gets: string[] = [];
    const counting: Send = (req) => {
      if (req.kind === "promise.get") gets.push(String((req.data as { id: string }).id));
      return send(req);
    };
    const listed = await listJobs(counting, { all: false, limit: 6, group: "nobody" }, Date.now());
    expect(listed.olderMayMatch).toBe(true);
    const attempts = gets.filter((id) => /attempt-\d+$/.test(id));
    // Only past the newest open record of the jobs that have one: attempt 2 of `lost`, 2 and
    // 3 of `lostTwice` (its 2 was closed after its open 1).
    const lostTwice = ids["lostTwice"] ?? "";
    expect(attempts.sort()).toEqual(
      [attemptId(ids["lost"] ?? "", 2), attemptId(lostTwice, 2), attemptId(lostTwice, 3)].sort(),
    );
  });
});
