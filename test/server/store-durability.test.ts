// The store's log handling: commits are answered in order once synced, a sync running when a
// commit is made does not count for it, and the background checkpointer keeps the log from
// growing under steady writes and folds it away at close.
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ResonateState } from "../../src/server/state.ts";
import { SqliteStore } from "../../src/server/store.ts";
import { WalSync } from "../../src/server/wal-sync.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "modulate-store-"));
  dirs.push(dir);
  return dir;
}

const HEAD = { corrId: "c", version: "2026-04-01" };

/** One transaction creating and settling `count` promises, as a busy server's batch would. */
function writeBatch(store: SqliteStore, state: ResonateState, batch: number, count = 10): void {
  const now = Date.now();
  store.begin();
  for (let i = 0; i < count; i++) {
    const id = `b${batch}-${i}`;
    const param = { headers: {}, data: "aGVsbG8=" };
    const created = state.apply(now, {
      kind: "promise.create",
      head: HEAD,
      data: { id, timeoutAt: now + 3_600_000, param, tags: {} },
    } as never);
    expect(created.reply.status).toBe(200);
    state.apply(now, {
      kind: "promise.settle",
      head: HEAD,
      data: { id, state: "resolved", value: param },
    } as never);
  }
  expect(store.commit()).toBe(true);
}

const waitFor = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("WalSync", () => {
  it("answers commits in order, and a commit made during a sync waits for the next one", async () => {
    const dir = freshDir();
    const file = join(dir, "log");
    writeFileSync(file, "x");
    const sync = new WalSync(file);
    const answered: string[] = [];
    let secondMadeAfterFirstStarted = false;
    const all = new Promise<void>((resolve) => {
      sync.afterCommit(() => answered.push("first"));
      // The first sync is now running: this commit must not be answered by it.
      sync.afterCommit(() => {
        answered.push("second");
        resolve();
      });
      secondMadeAfterFirstStarted = answered.length === 0;
    });
    await all;
    expect(secondMadeAfterFirstStarted).toBe(true);
    expect(answered).toEqual(["first", "second"]);
    sync.close();
  });

  it("answers a transaction that wrote nothing without a sync, but never before earlier commits", async () => {
    const dir = freshDir();
    const file = join(dir, "log");
    writeFileSync(file, "x");
    const sync = new WalSync(file);
    const answered: string[] = [];
    sync.afterRead(() => answered.push("read, nothing pending"));
    expect(answered).toEqual(["read, nothing pending"]);
    const all = new Promise<void>((resolve) => {
      sync.afterCommit(() => answered.push("first write"));
      sync.afterRead(() => answered.push("read during its sync"));
      sync.afterCommit(() => answered.push("second write"));
      sync.afterRead(() => {
        answered.push("read after the second write");
        resolve();
      });
    });
    await all;
    expect(answered).toEqual([
      "read, nothing pending",
      "first write",
      "read during its sync",
      "second write",
      "read after the second write",
    ]);
    sync.close();
  });

  it("answers what still waits when synced at shutdown", () => {
    const dir = freshDir();
    const file = join(dir, "log");
    writeFileSync(file, "x");
    const sync = new WalSync(file);
    const answered: number[] = [];
    sync.afterCommit(() => answered.push(1));
    sync.afterCommit(() => answered.push(2));
    sync.syncNow();
    expect(answered).toEqual([1, 2]);
    sync.close();
  });
});

describe("the store's commits", () => {
  it("say whether they wrote anything", () => {
    const store = new SqliteStore({ path: join(freshDir(), "modulate.db"), sync: "full" });
    const state = new ResonateState(store);
    store.begin();
    state.apply(Date.now(), {
      kind: "promise.get",
      head: HEAD,
      data: { id: "absent" },
    } as never);
    expect(store.commit()).toBe(false);
    writeBatch(store, state, 0, 1);
    store.begin();
    expect(store.promises.get("b0-0")?.state).toBe("resolved");
    expect(store.commit()).toBe(false);
    return store.close();
  });
});

describe("the store's write-ahead log", () => {
  it("stays bounded under steady commits and is folded away at close", async () => {
    const path = join(freshDir(), "modulate.db");
    const store = new SqliteStore({ path, sync: "full" });
    const state = new ResonateState(store);
    let batch = 0;
    // Well past several background checkpoints' worth of commits, with pauses in which the
    // checkpointer's reply is handled, as a server's event loop would.
    const sizes: number[] = [];
    for (let round = 0; round < 8; round++) {
      for (let i = 0; i < 300; i++) writeBatch(store, state, batch++);
      await waitFor(150);
      sizes.push(statSync(`${path}-wal`).size);
    }
    // Without checkpoints the log would hold every commit: eight rounds' worth, some 90 MB.
    // With them it starts over once folded, so it stays near one round's size.
    const [first = 0] = sizes;
    expect(sizes.at(-1)).toBeLessThan(2 * first);
    expect(store.promises.get(`b${batch - 1}-9`)?.state).toBe("resolved");
    await store.close();
    expect(existsSync(`${path}-wal`)).toBe(false);

    const reopened = new SqliteStore({ path });
    expect(reopened.promises.get("b0-0")?.state).toBe("resolved");
    expect(reopened.promises.get(`b${batch - 1}-9`)?.state).toBe("resolved");
    await reopened.close();
  });
});
