// What follows when a promise settles, by a request, by its deadline or on first touch past
// it: its own task is fulfilled, the tasks suspended on it resume, its listeners are told.
import type { StoredTask } from "./store-api.ts";
import {
  type StateContext,
  PENDING_RETRY_MS,
  execute,
  mustGetAddress,
  mustGetPromise,
  send,
} from "./state-context.ts";
import { timeoutState, toPromiseRecord } from "./state-views.ts";

/** A promise the store still holds as pending past its deadline settles on first touch. */
export function eagerTimeout(ctx: StateContext, now: number, id: string): void {
  const p = ctx.store.promises.get(id);
  if (!p || p.state !== "pending" || now < p.timeoutAt) return;
  ctx.store.promises.put({ ...p, state: timeoutState(p.tags), settledAt: p.timeoutAt });
  ctx.store.timeouts.deletePromise(id);
  settled(ctx, now, id);
}

/** Everything that follows the settling of promise `id`, already written as settled. */
export function settled(ctx: StateContext, now: number, id: string): void {
  markTaskFulfilled(ctx, id);
  resumeAwaiters(ctx, now, id);
  notifyListeners(ctx, id);
}

/** The task of a promise that was born settled: it never runs. */
export function fulfilledTask(id: string): StoredTask {
  return { id, state: "fulfilled", version: 0, resumes: [] };
}

/** The promise's own task is done: no lease, no retry, and it waits on nothing any more. */
export function markTaskFulfilled(ctx: StateContext, id: string): void {
  const t = ctx.store.tasks.get(id);
  if (!t || t.state === "fulfilled") return;
  ctx.store.tasks.put({ id, state: "fulfilled", version: t.version, resumes: [] });
  ctx.store.timeouts.deleteTask(id);
  ctx.store.callbacks.deleteByAwaiter(id);
}

export function resumeAwaiters(ctx: StateContext, now: number, id: string): void {
  for (const awaiterId of ctx.store.callbacks.awaitersOf(id)) {
    resumeAwaiter(ctx, now, awaiterId, id, "callback");
  }
  ctx.store.callbacks.deleteOf(id);
}

/**
 * Task `awaiterId` learns that `awaitedId` has settled: a suspended task goes back to pending
 * and is offered again; one not suspended yet keeps the resume for when it suspends or
 * continues. `via`: through a callback registered before the settling (a halted task keeps the
 * resume too), or "direct", a callback registered after it, where the real server keeps it only
 * for a pending or acquired task (persistence_sqlite.rs:592-601).
 */
export function resumeAwaiter(
  ctx: StateContext,
  now: number,
  awaiterId: string,
  awaitedId: string,
  via: "callback" | "direct",
): void {
  const t = ctx.store.tasks.get(awaiterId);
  if (!t) return;
  if (t.state === "suspended") {
    ctx.store.tasks.put({ id: t.id, state: "pending", version: t.version, resumes: [awaitedId] });
    ctx.store.timeouts.setTask(t.id, 0, now + PENDING_RETRY_MS);
    send(ctx, mustGetAddress(ctx, t.id), execute(t.id, t.version));
    return;
  }
  const keeps =
    via === "callback" ? t.state !== "fulfilled" : t.state === "pending" || t.state === "acquired";
  if (keeps && !t.resumes.includes(awaitedId)) {
    ctx.store.tasks.put({ ...t, resumes: [...t.resumes, awaitedId] });
  }
}

export function notifyListeners(ctx: StateContext, id: string): void {
  const addresses = ctx.store.listeners.addressesOf(id);
  if (addresses.length === 0) return;
  const p = mustGetPromise(ctx, id);
  for (const address of addresses) {
    send(ctx, address, { kind: "unblock", head: {}, data: { promise: toPromiseRecord(p) } });
  }
  ctx.store.listeners.deleteOf(id);
}
