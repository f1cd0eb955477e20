// The dashboard's gradual listing against a real server, router and worker: it lists exactly
// what `ls` lists (the same jobs, lines, reasons and order, whatever the filter), it lets
// timers run while it works even when every answer is already at hand, and it can hand over
// the rows before their attempt records are read.
import type { Response } from "@resonatehq/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GradualLister } from "../../../src/orchestration/client/list-gradual.ts";
import { listJobs, type JobList, type ListFilter } from "../../../src/orchestration/client/list.ts";
import { ModulateClient } from "../../../src/orchestration/client.ts";
import type { WorkerView } from "../../../src/orchestration/presence.ts";
import type { JobSpec } from "../../../src/orchestration/jobs/job.ts";
import { newJobId } from "../../../src/orchestration/jobs/names.ts";
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

/** Queued jobs written through the protocol: more than two of `ls`'s pages of a search. */
const QUEUED = 2_100;
/**
 * A job left as a client and a router leave one routed to `group`; with `lostWorker`, its
 * first attempt's record open as a worker that died left it (and its queue-timeout call
 * settled then, so not made here). Without `routed`, only its root: a job waiting to be routed.
 */
async function writeJob(
  url: string,
  spec: JobSpec,
  options: { routed: boolean; lostWorker?: boolean },
): Promise<void> {
  await writeRoutedJob(url, spec, {
    routed: options.routed,
    queueCall: options.lostWorker ? "none" : "pending",
  });
  if (options.routed && options.lostWorker)
    await writeAttemptRecord(url, spec, 1, {
      pid: `${spec.group}-gone-1`,
      startedAt: spec.submittedAt + 5,
      token: "t",
    });
}

function nobodysJob(i: number, at: number): JobSpec {
  return {
    id: `${newJobId(at)}-${i.toString(36)}`,
    group: i % 3 === 0 ? "nobody" : "none",
    script: { name: `fill-${i % 7}.py`, content: "print(1)\n" },
    args: [],
    timeoutMs: 60_000,
    mode: "detach",
    // Many in the same millisecond: their order in the queue is the server's order.
    submittedAt: at,
  };
}

/**
 * `recording` answers as `send` does and keeps each answer; `replay` answers from those, in
 * microtasks (no I/O to wait for), and what was not recorded from `send`.
 */
function recorded(send: Send): { recording: Send; replay: Send; missed: string[] } {
  const answers = new Map<string, Response>();
  const missed: string[] = [];
  const key = (req: Parameters<Send>[0]): string => `${req.kind} ${JSON.stringify(req.data)}`;
  const recording = (async (req: Parameters<Send>[0]) => {
    const res = await send(req);
    answers.set(key(req), res);
    return res;
  }) as Send;
  const replay = ((req: Parameters<Send>[0]) => {
    const res = answers.get(key(req));
    if (res) return Promise.resolve(res);
    missed.push(key(req));
    return send(req);
  }) as Send;
  return { recording, replay, missed };
}

const FILTERS: ListFilter[] = [
  { all: false, limit: 10_000 },
  { all: false, limit: 7 },
  { all: false, limit: 10_000, group: "g" },
  { all: false, limit: 10_000, state: "running" },
  { all: false, limit: 50, state: "pending" },
  { all: true, limit: 10_000 },
  { all: true, limit: 5 },
  { all: true, limit: 100, state: "succeeded" },
];

describe("the dashboard's gradual listing", () => {
  let server: ServerProcess;
  let send: Send;
  const client = (): ModulateClient => new ModulateClient({ url: server.url });

  beforeAll(async () => {
    server = await startServerProcess();
    await startRouterProcess(server.url);
    const worker = await startWorkerProcess(server.url, "g", tempDir(), ["--slots", "2"]);
    const c = client();
    try {
      // One job finished, two running, two queued behind them, one canceled.
      const quick = jobSpec("quick.py");
      await c.submit(quick, 60_000);
      await c.waitForJob(quick.id);
      const running = [
        jobSpec("sleepy.py", { args: ["300"] }),
        jobSpec("sleepy.py", { args: ["300"] }),
      ];
      for (const spec of running) await c.submit(spec, 60_000);
      for (const spec of running) await worker.waitFor(new RegExp(`start ${spec.id} attempt 1`));
      const queued = [0, 1, 2].map(() => jobSpec("sleepy.py", { args: ["300"] }));
      for (const spec of queued) await c.submit(spec, 60_000);
      await c.cancel(queued[2]?.id ?? "", Date.now());
    } finally {
      await c.close();
    }
    // Jobs no worker serves, written as a router leaves them, a thousand at a time; some lost
    // their worker mid-run, and a few wait for a router.
    const at = Date.now() - 60_000;
    for (let from = 0; from < QUEUED; from += 50)
      await Promise.all(
        Array.from({ length: Math.min(50, QUEUED - from) }, (_, k) => {
          const i = from + k;
          return writeJob(server.url, nobodysJob(i, at + Math.floor(i / 40)), {
            routed: i % 500 !== 7,
            lostWorker: i % 100 === 3,
          });
        }),
      );
    send = requestSender({ url: server.url });
    // Everything settled where it will stay for the test: the queued jobs routed.
    await eventually(async () => {
      const listed = await listJobs(send, { all: false, limit: 10_000 }, Date.now());
      return listed.jobs.filter((j) => j.group === "g" && j.stage === "queued").length === 2;
    }, "the cluster's jobs routed");
  }, 120_000);

  afterAll(stopAll);

  /**
   * `walked` with each "queued behind N+" (a queue longer than plain `ls` reads) replaced by
   * the exact count of `full`, once checked to be at least N.
   */
  function withCountsOf(full: JobList["jobs"], walked: JobList["jobs"]): JobList["jobs"] {
    const exact = new Map(full.map((job) => [job.id, job.reason]));
    return walked.map((job) => {
      const atLeast = /queued behind (\d+)\+/.exec(job.reason);
      if (!atLeast) return job;
      const reason = exact.get(job.id) ?? "";
      const counted = Number(/queued behind (\d+)/.exec(reason)?.[1] ?? -1);
      expect(counted, job.id).toBeGreaterThanOrEqual(Number(atLeast[1]));
      expect(job.reason.replace(/queued behind \d+\+/, ""), job.id).toBe(
        reason.replace(/queued behind \d+/, ""),
      );
      return { ...job, reason };
    });
  }

  it("lists what ls lists, for every filter, and again from what it kept", async () => {
    const lister = new GradualLister();
    const now = Date.now();
    for (const filter of FILTERS) {
      // Who is alive and what they hold, as `ls` read it: under load a router's or worker's
      // lease may lapse between two live reads. Its pages of jobs are read anew, in small pages.
      const { recording, replay } = recorded(send);
      // The dashboard reads every outstanding job (it keeps their specs); plain `ls` walks the
      // newest buckets and says older ones may match where it stops: the same jobs, with the
      // footer of the full read.
      const once = await listJobs(recording, filter, now, { readAll: !filter.all });
      expect(once.jobs.length).toBeGreaterThan(0);
      // Who is alive and holds what answered as for `once` (replayed); the buckets read anew.
      if (!filter.all)
        expect(
          withCountsOf(once.jobs, (await listJobs(replay, filter, now)).jobs),
          JSON.stringify(filter),
        ).toEqual(once.jobs);
      const gradual = await lister.list(replay, filter, now, { pageSize: 100, sliceMs: 1 });
      expect(gradual, JSON.stringify(filter)).toEqual(once);
      const again = await lister.list(replay, filter, now, { pageSize: 100, sliceMs: 1 });
      expect(again, JSON.stringify(filter)).toEqual(once);
    }
    const everything = await listJobs(send, { all: false, limit: 10_000 }, now);
    const stages = new Set(everything.jobs.map((j) => j.stage));
    expect([...stages].sort()).toEqual(["queued", "routing", "running"]);
    expect(everything.jobs.some((j) => j.reason.includes("stopped answering"))).toBe(true);
    expect(everything.jobs.some((j) => j.reason.includes("queued behind 1"))).toBe(true);
  }, 120_000);

  it("lets a timer set during a listing fire before it ends, with every answer at hand", async () => {
    const { recording, replay, missed } = recorded(send);
    const filter: ListFilter = { all: false, limit: 10_000 };
    const now = Date.now();
    const lister = new GradualLister();
    const first = await lister.list(recording, filter, now, { pageSize: 100 });
    let fired = false;
    const timer = setTimeout(() => {
      fired = true;
    }, 0);
    let firedBeforeEnd = false;
    const listing = new GradualLister()
      .list(replay, filter, now, { pageSize: 100, sliceMs: 0 })
      .then((list) => {
        firedBeforeEnd = fired;
        return list;
      });
    const replayed = await listing;
    clearTimeout(timer);
    expect(missed).toEqual([]);
    expect(firedBeforeEnd).toBe(true);
    expect(replayed).toEqual(first);
  }, 60_000);

  it("hands over the workers and the rows before their attempts are read, and leaves them as handed", async () => {
    const filter: ListFilter = { all: false, limit: 10_000 };
    const c = client();
    try {
      const early: JobList[] = [];
      const heard: WorkerView[][] = [];
      const list = await c.listGradually(filter, {
        onRows: (rows) => early.push(rows),
        onWorkers: (workers) => heard.push(workers),
      });
      expect(early).toHaveLength(1);
      // The workers it read, as `workers` lists them: the router left out.
      expect(heard.map((workers) => workers.map((w) => w.group))).toEqual([["g"]]);
      const [rows] = early;
      expect(rows?.jobs.map((j) => j.id)).toEqual(list.jobs.map((j) => j.id));
      expect(rows?.more).toBe(list.more);
      // The running jobs' starts come with their attempts: not in the early rows, and the
      // early rows were not written into afterwards.
      const running = list.jobs.filter((j) => j.stage === "running");
      expect(running).toHaveLength(2);
      for (const job of running) {
        expect(job.startedAt).not.toBeNull();
        expect(rows?.jobs.find((j) => j.id === job.id)?.startedAt).toBeNull();
      }
    } finally {
      await c.close();
    }
  }, 60_000);
});
