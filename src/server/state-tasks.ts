// Task requests: get, create, acquire, release, fulfill, suspend, halt, continue, fence,
// heartbeat, search; and what a task's lease or retry deadline does when it falls due.
import type {
  PromiseCreateData,
  PromiseSettleData,
  Reply,
  Request,
  TaskState,
} from "./protocol.ts";
import { PROTOCOL_VERSION, encodeCursor } from "./protocol.ts";
import type { StoredPromise, StoredTask, TaskTimeoutType } from "./store-api.ts";
import {
  type StateContext,
  DEFAULT_LEASE_MS,
  DEFAULT_SEARCH_LIMIT,
  PENDING_RETRY_MS,
  execute,
  mustGetAddress,
  mustGetPromise,
  reply,
  send,
  target,
} from "./state-context.ts";
import { createPromise, newPromise, settlePromise } from "./state-promises.ts";
import { fulfilledTask, markTaskFulfilled, settled } from "./state-settlement.ts";
import {
  preload,
  projected,
  projectedTask,
  timeoutState,
  toPromiseRecord,
  toTaskRecord,
} from "./state-views.ts";

export function getTask(ctx: StateContext, now: number, id: string): Reply {
  const t = ctx.store.tasks.get(id);
  if (!t) return reply(404, "Task not found");
  return reply(200, { task: toTaskRecord(projectedTask(ctx, now, t)) });
}

export function createTask(
  ctx: StateContext,
  now: number,
  pid: string,
  ttl: number,
  data: PromiseCreateData,
): Reply {
  const store = ctx.store;
  const existing = store.tasks.get(data.id);
  if (existing) {
    const p = mustGetPromise(ctx, existing.id);
    if (existing.state === "pending") {
      const acquired = acquire(ctx, now, existing, pid, ttl);
      return reply(200, {
        task: toTaskRecord(acquired),
        promise: toPromiseRecord(p),
        preload: preload(ctx, existing.id),
      });
    }
    if (existing.state === "fulfilled") {
      return reply(200, {
        task: toTaskRecord(existing),
        promise: toPromiseRecord(p),
        preload: preload(ctx, existing.id),
      });
    }
    return reply(409, "Task already exists");
  }
  const existingPromise = store.promises.get(data.id);
  if (existingPromise) {
    return target(existingPromise)
      ? reply(409, "Promise already exists")
      : reply(422, "Promise has no address");
  }
  const address = data.tags["resonate:target"] ?? "";
  if (now >= data.timeoutAt) {
    const p = newPromise(data, timeoutState(data.tags), data.timeoutAt, data.timeoutAt);
    const t = fulfilledTask(data.id);
    store.promises.put(p);
    store.tasks.put(t, address);
    return reply(200, { task: toTaskRecord(t), promise: toPromiseRecord(p), preload: [] });
  }
  const p = newPromise(data, "pending", now, null);
  store.promises.put(p);
  store.timeouts.setPromise(data.id, data.timeoutAt);
  const t: StoredTask = { id: data.id, state: "acquired", version: 1, pid, ttl, resumes: [] };
  store.tasks.put(t, address);
  store.timeouts.setTask(data.id, 1, now + ttl);
  return reply(200, {
    task: toTaskRecord(t),
    promise: toPromiseRecord(p),
    preload: preload(ctx, data.id),
  });
}

function acquire(
  ctx: StateContext,
  now: number,
  t: StoredTask,
  pid: string,
  ttl: number,
): StoredTask {
  const acquired: StoredTask = {
    ...t,
    state: "acquired",
    version: t.version + 1,
    pid,
    ttl,
    resumes: [],
  };
  ctx.store.tasks.put(acquired);
  ctx.store.timeouts.setTask(t.id, 1, now + ttl);
  return acquired;
}

export function acquireTask(
  ctx: StateContext,
  now: number,
  d: { id: string; version: number; pid: string; ttl: number },
): Reply {
  const t = ctx.store.tasks.get(d.id);
  if (!t) return reply(404, "Task not found");
  if (t.state !== "pending") return reply(409, "Task not in pending state");
  const p = mustGetPromise(ctx, d.id);
  if (projected(now, p).state !== "pending") return reply(409, "Task logically fulfilled");
  if (t.version !== d.version) return reply(409, "Version mismatch");
  const acquired = acquire(ctx, now, t, d.pid, d.ttl);
  return reply(200, {
    task: toTaskRecord(acquired),
    promise: toPromiseRecord(p),
    preload: preload(ctx, d.id),
  });
}

/** The checks shared by release, fulfill and suspend: an acquired task at this version. */
function checkAcquired(
  ctx: StateContext,
  now: number,
  id: string,
  version: number,
  notAcquired: string,
): StoredTask | Reply {
  const t = ctx.store.tasks.get(id);
  if (!t) return reply(404, "Task not found");
  if (t.state !== "acquired") return reply(409, notAcquired);
  if (projected(now, mustGetPromise(ctx, id)).state !== "pending") return reply(409, notAcquired);
  if (t.version !== version)
    return reply(409, notAcquired === "Fence check failed" ? notAcquired : "Version mismatch");
  return t;
}

export function releaseTask(ctx: StateContext, now: number, id: string, version: number): Reply {
  const t = checkAcquired(ctx, now, id, version, "Task not acquired");
  if ("status" in t) return t;
  makePending(ctx, now, t, t.resumes);
  return reply(200, {});
}

/** Back to pending: the task is offered to its group again. */
function makePending(ctx: StateContext, now: number, t: StoredTask, resumes: string[]): void {
  const pending: StoredTask = { id: t.id, state: "pending", version: t.version, resumes };
  ctx.store.tasks.put(pending);
  ctx.store.timeouts.setTask(t.id, 0, now + PENDING_RETRY_MS);
  send(ctx, mustGetAddress(ctx, t.id), execute(t.id, t.version));
}

export function fulfillTask(
  ctx: StateContext,
  now: number,
  id: string,
  version: number,
  settle: PromiseSettleData,
): Reply {
  const t = checkAcquired(ctx, now, id, version, "Task not acquired");
  if ("status" in t) return t;
  const p = mustGetPromise(ctx, id);
  if (p.state !== "pending") {
    markTaskFulfilled(ctx, id);
    return reply(200, { promise: toPromiseRecord(p) });
  }
  const done: StoredPromise = { ...p, state: settle.state, value: settle.value, settledAt: now };
  ctx.store.promises.put(done);
  ctx.store.timeouts.deletePromise(id);
  settled(ctx, now, id);
  return reply(200, { promise: toPromiseRecord(done) });
}

export function suspendTask(
  ctx: StateContext,
  now: number,
  id: string,
  version: number,
  awaitedIds: string[],
): Reply {
  const t = checkAcquired(ctx, now, id, version, "Task not acquired");
  if ("status" in t) return t;
  const pending: string[] = [];
  let anySettled = false;
  for (const awaitedId of awaitedIds) {
    const awaited = ctx.store.promises.get(awaitedId);
    // A message, as on the real server (server.rs:1688-1694): the SDK's client takes a 422
    // whose data is not a string for a malformed answer (types.js isTaskSuspendRes).
    if (!awaited) return reply(422, "Awaited promise not found");
    if (awaited.state === "pending") pending.push(awaitedId);
    else anySettled = true;
  }
  if (anySettled) {
    // Something awaited is already there: the task stays acquired and resumes at once.
    ctx.store.tasks.put({ ...t, resumes: [] });
    return reply(300, { preload: preload(ctx, id) });
  }
  for (const awaitedId of pending) ctx.store.callbacks.add(awaitedId, id);
  ctx.store.tasks.put({ id, state: "suspended", version: t.version, resumes: [] });
  ctx.store.timeouts.deleteTask(id);
  return reply(200, {});
}

export function haltTask(ctx: StateContext, id: string): Reply {
  const t = ctx.store.tasks.get(id);
  if (!t) return reply(404, "Task not found");
  if (t.state === "fulfilled") return reply(409, "Task is fulfilled");
  if (t.state !== "halted") {
    ctx.store.tasks.put({ id, state: "halted", version: t.version, resumes: t.resumes });
    ctx.store.timeouts.deleteTask(id);
  }
  return reply(200, {});
}

export function continueTask(ctx: StateContext, now: number, id: string): Reply {
  const t = ctx.store.tasks.get(id);
  if (!t) return reply(404, "Task not found");
  if (t.state !== "halted") return reply(409, "Task is not halted");
  makePending(ctx, now, t, t.resumes);
  return reply(200, {});
}

export function fenceTask(
  ctx: StateContext,
  now: number,
  req: Extract<Request, { kind: "task.fence" }>,
): Reply {
  const t = checkAcquired(ctx, now, req.data.id, req.data.version, "Fence check failed");
  if ("status" in t) return t;
  const action = req.data.action;
  const inner =
    action.kind === "promise.create"
      ? createPromise(ctx, now, action.data)
      : settlePromise(ctx, now, action.data);
  // As the real server answers (server.rs:1870-1877, 1955-1961): the inner answer under the
  // request's corrId, and the task's branch as it is after the action, so that a replay finds
  // its siblings without asking.
  return reply(200, {
    action: {
      kind: action.kind,
      head: { corrId: req.head.corrId, status: inner.status, version: PROTOCOL_VERSION },
      data: inner.data,
    },
    preload: preload(ctx, req.data.id),
  });
}

export function heartbeatTasks(
  ctx: StateContext,
  now: number,
  pid: string,
  refs: { id: string; version: number }[],
): Reply {
  for (const ref of refs) {
    const t = ctx.store.tasks.get(ref.id);
    if (!t || t.state !== "acquired" || t.version !== ref.version || t.pid !== pid) continue;
    if (projected(now, mustGetPromise(ctx, ref.id)).state !== "pending") continue;
    ctx.store.timeouts.setTask(ref.id, 1, now + (t.ttl ?? DEFAULT_LEASE_MS));
  }
  return reply(200, {});
}

export function searchTasks(
  ctx: StateContext,
  q: { state?: TaskState; limit?: number; cursor?: string },
): Reply {
  const limit = q.limit ?? DEFAULT_SEARCH_LIMIT;
  const rows = ctx.store.tasks.search({ ...q, limit: limit + 1 });
  const page = rows.slice(0, limit);
  return reply(200, {
    // The real server reports how many resumes a task holds, not which.
    tasks: page.map((t) => ({ ...toTaskRecord(t), resumes: t.resumes.length })),
    ...(rows.length > limit ? { cursor: encodeCursor(page.at(-1)?.id ?? "") } : {}),
  });
}

/** A task's lease (type 1) or retry (type 0) deadline has passed. */
export function fireTaskTimeout(
  ctx: StateContext,
  now: number,
  id: string,
  type: TaskTimeoutType,
): void {
  const t = ctx.store.tasks.get(id);
  if (t && type === 1 && t.state === "acquired") {
    const graceEndsAt =
      ctx.leaseGraceFrom === undefined ? now : ctx.leaseGraceFrom + (t.ttl ?? DEFAULT_LEASE_MS);
    if (now < graceEndsAt) {
      // Fell due while the server was down: the holder gets one lease to speak up.
      ctx.store.timeouts.setTask(id, 1, graceEndsAt);
      return;
    }
    // The lease ran out: the holder is presumed dead, and the task goes to its group again.
    makePending(ctx, now, t, t.resumes);
  } else if (t && type === 0 && t.state === "pending") {
    ctx.store.timeouts.setTask(id, 0, now + PENDING_RETRY_MS);
    send(ctx, mustGetAddress(ctx, id), execute(id, t.version));
  } else if (ctx.store.timeouts.taskType(id) === type) {
    // Nothing to do for this state; drop the entry so it is not found due again.
    ctx.store.timeouts.deleteTask(id);
  }
}
