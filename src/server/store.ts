// node:sqlite persistence of the server's state (WAL). One connection, used synchronously
// on the event loop: the engine opens a transaction, applies a batch of requests through the
// StateStore methods, commits once, and only then answers (group commit).
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { Checkpointer } from "./checkpointer.ts";
import { type DurableCallback, WalSync } from "./wal-sync.ts";
import { parsePollAddress } from "./address.ts";
import type { PromiseState, TaskState, Value } from "./protocol.ts";
import type {
  Due,
  PageQuery,
  StateStore,
  StoredPromise,
  StoredSchedule,
  StoredTask,
  TaskTimeoutType,
} from "./store-api.ts";

/** A store written by a modulate whose tables have another shape. */
export class IncompatibleStore extends Error {
  override readonly name = "IncompatibleStore";
}

/** Raised whenever the tables change shape; a store of another version is refused. */
const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS promises (
  id TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  param TEXT NOT NULL,
  value TEXT NOT NULL,
  tags TEXT NOT NULL,
  timeout_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  settled_at INTEGER,
  branch TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS promises_branch ON promises(branch) WHERE branch IS NOT NULL;
CREATE INDEX IF NOT EXISTS promises_state ON promises(state, id);
CREATE INDEX IF NOT EXISTS promises_settled_at ON promises(settled_at) WHERE settled_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS tasks (
  id TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  version INTEGER NOT NULL,
  pid TEXT,
  ttl INTEGER,
  resumes TEXT NOT NULL,
  address TEXT,
  grp TEXT,
  seq INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tasks_state ON tasks(state, id);
CREATE INDEX IF NOT EXISTS tasks_pending_group ON tasks(grp) WHERE state = 'pending';
CREATE TABLE IF NOT EXISTS callbacks (
  awaited TEXT NOT NULL,
  awaiter TEXT NOT NULL,
  UNIQUE (awaited, awaiter)
);
CREATE INDEX IF NOT EXISTS callbacks_awaiter ON callbacks(awaiter);
CREATE TABLE IF NOT EXISTS listeners (
  awaited TEXT NOT NULL,
  address TEXT NOT NULL,
  UNIQUE (awaited, address)
);
CREATE TABLE IF NOT EXISTS schedules (
  id TEXT PRIMARY KEY,
  cron TEXT NOT NULL,
  promise_id TEXT NOT NULL,
  promise_timeout INTEGER NOT NULL,
  promise_param TEXT NOT NULL,
  promise_tags TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_run_at INTEGER
);
CREATE TABLE IF NOT EXISTS promise_timeouts (id TEXT PRIMARY KEY, timeout INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS promise_timeouts_due ON promise_timeouts(timeout);
CREATE TABLE IF NOT EXISTS task_timeouts (
  id TEXT PRIMARY KEY,
  type INTEGER NOT NULL,
  timeout INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS task_timeouts_due ON task_timeouts(timeout);
CREATE TABLE IF NOT EXISTS schedule_timeouts (id TEXT PRIMARY KEY, timeout INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS schedule_timeouts_due ON schedule_timeouts(timeout);
`;

/** The tag filter of a search: every given key/value pair must be among the row's tags. */
const TAGS_MATCH = (column: string): string =>
  `(? IS NULL OR NOT EXISTS (SELECT key, value FROM json_each(?) EXCEPT SELECT key, value FROM json_each(${column})))`;

type Row = Record<string, SQLInputValue>;

export interface StoreOptions {
  /** Database file, or ":memory:". */
  path: string;
  /**
   * "full": a commit counts as done once the WAL is synced (survives power loss); "normal":
   * once SQLite has it (survives a crash of the process only). Default "full".
   */
  sync?: "full" | "normal";
  /** Told of failures off the request path (the background checkpointer). */
  onError?: (error: unknown) => void;
}

export class SqliteStore implements StateStore {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  /**
   * Promises read or written in the open transaction (null: known absent). A request reads
   * the same promise two or three times; the cache also tells an update from an insert.
   * Cleared whenever the transaction ends or a savepoint is undone.
   */
  readonly #promises = new Map<string, StoredPromise | null>();
  /** Whether a timeout was set or deleted since `takeTimeoutsChanged` last asked. */
  #timeoutsChanged = false;
  /** `total_changes()` when the open transaction began. */
  #changesAtBegin = 0;
  /** Insertion order of tasks (the tables have no rowid): the oldest are offered first. */
  #nextTaskSeq: number;
  readonly #checkpointer: Checkpointer | undefined;
  readonly #walSync: WalSync | undefined;

  constructor(options: StoreOptions) {
    this.#db = new DatabaseSync(options.path);
    this.#db.exec("PRAGMA journal_mode = WAL");
    // "full" is kept by WalSync, off the event loop, rather than by SQLite inside COMMIT.
    this.#db.exec("PRAGMA synchronous = NORMAL");
    this.#db.exec("PRAGMA busy_timeout = 5000");
    this.#checkSchemaVersion(options.path);
    this.#db.exec(SCHEMA);
    this.#db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    this.#checkpointer = this.#startCheckpointer(options);
    this.#walSync =
      options.sync === "normal" || this.#checkpointer === undefined
        ? undefined
        : new WalSync(`${options.path}-wal`);
    this.#nextTaskSeq = Number(
      this.#stmt("SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM tasks").get()?.["next"] ?? 1,
    );
  }

  #checkSchemaVersion(path: string): void {
    const version = Number(this.#db.prepare("PRAGMA user_version").get()?.["user_version"] ?? 0);
    const hasTables =
      this.#db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'promises'").get() !== undefined;
    if (version === SCHEMA_VERSION || (version === 0 && !hasTables)) return;
    this.#db.close();
    throw new IncompatibleStore(
      `the store ${path} has schema version ${version}, this modulate reads version ${SCHEMA_VERSION}: ` +
        "use a modulate of the same version, or move the store aside and start afresh",
    );
  }

  /** Closes the background checkpointer first, so this last connection folds and removes the log. */
  async close(): Promise<void> {
    this.#walSync?.close();
    await this.#checkpointer?.stop();
    this.#statements.clear();
    if (this.#db.isOpen) this.#db.close();
  }

  #startCheckpointer(options: StoreOptions): Checkpointer | undefined {
    if (options.path === ":memory:" || options.path === "") return undefined;
    this.#db.exec("PRAGMA wal_autocheckpoint = 0");
    return new Checkpointer({
      path: options.path,
      foldRemainder: () => {
        if (this.#db.isOpen && !this.#db.isTransaction)
          this.#db.exec("PRAGMA wal_checkpoint(PASSIVE)");
      },
      onFailed: (error) => {
        options.onError?.(error);
        // SQLite's own checkpoints inside COMMIT again: slower, but the log stays bounded.
        if (this.#db.isOpen) this.#db.exec("PRAGMA wal_autocheckpoint = 1000");
      },
    });
  }

  /** Health probe: a trivial query answers. */
  ping(): boolean {
    return this.#stmt("SELECT 1 AS ok").get()?.["ok"] === 1;
  }

  begin(): void {
    this.#promises.clear();
    this.#db.exec("BEGIN IMMEDIATE");
    this.#changesAtBegin = this.#totalChanges();
  }
  /** Commits; returns whether the transaction changed any row (a write undone still counts). */
  commit(): boolean {
    this.#promises.clear();
    const wrote = this.#totalChanges() !== this.#changesAtBegin;
    this.#db.exec("COMMIT");
    if (wrote) this.#checkpointer?.noteCommit();
    return wrote;
  }
  /**
   * Calls `done` once what is committed is as durable as the `sync` option asks. A commit
   * that wrote nothing waits only for the syncs of earlier commits, which its reads may show.
   */
  whenDurable(done: DurableCallback, wrote = true): void {
    if (!this.#walSync) done();
    else if (wrote) this.#walSync.afterCommit(done);
    else this.#walSync.afterRead(done);
  }
  /** Makes every commit durable now, on this thread, answering what waits (at shutdown). */
  syncNow(): void {
    this.#walSync?.syncNow();
  }
  rollback(): void {
    this.#promises.clear();
    if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
  }
  /** Runs `fn` so that a throw undoes only its own writes, not the rest of the batch. */
  savepoint<T>(fn: () => T): T {
    this.#db.exec("SAVEPOINT request");
    try {
      const result = fn();
      this.#db.exec("RELEASE request");
      return result;
    } catch (error) {
      this.#promises.clear();
      this.#db.exec("ROLLBACK TO request");
      this.#db.exec("RELEASE request");
      throw error;
    }
  }

  /** Rows changed by this connection since it opened (SQLite's own count). */
  #totalChanges(): number {
    return Number(this.#stmt("SELECT total_changes() AS n").get()?.["n"] ?? 0);
  }

  #stmt(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  // ---------------------------------------------------------------------------------------
  // Promises

  getPromise(id: string): StoredPromise | undefined {
    const cached = this.#promises.get(id);
    if (cached !== undefined) return cached ?? undefined;
    const row = this.#stmt("SELECT * FROM promises WHERE id = ?").get(id);
    const promise = row ? toPromise(row) : undefined;
    if (this.#db.isTransaction) this.#promises.set(id, promise ?? null);
    return promise;
  }

  putPromise(p: StoredPromise): void {
    const stored = this.#promises.get(p.id);
    if (this.#db.isTransaction) this.#promises.set(p.id, p);
    if (stored) {
      // Known to exist: only what settling changes is written; param and tags (for modulate,
      // the whole script) are never serialised again.
      this.#stmt("UPDATE promises SET state = ?, value = ?, settled_at = ? WHERE id = ?").run(
        p.state,
        JSON.stringify(p.value),
        p.settledAt,
        p.id,
      );
      return;
    }
    this.#stmt(
      `INSERT INTO promises (id, state, param, value, tags, timeout_at, created_at, settled_at, branch)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET state = excluded.state, value = excluded.value,
         settled_at = excluded.settled_at`,
    ).run(
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

  branchPromises(branch: string, exceptId: string): StoredPromise[] {
    return this.#stmt("SELECT * FROM promises WHERE branch = ? AND id != ? ORDER BY created_at, id")
      .all(branch, exceptId)
      .map(toPromise);
  }

  searchPromises(
    q: PageQuery & { state?: PromiseState; tags?: Record<string, string> },
  ): StoredPromise[] {
    const tags = q.tags ? JSON.stringify(q.tags) : null;
    return this.#stmt(
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

  // ---------------------------------------------------------------------------------------
  // Tasks

  getTask(id: string): StoredTask | undefined {
    const row = this.#stmt("SELECT * FROM tasks WHERE id = ?").get(id);
    return row ? toTask(row) : undefined;
  }

  putTask(t: StoredTask, address?: string): void {
    const group = address === undefined ? null : (parsePollAddress(address)?.group ?? null);
    this.#stmt(
      `INSERT INTO tasks (id, state, version, pid, ttl, resumes, address, grp, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET state = excluded.state, version = excluded.version,
         pid = excluded.pid, ttl = excluded.ttl, resumes = excluded.resumes,
         address = COALESCE(excluded.address, tasks.address), grp = COALESCE(excluded.grp, tasks.grp)`,
    ).run(
      t.id,
      t.state,
      t.version,
      t.pid ?? null,
      t.ttl ?? null,
      JSON.stringify(t.resumes),
      address ?? null,
      group,
      this.#nextTaskSeq++,
    );
  }

  searchTasks(q: PageQuery & { state?: TaskState }): StoredTask[] {
    return this.#stmt(
      "SELECT * FROM tasks WHERE (? IS NULL OR state = ?) AND (? IS NULL OR id > ?) ORDER BY id LIMIT ?",
    )
      .all(q.state ?? null, q.state ?? null, q.cursor ?? null, q.cursor ?? null, q.limit)
      .map(toTask);
  }

  /** Pending tasks routed to a group, oldest first: offered again when a member connects. */
  pendingTasksOfGroup(
    group: string,
    limit: number,
  ): { id: string; version: number; address: string }[] {
    return this.#stmt(
      "SELECT id, version, address FROM tasks WHERE state = 'pending' AND grp = ? ORDER BY seq LIMIT ?",
    )
      .all(group, limit)
      .map((row) => ({
        id: asText(row["id"]),
        version: Number(row["version"]),
        address: asText(row["address"]),
      }));
  }

  // ---------------------------------------------------------------------------------------
  // Callbacks and listeners

  addCallback(awaited: string, awaiter: string): void {
    this.#stmt("INSERT OR IGNORE INTO callbacks (awaited, awaiter) VALUES (?, ?)").run(
      awaited,
      awaiter,
    );
  }
  callbacksOf(awaited: string): string[] {
    return this.#stmt("SELECT awaiter FROM callbacks WHERE awaited = ? ORDER BY rowid")
      .all(awaited)
      .map((row) => asText(row["awaiter"]));
  }
  deleteCallbacksOf(awaited: string): void {
    this.#stmt("DELETE FROM callbacks WHERE awaited = ?").run(awaited);
  }
  deleteCallbacksByAwaiter(awaiter: string): void {
    this.#stmt("DELETE FROM callbacks WHERE awaiter = ?").run(awaiter);
  }

  addListener(awaited: string, address: string): void {
    this.#stmt("INSERT OR IGNORE INTO listeners (awaited, address) VALUES (?, ?)").run(
      awaited,
      address,
    );
  }
  listenersOf(awaited: string): string[] {
    return this.#stmt("SELECT address FROM listeners WHERE awaited = ? ORDER BY rowid")
      .all(awaited)
      .map((row) => asText(row["address"]));
  }
  deleteListenersOf(awaited: string): void {
    this.#stmt("DELETE FROM listeners WHERE awaited = ?").run(awaited);
  }

  // ---------------------------------------------------------------------------------------
  // Schedules

  getSchedule(id: string): StoredSchedule | undefined {
    const row = this.#stmt("SELECT * FROM schedules WHERE id = ?").get(id);
    return row ? toSchedule(row) : undefined;
  }
  putSchedule(s: StoredSchedule): void {
    this.#stmt(
      `INSERT INTO schedules (id, cron, promise_id, promise_timeout, promise_param, promise_tags, created_at, last_run_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET last_run_at = excluded.last_run_at`,
    ).run(
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
  deleteSchedule(id: string): void {
    this.#stmt("DELETE FROM schedules WHERE id = ?").run(id);
  }
  searchSchedules(q: PageQuery & { tags?: Record<string, string> }): StoredSchedule[] {
    const tags = q.tags ? JSON.stringify(q.tags) : null;
    return this.#stmt(
      `SELECT * FROM schedules WHERE ${TAGS_MATCH("promise_tags")} AND (? IS NULL OR id > ?) ORDER BY id LIMIT ?`,
    )
      .all(tags, tags, q.cursor ?? null, q.cursor ?? null, q.limit)
      .map(toSchedule);
  }

  // ---------------------------------------------------------------------------------------
  // Timeouts

  setPromiseTimeout(id: string, timeout: number): void {
    this.#timeoutsChanged = true;
    this.#stmt("INSERT OR REPLACE INTO promise_timeouts (id, timeout) VALUES (?, ?)").run(
      id,
      timeout,
    );
  }
  deletePromiseTimeout(id: string): void {
    this.#timeoutsChanged = true;
    this.#stmt("DELETE FROM promise_timeouts WHERE id = ?").run(id);
  }
  duePromiseTimeouts(now: number, limit: number): Due[] {
    return this.#due("promise_timeouts", now, limit);
  }

  setTaskTimeout(id: string, type: TaskTimeoutType, timeout: number): void {
    this.#timeoutsChanged = true;
    this.#stmt("INSERT OR REPLACE INTO task_timeouts (id, type, timeout) VALUES (?, ?, ?)").run(
      id,
      type,
      timeout,
    );
  }
  deleteTaskTimeout(id: string): void {
    this.#timeoutsChanged = true;
    this.#stmt("DELETE FROM task_timeouts WHERE id = ?").run(id);
  }
  taskTimeoutType(id: string): TaskTimeoutType | undefined {
    const row = this.#stmt("SELECT type FROM task_timeouts WHERE id = ?").get(id);
    return row ? (Number(row["type"]) === 1 ? 1 : 0) : undefined;
  }
  dueTaskTimeouts(now: number, limit: number): (Due & { type: TaskTimeoutType })[] {
    return this.#stmt(
      "SELECT id, type, timeout FROM task_timeouts WHERE timeout <= ? ORDER BY timeout LIMIT ?",
    )
      .all(now, limit)
      .map((row) => ({
        id: asText(row["id"]),
        type: Number(row["type"]) === 1 ? 1 : 0,
        timeout: Number(row["timeout"]),
      }));
  }

  setScheduleTimeout(id: string, timeout: number): void {
    this.#timeoutsChanged = true;
    this.#stmt("INSERT OR REPLACE INTO schedule_timeouts (id, timeout) VALUES (?, ?)").run(
      id,
      timeout,
    );
  }
  deleteScheduleTimeout(id: string): void {
    this.#timeoutsChanged = true;
    this.#stmt("DELETE FROM schedule_timeouts WHERE id = ?").run(id);
  }
  scheduleTimeout(id: string): number | undefined {
    const row = this.#stmt("SELECT timeout FROM schedule_timeouts WHERE id = ?").get(id);
    return row ? Number(row["timeout"]) : undefined;
  }
  dueScheduleTimeouts(now: number, limit: number): Due[] {
    return this.#due("schedule_timeouts", now, limit);
  }

  #due(table: string, now: number, limit: number): Due[] {
    return this.#stmt(
      `SELECT id, timeout FROM ${table} WHERE timeout <= ? ORDER BY timeout LIMIT ?`,
    )
      .all(now, limit)
      .map((row) => ({ id: asText(row["id"]), timeout: Number(row["timeout"]) }));
  }

  /** Whether any deadline was set or removed since the last call; resets the answer. */
  takeTimeoutsChanged(): boolean {
    const changed = this.#timeoutsChanged;
    this.#timeoutsChanged = false;
    return changed;
  }

  /** The earliest deadline of any kind, found through the three indexes. */
  nextTimeoutAt(): number | undefined {
    const row = this.#stmt(
      `SELECT MIN(t) AS next FROM (
         SELECT MIN(timeout) AS t FROM promise_timeouts
         UNION ALL SELECT MIN(timeout) FROM task_timeouts
         UNION ALL SELECT MIN(timeout) FROM schedule_timeouts)`,
    ).get();
    const next = row?.["next"];
    return next === null || next === undefined ? undefined : Number(next);
  }

  /**
   * Deletes up to `limit` promises settled before `cutoff`, with their tasks and listeners,
   * oldest first. Returns how many went.
   */
  deleteSettledBefore(cutoff: number, limit: number): number {
    const ids = this.#stmt(
      "SELECT id FROM promises WHERE settled_at IS NOT NULL AND settled_at < ? ORDER BY settled_at LIMIT ?",
    )
      .all(cutoff, limit)
      .map((row) => asText(row["id"]));
    this.#promises.clear();
    for (const id of ids) {
      this.#stmt("DELETE FROM promises WHERE id = ?").run(id);
      this.#stmt("DELETE FROM tasks WHERE id = ?").run(id);
      this.#stmt("DELETE FROM task_timeouts WHERE id = ?").run(id);
      this.#stmt("DELETE FROM callbacks WHERE awaited = ? OR awaiter = ?").run(id, id);
      this.#stmt("DELETE FROM listeners WHERE awaited = ?").run(id);
    }
    return ids.length;
  }

  /** How much is pending of each kind: the benchmark checks its preload with it. */
  counts(): { pendingPromises: number; pendingTasks: number; acquiredTasks: number } {
    const count = (sql: string): number => Number(this.#stmt(sql).get()?.["n"] ?? 0);
    return {
      pendingPromises: count("SELECT COUNT(*) AS n FROM promises WHERE state = 'pending'"),
      pendingTasks: count("SELECT COUNT(*) AS n FROM tasks WHERE state = 'pending'"),
      acquiredTasks: count("SELECT COUNT(*) AS n FROM tasks WHERE state = 'acquired'"),
    };
  }
}

/** Columns that hold text or numbers; a blob here would be a corrupt store. */
function asText(value: SQLInputValue): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "bigint") return value.toString();
  throw new Error(`store holds ${value === null ? "null" : "a blob"} where text was expected`);
}

function json<T>(value: SQLInputValue): T {
  return JSON.parse(asText(value)) as T;
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
