// The tasks table: each task beside its routing address and group, in the order of its writes.
import { parsePollAddress } from "./address.ts";
import type { TaskState } from "./protocol.ts";
import type { PageQuery, StoredTask, TaskStore } from "./store-api.ts";
import type { SqliteDatabase } from "./store-db.ts";
import { type Row, asText, json } from "./store-rows.ts";

export class SqliteTasks implements TaskStore {
  readonly #db: SqliteDatabase;
  /** Insertion order of tasks (the tables have no rowid): the oldest are offered first. */
  #nextSeq: number;

  constructor(db: SqliteDatabase) {
    this.#db = db;
    this.#nextSeq = Number(
      db.stmt("SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM tasks").get()?.["next"] ?? 1,
    );
  }

  get(id: string): StoredTask | undefined {
    const row = this.#db.stmt("SELECT * FROM tasks WHERE id = ?").get(id);
    return row ? toTask(row) : undefined;
  }

  put(t: StoredTask, address?: string): void {
    const group = address === undefined ? null : (parsePollAddress(address)?.group ?? null);
    this.#db
      .stmt(
        `INSERT INTO tasks (id, state, version, pid, ttl, resumes, address, grp, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET state = excluded.state, version = excluded.version,
         pid = excluded.pid, ttl = excluded.ttl, resumes = excluded.resumes,
         address = COALESCE(excluded.address, tasks.address), grp = COALESCE(excluded.grp, tasks.grp)`,
      )
      .run(
        t.id,
        t.state,
        t.version,
        t.pid ?? null,
        t.ttl ?? null,
        JSON.stringify(t.resumes),
        address ?? null,
        group,
        this.#nextSeq++,
      );
  }

  search(q: PageQuery & { state?: TaskState }): StoredTask[] {
    return this.#db
      .stmt(
        "SELECT * FROM tasks WHERE (? IS NULL OR state = ?) AND (? IS NULL OR id > ?) ORDER BY id LIMIT ?",
      )
      .all(q.state ?? null, q.state ?? null, q.cursor ?? null, q.cursor ?? null, q.limit)
      .map(toTask);
  }

  /** Pending tasks routed to a group, oldest first: offered again when a member connects. */
  /**
   * Pending tasks of a group that are due: a task deferred by its promise's `resonate:delay`
   * is not due before that moment, though pending.
   */
  pendingOfGroup(
    group: string,
    limit: number,
    now: number,
  ): { id: string; version: number; address: string }[] {
    return this.#db
      .stmt(
        `SELECT t.id, t.version, t.address FROM tasks t JOIN promises p ON p.id = t.id
         WHERE t.state = 'pending' AND t.grp = ?
           AND COALESCE(CAST(json_extract(p.tags, '$."resonate:delay"') AS INTEGER), 0) <= ?
         ORDER BY t.seq LIMIT ?`,
      )
      .all(group, now, limit)
      .map((row) => ({
        id: asText(row["id"]),
        version: Number(row["version"]),
        address: asText(row["address"]),
      }));
  }
}

function toTask(row: Row): StoredTask {
  const task: StoredTask = {
    id: asText(row["id"]),
    state: asText(row["state"]) as TaskState,
    version: Number(row["version"]),
    resumes: json<string[]>(row["resumes"]),
  };
  if (row["pid"] !== null) task.pid = asText(row["pid"]);
  if (row["ttl"] !== null) task.ttl = Number(row["ttl"]);
  return task;
}
