// Group commit: requests that arrive while the event loop is busy are applied together in
// one SQLite transaction, committed once, and answered and their messages sent only once the
// commit is durable (wal-sync.ts). A batch that only read (a search, a get, a wait on a
// promise that does not exist yet) needs no fsync of its own.
// The same loop fires timers (due promise deadlines, leases, retries, schedules) and drops
// settled promises older than the retention period.
import type { Outgoing, Reply, Request } from "./protocol.ts";
import { ResonateState } from "./state.ts";
import type { SqliteStore } from "./store.ts";
import { DEFAULT_RETAIN_MS } from "./defaults.ts";
import { TimerArm } from "./timers.ts";

export interface EngineOptions {
  store: SqliteStore;
  /** Milliseconds since the epoch; the server's one clock. */
  clock: () => number;
  /** Settled promises older than this are deleted. Default 7 days. */
  retainMs?: number;
  /** Called after each commit with the messages it made durable. */
  onMessages: (messages: Outgoing[]) => void;
  onError?: (error: unknown) => void;
}

/** What the HTTP layer needs of an engine; the benchmark plugs in the SDK's server here too. */
export interface RequestEngine {
  submit(request: Request): Promise<Reply>;
  isReady(): boolean;
}

interface Pending {
  request: Request;
  resolve: (reply: Reply) => void;
}

const GC_INTERVAL_MS = 60_000;
/**
 * The event loop is looked at this often, and a gap longer than STALL_MS between two looks
 * means the server stood still (SIGSTOP, swapping, a starved CPU): the heartbeats sent meanwhile
 * could not land, so the leases that fell due get a grace, as after a restart (issue 12, item 7).
 */
const ALIVE_PROBE_MS = 500;
const STALL_MS = 2_000;
const GC_BATCH = 1_000;
const TICK_BATCH = 1_000;

export class Engine implements RequestEngine {
  readonly #store: SqliteStore;
  readonly #state: ResonateState;
  readonly #clock: () => number;
  readonly #retainMs: number;
  readonly #onMessages: (messages: Outgoing[]) => void;
  readonly #onError: (error: unknown) => void;
  readonly #timer: TimerArm;
  #queue: Pending[] = [];
  #flushScheduled = false;
  #tickDue = true;
  #nextGcAt = 0;
  #gcTimer: NodeJS.Timeout | undefined;
  readonly #aliveProbe: NodeJS.Timeout;
  #lastAliveAt: number;
  #stopped = false;

  constructor(options: EngineOptions) {
    this.#store = options.store;
    // Leases that fell due while the server was down lapse only if their holders stay
    // silent for one more lease (state.ts, leaseGraceFrom).
    this.#state = new ResonateState(options.store, { leaseGraceFrom: options.clock() });
    this.#lastAliveAt = options.clock();
    this.#aliveProbe = setInterval(() => this.#noteAlive(), ALIVE_PROBE_MS);
    this.#aliveProbe.unref();
    this.#clock = options.clock;
    this.#retainMs = options.retainMs ?? DEFAULT_RETAIN_MS;
    this.#onMessages = options.onMessages;
    this.#onError = options.onError ?? (() => {});
    this.#timer = new TimerArm(options.clock, () => {
      this.#tickDue = true;
      this.#scheduleFlush();
    });
    // Timers that fell due while the server was down fire on the first flush (but leases get
    // their grace first).
    this.#scheduleFlush();
    this.#gcTimer = setInterval(() => this.#scheduleFlush(), GC_INTERVAL_MS);
    this.#gcTimer.unref();
  }

  submit(request: Request): Promise<Reply> {
    if (this.#stopped) return Promise.resolve({ status: 500, data: "server is shutting down" });
    return new Promise((resolve) => {
      this.#queue.push({ request, resolve });
      this.#scheduleFlush();
    });
  }

  isReady(): boolean {
    return !this.#stopped && this.#store.ping();
  }

  /** Pending tasks routed to `group` and due now, to offer again when it gains a member. */
  pendingTasksOfGroup(
    group: string,
    limit: number,
  ): { id: string; version: number; address: string }[] {
    return this.#store.pendingTasksOfGroup(group, limit, this.#clock());
  }

  /** Answers what is queued, then stops the timers. The store stays open for the caller. */
  stop(): void {
    this.#flush();
    this.#store.syncNow();
    this.#stopped = true;
    this.#timer.disarm();
    clearInterval(this.#gcTimer);
    clearInterval(this.#aliveProbe);
  }

  /** Called by the probe and by every flush: whichever runs first after a stall sees it. */
  #noteAlive(): void {
    const now = this.#clock();
    if (now - this.#lastAliveAt > STALL_MS) this.#state.graceLeasesFrom(now);
    this.#lastAliveAt = Math.max(this.#lastAliveAt, now);
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#stopped) return;
    this.#flushScheduled = true;
    // setImmediate runs after the current I/O phase, so every request already read from the
    // sockets joins this batch.
    // A flush that was due when the engine stopped does not run: stop() flushed already, and
    // the store may be closed by now.
    setImmediate(() => {
      if (!this.#stopped) this.#flush();
    });
  }

  #flush(): void {
    this.#flushScheduled = false;
    this.#noteAlive();
    const batch = this.#queue;
    this.#queue = [];
    const now = this.#clock();
    const replies: Reply[] = [];
    const messages: Outgoing[] = [];
    let more = false;
    let wrote: boolean;
    try {
      this.#store.begin();
      replies.push(...this.#applyAll(now, batch, messages));
      if (this.#tickDue) {
        this.#tickDue = false;
        const ticked = this.#store.savepoint(() => this.#state.tick(now, TICK_BATCH));
        messages.push(...ticked.messages);
        more = ticked.more;
      }
      if (now >= this.#nextGcAt) {
        this.#nextGcAt = now + GC_INTERVAL_MS;
        more = this.#store.deleteSettledBefore(now - this.#retainMs, GC_BATCH) === GC_BATCH || more;
      }
      wrote = this.#store.commit();
    } catch (error) {
      // Nothing of this batch is durable, so nobody is told it succeeded.
      this.#store.rollback();
      this.#onError(error);
      for (const item of batch)
        item.resolve({ status: 500, data: "storage failure: the request was not applied" });
      this.#rearm(true);
      return;
    }
    // Answered, and its messages sent, only once the batch is durable (one that wrote nothing,
    // once the batches before it are); meanwhile the loop is free to apply the next one.
    this.#store.whenDurable((error) => {
      if (error) {
        // The batch is in SQLite but may not be on disk: nobody is told it succeeded.
        this.#onError(error);
        for (const item of batch)
          item.resolve({ status: 500, data: "storage failure: the write could not be synced" });
        return;
      }
      batch.forEach((item, i) => item.resolve(replies[i] ?? { status: 500, data: "no reply" }));
      if (messages.length > 0) this.#onMessages(messages);
    }, wrote);
    this.#rearm(more);
  }

  /**
   * Applies the batch's requests without a savepoint each (two statements a request, and
   * SQLite's journal of every page a request touches again): a request that throws is a bug
   * or a storage failure, rare, and only then is the batch undone and applied again with each
   * request in a savepoint of its own, so that the throw undoes its writes alone. The state
   * machine keeps nothing between requests, so the second pass writes what the first did.
   */
  #applyAll(now: number, batch: Pending[], messages: Outgoing[]): Reply[] {
    const replies: Reply[] = [];
    try {
      for (const item of batch) {
        const applied = this.#state.apply(now, item.request);
        messages.push(...applied.messages);
        replies.push(applied.reply);
      }
      return replies;
    } catch {
      this.#store.rollback();
      this.#store.begin();
      messages.length = 0;
      return batch.map((item) => this.#applyOne(now, item.request, messages));
    }
  }

  #applyOne(now: number, request: Request, messages: Outgoing[]): Reply {
    try {
      const applied = this.#store.savepoint(() => this.#state.apply(now, request));
      messages.push(...applied.messages);
      return applied.reply;
    } catch (error) {
      // A bug in one request must not take the batch down with it: its writes are undone.
      this.#onError(error);
      return { status: 500, data: "internal error applying the request" };
    }
  }

  #rearm(again: boolean): void {
    if (this.#stopped) return;
    if (again) {
      this.#tickDue = true;
      this.#scheduleFlush();
      return;
    }
    // Asking the store costs three index probes; only needed when a deadline changed or
    // nothing is armed (an armed wake-up for a deadline since removed just finds nothing due).
    if (this.#store.takeTimeoutsChanged() || !this.#timer.isArmed) {
      this.#timer.arm(this.#store.nextTimeoutAt());
    }
  }
}
