// The shape of the server's tables, and the check that a store on disk has that shape.
import type { DatabaseSync } from "node:sqlite";

/** A store written by a modulate whose tables have another shape. */
export class IncompatibleStore extends Error {
  override readonly name = "IncompatibleStore";
}

/**
 * Raised whenever the tables change shape; a store of another version is refused, except one
 * that `migrateSchema` brings up to this one. Version 2 added `promise_tags`.
 */
export const SCHEMA_VERSION = 2;

/**
 * Tags whose key starts with this are the protocol's own (routing, lineage): nobody searches
 * by them, so they are not indexed, and a search naming only those reads every promise.
 */
export const UNINDEXED_TAG_PREFIX = "resonate:";

export const SCHEMA = `
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
-- Every tag of a promise but the protocol's own, so that a tag search reads only the promises
-- it finds, not the whole table: tags are set when a promise is created and never change.
CREATE TABLE IF NOT EXISTS promise_tags (
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  id TEXT NOT NULL,
  PRIMARY KEY (key, value, id)
) WITHOUT ROWID;
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

/**
 * Refuses a store whose tables have another shape (closing `db`), before any is created: a
 * new file, or one of this version, passes.
 */
export function checkSchemaVersion(db: DatabaseSync, path: string): void {
  const version = Number(db.prepare("PRAGMA user_version").get()?.["user_version"] ?? 0);
  const hasTables =
    db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'promises'").get() !== undefined;
  if (version === SCHEMA_VERSION || (version === 0 && !hasTables)) return;
  if (version === 1) {
    migrateFrom1(db);
    return;
  }
  db.close();
  throw new IncompatibleStore(
    `the store ${path} has schema version ${version}, this modulate reads version ${SCHEMA_VERSION}: ` +
      "use a modulate of the same version, or move the store aside and start afresh",
  );
}

/** Version 1 to 2: the tag index, filled from the promises already stored, in one transaction. */
function migrateFrom1(db: DatabaseSync): void {
  db.exec("BEGIN IMMEDIATE");
  try {
    db.exec(SCHEMA);
    db.prepare(
      `INSERT OR IGNORE INTO promise_tags (key, value, id)
       SELECT j.key, j.value, p.id FROM promises p, json_each(p.tags) j
       WHERE substr(j.key, 1, ?) != ?`,
    ).run(UNINDEXED_TAG_PREFIX.length, UNINDEXED_TAG_PREFIX);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}
