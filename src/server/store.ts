// node:sqlite persistence of the server's state: one table module per resource, over the one
// connection and its transactions (store-db.ts). The engine opens a transaction, applies a
// batch of requests through the tables, commits once, and only then answers (group commit).
import type { StateStore } from "./store-api.ts";
import { SqliteCallbacks, SqliteListeners } from "./store-awaiting.ts";
import { SqliteDatabase, type StoreOptions } from "./store-db.ts";
import { SqlitePromises, indexedTags } from "./store-promises.ts";
import { asText, json } from "./store-rows.ts";
import { SqliteSchedules } from "./store-schedules.ts";
import { SqliteTasks } from "./store-tasks.ts";
import { SqliteTimeouts } from "./store-timeouts.ts";
import type { DurableCallback } from "./wal-sync.ts";

export { IncompatibleStore } from "./store-schema.ts";
export type { StoreOptions } from "./store-db.ts";

export interface StoreStats {
  pendingPromises: number;
  pendingTasks: number;
  acquiredTasks: number;
  /** Commits that wrote something. */
  commits: number;
  /** fsyncs of the write-ahead log (none with --sync normal or in memory). */
  fsyncs: number;
  fsyncSeconds: number;
}

export class SqliteStore implements StateStore {
  readonly #db: SqliteDatabase;
  readonly promises: SqlitePromises;
  readonly tasks: SqliteTasks;
  readonly callbacks: SqliteCallbacks;
  readonly listeners: SqliteListeners;
  readonly schedules: SqliteSchedules;
  readonly timeouts: SqliteTimeouts;

  constructor(options: StoreOptions) {
    this.#db = new SqliteDatabase(options);
    this.promises = new SqlitePromises(this.#db);
    this.tasks = new SqliteTasks(this.#db);
    this.callbacks = new SqliteCallbacks(this.#db);
    this.listeners = new SqliteListeners(this.#db);
    this.schedules = new SqliteSchedules(this.#db);
    this.timeouts = new SqliteTimeouts(this.#db);
  }

  /** Closes the background checkpointer first, so this last connection folds and removes the log. */
  close(): Promise<void> {
    return this.#db.close();
  }

  /** Health probe: a trivial query answers. */
  ping(): boolean {
    return this.#db.stmt("SELECT 1 AS ok").get()?.["ok"] === 1;
  }

  begin(): void {
    this.promises.forget();
    this.#db.begin();
  }
  /** Commits; returns whether the transaction changed any row (a write undone still counts). */
  commit(): boolean {
    this.promises.forget();
    return this.#db.commit();
  }
  /**
   * Calls `done` once what is committed is as durable as the `sync` option asks. A commit
   * that wrote nothing waits only for the syncs of earlier commits, which its reads may show.
   */
  whenDurable(done: DurableCallback, wrote = true): void {
    this.#db.whenDurable(done, wrote);
  }
  /** Makes every commit durable now, on this thread, answering what waits (at shutdown). */
  syncNow(): void {
    this.#db.syncNow();
  }
  rollback(): void {
    this.promises.forget();
    this.#db.rollback();
  }
  /** Runs `fn` so that a throw undoes only its own writes, not the rest of the batch. */
  savepoint<T>(fn: () => T): T {
    return this.#db.savepoint(fn, () => this.promises.forget());
  }

  /**
   * Pending tasks routed to a group and due at `now`, oldest first: offered again when a member
   * connects.
   */
  pendingTasksOfGroup(
    group: string,
    limit: number,
    now: number,
  ): { id: string; version: number; address: string }[] {
    return this.tasks.pendingOfGroup(group, limit, now);
  }

  /** Whether any deadline was set or removed since the last call; resets the answer. */
  takeTimeoutsChanged(): boolean {
    return this.timeouts.takeChanged();
  }

  /** The earliest deadline of any kind, found through the three indexes. */
  nextTimeoutAt(): number | undefined {
    return this.timeouts.nextAt();
  }

  /**
   * Deletes up to `limit` promises settled before `cutoff`, with their tasks and listeners,
   * oldest first. Returns how many went.
   */
  deleteSettledBefore(cutoff: number, limit: number): number {
    const db = this.#db;
    const ids = db
      .stmt(
        "SELECT id, tags FROM promises WHERE settled_at IS NOT NULL AND settled_at < ? ORDER BY settled_at LIMIT ?",
      )
      .all(cutoff, limit)
      .map((row) => ({ id: asText(row["id"]), tags: json<Record<string, string>>(row["tags"]) }));
    this.promises.forget();
    for (const { id, tags } of ids) {
      for (const [key, value] of indexedTags(tags))
        db.stmt("DELETE FROM promise_tags WHERE key = ? AND value = ? AND id = ?").run(
          key,
          String(value),
          id,
        );
      db.stmt("DELETE FROM promises WHERE id = ?").run(id);
      db.stmt("DELETE FROM tasks WHERE id = ?").run(id);
      db.stmt("DELETE FROM task_timeouts WHERE id = ?").run(id);
      db.stmt("DELETE FROM callbacks WHERE awaited = ? OR awaiter = ?").run(id, id);
      db.stmt("DELETE FROM listeners WHERE awaited = ?").run(id);
    }
    return ids.length;
  }

  /** What `/metrics` shows of the store: pending work, commits and the log's fsyncs. */
  stats(): StoreStats {
    return { ...this.counts(), ...this.#db.durability() };
  }

  /** How much is pending of each kind: the benchmark checks its preload with it. */
  counts(): { pendingPromises: number; pendingTasks: number; acquiredTasks: number } {
    const count = (sql: string): number => Number(this.#db.stmt(sql).get()?.["n"] ?? 0);
    return {
      pendingPromises: count("SELECT COUNT(*) AS n FROM promises WHERE state = 'pending'"),
      pendingTasks: count("SELECT COUNT(*) AS n FROM tasks WHERE state = 'pending'"),
      acquiredTasks: count("SELECT COUNT(*) AS n FROM tasks WHERE state = 'acquired'"),
    };
  }
}
