import { DatabaseSync } from "node:sqlite";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SqliteStore } from "../../src/server/store.ts";
import { toPromiseRecord } from "../../src/server/state-views.ts";
import type { StoredPromise } from "../../src/server/store-api.ts";

const dirs: string[] = [];
const stores: SqliteStore[] = [];

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function storeFile(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "modulate-store-tags-"));
  dirs.push(dir);
  return path.join(dir, "store.db");
}

function open(file: string): SqliteStore {
  const store = new SqliteStore({ path: file, sync: "normal" });
  stores.push(store);
  return store;
}

function promise(id: string, tags: Record<string, string>, settled = false): StoredPromise {
  return {
    id,
    state: settled ? "resolved" : "pending",
    param: { headers: {}, data: "" },
    value: { headers: {}, data: "" },
    tags,
    timeoutAt: 10_000,
    createdAt: 1,
    settledAt: settled ? 2 : null,
  };
}

function write(store: SqliteStore, promises: StoredPromise[]): void {
  store.begin();
  for (const p of promises) store.promises.put(p);
  store.commit();
}

const ids = (found: StoredPromise[]): string[] => found.map((p) => p.id);

describe("the store's tag search", () => {
  it("finds by one or two tags, with or without a state, in id order and from a cursor", async () => {
    const store = open(await storeFile());
    write(store, [
      promise("a", { kind: "job", day: "1" }, true),
      promise("b", { kind: "job", day: "2" }),
      promise("c", { kind: "execute", day: "2" }),
      promise("d", { kind: "job", day: "2", "resonate:target": "x" }, true),
      promise("e", { other: "job" }),
    ]);
    const search = (q: Parameters<SqliteStore["promises"]["search"]>[0]): string[] =>
      ids(store.promises.search(q));
    expect(search({ tags: { kind: "job" }, limit: 10 })).toEqual(["a", "b", "d"]);
    expect(search({ tags: { day: "2", kind: "job" }, limit: 10 })).toEqual(["b", "d"]);
    expect(search({ state: "pending", tags: { kind: "job" }, limit: 10 })).toEqual(["b"]);
    expect(search({ state: "resolved", tags: { kind: "job" }, limit: 10 })).toEqual(["a", "d"]);
    expect(search({ tags: { kind: "job" }, cursor: "a", limit: 1 })).toEqual(["b"]);
    // The protocol's own tags are not indexed: still found, by reading the promises.
    expect(search({ tags: { "resonate:target": "x" }, limit: 10 })).toEqual(["d"]);
    expect(search({ tags: { kind: "job", "resonate:target": "x" }, limit: 10 })).toEqual(["d"]);
    expect(search({ tags: { kind: "none" }, limit: 10 })).toEqual([]);
  });

  it("forgets the tags of the promises it deletes", async () => {
    const store = open(await storeFile());
    write(store, [promise("a", { kind: "job" }, true), promise("b", { kind: "job" })]);
    store.begin();
    expect(store.deleteSettledBefore(10, 10)).toBe(1);
    store.commit();
    expect(ids(store.promises.search({ tags: { kind: "job" }, limit: 10 }))).toEqual(["b"]);
  });

  it("indexes the tags of a store written before the index, when it opens it", async () => {
    const file = await storeFile();
    const old = new DatabaseSync(file);
    old.exec(`CREATE TABLE promises (id TEXT PRIMARY KEY, state TEXT NOT NULL, param TEXT NOT NULL,
      value TEXT NOT NULL, tags TEXT NOT NULL, timeout_at INTEGER NOT NULL, created_at INTEGER NOT NULL,
      settled_at INTEGER, branch TEXT) WITHOUT ROWID`);
    old
      .prepare("INSERT INTO promises VALUES (?, 'pending', '{}', '{}', ?, 10000, 1, NULL, NULL)")
      .run("old-job", JSON.stringify({ kind: "job", "resonate:scope": "global" }));
    old.exec("PRAGMA user_version = 1");
    old.close();
    const store = open(file);
    expect(ids(store.promises.search({ tags: { kind: "job" }, limit: 10 }))).toEqual(["old-job"]);
  });

  it("answers a pending search by a rare tag as by a common one: the same pages, in id order", async () => {
    const store = open(await storeFile());
    // Two thousand queued jobs (more than a tag counted as rare), three sweeps among them.
    const queued = Array.from({ length: 2_000 }, (_, i) =>
      promise(`job-${String(i).padStart(4, "0")}`, { kind: "execute" }),
    );
    write(store, [
      ...queued,
      promise("job-0500s", { kind: "sweep" }),
      promise("job-1500s", { kind: "sweep" }),
      promise("job-1999s", { kind: "sweep" }, true),
      promise("job-2000s", { kind: "sweep" }),
    ]);
    const search = (q: Parameters<SqliteStore["promises"]["search"]>[0]): string[] =>
      ids(store.promises.search(q));
    expect(search({ state: "pending", tags: { kind: "sweep" }, limit: 10 })).toEqual([
      "job-0500s",
      "job-1500s",
      "job-2000s",
    ]);
    expect(
      search({ state: "pending", tags: { kind: "sweep" }, limit: 1, cursor: "job-0500s" }),
    ).toEqual(["job-1500s"]);
    expect(search({ state: "resolved", tags: { kind: "sweep" }, limit: 10 })).toEqual([
      "job-1999s",
    ]);
    // The common tag is still read through the pending promises, page by page.
    const page = search({
      state: "pending",
      tags: { kind: "execute" },
      limit: 1_000,
      cursor: "job-0999",
    });
    expect(page).toHaveLength(1_000);
    expect(page[0]).toBe("job-1000");
  });

  it("encodes a page as the wire records the promises are, without parsing what is stored", async () => {
    const store = open(await storeFile());
    const resolved = {
      ...promise("b", { kind: "job", day: "2" }, true),
      param: { headers: { h: "1" }, data: "eyJhIjoxfQ==" },
      value: { headers: {}, data: "eyJiIjpbMSwyXX0=" },
    };
    write(store, [promise("a", { kind: "job" }), resolved, promise("c", { kind: "execute" })]);
    const q = { tags: { kind: "job" }, limit: 10 };
    const encoded = store.promises.searchEncoded(q);
    expect(encoded.map((row) => row.id)).toEqual(["a", "b"]);
    expect(encoded.map((row) => JSON.parse(row.json) as unknown)).toEqual(
      store.promises.search(q).map(toPromiseRecord),
    );
    // The same text, key for key, as the record encoded whole.
    expect(encoded.map((row) => row.json)).toEqual(
      store.promises.search(q).map((p) => JSON.stringify(toPromiseRecord(p))),
    );
  });
});
