// A sweep's jobs that the listing does not show: those its cap holds (no execute promise yet,
// so `list` has no line for them) are known from the sweep's own view, with the reason they
// wait. The jobs view filtered to a sweep shows them too, after the listed ones. Pure.
import type { ListedJob, ListedStage } from "../orchestration/client/list.ts";
import type { SweepJob, SweepView } from "../orchestration/client/sweep.ts";

function rowOf(sweep: SweepView, job: SweepJob): ListedJob {
  const stage: ListedStage = job.stage;
  return {
    id: job.id,
    group: sweep.record.group,
    state: job.stage === "queued" ? "pending" : job.stage,
    reason: job.reason,
    exitCode: job.exitCode,
    stdout: "",
    stderr: "",
    durationMs: 0,
    worker: null,
    attempt: 0,
    submittedAt: sweep.record.submittedAt,
    startedAt: null,
    finishedAt: null,
    script: job.script,
    stage,
  };
}

/** The listed jobs, then the sweep's jobs the listing lacks (held by its cap, say). */
export function withSweepJobs(
  jobs: readonly ListedJob[],
  sweeps: readonly SweepView[],
  sweepId: string,
): ListedJob[] {
  const sweep = sweeps.find((s) => s.record.id === sweepId);
  if (!sweep) return [...jobs];
  const listed = new Set(jobs.map((j) => j.id));
  return [...jobs, ...sweep.jobs.filter((j) => !listed.has(j.id)).map((j) => rowOf(sweep, j))];
}
