// The three deadline tables (promise timeouts, task leases and retries, schedule runs), each
// indexed on its deadline so that what is due, and the earliest of all, cost an index probe.
import type { Due, TaskTimeoutType, TimeoutStore } from "./store-api.ts";
import type { SqliteDatabase } from "./store-db.ts";
import { asText } from "./store-rows.ts";

export class SqliteTimeouts implements TimeoutStore {
  readonly #db: SqliteDatabase;
  /** Whether a timeout was set or deleted since `takeChanged` last asked. */
  #changed = false;

  constructor(db: SqliteDatabase) {
    this.#db = db;
  }

  setPromise(id: string, timeout: number): void {
    this.#changed = true;
    this.#db
      .stmt("INSERT OR REPLACE INTO promise_timeouts (id, timeout) VALUES (?, ?)")
      .run(id, timeout);
  }
  deletePromise(id: string): void {
    this.#changed = true;
    this.#db.stmt("DELETE FROM promise_timeouts WHERE id = ?").run(id);
  }
  duePromises(now: number, limit: number): Due[] {
    return this.#due("promise_timeouts", now, limit);
  }

  setTask(id: string, type: TaskTimeoutType, timeout: number): void {
    this.#changed = true;
    this.#db
      .stmt("INSERT OR REPLACE INTO task_timeouts (id, type, timeout) VALUES (?, ?, ?)")
      .run(id, type, timeout);
  }
  deleteTask(id: string): void {
    this.#changed = true;
    this.#db.stmt("DELETE FROM task_timeouts WHERE id = ?").run(id);
  }
  taskType(id: string): TaskTimeoutType | undefined {
    const row = this.#db.stmt("SELECT type FROM task_timeouts WHERE id = ?").get(id);
    return row ? (Number(row["type"]) === 1 ? 1 : 0) : undefined;
  }
  dueTasks(now: number, limit: number): (Due & { type: TaskTimeoutType })[] {
    return this.#db
      .stmt(
        "SELECT id, type, timeout FROM task_timeouts WHERE timeout <= ? ORDER BY timeout LIMIT ?",
      )
      .all(now, limit)
      .map((row) => ({
        id: asText(row["id"]),
        type: Number(row["type"]) === 1 ? 1 : 0,
        timeout: Number(row["timeout"]),
      }));
  }

  setSchedule(id: string, timeout: number): void {
    this.#changed = true;
    this.#db
      .stmt("INSERT OR REPLACE INTO schedule_timeouts (id, timeout) VALUES (?, ?)")
      .run(id, timeout);
  }
  deleteSchedule(id: string): void {
    this.#changed = true;
    this.#db.stmt("DELETE FROM schedule_timeouts WHERE id = ?").run(id);
  }
  ofSchedule(id: string): number | undefined {
    const row = this.#db.stmt("SELECT timeout FROM schedule_timeouts WHERE id = ?").get(id);
    return row ? Number(row["timeout"]) : undefined;
  }
  dueSchedules(now: number, limit: number): Due[] {
    return this.#due("schedule_timeouts", now, limit);
  }

  #due(table: string, now: number, limit: number): Due[] {
    return this.#db
      .stmt(`SELECT id, timeout FROM ${table} WHERE timeout <= ? ORDER BY timeout LIMIT ?`)
      .all(now, limit)
      .map((row) => ({ id: asText(row["id"]), timeout: Number(row["timeout"]) }));
  }

  /** Whether any deadline was set or removed since the last call; resets the answer. */
  takeChanged(): boolean {
    const changed = this.#changed;
    this.#changed = false;
    return changed;
  }

  /** The earliest deadline of any kind, found through the three indexes. */
  nextAt(): number | undefined {
    const row = this.#db
      .stmt(
        `SELECT MIN(t) AS next FROM (
         SELECT MIN(timeout) AS t FROM promise_timeouts
         UNION ALL SELECT MIN(timeout) FROM task_timeouts
         UNION ALL SELECT MIN(timeout) FROM schedule_timeouts)`,
      )
      .get();
    const next = row?.["next"];
    return next === null || next === undefined ? undefined : Number(next);
  }
}
