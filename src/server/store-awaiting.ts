// Who waits on a promise: the callbacks table (tasks suspended on it) and the listeners table
// (addresses outside its call graph). Both are emptied for a promise once it settles.
import type { CallbackStore, ListenerStore } from "./store-api.ts";
import type { SqliteDatabase } from "./store-db.ts";
import { asText } from "./store-rows.ts";

export class SqliteCallbacks implements CallbackStore {
  readonly #db: SqliteDatabase;

  constructor(db: SqliteDatabase) {
    this.#db = db;
  }

  add(awaited: string, awaiter: string): void {
    this.#db
      .stmt("INSERT OR IGNORE INTO callbacks (awaited, awaiter) VALUES (?, ?)")
      .run(awaited, awaiter);
  }
  awaitersOf(awaited: string): string[] {
    return this.#db
      .stmt("SELECT awaiter FROM callbacks WHERE awaited = ? ORDER BY rowid")
      .all(awaited)
      .map((row) => asText(row["awaiter"]));
  }
  deleteOf(awaited: string): void {
    this.#db.stmt("DELETE FROM callbacks WHERE awaited = ?").run(awaited);
  }
  deleteByAwaiter(awaiter: string): void {
    this.#db.stmt("DELETE FROM callbacks WHERE awaiter = ?").run(awaiter);
  }
}

export class SqliteListeners implements ListenerStore {
  readonly #db: SqliteDatabase;

  constructor(db: SqliteDatabase) {
    this.#db = db;
  }

  add(awaited: string, address: string): void {
    this.#db
      .stmt("INSERT OR IGNORE INTO listeners (awaited, address) VALUES (?, ?)")
      .run(awaited, address);
  }
  addressesOf(awaited: string): string[] {
    return this.#db
      .stmt("SELECT address FROM listeners WHERE awaited = ? ORDER BY rowid")
      .all(awaited)
      .map((row) => asText(row["address"]));
  }
  deleteOf(awaited: string): void {
    this.#db.stmt("DELETE FROM listeners WHERE awaited = ?").run(awaited);
  }
}
