// Folds SQLite's write-ahead log back into the database file on a worker thread.
//
// SQLite checkpoints inside COMMIT once the log passes 1000 pages, on the connection that
// wrote: on the server's one thread that was the larger part of a commit's cost (about
// 0.4 ms of 0.6 ms on average under load, 50 to 100 ms each time it ran). Here the writing
// connection never checkpoints on its own; a second connection on a worker thread copies the
// pages and syncs the database, and then the writer folds in the few pages committed while it
// ran (a cheap pass, and the one that lets the log start over from its beginning instead of
// growing without end under steady load).
import { once } from "node:events";
import { Worker } from "node:worker_threads";

/** Commits between background checkpoints: about 2,000 log pages (8 MiB) under load. */
const COMMITS_PER_CHECKPOINT = 250;
/** A quiet server folds its log this long after the first commit since the last fold. */
const IDLE_CHECKPOINT_MS = 1_000;

// Evaluated, not loaded from a file, so it runs the same from the single executable.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { DatabaseSync } = require("node:sqlite");
const db = new DatabaseSync(workerData.path);
db.exec("PRAGMA busy_timeout = 5000");
const checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
parentPort.on("message", (message) => {
  if (message === "stop") {
    db.close();
    parentPort.close();
    return;
  }
  try {
    checkpoint.get();
    parentPort.postMessage({ ok: true });
  } catch (error) {
    parentPort.postMessage({ ok: false, error: String(error && error.message ? error.message : error) });
  }
});
`;

interface CheckpointReply {
  ok: boolean;
  error?: string;
}

export interface CheckpointerOptions {
  /** The database file (not ":memory:"). */
  path: string;
  /** Runs a checkpoint on the writing connection; called between transactions. */
  foldRemainder: () => void;
  /** The worker could not run: the writer must checkpoint on its own again. */
  onFailed: (error: unknown) => void;
}

export class Checkpointer {
  readonly #worker: Worker;
  readonly #options: CheckpointerOptions;
  #commits = 0;
  #running = false;
  #failed = false;
  #idleTimer: NodeJS.Timeout | undefined;

  constructor(options: CheckpointerOptions) {
    this.#options = options;
    this.#worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path: options.path } });
    this.#worker.unref();
    this.#worker.on("message", (reply: CheckpointReply) => this.#finished(reply));
    this.#worker.on("error", (error) => this.#fail(error));
  }

  /** Counts a commit of the writer; starts a checkpoint when enough have gathered. */
  noteCommit(): void {
    if (this.#failed) return;
    this.#commits++;
    if (this.#commits >= COMMITS_PER_CHECKPOINT) this.#start();
    else if (this.#idleTimer === undefined) this.#armIdleTimer();
  }

  async stop(): Promise<void> {
    clearTimeout(this.#idleTimer);
    if (this.#failed) return;
    this.#failed = true;
    // Held while it closes, so a caller awaiting this keeps the process alive.
    this.#worker.ref();
    const exited = once(this.#worker, "exit");
    this.#worker.postMessage("stop");
    await exited;
  }

  #armIdleTimer(): void {
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#commits > 0) this.#start();
    }, IDLE_CHECKPOINT_MS);
    this.#idleTimer.unref();
  }

  #start(): void {
    if (this.#running || this.#failed) return;
    this.#running = true;
    this.#commits = 0;
    this.#worker.postMessage("checkpoint");
  }

  #finished(reply: CheckpointReply): void {
    this.#running = false;
    if (!reply.ok) {
      this.#fail(new Error(`background checkpoint failed: ${reply.error ?? "unknown error"}`));
      return;
    }
    this.#options.foldRemainder();
    if (this.#commits >= COMMITS_PER_CHECKPOINT) this.#start();
  }

  #fail(error: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    clearTimeout(this.#idleTimer);
    this.#options.onFailed(error);
  }
}
