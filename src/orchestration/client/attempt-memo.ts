// What a listing read of each job's attempt records, kept for the next listing while the job
// has not moved: the dashboard lists every refresh, and re-reading the attempts of thousands of
// running jobs (a request or two each) would be most of what a refresh costs. A job has moved
// when its execute promise's state or the process holding its task changed: a new attempt
// starts only when some process takes the task, and a run ends only by settling the promise or
// giving the task back. Anything kept is read again within a minute all the same.
//
// It wraps the `Send` that one listing uses and recognises the answers by their protocol
// shape alone (a task search, a search by kind, a read of an attempt's promise), so it works
// over any Resonate server and whatever order the listing reads in: a job it cannot place is
// read as usual.
import type { Response } from "@resonatehq/sdk";
import { attemptId, TAG } from "../jobs/names.ts";
import { decodeValue, isOk, type Send } from "../wire/wire.ts";

/** Kept answers are read again after between this and twice this, spread so none come at once. */
const KEEP_MS = 30_000;

/**
 * Attempt reads sent at once, at most: a listing asks for every listed job's at the same time,
 * and 10,000 requests at once were refused by a loaded server (ECONNRESET; bench:ui), where a
 * few dozen at a time keep it busy all the same.
 */
const READS_AT_ONCE = 32;

interface Kept {
  /** Where the job stood when these were read: its execute promise's state and holder. */
  mark: string;
  answers: Map<string, Response>;
  until: number;
  /** The listing that last saw the job, to forget jobs no longer listed. */
  seen: number;
}

/** The job an attempt record's id is for (`attemptId`), if it is one. */
function jobOfAttemptId(id: string): string | undefined {
  const n = /(\d+)$/.exec(id)?.[1];
  if (n === undefined) return undefined;
  const suffix = attemptId("", Number(n));
  return id.endsWith(suffix) && id.length > suffix.length ? id.slice(0, -suffix.length) : undefined;
}

type Req = Parameters<Send>[0];

export class AttemptMemo {
  readonly #kept = new Map<string, Kept>();
  readonly #clock: () => number;
  readonly #random: () => number;
  #listing = 0;
  #reading = 0;
  readonly #waiting: (() => void)[] = [];
  /** Answers given from what was kept, and read from the server, since this memo began. */
  readonly counts = { kept: 0, read: 0 };

  constructor(clock: () => number = Date.now, random: () => number = Math.random) {
    this.#clock = clock;
    this.#random = random;
  }

  /** `send(req)`, once fewer than READS_AT_ONCE attempt reads are out. */
  async #read(send: Send, req: Req): Promise<Response> {
    while (this.#reading >= READS_AT_ONCE)
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#reading += 1;
    try {
      return await send(req);
    } finally {
      this.#reading -= 1;
      this.#waiting.shift()?.();
    }
  }

  /** The `Send` for one listing over `send`: attempt reads of jobs that have not moved are kept. */
  sendFor(send: Send): Send {
    const listing = ++this.#listing;
    for (const [job, kept] of this.#kept) if (kept.seen < listing - 2) this.#kept.delete(job);
    const holder = new Map<string, string>();
    let tasksRead = false;
    /** Per job: its execute promise as the listing read it. */
    const executes = new Map<string, { id: string; state: string }>();

    const noteAnswer = (req: Req, res: Response): void => {
      if (!isOk(res)) return;
      if (req.kind === "task.search" && res.kind === "task.search") {
        for (const task of res.data.tasks) if (task.pid) holder.set(task.id, task.pid);
        if (!res.data.cursor) tasksRead = true;
        return;
      }
      if (req.kind !== "promise.search" || res.kind !== "promise.search") return;
      if (req.data.tags?.[TAG.kind] !== "execute") return;
      // Only noted here, whether or not the tasks are read yet (a listing reads both at once):
      // a job is marked when its attempts are read, a few of the thousands listed.
      for (const execute of res.data.promises) {
        const job = execute.tags?.[TAG.executeOf];
        if (job !== undefined) executes.set(job, execute);
      }
    };

    /** Where a job stands, and the process holding its task, if any. */
    const markOf = (job: string): { mark: string; pid: string | undefined } | undefined => {
      const execute = executes.get(job);
      // Marked only once every held task is known: a holder missed would hide a move.
      if (execute === undefined || !tasksRead) return undefined;
      const pid = holder.get(execute.id);
      return { mark: `${execute.id} ${execute.state} ${pid ?? "-"}`, pid };
    };

    /** The job an attempt read is for, and the key of its answer; undefined for other reads. */
    const attemptRead = (req: Req): { job: string; key: string } | undefined => {
      if (req.kind === "promise.get") {
        const job = jobOfAttemptId(req.data.id);
        return job === undefined ? undefined : { job, key: `get ${req.data.id}` };
      }
      if (req.kind === "promise.search") {
        const job = req.data.tags?.[TAG.attemptOf];
        return job === undefined ? undefined : { job, key: `search ${job}` };
      }
      return undefined;
    };

    return (async (req: Req) => {
      const read = attemptRead(req);
      if (!read) {
        const res = await send(req);
        noteAnswer(req, res);
        return res;
      }
      const marked = markOf(read.job);
      if (marked === undefined) return this.#read(send, req);
      const { mark, pid } = marked;
      const now = this.#clock();
      let kept = this.#kept.get(read.job);
      if (!kept || kept.mark !== mark || kept.until <= now) {
        const until = now + KEEP_MS * (1 + this.#random());
        kept = { mark, answers: new Map(), until, seen: listing };
        this.#kept.set(read.job, kept);
      }
      kept.seen = listing;
      const answer = kept.answers.get(read.key);
      if (answer) {
        this.counts.kept += 1;
        return answer;
      }
      const res = await this.#read(send, req);
      this.counts.read += 1;
      if (keepable(res, pid, kept.answers)) kept.answers.set(read.key, res);
      return res;
    }) as Send;
  }
}

/** The worker an attempt record's promise names. */
function workerOf(promise: { param: { data?: string } }): string | undefined {
  try {
    const record = decodeValue(promise.param) as { worker?: { pid?: unknown } } | undefined;
    return typeof record?.worker?.pid === "string" ? record.worker.pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether an attempt read's answer may be kept: found or not found (a failure is not kept);
 * and where a process holds the job's task, "not found" only once its own attempt is among
 * those read. A
 * process that has just taken the task writes its attempt's record a moment later: "no
 * attempt 2" read in that moment is not kept, or the job would show attempt 1 until it moved.
 */
function keepable(
  res: Response,
  pid: string | undefined,
  answers: ReadonlyMap<string, Response>,
): boolean {
  if (!isOk(res) && res.head.status !== 404) return false;
  // A record found stays found; what may be missing is the holder's, past the last one found.
  if (pid === undefined || (isOk(res) && res.kind === "promise.get")) return true;
  const named = (r: Response): boolean => {
    if (!isOk(r)) return false;
    if (r.kind === "promise.get") return workerOf(r.data.promise) === pid;
    if (r.kind === "promise.search") return r.data.promises.some((p) => workerOf(p) === pid);
    return false;
  };
  return named(res) || [...answers.values()].some(named);
}
