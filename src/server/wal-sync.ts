// Group fsync of SQLite's write-ahead log, off the event loop.
//
// SQLite's own `synchronous = FULL` fsyncs the log inside COMMIT, which blocks the one
// thread that also parses requests and runs the state machine. Instead the connection runs
// `synchronous = NORMAL` (commits write the log without syncing it; SQLite still syncs around
// checkpoints, so the file stays consistent after a power cut) and this class fsyncs the log
// on libuv's thread pool before anything of the commit is answered. Commits made while a sync
// runs share the next one, and meanwhile the event loop applies the next batch: FULL's
// durability, with the wait overlapped.
import { closeSync, fsync, fsyncSync, openSync } from "node:fs";

export type DurableCallback = (error?: Error) => void;

export class WalSync {
  readonly #fd: number;
  /** Whether an fsync is running on the thread pool. */
  #inFlight = false;
  /** Callbacks of commits the running fsync covers (emptied if syncNow answered them). */
  #syncing: DurableCallback[] = [];
  /** Callbacks of commits made since it started: they need one more fsync. */
  #waiting: DurableCallback[] = [];
  #closed = false;
  /** fsyncs of the log done, and the seconds they took (for `/metrics`). */
  fsyncs = 0;
  fsyncSeconds = 0;

  /** `walPath` is the database's `-wal` file; it exists once the database is in WAL mode. */
  constructor(walPath: string) {
    this.#fd = openSync(walPath, "r");
  }

  /** Calls `done` once everything committed so far is on disk. */
  afterCommit(done: DurableCallback): void {
    this.#waiting.push(done);
    if (!this.#inFlight) this.#start();
  }

  /**
   * Calls `done` once every commit made so far is on disk, for a transaction that wrote
   * nothing: it needs no fsync of its own, but what it read may come from commits whose sync
   * is still running or waiting, and it is answered no sooner than they are.
   */
  afterRead(done: DurableCallback): void {
    if (this.#waiting.length > 0) this.#waiting.push(done);
    else if (this.#inFlight) this.#syncing.push(done);
    else done();
  }

  /** Syncs now, on this thread, and answers every commit still waiting (at shutdown). */
  syncNow(): void {
    const callbacks = [...this.#syncing, ...this.#waiting];
    this.#syncing = [];
    this.#waiting = [];
    if (callbacks.length === 0 || this.#closed) return;
    let failure: Error | undefined;
    const began = performance.now();
    try {
      fsyncSync(this.#fd);
    } catch (error) {
      failure = error as Error;
    }
    this.#count(began);
    for (const done of callbacks) done(failure);
  }

  close(): void {
    if (this.#closed) return;
    this.syncNow();
    this.#closed = true;
    closeSync(this.#fd);
  }

  #count(began: number): void {
    this.fsyncs += 1;
    this.fsyncSeconds += (performance.now() - began) / 1000;
  }

  #start(): void {
    this.#syncing = this.#waiting;
    this.#waiting = [];
    this.#inFlight = true;
    const began = performance.now();
    fsync(this.#fd, (error) => {
      this.#count(began);
      const callbacks = this.#syncing;
      this.#syncing = [];
      this.#inFlight = false;
      for (const done of callbacks) done(error ?? undefined);
      if (this.#waiting.length > 0 && !this.#closed) this.#start();
    });
  }
}
