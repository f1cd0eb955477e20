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

/** A listed job's line, with what explaining and attempts need beside it. */
export type Gathered = ListedJob & {
  queueTimeoutMs?: number;
  namedBefore?: boolean;
  /** What the job asks of a worker beyond a slot: GPUs, an interpreter. */
  asks?: JobAsks;
  /** Its spec asks for no retries: while outstanding, none of its attempt records is closed. */
  runsOnce?: boolean;
};

/**
 * Where a job stands: what choosing, sorting and counting need. Its line is made when asked
 * for, once: of ten thousand queued jobs `ls` shows a hundred, and making every line was the
 * largest share of what it spent after reading.
 */
export interface Placed {
  readonly id: string;
  readonly group: string;
  readonly stage: ListedStage;
  readonly submittedAt: number;
  line(): Gathered;
}

/**
 * Why a group's workers cannot take a job, worked out once per group and ask: 10,000 queued
 * jobs before 200 workers took 0.2 s when each filtered the workers.
 */
function whyWaitingOnce(
  workers: readonly WorkerView[],
): (group: string, asks: JobAsks | undefined) => string | undefined {
  const whyOf = new Map<string, string | undefined>();
  return (group, asks) => {
    const asked = `${group}\n${String(asks?.gpus)}\n${String(asks?.interpreter)}`;
    if (!whyOf.has(asked)) whyOf.set(asked, whyWaiting(workers, group, asks));
    return whyOf.get(asked);
  };
}

/**
 * Sets a queued job's REASON from why its group cannot take it and how many are ahead (at
 * least `before`, with `atLeast`: a queue longer than was read).
 */
function explainOne(
  job: Gathered,
  why: string | undefined,
  before: number,
  now: number,
  atLeast = false,
): void {
  const behind = atLeast
    ? `queued behind ${before}+`
    : before > 0
      ? `queued behind ${before}`
      : undefined;
  job.reason = [why, behind].filter((part) => part !== undefined).join("; ");
  if (job.reason === "") job.reason = `waiting for a worker of group ${job.group} to take it`;
  const queueTimeoutMs = job.queueTimeoutMs;
  if (queueTimeoutMs !== undefined && now - job.submittedAt > queueTimeoutMs) {
    job.reason = `waiting for its queue timeout to end it (${job.reason})`;
  }
}

/** Queued jobs oldest first, each with how many of its group are ahead of it. */
function* inQueueOrder<T extends { stage: ListedStage; group: string; submittedAt: number }>(
  jobs: readonly T[],
): Generator<[T, number], void, undefined> {
  const queued = jobs
    .filter((j) => j.stage === "queued")
    .sort((a, b) => a.submittedAt - b.submittedAt);
  const aheadInGroup = new Map<string, number>();
  for (const job of queued) {
    const before = aheadInGroup.get(job.group) ?? 0;
    aheadInGroup.set(job.group, before + 1);
    yield [job, before];
  }
}

/**
 * Why each job shown waits: nobody of its group alive, every slot busy, or earlier jobs of
 * its group ahead of it (every queued job of `jobs` counts); and a job past its queue timeout
 * waits only for that to end it.
 */
export function explainQueued(
  jobs: readonly Placed[],
  workers: readonly WorkerView[],
  now: number,
  shown: readonly Placed[],
): void {
  const ahead = new Map<Placed, number>();
  for (const [job, before] of inQueueOrder(jobs)) ahead.set(job, before);
  const why = whyWaitingOnce(workers);
  for (const placed of shown) {
    const before = ahead.get(placed);
    if (before === undefined) continue;
    const job = placed.line();
    explainOne(job, why(job.group, job.asks), before, now);
  }
}

/** `explainQueued`, with how many are ahead of each queued job shown given by job id. */
export function explainCounted(
  shown: readonly Placed[],
  workers: readonly WorkerView[],
  now: number,
  ahead: ReadonlyMap<string, { readonly count: number; readonly atLeast: boolean }>,
): void {
  const why = whyWaitingOnce(workers);
  for (const placed of shown) {
    if (placed.stage !== "queued") continue;
    const job = placed.line();
    const before = ahead.get(placed.id);
    explainOne(job, why(job.group, job.asks), before?.count ?? 0, now, before?.atLeast);
  }
}

/**
 * `explainQueued` of every queued job, a job at a time, for a caller that lets others run
 * between jobs (the dashboard, list-gradual.ts).
 */
export function* explainingQueued(
  jobs: Gathered[],
  workers: readonly WorkerView[],
  now: number,
): Generator<undefined, void, undefined> {
  const why = whyWaitingOnce(workers);
  for (const [job, before] of inQueueOrder(jobs)) {
    explainOne(job, why(job.group, job.asks), before, now);
    yield;
  }
}

/** `ls`'s order: the newest first, ties by id, last first. */
export function newestFirst(
  a: Pick<ListedJob, "id" | "submittedAt">,
  b: Pick<ListedJob, "id" | "submittedAt">,
): number {
  return b.submittedAt - a.submittedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

export function matches(
  job: Pick<ListedJob, "group" | "submittedAt" | "stage">,
  filter: ListFilter,
  now: number,
): boolean {
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

/** A job's line, with what explaining and attempts need beside it. */
function lineOf(
  { root, execute, spec }: Found,
  holder: ReadonlyMap<string, string>,
  workers: readonly WorkerView[],
): Gathered | undefined {
  const job: Gathered | undefined = jobFrom(root, execute, spec, holder, workers);
  if (!job) return undefined;
  if (spec) job.asks = { gpus: spec.gpus, interpreter: spec.interpreter };
  if (spec?.queueTimeoutMs !== undefined) job.queueTimeoutMs = spec.queueTimeoutMs;
  if (execute && isOlderExecuteId(execute.id)) job.namedBefore = true;
  if (spec && (spec.retries ?? 0) <= 0) job.runsOnce = true;
  return job;
}

/** Where each job stands; its line is made only when asked for. */
export function gather(
  found: Iterable<Found>,
  holder: ReadonlyMap<string, string>,
  workers: readonly WorkerView[],
): Placed[] {
  const jobs: Placed[] = [];
  for (const one of found) {
    const { root, execute, spec } = one;
    if (spec && execute?.state === "pending" && (!root || root.state === "pending")) {
      // Queued or running (jobFrom's reading of a pending execute with no record beside it),
      // placed from its tags and spec alone.
      let made: Gathered | undefined;
      jobs.push({
        id: spec.id,
        group: execute.tags[TAG.group] ?? spec.group,
        stage: holder.get(execute.id) ? "running" : "queued",
        submittedAt: spec.submittedAt,
        line: () => (made ??= madeLine(lineOf(one, holder, workers), spec.id)),
      });
      continue;
    }
    const line = lineOf(one, holder, workers);
    if (!line) continue;
    const { id, group, stage, submittedAt } = line;
    jobs.push({ id, group, stage, submittedAt, line: () => line });
  }
  return jobs;
}

function madeLine(line: Gathered | undefined, id: string): Gathered {
  if (!line) throw new Error(`the line of job ${id} could not be made from what placed it`);
  return line;
}

/** Every job, read from every root and execute promise (pending ones only unless `all`). */
