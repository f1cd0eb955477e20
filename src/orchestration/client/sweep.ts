// A sweep through any Resonate server: its record's promise, then every job's root promise,
// many requests in flight at once over the client's kept-alive connections (the protocol has
// no batch create); where its jobs stand, read from one search of the sweep's tag; and the
// resubmission of failed jobs as new jobs of the same sweep.
import { ExitCode, UserError } from "../../common/errors.ts";
import type { JobSpec, JobState } from "../jobs/job.ts";
import { specOfKind } from "../jobs/job-param.ts";
import { rootLineageTags, type Generation } from "../jobs/lineage.ts";
import { executeId, jobOfExecuteId, TAG } from "../jobs/names.ts";
import {
  isHeldInLane,
  isSweepRecord,
  SWEEP_KIND,
  SWEEP_TAG,
  sweepJobId,
  type SweepRecord,
} from "../jobs/sweep.ts";
import { searchAcquiredTasks } from "../presence.ts";
import { decodeValue, encodeValue, isOk, isRefused, request, type Send } from "../wire/wire.ts";
import type { Submitted } from "./submit.ts";
import { getPromise, recordIn, settledWithoutRecord, type PromiseRecord } from "./view.ts";

/** Requests in flight at once while a sweep is written: enough to hide each round trip. */
const IN_FLIGHT = 32;

/** Runs `task` on every item, at most `limit` at once; rejects with the first failure. */
export async function inPool<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const at = next++;
      results[at] = await task(items[at], at);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/** Time beyond the sweep's jobs' own limits before its record's promise times out. */
const MARGIN_MS = 60 * 60 * 1000;

/**
 * Writes the sweep's record, then each job's root promise (`submitOne`, the usual submission,
 * checks and all), `IN_FLIGHT` at once. Durable job by job: what was written stays written.
 */
export async function submitSweep(
  send: Send,
  record: SweepRecord,
  specs: readonly JobSpec[],
  generation: Generation,
  submitOne: (spec: JobSpec) => Promise<Submitted>,
): Promise<Submitted[]> {
  const first = specs[0];
  const rounds = Math.ceil(specs.length / (record.maxRunning ?? specs.length));
  const jobMs = (first?.queueTimeoutMs ?? 0) + rounds * (first?.timeoutMs ?? 0);
  const created = await send(
    request("promise.create", {
      id: record.id,
      timeoutAt: record.submittedAt + jobMs + MARGIN_MS,
      param: encodeValue(record),
      tags: {
        [TAG.kind]: SWEEP_KIND,
        [SWEEP_TAG.of]: record.id,
        ...rootLineageTags(generation, record.id),
      },
    }),
  );
  if (!isOk(created)) {
    throw new UserError(
      `the server refused the sweep ${record.id}: ${JSON.stringify(created.data)}`,
      ExitCode.unreachable,
    );
  }
  const stored = decodeValue(created.data.promise.param);
  if (!isSweepRecord(stored) || stored.submittedAt !== record.submittedAt) {
    throw new UserError(
      `--id ${record.id} is already taken on the server: pick another id for the sweep; nothing was submitted`,
    );
  }
  return inPool(specs, IN_FLIGHT, (spec) => submitOne(spec));
}

/** Where a sweep's job stands, as `get` and `ls` count it. */
export type SweepStage = "queued" | "running" | "succeeded" | "failed" | "timed_out" | "canceled";

export interface SweepJob {
  id: string;
  index: number;
  /** 1 for the first submission, 2 and up for retries. */
  retry: number;
  script: string;
  stage: SweepStage;
  reason: string;
  exitCode: number | null;
}

export interface SweepProgress {
  done: number;
  failed: number;
  running: number;
  queued: number;
}

export interface SweepView {
  record: SweepRecord;
  /** The latest job of each index, in index order. */
  jobs: SweepJob[];
  progress: SweepProgress;
  /** True once every job has ended. */
  finished: boolean;
}

const ENDED: ReadonlySet<SweepStage> = new Set(["succeeded", "failed", "timed_out", "canceled"]);

export function hasEnded(stage: SweepStage): boolean {
  return ENDED.has(stage);
}

/** Every promise tagged as `tags` says, of every state, following the cursor. */
async function searchAll(send: Send, tags: Record<string, string>): Promise<PromiseRecord[]> {
  const found: PromiseRecord[] = [];
  let cursor: string | undefined;
  do {
    const res = await send(
      request("promise.search", { tags, limit: 1000, ...(cursor ? { cursor } : {}) }),
    );
    if (!isOk(res)) break;
    found.push(...(res.data.promises as PromiseRecord[]));
    cursor = res.data.cursor;
  } while (cursor);
  return found;
}

/** The sweep's record, or undefined where `id` is not a sweep's. */
export async function readSweepRecord(send: Send, id: string): Promise<SweepRecord | undefined> {
  // A job id of a sweep holds a '.', which no sweep id does.
  if (id.includes(".")) return undefined;
  const promise = await getPromise(send, id);
  if (!promise || promise.tags[TAG.kind] !== SWEEP_KIND) return undefined;
  const record = decodeValue(promise.param);
  return isSweepRecord(record) ? record : undefined;
}

/** Ids of the tasks someone holds now: a held job's task is running. */
export async function heldTasks(send: Send): Promise<ReadonlySet<string>> {
  return new Set((await searchAcquiredTasks(send)).map((task) => task.id));
}

/** Where sweep `id` stands; undefined where `id` is not a sweep's. */
export async function viewSweep(
  send: Send,
  id: string,
  held?: ReadonlySet<string>,
): Promise<SweepView | undefined> {
  // A token scoped to a prefix may make no search: then the jobs are read by their names, and
  // who holds them is not known (a running job reads as queued).
  const [record, searched, holding] = await Promise.all([
    readSweepRecord(send, id),
    searchAll(send, { [SWEEP_TAG.of]: id }).catch(unlessRefused(undefined)),
    held ?? heldTasks(send).catch(unlessRefused(new Set<string>())),
  ]);
  if (!record) return undefined;
  if (searched) return sweepViewOf(record, searched, holding);
  // Read by name, each job's execute promise too.
  const roots = await jobsByName(send, record);
  const found = await inPool(roots, IN_FLIGHT, (p) => getPromise(send, executeId(p.id)));
  const executes = found
    .filter((p): p is PromiseRecord => p !== undefined)
    .map((p) => ({
      ...p,
      tags: { ...p.tags, [TAG.kind]: "execute", [TAG.executeOf]: jobOfExecute(p.id) },
    }));
  return sweepViewOf(record, [...roots, ...executes], holding);
}

/** Pure: the sweep's jobs from its promises (roots and executes) and the tasks held now. */
export function sweepViewOf(
  record: SweepRecord,
  promises: readonly PromiseRecord[],
  held: ReadonlySet<string>,
): SweepView {
  const executes = new Map<string, PromiseRecord>();
  for (const p of promises) {
    const of = p.tags[TAG.executeOf];
    if (p.tags[TAG.kind] === "execute" && of !== undefined) executes.set(of, p);
  }
  const latest = new Map<number, SweepJob>();
  for (const root of promises) {
    if (root.tags[TAG.kind] !== "job") continue;
    const spec = specOfKind(root, "job");
    if (!spec?.sweep) continue;
    const job = sweepJobOf(spec, root, executes.get(spec.id), held);
    const before = latest.get(job.index);
    if (!before || before.retry < job.retry) latest.set(job.index, job);
  }
  const jobs = [...latest.values()].sort((a, b) => a.index - b.index);
  const progress: SweepProgress = { done: 0, failed: 0, running: 0, queued: 0 };
  for (const job of jobs) {
    if (job.stage === "succeeded") progress.done++;
    else if (job.stage === "running") progress.running++;
    else if (job.stage === "queued") progress.queued++;
    else progress.failed++;
  }
  // Jobs not written yet (a submission still going, or cut short) wait as queued.
  progress.queued += Math.max(0, record.count - jobs.length);
  return {
    record,
    jobs,
    progress,
    finished: jobs.length >= record.count && jobs.every((job) => hasEnded(job.stage)),
  };
}

function sweepJobOf(
  spec: JobSpec,
  root: PromiseRecord,
  execute: PromiseRecord | undefined,
  held: ReadonlySet<string>,
): SweepJob {
  const member = spec.sweep;
  const base = {
    id: spec.id,
    index: member?.index ?? 0,
    retry: member?.retry ?? 1,
    script: spec.script.name,
  };
  const ended = (state: JobState, reason: string, exitCode: number | null): SweepJob => ({
    ...base,
    stage: state === "pending" || state === "running" ? "failed" : state,
    reason,
    exitCode,
  });
  const record = recordIn(root) ?? (execute && recordIn(execute));
  if (record) return ended(record.state, record.reason, record.exitCode);
  const settled = execute && execute.state !== "pending" ? execute : undefined;
  if (settled) {
    const result = settledWithoutRecord(spec, spec.group, settled);
    return ended(result.state, result.reason, null);
  }
  if (!execute && root.state !== "pending" && root.state !== "resolved") {
    const result = settledWithoutRecord(spec, spec.group, root);
    return ended(result.state, result.reason, null);
  }
  if (execute && held.has(execute.id))
    return { ...base, stage: "running", reason: "running", exitCode: null };
  const reason =
    !execute && isHeldInLane(member)
      ? `held until job ${(member?.index ?? 0) - (member?.maxRunning ?? 0)} of the sweep ends (max-running ${member?.maxRunning})`
      : "waiting for a worker";
  return { ...base, stage: "queued", reason, exitCode: null };
}

/** Every sweep on the server (outstanding ones only unless `all`), newest first. */
export async function listSweeps(send: Send, all: boolean): Promise<SweepView[]> {
  const res = await send(
    request("promise.search", {
      ...(all ? {} : { state: "pending" }),
      tags: { [TAG.kind]: SWEEP_KIND },
      limit: 1000,
    }),
  );
  if (!isOk(res)) return [];
  const held = await heldTasks(send);
  const views = await inPool(res.data.promises as PromiseRecord[], 8, (promise) =>
    viewSweep(send, promise.id, held),
  );
  return views
    .filter((view): view is SweepView => view !== undefined)
    .filter((view) => all || !view.finished)
    .sort((a, b) => b.record.submittedAt - a.record.submittedAt);
}

/**
 * The submission that reruns `spec` as a new job: of the same sweep under the next retry's id
 * (`S.3-r2`), or for a job of no sweep, `<id>-r2` and so on. `retry` is the last one's number.
 */
export function retrySpec(spec: JobSpec, lastRetry: number, now: number): JobSpec {
  const next = lastRetry + 1;
  const { sweep } = spec;
  if (sweep) {
    // A retry runs when asked: no lane of the cap holds it (router.ts).
    const member = {
      id: sweep.id,
      index: sweep.index,
      count: sweep.count,
      retry: next,
      ...(sweep.arrayIndex === undefined ? {} : { arrayIndex: sweep.arrayIndex }),
    };
    return {
      ...spec,
      id: sweepJobId(sweep.id, sweep.index, next),
      sweep: member,
      mode: "detach",
      submittedAt: now,
    };
  }
  // `X-r2` is retried as `X-r3`, not `X-r2-r3`.
  const plain = /^(.*)-r\d+$/.exec(spec.id)?.[1] ?? spec.id;
  return { ...spec, id: `${plain}-r${next}`, mode: "detach", submittedAt: now };
}

function jobOfExecute(id: string): string {
  return jobOfExecuteId(id) ?? id;
}

/** A catch that answers `fallback` for a refusal (403: a token's prefix), and rethrows others. */
function unlessRefused<T>(fallback: T): (error: unknown) => T {
  return (error) => {
    if (isRefused(error)) return fallback;
    throw error;
  };
}

/** The sweep's jobs' root promises by their names: each index, then its retries while found. */
async function jobsByName(send: Send, record: SweepRecord): Promise<PromiseRecord[]> {
  const indices = Array.from({ length: record.count }, (_, at) => at + 1);
  const perIndex = await inPool(indices, IN_FLIGHT, async (index) => {
    const found: PromiseRecord[] = [];
    for (let retry = 1; ; retry++) {
      const root = await getPromise(send, sweepJobId(record.id, index, retry));
      if (!root) return found;
      found.push(root);
    }
  });
  return perIndex.flat();
}
