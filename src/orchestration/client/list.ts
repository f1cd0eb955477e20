// Which jobs are where, as squeue and sacct list them: every job not yet finished (routing,
// queued, running) and, asked for, the finished ones too, newest first. Read from the jobs'
// root and execute promises by their `modulate:kind` tag, page after page (a search answers at
// most 1,000), so it reads the same on the embedded server and on the Resonate server. The
// newest are found first through their time-bucket tags (list-recent.ts): with finished jobs
// asked for, the roots'; without, the pending roots and execute promises', and the jobs
// queued ahead of those shown are counted from their small queue-timeout calls
// (list-queue.ts). Everything is read only when those run out.
import { lastAttemptAfter, listAttempts, type AttemptView } from "../attempts.ts";
import { isDetachedReceipt, type JobSpec } from "../jobs/job.ts";
import { specOfKind } from "../jobs/job-param.ts";
import { executeId, TAG } from "../jobs/names.ts";
import { liveWorkersAmong, searchAcquiredTasks, type WorkerView } from "../presence.ts";
import { decodeValue, isOk, request, type Send } from "../wire/wire.ts";
import { QueueCounter, type Ahead, type AttemptHints } from "./list-queue.ts";
import { walkRecentRoots } from "./list-recent.ts";
import {
  explainCounted,
  explainQueued,
  gather,
  matches,
  newestFirst,
  type Found,
  type Placed,
  type JobList,
  type ListedJob,
  type ListFilter,
} from "./list-lines.ts";
import { getPromise, recordIn, type PromiseRecord } from "./view.ts";

export {
  STATE_FILTERS,
  type JobList,
  type ListedJob,
  type ListedStage,
  type ListFilter,
  type StateFilter,
} from "./list-lines.ts";

/** The most a search answers at once on either server. */
const SEARCH_PAGE = 1000;

/**
 * Every promise of `kind` (pending only unless `all`), following the cursor page by page, each
 * handed to `take` as it comes. The next page is asked for before `take` reads this one, so
 * that the server finds it while this process decodes.
 */
export async function searchKind(
  send: Send,
  kind: "job" | "execute",
  all: boolean,
  take: (page: PromiseRecord[]) => void | Promise<void>,
  pageSize: number = SEARCH_PAGE,
): Promise<void> {
  const page = (cursor: string | undefined) =>
    send(
      request("promise.search", {
        ...(all ? {} : { state: "pending" }),
        tags: { [TAG.kind]: kind },
        limit: pageSize,
        ...(cursor ? { cursor } : {}),
      }),
    );
  let next: ReturnType<typeof page> | undefined = page(undefined);
  while (next) {
    const res: Awaited<ReturnType<typeof page>> = await next;
    if (!isOk(res)) break;
    const cursor: string | undefined = res.data.cursor;
    next = cursor ? page(cursor) : undefined;
    await take(res.data.promises);
  }
}

/** How far back `ls --all` walks the time buckets before it reads every job instead. */
const BUCKET_HORIZON_MS = 31 * 24 * 60 * 60 * 1000;

/** The most pending promises a walk of plain `ls` reads before it reads everything instead. */
const PENDING_WALK_BUDGET = 3000;

/** Roots whose executes are read at once while walking the buckets. */
const RESOLVE_CHUNK = 32;

/** Every job's promises, execute and root (pending ones only unless `all`), read at once. */
async function readEverything(send: Send, all: boolean): Promise<Map<string, Found>> {
  const found = new Map<string, Found>();
  const roots: PromiseRecord[] = [];
  await Promise.all([
    searchKind(send, "execute", all, (executes) => {
      for (const execute of executes) {
        const spec = specOfKind(execute, "execute");
        const jobId = execute.tags[TAG.executeOf] ?? spec?.id;
        if (jobId !== undefined) found.set(jobId, { execute, spec });
      }
    }),
    searchKind(send, "job", all, (page) => {
      roots.push(...page);
    }),
  ]);
  for (const root of roots) found.set(root.id, { ...found.get(root.id), root });
  return found;
}

/** The live workers, and which process holds each task taken. */
export async function readPresence(
  send: Send,
): Promise<{ holder: Map<string, string>; workers: WorkerView[] }> {
  const acquired = await searchAcquiredTasks(send);
  const workers = await liveWorkersAmong(send, acquired);
  const holder = new Map(acquired.flatMap((t) => (t.pid ? [[t.id, t.pid] as const] : [])));
  return { holder, workers };
}

/** The execute promise of each root that has one and holds no record of its own. */
async function withExecutes(send: Send, roots: readonly PromiseRecord[]): Promise<Found[]> {
  return Promise.all(
    roots.map(async (root): Promise<Found> => {
      if (recordIn(root)) return { root };
      const value = root.state === "resolved" ? decodeValue(root.value) : undefined;
      const id = isDetachedReceipt(value) ? value.executeId : executeId(root.id);
      if (root.state !== "pending" && !isDetachedReceipt(value)) return { root };
      const execute = await getPromise(send, id);
      return execute ? { root, execute, spec: specOfKind(execute, "execute") } : { root };
    }),
  );
}

/** How a caller that must not hold its thread walks the buckets (list-gradual.ts). */
export interface RecentWalk {
  /** A root's spec: the dashboard's kept one. Default: decoded from the root. */
  specOf?: (root: PromiseRecord) => JobSpec | undefined;
  /** Awaited before each bucket and each chunk of it: a turn of the event loop, say. */
  pause?: () => Promise<void>;
  /** Outstanding jobs only: the buckets' pending roots and executes (plain `ls`). */
  pending?: boolean;
  /** Told of each bucket's jobs as they are placed. */
  onPlaced?: (jobs: readonly Placed[]) => void;
}

/** The jobs of pending roots and executes, a root and its execute joined by job id. */
function foundOf(promises: readonly PromiseRecord[]): Found[] {
  const found = new Map<string, Found>();
  for (const promise of promises) {
    if (promise.tags[TAG.kind] === "execute") {
      const spec = specOfKind(promise, "execute");
      const jobId = promise.tags[TAG.executeOf] ?? spec?.id;
      if (jobId !== undefined) found.set(jobId, { ...found.get(jobId), execute: promise, spec });
    } else {
      found.set(promise.id, { ...found.get(promise.id), root: promise });
    }
  }
  return [...found.values()];
}

/**
 * The newest jobs through their roots' time buckets, stopping once `limit` match; undefined
 * when the walk ran out before that: jobs submitted by a modulate older than the tags carry
 * none, and jobs before the horizon are not walked, so only reading everything finds them.
 */
export async function gatherRecent(
  send: Send,
  filter: ListFilter,
  now: number,
  holder: ReadonlyMap<string, string>,
  workers: readonly WorkerView[],
  { specOf = (root) => specOfKind(root, "job"), pause, pending = false, onPlaced }: RecentWalk = {},
): Promise<{ jobs: Placed[]; stopped: true } | undefined> {
  const jobs: Placed[] = [];
  let matched = 0;
  const from = now - (filter.sinceMs ?? BUCKET_HORIZON_MS);
  let read = 0;
  let gaveUp = false;
  const take = async (roots: PromiseRecord[]): Promise<boolean> => {
    await pause?.();
    if (pending) {
      // Outstanding jobs' promises hold their specs already: the bucket is placed whole.
      const found = gather(foundOf(roots), holder, workers);
      onPlaced?.(found);
      jobs.push(...found);
      matched += found.filter((job) => matches(job, filter, now)).length;
      read += roots.length;
      // A filter few outstanding jobs match (`--state running` among ten thousand queued)
      // would walk every bucket and then read everything anyway: past a budget, it does so.
      gaveUp = matched < filter.limit && read >= PENDING_WALK_BUDGET;
      return matched >= filter.limit || gaveUp;
    }
    // A second's bucket can hold a thousand jobs: their executes are read newest first, a
    // few at a time, only until `limit` match.
    const newest = roots
      .map((root) => ({ root, at: specOf(root)?.submittedAt ?? 0 }))
      .sort((a, b) => b.at - a.at)
      .map(({ root }) => root);
    for (let at = 0; at < newest.length; at += RESOLVE_CHUNK) {
      await pause?.();
      const chunk = newest.slice(at, at + RESOLVE_CHUNK);
      const found = gather(await withExecutes(send, chunk), holder, workers);
      jobs.push(...found);
      matched += found.filter((job) => matches(job, filter, now)).length;
      if (matched >= filter.limit) return true;
    }
    return false;
  };
  const stopped = await walkRecentRoots(send, from, now, take, { pending });
  return stopped && !gaveUp ? { jobs, stopped } : undefined;
}

/** How `listJobs` reads. */
export interface ListReading {
  /** Read every job, as before the time buckets: what a walk's answer must equal. */
  readAll?: boolean;
}

export async function listJobs(
  send: Send,
  filter: ListFilter,
  now: number,
  { readAll = false }: ListReading = {},
): Promise<JobList> {
  let jobs: Placed[] | undefined;
  let workers: WorkerView[];
  let recent: { jobs: Placed[]; stopped: true } | undefined;
  // How many are queued ahead of each queued job shown, where the walk's jobs are used.
  let ahead: Map<string, Ahead> | undefined;
  // What the queues read tell of the shown jobs' attempts, where the walk's jobs are used.
  let hints: AttemptHints | undefined;
  const chosenOf = (among: readonly Placed[]) =>
    among.filter((job) => matches(job, filter, now)).sort(newestFirst);
  if (filter.all) {
    const presence = await readPresence(send);
    workers = presence.workers;
    recent = readAll ? undefined : await gatherRecent(send, filter, now, presence.holder, workers);
    jobs =
      recent?.jobs ?? gather((await readEverything(send, true)).values(), presence.holder, workers);
  } else if (readAll) {
    // Who holds what is read beside the jobs: the jobs are most of the time.
    const [presence, found] = await Promise.all([readPresence(send), readEverything(send, false)]);
    workers = presence.workers;
    jobs = gather(found.values(), presence.holder, workers);
  } else {
    const presence = await readPresence(send);
    workers = presence.workers;
    const counter = new QueueCounter(send, presence.holder);
    const walked = await gatherRecent(send, filter, now, presence.holder, workers, {
      pending: true,
      // A queue is read as soon as a job of it may be shown, beside the rest of the walk.
      onPlaced: (placed) => {
        for (const job of placed) {
          if (!matches(job, filter, now)) continue;
          if (job.stage === "queued") void counter.start(job.group);
          // A running job's attempt is told by the open attempt records, read once.
          else if (job.stage === "running") void counter.openAttempts();
        }
      },
    });
    if (walked) {
      ahead = await counter.count(chosenOf(walked.jobs).slice(0, filter.limit));
      if (ahead) {
        recent = walked;
        jobs = walked.jobs;
        hints = await counter.attemptHints();
      }
    }
    // The walk ran out (few outstanding jobs, or jobs without the tags), or a job shown was
    // not counted by its queue: every outstanding job is read, as it cheaply is then.
    jobs ??= gather((await readEverything(send, false)).values(), presence.holder, workers);
  }
  const chosen = chosenOf(jobs);
  const picked = chosen.slice(0, filter.limit);
  if (ahead) explainCounted(picked, workers, now, ahead);
  else explainQueued(jobs, workers, now, picked);
  const lines = picked.map((job) => job.line());
  const namedBefore = new Set(lines.filter((job) => job.namedBefore).map((job) => job.id));
  const runsOnce = new Set(lines.filter((job) => job.runsOnce).map((job) => job.id));
  const shown = lines.map(
    ({ queueTimeoutMs: _, namedBefore: __, asks: ___, runsOnce: ____, ...job }) => job,
  );
  await addAttempts(send, shown, namedBefore, hints && { ...hints, runsOnce });
  return {
    jobs: shown,
    more: chosen.length - shown.length,
    ...(recent?.stopped ? { olderMayMatch: true } : {}),
  };
}

/** What the walk read tells of the shown jobs' attempts (`addAttempts`). */
export interface ShownAttemptHints extends AttemptHints {
  /** Jobs whose spec asks for no retries. */
  readonly runsOnce: ReadonlySet<string>;
}

/**
 * A job's last attempt: from the open records of `hints` where they tell it, else from its
 * attempt records. A run's record is closed when its job ends, or when it failed and the job
 * is to run again (--retries), before the next run's is made; so an outstanding job's records
 * are open but for the failed runs of a job that retries. Hence a job with an open record has
 * its newest open one as its last, unless a failed run's follows it (read by id from there);
 * a queued job with none has none when it never went to a worker (its queue-timeout call is
 * pending) or when it does not retry. A running job with none is between two runs, or its
 * run's record is not written yet (the worker takes the job and writes it side by side): read.
 */
async function lastAttempt(
  send: Send,
  job: ListedJob,
  namedBefore: boolean,
  hints: ShownAttemptHints | undefined,
): Promise<AttemptView | undefined> {
  // Attempts named before they followed the job's lineage are found by tag only.
  if (hints && !namedBefore) {
    const open = hints.open.get(job.id);
    if (open) return lastAttemptAfter(send, open);
    if (job.stage === "queued" && (hints.neverTaken.has(job.id) || hints.runsOnce.has(job.id)))
      return undefined;
  }
  return (await listAttempts(send, job.id, namedBefore)).at(-1);
}

/**
 * The attempt and start of each outstanding job shown, and for a queued one whose last run
 * was cut off, who stopped answering: its attempt records, for those jobs only, or what
 * `hints` (the walk's queues) tell of them.
 */
export async function addAttempts(
  send: Send,
  jobs: ListedJob[],
  namedBefore: ReadonlySet<string>,
  hints?: ShownAttemptHints,
): Promise<void> {
  await Promise.all(
    jobs
      .filter((job) => job.stage === "queued" || job.stage === "running")
      .map(async (job) => {
        const last = await lastAttempt(send, job, namedBefore.has(job.id), hints);
        if (!last) return;
        job.attempt = last.attempt;
        if (job.stage === "queued" && last.promiseState === "pending") {
          // Its run's record is open but nobody holds its task: that worker died or was cut
          // off, and the job waits to go to another, as `get` says.
          job.reason = `worker ${last.worker.pid} on ${last.worker.host} stopped answering during attempt ${last.attempt}; ${job.reason}`;
          return;
        }
        if (job.stage !== "running" || last.worker.pid !== job.worker?.pid) return;
        job.startedAt = last.startedAt;
        job.worker = last.worker;
      }),
  );
}
