// Each run of a job's body is an attempt with a durable record: attempt n is claimed by
// creating promise `<job>.attempt-<n>` (names.ts); creating is idempotent, so a worker that
// finds n already taken (by a run that died) moves on to n+1. The record says who ran it and
// when, and is settled with the outcome. A record left pending belongs to a dead run, until
// the job ends: the worker that answers it closes every earlier record as abandoned.
import { randomUUID } from "../common/random.ts";
import type { WorkerRef } from "./jobs/job.ts";
import { attemptId, jobChildTags, TAG } from "./jobs/names.ts";
import { decodeValue, encodeValue, isOk, request, type Send } from "./wire/wire.ts";

export interface AttemptRecord {
  jobId: string;
  attempt: number;
  worker: WorkerRef;
  startedAt: number;
  /** Identifies the claimant: equal tokens mean "this record is mine". */
  token: string;
}

/** How an attempt ended, as its record was settled. */
export interface AttemptOutcome {
  /** The job's state when that attempt ran it to the end, or "abandoned". */
  state: string;
  reason: string;
}

export interface AttemptView extends AttemptRecord {
  /** pending: running or its worker died; resolved: finished; rejected: abandoned. */
  promiseState: string;
  finishedAt?: number;
  outcome?: AttemptOutcome;
}

/** What an earlier attempt's record says once a later attempt has ended the job. */
export const ABANDONED: AttemptOutcome = {
  state: "abandoned",
  reason: "its worker stopped answering",
};

/** An attempt record's `modulate:kind`. */
export const ATTEMPT_KIND = "attempt";

/** A job runs at most this many times: a script that kills every worker it lands on stops here. */
const MAX_ATTEMPTS = 20;

export async function claimAttempt(
  send: Send,
  jobId: string,
  worker: WorkerRef,
  now: number,
  keepMs: number,
): Promise<AttemptRecord> {
  const token = randomUUID();
  for (let n = 1; n <= MAX_ATTEMPTS; n++) {
    const record: AttemptRecord = { jobId, attempt: n, worker, startedAt: now, token };
    const res = await send(
      request("promise.create", {
        id: attemptId(jobId, n),
        timeoutAt: now + keepMs,
        param: encodeValue(record),
        tags: {
          [TAG.attemptOf]: jobId,
          // The pending ones are the runs going on or cut off: `ls` finds the jobs queued again
          // after their worker died among them (client/list-queue.ts).
          [TAG.kind]: ATTEMPT_KIND,
          ...jobChildTags(jobId, attemptId(jobId, n)),
        },
      }),
    );
    if (!isOk(res))
      throw new Error(`could not record attempt ${n} of ${jobId}: ${JSON.stringify(res.data)}`);
    const existing = decodeValue(res.data.promise.param) as Partial<AttemptRecord> | undefined;
    if (existing?.token === token) return record;
  }
  throw new Error(`job ${jobId} has been attempted ${MAX_ATTEMPTS} times: giving up`);
}

export async function finishAttempt(
  send: Send,
  record: AttemptRecord,
  summary: AttemptOutcome,
): Promise<void> {
  await send(
    request("promise.settle", {
      id: attemptId(record.jobId, record.attempt),
      state: "resolved",
      value: encodeValue(summary),
    }),
  );
}

/**
 * Closes the records of attempts before `attempt` that are still open: their runs died (a
 * later attempt exists only because each earlier one was found taken and its worker lost
 * the job). Settling is idempotent, so a record already closed stays as it was, and two
 * closers cannot disagree.
 */
export async function closeEarlierAttempts(
  send: Send,
  jobId: string,
  attempt: number,
): Promise<void> {
  const earlier = Array.from({ length: attempt - 1 }, (_, i) => i + 1);
  await Promise.all(
    earlier.map((n) =>
      send(
        request("promise.settle", {
          id: attemptId(jobId, n),
          state: "rejected",
          value: encodeValue(ABANDONED),
        }),
      ),
    ),
  );
}

/**
 * Every attempt of a job, first to last. Read by id (`<job>.attempt-1`, then 2, ... up to the
 * first missing), which any token that may read the job may do; a search by tag would need a
 * token without a prefix on the Resonate server. `namedBefore`: the job was run before
 * attempts followed the job's lineage (`modulate-attempt.<job>.<n>`), so its records are
 * looked for by tag instead; a refused search then finds none.
 */
export async function listAttempts(
  send: Send,
  jobId: string,
  namedBefore = false,
): Promise<AttemptView[]> {
  if (namedBefore) {
    const res = await send(
      request("promise.search", { tags: { [TAG.attemptOf]: jobId }, limit: 100 }),
    ).catch(() => undefined);
    if (res === undefined || !isOk(res)) return [];
    return res.data.promises.map(attemptView).sort((a, b) => a.attempt - b.attempt);
  }
  const found: AttemptView[] = [];
  for (let n = 1; n <= MAX_ATTEMPTS; n++) {
    const res = await send(request("promise.get", { id: attemptId(jobId, n) }));
    if (!isOk(res)) break;
    found.push(attemptView(res.data.promise));
  }
  return found;
}

/**
 * A job's last attempt, knowing its open records (found by the search of every open one): the
 * newest of those, unless records after it exist (a later run failed and was closed before
 * its retry was claimed), which are read by id from there on.
 */
export async function lastAttemptAfter(
  send: Send,
  open: readonly AttemptPromise[],
): Promise<AttemptView | undefined> {
  let last = open
    .map(attemptView)
    .reduce<AttemptView | undefined>(
      (newest, view) => (newest && newest.attempt >= view.attempt ? newest : view),
      undefined,
    );
  if (!last) return undefined;
  for (let n = last.attempt + 1; n <= MAX_ATTEMPTS; n++) {
    const res = await send(request("promise.get", { id: attemptId(last.jobId, n) }));
    if (!isOk(res)) break;
    last = attemptView(res.data.promise);
  }
  return last;
}

/** An attempt record's promise, as a read or a search answers it. */
interface AttemptPromise {
  param: { data?: unknown };
  value: { data?: unknown };
  state: string;
  settledAt?: number;
}

function attemptView(p: AttemptPromise): AttemptView {
  const record = decodeValue(p.param) as AttemptRecord;
  const outcome = decodeValue(p.value) as AttemptOutcome | undefined;
  return {
    ...record,
    promiseState: p.state,
    ...(p.settledAt === undefined ? {} : { finishedAt: p.settledAt }),
    ...(outcome === undefined ? {} : { outcome }),
  };
}
