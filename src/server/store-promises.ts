// The promises table.
import type { PromiseState, Value } from "./protocol.ts";
import type { PageQuery, PromiseStore, StoredPromise } from "./store-api.ts";
import type { SqliteDatabase } from "./store-db.ts";
import { type Row, TAGS_MATCH, asText, json } from "./store-rows.ts";

export class SqlitePromises implements PromiseStore {
  readonly #db: SqliteDatabase;
  /**
   * Promises read or written in the open transaction (null: known absent). A request reads
   * the same promise two or three times; the cache also tells an update from an insert.
   * Forgotten whenever the transaction ends or a savepoint is undone.
   */
  readonly #cache = new Map<string, StoredPromise | null>();

  constructor(db: SqliteDatabase) {
    this.#db = db;
  }

  /** Drops what the cache holds: the rows may no longer be what it says. */
  forget(): void {
    this.#cache.clear();
  }

  get(id: string): StoredPromise | undefined {
    const cached = this.#cache.get(id);
    if (cached !== undefined) return cached ?? undefined;
    const row = this.#db.stmt("SELECT * FROM promises WHERE id = ?").get(id);
    const promise = row ? toPromise(row) : undefined;
    if (this.#db.isTransaction) this.#cache.set(id, promise ?? null);
    return promise;
  }

  put(p: StoredPromise): void {
    const stored = this.#cache.get(p.id);
    if (this.#db.isTransaction) this.#cache.set(p.id, p);
    if (stored) {
      // Known to exist: only what settling changes is written; param and tags (for modulate,
      // the whole script) are never serialised again.
      this.#db
        .stmt("UPDATE promises SET state = ?, value = ?, settled_at = ? WHERE id = ?")
        .run(p.state, JSON.stringify(p.value), p.settledAt, p.id);
      return;
    }
    this.#db
      .stmt(
        `INSERT INTO promises (id, state, param, value, tags, timeout_at, created_at, settled_at, branch)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET state = excluded.state, value = excluded.value,
         settled_at = excluded.settled_at`,
      )
      .run(
        p.id,
        p.state,
        JSON.stringify(p.param),
        JSON.stringify(p.value),
        JSON.stringify(p.tags),
        p.timeoutAt,
        p.createdAt,
        p.settledAt,
        p.tags["resonate:branch"] ?? null,
      );
  }

  branch(branch: string, exceptId: string): StoredPromise[] {
    return (
      this.#db
        // In id order, as the real server lists a preload (persistence_sqlite.rs:1205-1208).
        .stmt("SELECT * FROM promises WHERE branch = ? AND id != ? ORDER BY id")
        .all(branch, exceptId)
        .map(toPromise)
    );
  }

  search(q: PageQuery & { state?: PromiseState; tags?: Record<string, string> }): StoredPromise[] {
    const tags = q.tags ? JSON.stringify(q.tags) : null;
    return this.#db
      .stmt(
        `SELECT * FROM promises WHERE (? IS NULL OR state = ?) AND ${TAGS_MATCH("tags")}
       AND (? IS NULL OR id > ?) ORDER BY id LIMIT ?`,
      )
      .all(
        q.state ?? null,
        q.state ?? null,
        tags,
        tags,
        q.cursor ?? null,
        q.cursor ?? null,
        q.limit,
      )
      .map(toPromise);
  }
}

function toPromise(row: Row): StoredPromise {
  return {
    id: asText(row["id"]),
    state: asText(row["state"]) as PromiseState,
    param: json<Value>(row["param"]),
    value: json<Value>(row["value"]),
    tags: json<Record<string, string>>(row["tags"]),
    timeoutAt: Number(row["timeout_at"]),
    createdAt: Number(row["created_at"]),
    settledAt: row["settled_at"] === null ? null : Number(row["settled_at"]),
  };
}
