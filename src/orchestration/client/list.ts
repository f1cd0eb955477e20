// Which jobs are where, as squeue and sacct list them: every job not yet finished (routing,
// queued, running) and, asked for, the finished ones too, newest first. Read from the jobs'
// root and execute promises by their `modulate:kind` tag, page after page (a search answers at
// most 1,000), so it reads the same on the embedded server and on the Resonate server.
import { listAttempts } from "../attempts.ts";
import { isDetachedReceipt, type JobResult, type JobSpec } from "../jobs/job.ts";
import { specOfKind } from "../jobs/job-param.ts";
import { ENTRY_GROUP, isOlderExecuteId, TAG } from "../jobs/names.ts";
import { liveWorkersAmong, searchAcquiredTasks, whyWaiting, type WorkerView } from "../presence.ts";
import { decodeValue, isOk, request, type Send } from "../wire/wire.ts";
import { waitingForReason } from "../dependencies.ts";
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
  /** How many more matched than `limit` let through. */
  more: number;
}

/** The most a search answers at once on either server. */
const SEARCH_PAGE = 1000;

/** Every promise of `kind` (pending only unless `all`), following the cursor page by page. */
async function searchKind(
  send: Send,
  kind: "job" | "execute",
  all: boolean,
): Promise<PromiseRecord[]> {
  const found: PromiseRecord[] = [];
  let cursor: string | undefined;
  do {
    const res = await send(
      request("promise.search", {
        ...(all ? {} : { state: "pending" }),
        tags: { [TAG.kind]: kind },
        limit: SEARCH_PAGE,
        ...(cursor ? { cursor } : {}),
      }),
    );
    if (!isOk(res)) break;
    found.push(...(res.data.promises as PromiseRecord[]));
    cursor = res.data.cursor;
  } while (cursor);
  return found;
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
type Gathered = ListedJob & { queueTimeoutMs?: number; namedBefore?: boolean };

function explainQueued(jobs: Gathered[], workers: readonly WorkerView[], now: number): void {
  const queued = jobs
    .filter((j) => j.stage === "queued")
    .sort((a, b) => a.submittedAt - b.submittedAt);
  const aheadInGroup = new Map<string, number>();
  for (const job of queued) {
    const ahead = aheadInGroup.get(job.group) ?? 0;
    aheadInGroup.set(job.group, ahead + 1);
    const why = whyWaiting(workers, job.group);
    const behind = ahead > 0 ? `queued behind ${ahead}` : undefined;
    job.reason = [why, behind].filter((part) => part !== undefined).join("; ");
    if (job.reason === "") job.reason = `waiting for a worker of group ${job.group} to take it`;
    const queueTimeoutMs = job.queueTimeoutMs;
    if (queueTimeoutMs !== undefined && now - job.submittedAt > queueTimeoutMs) {
      job.reason = `waiting for its queue timeout to end it (${job.reason})`;
    }
  }
}

function matches(job: ListedJob, filter: ListFilter, now: number): boolean {
  if (filter.group !== undefined && job.group !== filter.group) return false;
  if (filter.sinceMs !== undefined && job.submittedAt < now - filter.sinceMs) return false;
  if (filter.state === undefined) return true;
  if (filter.state === "pending") return job.stage === "routing" || job.stage === "queued";
  return job.stage === filter.state;
}

export async function listJobs(send: Send, filter: ListFilter, now: number): Promise<JobList> {
  const acquired = await searchAcquiredTasks(send);
  const [workers, executes, roots] = await Promise.all([
    liveWorkersAmong(send, acquired),
    searchKind(send, "execute", filter.all),
    searchKind(send, "job", filter.all),
  ]);
  const holder = new Map(acquired.flatMap((t) => (t.pid ? [[t.id, t.pid] as const] : [])));
  const executeOf = new Map<string, { execute: PromiseRecord; spec: JobSpec | undefined }>();
  for (const execute of executes) {
    const spec = specOfKind(execute, "execute");
    const jobId = execute.tags[TAG.executeOf] ?? spec?.id;
    if (jobId !== undefined) executeOf.set(jobId, { execute, spec });
  }
  const rootOf = new Map(roots.map((root) => [root.id, root]));
  const ids = new Set([...executeOf.keys(), ...rootOf.keys()]);
  const jobs: Gathered[] = [];
  for (const id of ids) {
    const found = executeOf.get(id);
    const execute = found?.execute;
    const job = jobFrom(rootOf.get(id), execute, found?.spec, holder, workers);
    if (!job) continue;
    const queueTimeoutMs = found?.spec?.queueTimeoutMs;
    jobs.push({
      ...job,
      ...(queueTimeoutMs === undefined ? {} : { queueTimeoutMs }),
      ...(execute && isOlderExecuteId(execute.id) ? { namedBefore: true } : {}),
    });
  }
  explainQueued(jobs, workers, now);
  const chosen = jobs
    .filter((job) => matches(job, filter, now))
    .sort((a, b) => b.submittedAt - a.submittedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const picked = chosen.slice(0, filter.limit);
  const namedBefore = new Set(picked.filter((job) => job.namedBefore).map((job) => job.id));
  const shown = picked.map(({ queueTimeoutMs: _, namedBefore: __, ...job }) => job);
  await addAttempts(send, shown, namedBefore);
  return { jobs: shown, more: chosen.length - shown.length };
}

/**
 * The attempt and start of each outstanding job shown, and for a queued one whose last run
 * was cut off, who stopped answering: its attempt records, for those jobs only.
 */
async function addAttempts(
  send: Send,
  jobs: ListedJob[],
  namedBefore: ReadonlySet<string>,
): Promise<void> {
  await Promise.all(
    jobs
      .filter((job) => job.stage === "queued" || job.stage === "running")
      .map(async (job) => {
        const last = (await listAttempts(send, job.id, namedBefore.has(job.id))).at(-1);
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
