// How many jobs of its group wait ahead of a queued job, counted without reading each queued
// job's spec: the router makes a small queue-timeout call beside every job it queues
// (queue-deadline.ts), tagged with the group and the job's submission time, and it stays
// pending until a worker takes the job, the job is canceled, or its queue timeout ends it. A
// group's pending calls are therefore its jobs waiting for a first worker; counting those
// submitted before a job, with the jobs queued again after their worker died (found from
// their attempt records left open, few), is the count a full read of the queued jobs gives.
import { ATTEMPT_KIND } from "../attempts.ts";
import { specOfKind } from "../jobs/job-param.ts";
import { executeId, TAG } from "../jobs/names.ts";
import { isOk, request, type Send } from "../wire/wire.ts";
import type { Placed } from "./list-lines.ts";
import { getPromise, type PromiseRecord } from "./view.ts";

const SEARCH_PAGE = 1000;

/**
 * The most of a group's waiting jobs read to count its queue: one search page. In a longer
 * queue every job is shown as queued behind "N+" (at least N: the jobs read that are ahead of
 * it), as a full count of 10,000 queued jobs cost `ls` most of its time (10 pages of calls).
 */
export const QUEUE_READ_CAP = SEARCH_PAGE;

interface Waiting {
  readonly id: string;
  readonly at: number;
}

/**
 * The jobs of `group` waiting for a first worker, from their pending queue-timeout calls: at
 * most `cap` of them, and whether that was all.
 */
async function waitingIn(
  send: Send,
  group: string,
  cap: number,
): Promise<{ waiting: Waiting[]; complete: boolean }> {
  const page = (cursor: string | undefined) =>
    send(
      request("promise.search", {
        state: "pending",
        tags: { [TAG.queueGroup]: group },
        limit: Math.min(cap, SEARCH_PAGE),
        ...(cursor ? { cursor } : {}),
      }),
    );
  const waiting: Waiting[] = [];
  let read = 0;
  let next: ReturnType<typeof page> | undefined = page(undefined);
  while (next) {
    const res: Awaited<ReturnType<typeof page>> = await next;
    if (!isOk(res))
      throw new Error(`search of the queue of ${group} answered ${JSON.stringify(res.data)}`);
    const cursor: string | undefined = res.data.cursor;
    const calls = res.data.promises as PromiseRecord[];
    read += calls.length;
    // The next page is asked for before this one is read, while the cap allows one.
    next = cursor && read < cap ? page(cursor) : undefined;
    for (const call of calls) {
      const id = call.tags[TAG.queueOf];
      const at = Number(call.tags[TAG.queuedSince]);
      if (id !== undefined && Number.isFinite(at)) waiting.push({ id, at });
    }
    if (cursor && !next) return { waiting, complete: false };
  }
  return { waiting, complete: true };
}

/** Every open attempt record (its run goes on, or its worker died), by job id. */
async function openAttempts(send: Send): Promise<Map<string, PromiseRecord[]>> {
  const byJob = new Map<string, PromiseRecord[]>();
  let cursor: string | undefined;
  do {
    const res = await send(
      request("promise.search", {
        state: "pending",
        tags: { [TAG.kind]: ATTEMPT_KIND },
        limit: SEARCH_PAGE,
        ...(cursor ? { cursor } : {}),
      }),
    );
    if (!isOk(res)) throw new Error(`search of open attempts answered ${JSON.stringify(res.data)}`);
    for (const attempt of res.data.promises as PromiseRecord[]) {
      const jobId = attempt.tags[TAG.attemptOf];
      if (jobId !== undefined) byJob.set(jobId, [...(byJob.get(jobId) ?? []), attempt]);
    }
    cursor = res.data.cursor;
  } while (cursor);
  return byJob;
}

/**
 * The jobs queued again: an attempt record still open (its run goes on, or its worker died)
 * whose job's execute promise is pending with no worker holding its task. By group.
 */
async function queuedAgain(
  send: Send,
  open: ReadonlyMap<string, readonly PromiseRecord[]>,
  holder: ReadonlyMap<string, string>,
): Promise<Map<string, Waiting[]>> {
  const jobIds = [...open.keys()].filter((jobId) => !holder.has(executeId(jobId)));
  const byGroup = new Map<string, Waiting[]>();
  await Promise.all(
    jobIds.map(async (id) => {
      const execute = await getPromise(send, executeId(id));
      if (execute?.state !== "pending") return;
      const spec = specOfKind(execute, "execute");
      if (!spec) return;
      const group = execute.tags[TAG.group] ?? spec.group;
      byGroup.set(group, [...(byGroup.get(group) ?? []), { id, at: spec.submittedAt }]);
    }),
  );
  return byGroup;
}

/** A group's queue as read: each job's place by job id (0 for the first to go). */
interface Places {
  readonly place: ReadonlyMap<string, number>;
  /** The waiting jobs read, in queue order: when not `complete`, the front of the queue. */
  readonly order: readonly { readonly at: number; readonly key: string }[];
  /** Every waiting job was read (the queue was within QUEUE_READ_CAP). */
  readonly complete: boolean;
  /** The jobs read whose queue-timeout call is pending and whose task nobody holds. */
  readonly neverTaken: readonly string[];
}

/** What `QueueCounter.attemptHints` tells. */
export interface AttemptHints {
  /** Every attempt record left open, by job id. */
  readonly open: ReadonlyMap<string, readonly PromiseRecord[]>;
  /** Jobs waiting for a first worker: no attempt of theirs was recorded, or one is open. */
  readonly neverTaken: ReadonlySet<string>;
}

/** How many jobs wait ahead of one: exactly, or at least (a queue longer than was read). */
export interface Ahead {
  readonly count: number;
  readonly atLeast: boolean;
}

/**
 * Counts the jobs queued ahead of queued jobs, group by group; a group's queue can be read
 * (`start`) while the jobs to show are still being found.
 */
export class QueueCounter {
  readonly #send: Send;
  readonly #holder: ReadonlyMap<string, string>;
  readonly #places = new Map<string, Promise<Places>>();
  readonly #cap: number;
  #open: Promise<Map<string, PromiseRecord[]>> | undefined;
  #again: Promise<Map<string, Waiting[]>> | undefined;

  constructor(send: Send, holder: ReadonlyMap<string, string>, cap: number = QUEUE_READ_CAP) {
    this.#send = send;
    this.#holder = holder;
    this.#cap = cap;
  }

  /** Reads `group`'s queue, once. */
  start(group: string): Promise<Places> {
    let places = this.#places.get(group);
    if (!places) {
      places = this.#read(group);
      // Awaited by `count` where it matters; a queue read for nothing may fail unheard.
      places.catch(() => undefined);
      this.#places.set(group, places);
    }
    return places;
  }

  async #read(group: string): Promise<Places> {
    const open = this.openAttempts();
    this.#again ??= open.then((byJob) => queuedAgain(this.#send, byJob, this.#holder));
    const [now, again] = await Promise.all([waitingIn(this.#send, group, this.#cap), this.#again]);
    // A job a worker holds runs, whatever its call says: the worker settles the call just
    // after it takes the job, and a listing can fall between the two.
    const called = now.waiting.filter((job) => !this.#holder.has(executeId(job.id)));
    const waiting = new Map(called.map((job) => [job.id, job]));
    for (const job of again.get(group) ?? []) waiting.set(job.id, job);
    // Ties in the order a full read meets them: its search's, by execute promise id.
    const order = [...waiting.values()]
      .map((job) => ({ ...job, key: executeId(job.id) }))
      .sort((a, b) => byQueueOrder(a, b));
    return {
      place: new Map(order.map((job, at) => [job.id, at])),
      order,
      complete: now.complete,
      neverTaken: called.map((job) => job.id),
    };
  }

  /** Every open attempt record, by job id: read once, beside the queues. */
  openAttempts(): Promise<Map<string, PromiseRecord[]>> {
    if (!this.#open) {
      this.#open = openAttempts(this.#send);
      // Awaited where it matters; one read for nothing may fail unheard.
      this.#open.catch(() => undefined);
    }
    return this.#open;
  }

  /**
   * What the queues read tell of the attempts of the jobs shown, without reading each job's
   * records (list.ts `addAttempts`): every open record, and the jobs never taken (their
   * queue-timeout call is still pending, as the worker that takes a job settles it).
   */
  async attemptHints(): Promise<AttemptHints> {
    const [open, read] = await Promise.all([
      this.openAttempts(),
      // A queue read for nothing (no job of it shown) may have failed: it tells nothing then.
      Promise.all([...this.#places.values()].map((places) => places.catch(() => undefined))),
    ]);
    return { open, neverTaken: new Set(read.flatMap((places) => places?.neverTaken ?? [])) };
  }

  /**
   * How many jobs of its group are queued ahead of each queued job of `shown`, by job id; or
   * undefined when one of them is not among its group's waiting jobs (queued by an older
   * router that tagged nothing, or past its queue timeout) although all were read: only
   * reading every queued job counts those. A job beyond the part of a long queue read is
   * behind at least the jobs read before it.
   */
  async count(shown: readonly Placed[]): Promise<Map<string, Ahead> | undefined> {
    const queued = shown.filter((job) => job.stage === "queued");
    const places = new Map<string, Places>();
    await Promise.all(
      [...new Set(queued.map((job) => job.group))].map(async (group) => {
        places.set(group, await this.start(group));
      }),
    );
    const ahead = new Map<string, Ahead>();
    for (const job of queued) {
      const queue = places.get(job.group);
      if (!queue) return undefined;
      const at = queue.place.get(job.id);
      if (at !== undefined) {
        // Read only in part, the queue may hold jobs ahead of this one that were not read: a
        // sweep's ids (`S.10` before `S.2`) do not follow submission order, so the page read
        // need not be the queue's front.
        ahead.set(job.id, { count: at, atLeast: !queue.complete });
        continue;
      }
      if (queue.complete) return undefined;
      const self = { at: job.submittedAt, key: executeId(job.id) };
      const before = queue.order.filter((read) => byQueueOrder(read, self) < 0).length;
      ahead.set(job.id, { count: before, atLeast: true });
    }
    return ahead;
  }
}

/** Oldest submission first; ties by execute promise id, as a search meets them. */
function byQueueOrder(
  a: { readonly at: number; readonly key: string },
  b: { readonly at: number; readonly key: string },
): number {
  return a.at - b.at || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}
