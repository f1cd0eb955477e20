// The dashboard's listing: what `ls` lists (list.ts), read so that this thread is never held
// for long. `ls` reads, decodes and sorts 10,000 jobs as fast as it can and then exits; the
// dashboard lists every few seconds while it also answers keys and draws frames, and a refresh
// done in one piece held its thread for up to a second under load (bench:ui). So here the work
// is cut into slices of a few milliseconds with a turn of the event loop between them (keys,
// timers and frames go first), search pages are smaller (each is decoded in one piece), job
// specs are decoded once per promise and kept (a promise's param never changes), and the rows
// can be handed over before their attempt records are read, so a first screen need not wait
// for them. The jobs listed and their lines are the same as `ls`'s (list-gradual.test.ts).
import { specOfKind } from "../jobs/job-param.ts";
import type { JobSpec } from "../jobs/job.ts";
import { TAG } from "../jobs/names.ts";
import type { WorkerView } from "../presence.ts";
import type { Send } from "../wire/wire.ts";
import { addAttempts, gatherRecent, readPresence, searchKind } from "./list.ts";
import {
  explainingQueued,
  gather,
  matches,
  newestFirst,
  type Found,
  type Gathered,
  type JobList,
  type ListFilter,
} from "./list-lines.ts";
import type { PromiseRecord } from "./view.ts";

export interface GradualOptions {
  /**
   * Called once with the jobs as they will be listed, before their attempt records are read
   * (a running job's start and a queued job's lost worker come with those): a first screen
   * can show them at once. Each call gets rows of its own, never changed afterwards.
   */
  onRows?: (list: JobList) => void;
  /**
   * Called once with the live workers the listing read (routers among them), as soon as they
   * are read: the dashboard shows them without reading them a second time.
   */
  onWorkers?: (workers: WorkerView[]) => void;
  /** The longest stretch of work between two turns of the event loop. Default 8 ms. */
  sliceMs?: number;
  /** Promises asked for per search page (each page is decoded in one piece). Default 250. */
  pageSize?: number;
}

/** Half a frame at 60 Hz: a key pressed during a refresh waits at most about this long. */
const SLICE_MS = 8;

/**
 * A search page is parsed in one piece. A page of 1,000 (the most a search answers) of jobs
 * with a one-line script each is about 800 kB, 2-4 ms to parse on the shared machine, and it
 * grows with every job's script (each execute promise carries it): 10 kB scripts would make it
 * 10 MB. A quarter of that keeps a page's parse inside a slice for scripts of a few kB.
 */
const PAGE_SIZE = 250;

/** Jobs whose attempts are read together between two turns: kept answers come in microtasks. */
const ATTEMPT_BATCH = 256;

/** Jobs put together between two looks at the clock: a few hundred microseconds' work. */
const GATHER_CHUNK = 64;

/** Work in slices: `due()` once the current slice has run `sliceMs`; `turn()` ends it. */
export class Slicer {
  readonly #sliceMs: number;
  #startedAt = performance.now();
  /** Turns of the event loop given so far. */
  turns = 0;

  constructor(sliceMs: number = SLICE_MS) {
    this.#sliceMs = sliceMs;
  }

  due(): boolean {
    return performance.now() - this.#startedAt >= this.#sliceMs;
  }

  /** Lets the event loop run everything that waits (I/O, timers, immediates), then goes on. */
  async turn(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.turns += 1;
    this.#startedAt = performance.now();
  }

  /** A turn if the slice is spent. */
  async check(): Promise<void> {
    if (this.due()) await this.turn();
  }
}

interface KeptSpec {
  /** When the promise was created: an id written again (a new server) is decoded again. */
  createdAt: number;
  /** Without the script's content, which no line shows: 10,000 scripts are not kept. */
  spec: JobSpec | undefined;
  /** The listing that last read it, to forget promises no longer listed. */
  seen: number;
}

/**
 * Lists jobs as `listJobs` does, in slices (see the top of this file). One per client: it keeps
 * the specs it decoded for the next listing.
 */
export class GradualLister {
  readonly #specs = new Map<string, KeptSpec>();
  #listing = 0;

  /** The spec in `promise`'s param, decoded once per promise (a param never changes). */
  #specOf(promise: PromiseRecord, kind: "job" | "execute"): JobSpec | undefined {
    const kept = this.#specs.get(promise.id);
    if (kept && kept.createdAt === promise.createdAt) {
      kept.seen = this.#listing;
      return kept.spec;
    }
    const read = specOfKind(promise, kind);
    const spec = read && { ...read, script: { name: read.script.name, content: "" } };
    this.#specs.set(promise.id, { createdAt: promise.createdAt, spec, seen: this.#listing });
    return spec;
  }

  async list(
    send: Send,
    filter: ListFilter,
    now: number,
    options: GradualOptions = {},
  ): Promise<JobList> {
    const listing = ++this.#listing;
    const slicer = new Slicer(options.sliceMs);
    const pageSize = options.pageSize ?? PAGE_SIZE;
    const { holder, workers } = await readPresence(send);
    options.onWorkers?.(workers);
    const recent = filter.all
      ? await gatherRecent(send, filter, now, holder, workers, {
          specOf: (root) => this.#specOf(root, "job"),
          pause: () => slicer.check(),
        })
      : undefined;
    const jobs =
      recent?.jobs.map((placed) => placed.line()) ??
      (await this.#gatherEverything(send, filter.all, holder, workers, slicer, pageSize));
    for (const [id, kept] of this.#specs) if (kept.seen < listing - 1) this.#specs.delete(id);
    await slicer.check();
    const explaining = explainingQueued(jobs, workers, now);
    while (!explaining.next().done) if (slicer.due()) await slicer.turn();
    const chosen = jobs.filter((job) => matches(job, filter, now));
    await slicer.check();
    chosen.sort(newestFirst);
    await slicer.check();
    const picked = chosen.slice(0, filter.limit);
    const namedBefore = new Set(picked.filter((job) => job.namedBefore).map((job) => job.id));
    const shown = picked.map(
      ({ queueTimeoutMs: _, namedBefore: __, asks: ___, runsOnce: ____, ...job }) => job,
    );
    const more = chosen.length - shown.length;
    const olderMayMatch = recent?.stopped ? { olderMayMatch: true } : {};
    if (options.onRows) {
      await slicer.check();
      // Copies: the attempts below are written into `shown`'s rows.
      options.onRows({ jobs: shown.map((job) => ({ ...job })), more, ...olderMayMatch });
    }
    for (let at = 0; at < shown.length; at += ATTEMPT_BATCH) {
      await slicer.check();
      await addAttempts(send, shown.slice(at, at + ATTEMPT_BATCH), namedBefore);
    }
    return { jobs: shown, more, ...olderMayMatch };
  }

  async #gatherEverything(
    send: Send,
    all: boolean,
    holder: ReadonlyMap<string, string>,
    workers: readonly WorkerView[],
    slicer: Slicer,
    pageSize: number,
  ): Promise<Gathered[]> {
    const executes: { execute: PromiseRecord; spec: JobSpec | undefined }[] = [];
    const roots: PromiseRecord[] = [];
    await Promise.all([
      searchKind(
        send,
        "execute",
        all,
        async (page) => {
          await slicer.check();
          for (const execute of page) {
            executes.push({ execute, spec: this.#specOf(execute, "execute") });
            if (slicer.due()) await slicer.turn();
          }
        },
        pageSize,
      ),
      searchKind(
        send,
        "job",
        all,
        async (page) => {
          await slicer.check();
          roots.push(...page);
        },
        pageSize,
      ),
    ]);
    // Put together in `ls`'s order (executes, then roots), which decides the order of queued
    // jobs submitted in the same millisecond.
    const found = new Map<string, Found>();
    for (const { execute, spec } of executes) {
      const jobId = execute.tags[TAG.executeOf] ?? spec?.id;
      if (jobId !== undefined) found.set(jobId, { execute, spec });
    }
    for (const root of roots) found.set(root.id, { ...found.get(root.id), root });
    await slicer.check();
    const everyFound = [...found.values()];
    const jobs: Gathered[] = [];
    for (let at = 0; at < everyFound.length; at += GATHER_CHUNK) {
      jobs.push(
        ...gather(everyFound.slice(at, at + GATHER_CHUNK), holder, workers).map((p) => p.line()),
      );
      await slicer.check();
    }
    return jobs;
  }
}
