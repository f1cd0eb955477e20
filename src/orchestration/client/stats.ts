// `modulate stats`: the cluster's jobs summed up per group, as sacct's reports do: how many
// ended each way, and how long they waited in their queue and ran (median and 95th
// percentile). Read from the jobs' records by search (list.ts), so it reads the same on the
// embedded server and on the Resonate server; pure once the jobs are listed.
import type { ListedJob, ListedStage } from "./list.ts";

/** The median and the 95th percentile (nearest rank) of some durations, in milliseconds. */
export interface Percentiles {
  count: number;
  p50Ms: number | null;
  p95Ms: number | null;
}

export interface GroupStats {
  group: string;
  jobs: number;
  /** Jobs by stage: how each finished one ended, and the outstanding (routing, queued, running). */
  byStage: Partial<Record<ListedStage, number>>;
  /** From submission to the start of the attempt that ran it, for jobs that started. */
  queueWait: Percentiles;
  /** Run time of the finished jobs that ran a script. */
  runTime: Percentiles;
}

export interface StatsReport {
  /** Only jobs submitted within this long before `now`; absent: every job the server keeps. */
  sinceMs?: number;
  now: number;
  groups: GroupStats[];
  /** Every group together. */
  total: GroupStats;
}

/** The value at rank ceil(q * n) of the sorted values (nearest-rank percentile). */
export function percentile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1] ?? null;
}

function percentiles(values: number[]): Percentiles {
  const sorted = values.sort((a, b) => a - b);
  return { count: sorted.length, p50Ms: percentile(sorted, 0.5), p95Ms: percentile(sorted, 0.95) };
}

const FINISHED: ReadonlySet<ListedStage> = new Set([
  "succeeded",
  "failed",
  "timed_out",
  "canceled",
]);

function groupStats(group: string, jobs: readonly ListedJob[]): GroupStats {
  const byStage: Partial<Record<ListedStage, number>> = {};
  const waits: number[] = [];
  const runs: number[] = [];
  for (const job of jobs) {
    byStage[job.stage] = (byStage[job.stage] ?? 0) + 1;
    if (job.startedAt !== null) {
      waits.push(Math.max(0, job.startedAt - job.submittedAt));
      if (FINISHED.has(job.stage)) runs.push(job.durationMs);
    }
  }
  return {
    group,
    jobs: jobs.length,
    byStage,
    queueWait: percentiles(waits),
    runTime: percentiles(runs),
  };
}

/** Sums up `jobs` per group (sorted by name) and over all of them. */
export function summarizeJobs(
  jobs: readonly ListedJob[],
  now: number,
  sinceMs?: number,
): StatsReport {
  const byGroup = new Map<string, ListedJob[]>();
  for (const job of jobs) {
    const list = byGroup.get(job.group) ?? [];
    list.push(job);
    byGroup.set(job.group, list);
  }
  const groups = [...byGroup.keys()]
    .sort()
    .map((group) => groupStats(group, byGroup.get(group) ?? []));
  return {
    ...(sinceMs === undefined ? {} : { sinceMs }),
    now,
    groups,
    total: groupStats("*", jobs),
  };
}
