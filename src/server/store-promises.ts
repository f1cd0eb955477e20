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
    // Only the conditions a query has are written, so that SQLite walks the state index in id
    // order where a state is asked for: with `? IS NULL OR state = ?` it scanned every promise
    // (8x slower for a page of the pending among 440,000).
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.state !== undefined) {
      where.push("state = ?");
      args.push(q.state);
    }
    if (q.tags !== undefined) {
      const tags = JSON.stringify(q.tags);
      where.push(TAGS_MATCH("tags"));
      args.push(tags, tags);
    }
    if (q.cursor !== undefined) {
      where.push("id > ?");
      args.push(q.cursor);
    }
    const condition = where.length === 0 ? "" : `WHERE ${where.join(" AND ")}`;
    return this.#db
      .stmt(`SELECT * FROM promises ${condition} ORDER BY id LIMIT ?`)
      .all(...args, q.limit)
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
