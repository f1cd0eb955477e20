// The schedules table; a schedule's next run lives among the timeouts (store-timeouts.ts).
import type { Value } from "./protocol.ts";
import type { PageQuery, ScheduleStore, StoredSchedule } from "./store-api.ts";
import type { SqliteDatabase } from "./store-db.ts";
import { type Row, TAGS_MATCH, asText, json } from "./store-rows.ts";

export class SqliteSchedules implements ScheduleStore {
  readonly #db: SqliteDatabase;

  constructor(db: SqliteDatabase) {
    this.#db = db;
  }

  get(id: string): StoredSchedule | undefined {
    const row = this.#db.stmt("SELECT * FROM schedules WHERE id = ?").get(id);
    return row ? toSchedule(row) : undefined;
  }
  put(s: StoredSchedule): void {
    this.#db
      .stmt(
        `INSERT INTO schedules (id, cron, promise_id, promise_timeout, promise_param, promise_tags, created_at, last_run_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET last_run_at = excluded.last_run_at`,
      )
      .run(
        s.id,
        s.cron,
        s.promiseId,
        s.promiseTimeout,
        JSON.stringify(s.promiseParam),
        JSON.stringify(s.promiseTags),
        s.createdAt,
        s.lastRunAt ?? null,
      );
  }
  delete(id: string): void {
    this.#db.stmt("DELETE FROM schedules WHERE id = ?").run(id);
  }
  search(q: PageQuery & { tags?: Record<string, string> }): StoredSchedule[] {
    const tags = q.tags ? JSON.stringify(q.tags) : null;
    return this.#db
      .stmt(
        `SELECT * FROM schedules WHERE ${TAGS_MATCH("promise_tags")} AND (? IS NULL OR id > ?) ORDER BY id LIMIT ?`,
      )
      .all(tags, tags, q.cursor ?? null, q.cursor ?? null, q.limit)
      .map(toSchedule);
  }
}

function toSchedule(row: Row): StoredSchedule {
  const schedule: StoredSchedule = {
    id: asText(row["id"]),
    cron: asText(row["cron"]),
    promiseId: asText(row["promise_id"]),
    promiseTimeout: Number(row["promise_timeout"]),
    promiseParam: json<Value>(row["promise_param"]),
    promiseTags: json<Record<string, string>>(row["promise_tags"]),
    createdAt: Number(row["created_at"]),
  };
  if (row["last_run_at"] !== null) schedule.lastRunAt = Number(row["last_run_at"]);
  return schedule;
}
