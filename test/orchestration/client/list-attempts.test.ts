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
import {
  attemptId,
  EXECUTE_FUNCTION,
  executeId,
  jobChildTags,
  newJobId,
  QUEUE_TIMEOUT_FUNCTION,
  queueTimeoutId,
  SUBMIT_FUNCTION,
  TAG,
} from "../../../src/orchestration/jobs/names.ts";
import { timeBucketTags } from "../../../src/orchestration/jobs/time-buckets.ts";
import { queueTimeoutTags } from "../../../src/orchestration/queue-deadline.ts";
import { anycastAddress } from "../../../src/orchestration/wire/poll-address.ts";
import { encodeValue } from "../../../src/orchestration/wire/values.ts";
import { requestSender, type Send } from "../../../src/orchestration/wire/wire.ts";
import { jobSpec, startRouterProcess, startWorkerProcess } from "../../helpers/cluster.ts";
import { send as sendRaw } from "../../helpers/protocol-client.ts";
import {
  eventually,
  startServerProcess,
  stopAll,
  tempDir,
  type ServerProcess,
} from "../../helpers/processes.ts";

afterAll(stopAll);

const DAY_MS = 24 * 60 * 60 * 1000;

async function must(url: string, kind: string, data: unknown): Promise<void> {
  const answer = await sendRaw(url, kind, data);
  if (answer.status >= 300) throw new Error(`${kind} answered ${answer.status}`);
}

/** An attempt's record as a worker of `group` that is gone left it: open, or settled. */
async function writeAttempt(
  url: string,
  spec: JobSpec,
  n: number,
  settled?: { state: string; reason: string },
): Promise<void> {
  const id = attemptId(spec.id, n);
  await must(url, "promise.create", {
    id,
    timeoutAt: Date.now() + DAY_MS,
    param: encodeValue({
      jobId: spec.id,
      attempt: n,
      worker: { host: "gone", pid: `gone-${n}`, group: spec.group },
      startedAt: spec.submittedAt + n,
      token: `t${n}`,
    }),
    tags: { [TAG.attemptOf]: spec.id, [TAG.kind]: "attempt", ...jobChildTags(spec.id, id) },
  });
  if (settled)
    await must(url, "promise.settle", { id, state: "resolved", value: encodeValue(settled) });
}

/**
 * A job as a client and a router leave one routed to a group nobody serves, its execute
 * promise pending; its queue-timeout call pending while `taken` is false, settled else.
 */
async function writeQueuedJob(url: string, spec: JobSpec, taken: boolean): Promise<void> {
  const timeoutAt = Date.now() + DAY_MS;
  const execute = executeId(spec.id);
  await must(url, "promise.create", {
    id: spec.id,
    timeoutAt,
    param: encodeValue({ func: SUBMIT_FUNCTION, args: [spec], version: 1 }),
    tags: { [TAG.kind]: "job", [TAG.group]: spec.group, ...timeBucketTags(spec.submittedAt) },
  });
  await must(url, "promise.settle", {
    id: spec.id,
    state: "resolved",
    value: encodeValue({ detached: true, id: spec.id, group: spec.group, executeId: execute }),
  });
  await must(url, "promise.create", {
    id: execute,
    timeoutAt,
    param: encodeValue({ func: EXECUTE_FUNCTION, args: [spec], version: 1 }),
    tags: {
      [TAG.executeOf]: spec.id,
      [TAG.kind]: "execute",
      [TAG.group]: spec.group,
      ...timeBucketTags(spec.submittedAt),
      ...jobChildTags(spec.id, execute),
      "resonate:target": anycastAddress(spec.group),
    },
  });
  // Addressed to nobody: no router is to end these jobs while the test reads them.
  const call = queueTimeoutId(spec.id);
  await must(url, "promise.create", {
    id: call,
    timeoutAt,
    param: encodeValue({ func: QUEUE_TIMEOUT_FUNCTION, args: [{ id: spec.id }], version: 1 }),
    tags: { ...queueTimeoutTags(spec, timeoutAt), ...jobChildTags(spec.id, call) },
  });
  if (taken)
    await must(url, "promise.settle", {
      id: call,
      state: "resolved",
      value: encodeValue({ takenBy: { host: "gone", pid: "gone-1", group: spec.group } }),
    });
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
