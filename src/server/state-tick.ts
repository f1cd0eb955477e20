// The timer side of the state machine: every deadline due at `now` fires, in one pass.
import type { Outgoing } from "./protocol.ts";
import type { StateContext } from "./state-context.ts";
import { fireSchedule } from "./state-schedules.ts";
import { markTaskFulfilled, notifyListeners, resumeAwaiters } from "./state-settlement.ts";
import { fireTaskTimeout } from "./state-tasks.ts";
import { timeoutState } from "./state-views.ts";

export interface Ticked {
  messages: Outgoing[];
  /** True when the batch limit stopped the tick before every due timeout was handled. */
  more: boolean;
}

/**
 * Fires every timeout due at `now`, at most `limit` of each kind: promise deadlines, task
 * leases and retries, schedules. The store finds them through an index on the deadline, so
 * the cost is that of what is due, not of what is pending.
 */
export function tick(ctx: StateContext, now: number, limit: number): Ticked {
  const store = ctx.store;
  const duePromises = store.timeouts.duePromises(now, limit);
  // Task timeouts are read before promises settle, then re-checked: a task whose promise
  // timed out in this same tick is fulfilled, not released.
  const dueTasks = store.timeouts.dueTasks(now, limit);
  const settledIds: string[] = [];
  for (const { id } of duePromises) {
    const p = store.promises.get(id);
    store.timeouts.deletePromise(id);
    if (!p || p.state !== "pending") continue;
    store.promises.put({
      ...p,
      state: timeoutState(p.tags),
      value: {},
      settledAt: p.timeoutAt,
    });
    settledIds.push(id);
  }
  // Fulfil every settled promise's own task before resuming anyone waiting on them, so a
  // task whose own deadline passed goes straight to fulfilled.
  for (const id of settledIds) markTaskFulfilled(ctx, id);
  for (const id of settledIds) {
    resumeAwaiters(ctx, now, id);
    notifyListeners(ctx, id);
  }
  for (const due of dueTasks) fireTaskTimeout(ctx, now, due.id, due.type);
  const dueSchedules = store.timeouts.dueSchedules(now, limit);
  for (const due of dueSchedules) fireSchedule(ctx, now, due.id, due.timeout);
  const more =
    duePromises.length === limit || dueTasks.length === limit || dueSchedules.length === limit;
  return { messages: ctx.messages, more };
}
