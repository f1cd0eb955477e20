// The promises table.
import type { PromiseState, Value } from "./protocol.ts";
import type { EncodedPromise, PageQuery, PromiseStore, StoredPromise } from "./store-api.ts";
import type { SqliteDatabase } from "./store-db.ts";
import { type Row, TAGS_MATCH, asText, json } from "./store-rows.ts";
import { UNINDEXED_TAG_PREFIX } from "./store-schema.ts";

/** The tags of `tags` that `promise_tags` holds. */
export function indexedTags(tags: Record<string, string>): [string, string][] {
  return Object.entries(tags).filter(([key]) => !key.startsWith(UNINDEXED_TAG_PREFIX));
}

/**
 * A pending search by a tag fewer promises than this carry reads those promises, not every
 * pending one: counting up to it costs a few hundred microseconds.
 */
const RARE_TAG_ROWS = 1_000;

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
    // An upsert of a promise already stored finds its tags there already.
    const addTag = this.#db.stmt(
      "INSERT OR IGNORE INTO promise_tags (key, value, id) VALUES (?, ?, ?)",
    );
    for (const [key, value] of indexedTags(p.tags)) addTag.run(key, String(value), p.id);
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
    return this.#searchRows(q).map(toPromise);
  }

  searchEncoded(
    q: PageQuery & { state?: PromiseState; tags?: Record<string, string> },
  ): EncodedPromise[] {
    return this.#searchRows(q).map(toEncodedPromise);
  }

  /** Whether fewer than RARE_TAG_ROWS promises carry `tag`: counting stops there. */
  #isRare(tag: [string, string] | undefined): boolean {
    if (!tag) return false;
    const row = this.#db
      .stmt(
        "SELECT count(*) AS n FROM (SELECT 1 FROM promise_tags WHERE key = ? AND value = ? LIMIT ?)",
      )
      .get(tag[0], String(tag[1]), RARE_TAG_ROWS);
    return Number(row?.["n"] ?? RARE_TAG_ROWS) < RARE_TAG_ROWS;
  }

  #searchRows(q: PageQuery & { state?: PromiseState; tags?: Record<string, string> }): Row[] {
    // Only the conditions a query has are written, so that SQLite walks the state index in id
    // order where a state is asked for: with `? IS NULL OR state = ?` it scanned every promise
    // (8x slower for a page of the pending among 440,000).
    const where: string[] = [];
    const args: (string | number)[] = [];
    const tags = q.tags ?? {};
    const indexed = indexedTags(tags);
    const unindexed = Object.fromEntries(
      Object.entries(tags).filter(([key]) => key.startsWith(UNINDEXED_TAG_PREFIX)),
    );
    // Without a state, or with one of the settled states (most of a store), the first indexed
    // tag leads: only the promises that carry it are read. Pending ones are fewer: their index
    // leads, and each tag is a look-up in promise_tags (json_each on every row was 3x slower);
    // unless the tag itself is rarer still (a sweep among ten thousand queued jobs).
    const tagLeads = indexed.length > 0 && (q.state !== "pending" || this.#isRare(indexed[0]));
    const lead = tagLeads ? indexed[0] : undefined;
    if (lead) args.push(lead[0], String(lead[1]));
    if (q.state !== undefined) {
      where.push("p.state = ?");
      args.push(q.state);
    }
    for (const [key, value] of tagLeads ? indexed.slice(1) : indexed) {
      where.push(
        "EXISTS (SELECT 1 FROM promise_tags o WHERE o.key = ? AND o.value = ? AND o.id = p.id)",
      );
      args.push(key, String(value));
    }
    if (Object.keys(unindexed).length > 0) {
      const json = JSON.stringify(unindexed);
      where.push(TAGS_MATCH("p.tags"));
      args.push(json, json);
    }
    if (q.cursor !== undefined) {
      where.push(lead ? "t.id > ?" : "p.id > ?");
      args.push(q.cursor);
    }
    const condition = where.length === 0 ? "" : ` ${lead ? "AND" : "WHERE"} ${where.join(" AND ")}`;
    // CROSS JOIN keeps promise_tags the outer loop: its key orders the page by id.
    const sql = lead
      ? `SELECT p.* FROM promise_tags t CROSS JOIN promises p ON p.id = t.id WHERE t.key = ? AND t.value = ?${condition} ORDER BY t.id LIMIT ?`
      : `SELECT p.* FROM promises p${condition} ORDER BY p.id LIMIT ?`;
    return this.#db.stmt(sql).all(...args, q.limit);
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

/**
 * A row as `toPromiseRecord(toPromise(row))` encodes, in its key order: param, value and tags
 * are stored as the JSON text `put` wrote, so they go out as they are. A page of a thousand
 * jobs' promises was a third of a search's time parsed and encoded again.
 */
function toEncodedPromise(row: Row): EncodedPromise {
  const id = asText(row["id"]);
  const settledAt = row["settled_at"];
  const json =
    `{"id":${JSON.stringify(id)},"state":${JSON.stringify(asText(row["state"]))}` +
    `,"param":${asText(row["param"])},"value":${asText(row["value"])},"tags":${asText(row["tags"])}` +
    `,"timeoutAt":${JSON.stringify(Number(row["timeout_at"]))}` +
    `,"createdAt":${JSON.stringify(Number(row["created_at"]))}` +
    `${settledAt === null ? "" : `,"settledAt":${JSON.stringify(Number(settledAt))}`}}`;
  return { id, json };
}
