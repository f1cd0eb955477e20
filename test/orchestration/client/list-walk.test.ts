// Plain `ls` through the time buckets, against a real `modulate server` and router: with many
// outstanding jobs and a small --limit, it reads the newest buckets' pending promises and
// counts the jobs queued ahead from their queue-timeout calls, not every queued job, and
// answers what reading every job answers: the same jobs, order and REASONs.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listJobs } from "../../../src/orchestration/client/list.ts";
import type { Placed } from "../../../src/orchestration/client/list-lines.ts";
import { QueueCounter } from "../../../src/orchestration/client/list-queue.ts";
import { ModulateClient } from "../../../src/orchestration/client.ts";
import type { JobSpec } from "../../../src/orchestration/jobs/job.ts";
import { TAG } from "../../../src/orchestration/jobs/names.ts";
import { request, requestSender, type Send } from "../../../src/orchestration/wire/wire.ts";
import { jobSpec, startRouterProcess } from "../../helpers/cluster.ts";
import {
  eventually,
  startServerProcess,
  stopAll,
  type ServerProcess,
} from "../../helpers/processes.ts";

afterAll(stopAll);

/** Jobs queued on groups nobody serves, submitted through a real router. */
const JOBS = 60;

describe("plain ls through the time buckets", () => {
  let server: ServerProcess;
  let send: Send;
  let canceled: string;

  beforeAll(async () => {
    server = await startServerProcess();
    await startRouterProcess(server.url);
    const client = new ModulateClient({ url: server.url });
    try {
      const specs: JobSpec[] = [];
      for (let i = 0; i < JOBS; i++) {
        // Two groups, interleaved; some in the same millisecond.
        const spec = jobSpec("args.py", { group: i % 3 === 0 ? "nobody-b" : "nobody-a" });
        specs.push(i % 5 === 1 ? { ...spec, submittedAt: specs.at(-1)?.submittedAt ?? 0 } : spec);
      }
      for (let at = 0; at < specs.length; at += 10)
        await Promise.all(specs.slice(at, at + 10).map((spec) => client.submit(spec, 600_000)));
      send = requestSender({ url: server.url });
      await eventually(async () => {
        const listed = await listJobs(send, { all: false, limit: 1_000 }, Date.now());
        return listed.jobs.filter((job) => job.stage === "queued").length === JOBS;
      }, "every job routed and queued");
      // The router makes a job's queue-timeout call just after its execute promise.
      await eventually(async () => {
        let calls = 0;
        for (const group of ["nobody-a", "nobody-b"]) {
          const res = await send(
            request("promise.search", {
              state: "pending",
              tags: { [TAG.queueGroup]: group },
              limit: 1_000,
            }),
          );
          calls += (res.data as { promises: unknown[] }).promises.length;
        }
        return calls === JOBS;
      }, "every job's queue-timeout call made");
      // One canceled while queued: it no longer counts for those behind it.
      canceled = specs[JOBS - 10]?.id ?? "";
      await client.cancel(canceled, Date.now());
    } finally {
      await client.close();
    }
  }, 120_000);

  it("walks only the newest buckets, and answers as reading every job does", async () => {
    const searches: Record<string, unknown>[] = [];
    const counting: Send = (req) => {
      if (req.kind === "promise.search") searches.push(req.data);
      return send(req);
    };
    const now = Date.now();
    for (const filter of [
      { all: false, limit: 5 },
      { all: false, limit: 12, group: "nobody-b" },
      { all: false, limit: 20, state: "queued" as const },
    ]) {
      searches.length = 0;
      const walked = await listJobs(counting, filter, now);
      // No search of every job by its kind: the walk stopped at the limit.
      const byKind = searches.filter((data) => {
        const tags = (data["tags"] as Record<string, string> | undefined) ?? {};
        return Object.keys(tags).length === 1 && ["job", "execute"].includes(tags[TAG.kind] ?? "");
      });
      expect(byKind, JSON.stringify(filter)).toEqual([]);
      expect(walked.olderMayMatch, JSON.stringify(filter)).toBe(true);
      const full = await listJobs(send, filter, now, { readAll: true });
      expect(walked.jobs, JSON.stringify(filter)).toEqual(full.jobs);
      expect(walked.jobs).toHaveLength(filter.limit);
    }
    const first = await listJobs(send, { all: false, limit: 5 }, now);
    expect(first.jobs.map((job) => job.reason)).toContainEqual(
      expect.stringMatching(/^no live worker in group nobody-[ab]; queued behind \d+$/),
    );
    expect(first.jobs.map((job) => job.id)).not.toContain(canceled);
  });

  it("reads every job when fewer match than asked, and counts them all", async () => {
    const now = Date.now();
    const walked = await listJobs(send, { all: false, limit: 1_000 }, now);
    const full = await listJobs(send, { all: false, limit: 1_000 }, now, { readAll: true });
    expect(walked).toEqual(full);
    expect(walked.jobs).toHaveLength(JOBS - 1);
    expect(walked.olderMayMatch).toBeUndefined();
  });

  it("reads a long queue in part: every count a lower bound, shown as N+", async () => {
    const now = Date.now();
    const full = await listJobs(
      send,
      { all: false, limit: 1_000, group: "nobody-a", state: "queued" },
      now,
      { readAll: true },
    );
    const exact = new Map(
      full.jobs.map((job) => [
        job.id,
        Number(/queued behind (\d+)/.exec(job.reason ?? "")?.[1] ?? 0),
      ]),
    );
    const cap = 10;
    const shown: Placed[] = full.jobs.map((job) => ({
      id: job.id,
      group: job.group,
      stage: job.stage,
      submittedAt: job.submittedAt,
      line: () => {
        throw new Error("not needed to count");
      },
    }));
    const ahead = await new QueueCounter(send, new Map(), cap).count(shown);
    expect(ahead).toBeDefined();
    // Read in part, every count is a lower bound, and the jobs past the page read are
    // behind nearly all of it (its ids are the oldest; this fixture copies some submission
    // times from the job before, so a tie can fall either side of the page's edge).
    for (const job of full.jobs) {
      const counted = ahead?.get(job.id);
      expect(counted?.atLeast, job.id).toBe(true);
      expect(counted?.count, job.id).toBeLessThanOrEqual(exact.get(job.id) ?? -1);
    }
    const newest = full.jobs.map((job) => ahead?.get(job.id)?.count ?? 0);
    expect(Math.max(...newest)).toBeGreaterThanOrEqual(cap - 2);
    // Read whole, the same queue is counted exactly.
    const whole = await new QueueCounter(send, new Map(), 1_000).count(shown);
    for (const job of full.jobs)
      expect(whole?.get(job.id), job.id).toEqual({ count: exact.get(job.id), atLeast: false });
  });
});
