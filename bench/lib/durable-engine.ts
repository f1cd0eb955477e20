// modulate's own server, as `modulate server --data-dir` runs it, on a fresh temp directory.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { DatabaseSync } from "node:sqlite";
import { startServer } from "../../src/server/server.ts";
import { ResonateState } from "../../src/server/state.ts";
import { SqliteStore } from "../../src/server/store.ts";
import type { BenchServer } from "./bench-server.ts";
import { preloadRequest, type PreloadReport } from "./preload.ts";

/** Preload commits this many creates per transaction, so the WAL stays a modest size. */
const PRELOAD_BATCH = 10_000;

export async function startDurable(sync: "full" | "normal"): Promise<BenchServer> {
  const dataDir = await mkdtemp(join(tmpdir(), "modulate-bench-"));
  const server = await startServer({
    host: "127.0.0.1",
    port: 0,
    dataDir,
    sync,
    onError: (error) => console.error("server error:", error),
  });
  return {
    url: server.url,
    preload: (count) => preloadStore(server.databasePath, count),
    async close() {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Writes the promises through the server's own state machine and store, on a second
 * connection while the server is idle: the same rows HTTP creates would leave, in about 1.5 s
 * where 64 concurrent HTTP callers took about 14 s (measured on the 2-core bench machine).
 */
async function preloadStore(databasePath: string, count: number): Promise<PreloadReport> {
  const startedAt = performance.now();
  const store = new SqliteStore({ path: databasePath, sync: "full" });
  try {
    const state = new ResonateState(store);
    const now = Date.now();
    for (let first = 0; first < count; first += PRELOAD_BATCH) {
      store.begin();
      for (let i = first; i < Math.min(count, first + PRELOAD_BATCH); i++) {
        const applied = state.apply(now, preloadRequest(i, now));
        if (applied.reply.status !== 200 || applied.messages.length > 0) {
          throw new Error(`preload create ${i} answered ${applied.reply.status}, expected 200`);
        }
      }
      store.commit();
    }
    const counts = store.counts();
    return {
      method: `through the store: the engine's state machine on a second SQLite connection, ${PRELOAD_BATCH} creates a transaction, then a WAL checkpoint`,
      durationMs: performance.now() - startedAt,
      pendingPromises: counts.pendingPromises,
      pendingTasks: counts.pendingTasks,
      timers: checkpointAndCountTimers(databasePath),
    };
  } finally {
    await store.close();
  }
}

/**
 * Moves the preload from the WAL into the database file and syncs it, so that the server's
 * first commits do not inherit a checkpoint of 100,000 creates; then counts the timer rows,
 * which the store offers no count of.
 */
function checkpointAndCountTimers(databasePath: string): number {
  const db = new DatabaseSync(databasePath);
  try {
    db.exec("PRAGMA synchronous = FULL");
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    const row = db
      .prepare(
        "SELECT (SELECT COUNT(*) FROM promise_timeouts) + (SELECT COUNT(*) FROM task_timeouts) AS n",
      )
      .get();
    return Number(row?.["n"] ?? 0);
  } finally {
    db.close();
  }
}
