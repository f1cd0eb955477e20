// Promise requests: get, create, settle, callbacks and listeners on a promise, search.
import type { PromiseCreateData, PromiseSettleData, PromiseState, Reply } from "./protocol.ts";
import { EncodedData, encodeCursor } from "./protocol.ts";
import type { StoredPromise } from "./store-api.ts";
import {
  type StateContext,
  DEFAULT_SEARCH_LIMIT,
  PENDING_RETRY_MS,
  execute,
  reply,
  send,
  target,
} from "./state-context.ts";
import { fulfilledTask, resumeAwaiter, settled } from "./state-settlement.ts";
import { projected, timeoutState, toPromiseRecord } from "./state-views.ts";

export function newPromise(
  data: PromiseCreateData,
  state: PromiseState,
  createdAt: number,
  settledAt: number | null,
): StoredPromise {
  return {
    id: data.id,
    state,
    param: data.param,
    value: {},
    tags: data.tags,
    timeoutAt: data.timeoutAt,
    createdAt,
    settledAt,
  };
}

export function getPromise(ctx: StateContext, now: number, id: string): Reply {
  const p = ctx.store.promises.get(id);
  if (!p) return reply(404, "Promise not found");
  return reply(200, { promise: toPromiseRecord(projected(now, p)) });
}

export function createPromise(ctx: StateContext, now: number, data: PromiseCreateData): Reply {
  const store = ctx.store;
  const existing = store.promises.get(data.id);
  if (existing) return reply(200, { promise: toPromiseRecord(projected(now, existing)) });
  const address = data.tags["resonate:target"];
  if (now >= data.timeoutAt) {
    // Born settled: the deadline has passed before the promise existed.
    const p = newPromise(data, timeoutState(data.tags), data.timeoutAt, data.timeoutAt);
    store.promises.put(p);
    if (address) store.tasks.put(fulfilledTask(data.id), address);
    settled(ctx, now, data.id);
    return reply(200, { promise: toPromiseRecord(p) });
  }
  const p = newPromise(data, "pending", now, null);
  store.promises.put(p);
  if (address) {
    // Only a promise with an address is expired by the timer loop, as on the real server.
    store.timeouts.setPromise(data.id, data.timeoutAt);
    const delay = Number(data.tags["resonate:delay"]);
    const deferred = Number.isFinite(delay) && now < delay;
    store.tasks.put({ id: data.id, state: "pending", version: 0, resumes: [] }, address);
    store.timeouts.setTask(data.id, 0, deferred ? delay : now + PENDING_RETRY_MS);
    if (!deferred) send(ctx, address, execute(data.id, 0));
  }
  return reply(200, { promise: toPromiseRecord(p) });
}

export function settlePromise(ctx: StateContext, now: number, data: PromiseSettleData): Reply {
  const p = ctx.store.promises.get(data.id);
  if (!p) return reply(404, "Promise not found");
  const view = projected(now, p);
  // Settling a settled promise is idempotent: it answers with what is there.
  if (view.state !== "pending") return reply(200, { promise: toPromiseRecord(view) });
  const done: StoredPromise = { ...p, state: data.state, value: data.value, settledAt: now };
  ctx.store.promises.put(done);
  ctx.store.timeouts.deletePromise(data.id);
  settled(ctx, now, data.id);
  return reply(200, { promise: toPromiseRecord(done) });
}

export function registerCallback(
  ctx: StateContext,
  now: number,
  awaitedId: string,
  awaiterId: string,
): Reply {
  const awaited = ctx.store.promises.get(awaitedId);
  if (!awaited) return reply(404, "Awaited promise not found");
  const awaiter = ctx.store.promises.get(awaiterId);
  if (!awaiter) return reply(422, "Awaiter promise not found");
  if (!target(awaiter)) return reply(422, "Awaiter promise has no resonate:target tag");
  const awaitedNow = projected(now, awaited);
  if (projected(now, awaiter).state === "pending") {
    if (awaitedNow.state === "pending") ctx.store.callbacks.add(awaitedId, awaiterId);
    // Already settled: the awaiter resumes now, as on the real server
    // (persistence_sqlite.rs:555-603), instead of waiting on a settlement that has happened.
    else resumeAwaiter(ctx, now, awaiterId, awaitedId, "direct");
  }
  return reply(200, { promise: toPromiseRecord(awaitedNow) });
}

export function registerListener(
  ctx: StateContext,
  now: number,
  awaitedId: string,
  address: string,
): Reply {
  const p = ctx.store.promises.get(awaitedId);
  // Any promise may be listened on, as on the real server (server.rs:852-930); the SDK's
  // in-memory server refuses one without a target, scope or timer tag with 422.
  if (!p) return reply(404, "Awaited promise not found");
  const view = projected(now, p);
  if (view.state === "pending") ctx.store.listeners.add(awaitedId, address);
  return reply(200, { promise: toPromiseRecord(view) });
}

export function searchPromises(
  ctx: StateContext,
  q: { state?: PromiseState; tags?: Record<string, string>; limit?: number; cursor?: string },
): Reply {
  const limit = q.limit ?? DEFAULT_SEARCH_LIMIT;
  // Written as text: a page of a thousand jobs' promises was a third of its time parsed from
  // the store and encoded again.
  const rows = ctx.store.promises.searchEncoded({ ...q, limit: limit + 1 });
  const page = rows.slice(0, limit);
  const cursor = rows.length > limit ? encodeCursor(page.at(-1)?.id ?? "") : undefined;
  const promises = `[${page.map((row) => row.json).join(",")}]`;
  return reply(
    200,
    new EncodedData(
      `{"promises":${promises}${cursor === undefined ? "" : `,"cursor":${JSON.stringify(cursor)}`}}`,
    ),
  );
}
