// The store's one SQLite connection (WAL), used synchronously on the event loop: transactions
// and savepoints, prepared statements, and when a commit is durable. The engine opens a
// transaction, applies a batch of requests, commits once, and only then answers (group
// commit). The tables (store-promises.ts and its siblings) run their SQL through it.
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { Checkpointer } from "./checkpointer.ts";
import { SCHEMA, SCHEMA_VERSION, checkSchemaVersion } from "./store-schema.ts";
import { type DurableCallback, WalSync } from "./wal-sync.ts";

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

export class SqliteDatabase {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  /** `total_changes()` when the open transaction began. */
  #changesAtBegin = 0;
  readonly #checkpointer: Checkpointer | undefined;
  readonly #walSync: WalSync | undefined;
  /** Commits that wrote something, since the connection opened (for `/metrics`). */
  #commits = 0;

  constructor(options: StoreOptions) {
    this.#db = new DatabaseSync(options.path);
    this.#db.exec("PRAGMA journal_mode = WAL");
    // "full" is kept by WalSync, off the event loop, rather than by SQLite inside COMMIT.
    this.#db.exec("PRAGMA synchronous = NORMAL");
    this.#db.exec("PRAGMA busy_timeout = 5000");
    // Savepoint and statement journals stay in memory. With the default, the journal of the
    // per-request savepoints (each page a request touched again after an earlier one in its
    // batch) went to a file under /var/tmp, created and unlinked about every 2-3 requests of
    // a job's task. Batches now run without those savepoints (engine.ts), but the timers'
    // tick and a batch applied again after a throw still take them.
    this.#db.exec("PRAGMA temp_store = MEMORY");
    checkSchemaVersion(this.#db, options.path);
    this.#db.exec(SCHEMA);
    this.#db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    this.#checkpointer = this.#startCheckpointer(options);
    this.#walSync =
      options.sync === "normal" || this.#checkpointer === undefined
        ? undefined
        : new WalSync(`${options.path}-wal`);
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

  /** The statement for `sql`, prepared on first use and kept while the connection is open. */
  stmt(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  get isTransaction(): boolean {
    return this.#db.isTransaction;
  }

  // Transaction control runs as statements prepared once, like the rest: exec() compiled its
  // SQL again every time, twice a batch and twice more for each request's savepoint.
  begin(): void {
    this.stmt("BEGIN IMMEDIATE").run();
    this.#changesAtBegin = this.#totalChanges();
  }
  /** Commits; returns whether the transaction changed any row (a write undone still counts). */
  commit(): boolean {
    const wrote = this.#totalChanges() !== this.#changesAtBegin;
    this.stmt("COMMIT").run();
    if (wrote) {
      this.#commits += 1;
      this.#checkpointer?.noteCommit();
    }
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
  /** Writing commits, and the log's fsyncs and their seconds, since the connection opened. */
  durability(): { commits: number; fsyncs: number; fsyncSeconds: number } {
    return {
      commits: this.#commits,
      fsyncs: this.#walSync?.fsyncs ?? 0,
      fsyncSeconds: this.#walSync?.fsyncSeconds ?? 0,
    };
  }

  /** Makes every commit durable now, on this thread, answering what waits (at shutdown). */
  syncNow(): void {
    this.#walSync?.syncNow();
  }
  rollback(): void {
    if (this.#db.isTransaction) this.stmt("ROLLBACK").run();
  }
  /**
   * Runs `fn` so that a throw undoes only its own writes, not the rest of the batch; `undone`
   * is called when they are, for caches of what they wrote.
   */
  savepoint<T>(fn: () => T, undone: () => void): T {
    this.stmt("SAVEPOINT request").run();
    try {
      const result = fn();
      this.stmt("RELEASE request").run();
      return result;
    } catch (error) {
      undone();
      this.stmt("ROLLBACK TO request").run();
      this.stmt("RELEASE request").run();
      throw error;
    }
  }

  /** Rows changed by this connection since it opened (SQLite's own count). */
  #totalChanges(): number {
    return Number(this.stmt("SELECT total_changes() AS n").get()?.["n"] ?? 0);
  }
}
