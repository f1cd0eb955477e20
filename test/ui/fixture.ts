// One cluster as the dashboard tests see it, and a stand-in for the client that serves it:
// two worker groups and jobs in each step, and a record of what the dashboard asked for.
import type { JobResult, JobSpec } from "../../src/orchestration/jobs/job.ts";
import type { ListedJob, ListedStage } from "../../src/orchestration/client/list.ts";
import type { JobView } from "../../src/orchestration/client/view.ts";
import type { FollowEvents, FollowOptions } from "../../src/orchestration/client/follow-output.ts";
import type { CancelOutcome } from "../../src/orchestration/client/cancel.ts";
import type { WorkerView } from "../../src/orchestration/presence.ts";
import type { DashboardSource } from "../../src/ui/data-source.ts";

/** The cluster as of now: the dashboard ages rows by the clock. */
export const NOW = Date.now();

export function job(id: string, stage: ListedStage, fields: Partial<ListedJob> = {}): ListedJob {
  const base: JobResult = {
    id,
    group: "gpu",
    state: stage === "routing" || stage === "queued" ? "pending" : stage,
    reason: stage === "queued" ? "every slot of group gpu is busy" : "",
    exitCode: null,
    stdout: "",
    stderr: "",
    durationMs: 0,
    worker: stage === "running" ? { host: "a", pid: "gpu-a-1", group: "gpu" } : null,
    attempt: stage === "routing" ? 0 : 1,
    submittedAt: NOW - 60_000,
    startedAt: stage === "running" ? NOW - 30_000 : null,
    finishedAt: null,
  };
  return { ...base, script: "train.py", stage, ...fields };
}

export const WORKERS: WorkerView[] = [
  {
    group: "gpu",
    pid: "gpu-a-1",
    host: "a",
    slots: 2,
    busy: 1,
    startedAt: 0,
    jobs: ["job-1"],
    gpus: ["0", "1"],
  },
  { group: "cpu", pid: "cpu-b-2", host: "b", slots: 4, busy: 0, startedAt: 0, jobs: [] },
];

/** Newest first, as `list` answers. */
export const JOBS: ListedJob[] = [
  job("job-3", "routing", { group: "a100", script: "big.py", submittedAt: NOW - 5_000 }),
  job("job-2", "queued", { script: "eval.py", submittedAt: NOW - 10_000 }),
  job("job-1", "running", { submittedAt: NOW - 857_900 }),
  job("job-0", "succeeded", { submittedAt: NOW - 900_000, finishedAt: NOW - 800_000, exitCode: 0 }),
];

export interface FakeSource extends DashboardSource {
  canceled: string[];
  submitted: JobSpec[];
  /** Output handed to the open follow: what the job "writes". */
  write(text: string): void;
  jobs: ListedJob[];
  failing: boolean;
  /** The limit of each listing asked for, in order. */
  limits: number[];
}

/** A client stand-in: lists `jobs` (finished ones only when asked), follows written output. */
export function fakeSource(jobs: ListedJob[] = JOBS, workers: WorkerView[] = WORKERS): FakeSource {
  let events: FollowEvents | undefined;
  const source: FakeSource = {
    canceled: [],
    submitted: [],
    // Its own copies: a cancel changes a job's stage here, not in the shared fixture.
    jobs: jobs.map((j) => ({ ...j })),
    failing: false,
    limits: [],
    write: (text) => events?.onOutput(["stdout", text]),
    list: (filter) => {
      if (source.failing) return Promise.reject(new Error("cannot reach the server"));
      const shown = source.jobs.filter(
        (j) => filter.all || j.stage === "routing" || j.stage === "queued" || j.stage === "running",
      );
      source.limits.push(filter.limit);
      const jobs = shown.slice(0, filter.limit);
      return Promise.resolve({ jobs, more: shown.length - jobs.length });
    },
    workers: () =>
      source.failing
        ? Promise.reject(new Error("cannot reach the server"))
        : Promise.resolve(workers),
    getJob: (id) => {
      const found = source.jobs.find((j) => j.id === id);
      if (!found) return Promise.reject(new Error(`no such job: ${id}`));
      const { script, stage, ...result } = found;
      const view: JobView = {
        result,
        finished: !["routing", "queued", "running"].includes(stage),
        spec: { id, group: found.group, script: { name: script } } as unknown as JobView["spec"],
        attempts: [],
      };
      return Promise.resolve(view);
    },
    waitForJob: (_id, _mode, stop) =>
      new Promise((_, reject) =>
        stop?.addEventListener("abort", () => reject(new Error("stopped"))),
      ),
    followOutput: (_id: string, options: FollowOptions, follow: FollowEvents) => {
      events = follow;
      follow.onAttempt?.(
        {
          jobId: _id,
          attempt: 1,
          worker: { host: "a", pid: "gpu-a-1", group: "gpu" },
          startedAt: 0,
          token: "t",
        },
        undefined,
      );
      return new Promise((resolve) =>
        options.stop?.addEventListener("abort", () => resolve({ attempts: new Map() })),
      );
    },
    submit: (spec) => {
      source.submitted.push(spec);
      source.jobs.unshift(
        job(spec.id, "queued", {
          group: spec.group,
          script: spec.script.name,
          submittedAt: spec.submittedAt,
        }),
      );
      return Promise.resolve({ id: spec.id, existing: false });
    },
    cancel: (id, now) => {
      source.canceled.push(id);
      const found = source.jobs.find((j) => j.id === id);
      if (found) found.stage = "canceled";
      const outcome: CancelOutcome = {
        kind: "canceled",
        id,
        was: "queued",
        worker: null,
        record: {
          ...job(id, "canceled"),
          state: "canceled",
          canceledBy: "me@here",
          canceledAt: now,
        },
      };
      return Promise.resolve(outcome);
    },
  };
  return source;
}
