// A listed job's line, built from its root and execute promises: where it stands, and for
// a queued one why it waits. Pure: list.ts reads the promises and hands them here.
import { isDetachedReceipt, type JobResult, type JobSpec } from "../jobs/job.ts";
import { specOfKind } from "../jobs/job-param.ts";
import { ENTRY_GROUP, isOlderExecuteId, TAG } from "../jobs/names.ts";
import { waitingForReason } from "../dependencies.ts";
import { whyWaiting, type JobAsks, type WorkerView } from "../presence.ts";
import { decodeValue } from "../wire/wire.ts";
import { inProgress, recordIn, settledWithoutRecord, type PromiseRecord } from "./view.ts";

/** Where a listed job stands: the three steps of an outstanding job, or how it ended. */
export type ListedStage =
  "routing" | "queued" | "running" | "succeeded" | "failed" | "timed_out" | "canceled";

/** What `--state` takes: a stage, or `pending` for a job waiting (routing or queued). */
export const STATE_FILTERS = [
  "pending",
  "queued",
  "running",
  "succeeded",
  "failed",
  "timed_out",
  "canceled",
] as const;
export type StateFilter = (typeof STATE_FILTERS)[number];

/** A job's result record as `get --json` prints it, with its script and where it stands. */
export interface ListedJob extends JobResult {
  script: string;
  stage: ListedStage;
}

export interface ListFilter {
  /** Finished jobs too, not only outstanding ones. */
  all: boolean;
  /** The group the job runs in (once routed; the group it asked for before). */
  group?: string;
  state?: StateFilter;
  /** Only jobs submitted within this long before `now`. */
  sinceMs?: number;
  /** At most this many, the newest. */
  limit: number;
}

export interface JobList {
  /** Newest first, at most `limit`. */
  jobs: ListedJob[];
  /** How many more matched than `limit` let through, of the jobs read. */
  more: number;
  /**
   * Set when the newest jobs were found through time buckets and the read stopped at
   * `limit`: older jobs than those read may match too (`more` counts only those read).
   */
  olderMayMatch?: boolean;
}

function listed(result: JobResult, spec: JobSpec, stage: ListedStage): ListedJob {
  return { ...result, script: spec.script.name, stage };
}

function finished(result: JobResult, spec: JobSpec): ListedJob {
  const stage = result.state === "pending" || result.state === "running" ? "failed" : result.state;
  return listed(result, spec, stage);
}

/** A job's line from its execute promise (routed), or from its root alone (not yet routed). */
function jobFrom(
  root: PromiseRecord | undefined,
  execute: PromiseRecord | undefined,
  executeSpec: JobSpec | undefined,
  holder: ReadonlyMap<string, string>,
  workers: readonly WorkerView[],
): ListedJob | undefined {
  // The root's spec only where there is no execute promise to read it from: each is decoded
  // once, and a page of them is most of what `ls` spends.
  const spec = executeSpec ?? (root ? specOfKind(root, "job") : undefined);
  if (!spec) return undefined;
  // The record is in the root (a job run with wait, one that never ran, one canceled while it
  // waited for a router), else the execute's.
  const rootRecord = root && recordIn(root);
  if (rootRecord) return finished(rootRecord, spec);
  if (execute) {
    const group = execute.tags[TAG.group] ?? spec.group;
    const record = recordIn(execute);
    if (record) return finished(record, spec);
    if (execute.state !== "pending")
      return finished(settledWithoutRecord(spec, group, execute), spec);
    const pid = holder.get(execute.id);
    const base = inProgress(spec, group, []);
    if (!pid) return listed(base, spec, "queued");
    const worker = workers.find((w) => w.pid === pid);
    const running: JobResult = {
      ...base,
      state: "running",
      worker: { host: worker?.host ?? "?", pid, group },
      reason: `running on ${worker?.host ?? "?"} (${pid})`,
    };
    return listed(running, spec, "running");
  }
  if (!root) return undefined;
  if (root.state === "pending") {
    const routers = workers.filter((w) => w.group === ENTRY_GROUP).length;
    const reason =
      routers === 0
        ? "no live router: start one with 'modulate router'"
        : spec.after && spec.after.ids.length > 0
          ? waitingForReason(spec.after.ids)
          : "waiting for a router to route it";
    return listed({ ...inProgress(spec, spec.group, []), reason }, spec, "routing");
  }
  // Routed and detached, but its execute promise was not found: nothing more is known.
  if (root.state === "resolved" && isDetachedReceipt(decodeValue(root.value))) return undefined;
  return finished(settledWithoutRecord(spec, spec.group, root), spec);
}

/**
 * Why each queued job waits: nobody of its group alive, every slot busy, or earlier jobs of
 * its group ahead of it; and a job past its queue timeout waits only for that to end it.
 */
export type Gathered = ListedJob & {
  queueTimeoutMs?: number;
  namedBefore?: boolean;
  /** What the job asks of a worker beyond a slot: GPUs, an interpreter. */
  asks?: JobAsks;
};

export function explainQueued(jobs: Gathered[], workers: readonly WorkerView[], now: number): void {
  const explaining = explainingQueued(jobs, workers, now);
  let step = explaining.next();
  while (!step.done) step = explaining.next();
}

/**
 * `explainQueued` a job at a time, for a caller that lets others run between jobs (the
 * dashboard, list-gradual.ts). Why a group's workers cannot take a job is worked out once per
 * group and ask: 10,000 queued jobs before 200 workers took 0.2 s, each filtering the workers.
 */
export function* explainingQueued(
  jobs: Gathered[],
  workers: readonly WorkerView[],
  now: number,
): Generator<undefined, void, undefined> {
  const queued = jobs
    .filter((j) => j.stage === "queued")
    .sort((a, b) => a.submittedAt - b.submittedAt);
  const aheadInGroup = new Map<string, number>();
  const whyOf = new Map<string, string | undefined>();
  for (const job of queued) {
    const ahead = aheadInGroup.get(job.group) ?? 0;
    aheadInGroup.set(job.group, ahead + 1);
    const asked = `${job.group}\n${String(job.asks?.gpus)}\n${String(job.asks?.interpreter)}`;
    if (!whyOf.has(asked)) whyOf.set(asked, whyWaiting(workers, job.group, job.asks));
    const why = whyOf.get(asked);
    const behind = ahead > 0 ? `queued behind ${ahead}` : undefined;
    job.reason = [why, behind].filter((part) => part !== undefined).join("; ");
    if (job.reason === "") job.reason = `waiting for a worker of group ${job.group} to take it`;
    const queueTimeoutMs = job.queueTimeoutMs;
    if (queueTimeoutMs !== undefined && now - job.submittedAt > queueTimeoutMs) {
      job.reason = `waiting for its queue timeout to end it (${job.reason})`;
    }
    yield;
  }
}

export function matches(job: ListedJob, filter: ListFilter, now: number): boolean {
  if (filter.group !== undefined && job.group !== filter.group) return false;
  if (filter.sinceMs !== undefined && job.submittedAt < now - filter.sinceMs) return false;
  if (filter.state === undefined) return true;
  if (filter.state === "pending") return job.stage === "routing" || job.stage === "queued";
  return job.stage === filter.state;
}

export interface Found {
  root?: PromiseRecord;
  execute?: PromiseRecord;
  spec?: JobSpec | undefined;
}

/** The jobs' lines, with what explaining and attempts need beside them. */
export function gather(
  found: Iterable<Found>,
  holder: ReadonlyMap<string, string>,
  workers: readonly WorkerView[],
): Gathered[] {
  const jobs: Gathered[] = [];
  for (const { root, execute, spec } of found) {
    const job = jobFrom(root, execute, spec, holder, workers);
    if (!job) continue;
    const queueTimeoutMs = spec?.queueTimeoutMs;
    jobs.push({
      ...job,
      ...(spec ? { asks: { gpus: spec.gpus, interpreter: spec.interpreter } } : {}),
      ...(queueTimeoutMs === undefined ? {} : { queueTimeoutMs }),
      ...(execute && isOlderExecuteId(execute.id) ? { namedBefore: true } : {}),
    });
  }
  return jobs;
}

/** Every job, read from every root and execute promise (pending ones only unless `all`). */
