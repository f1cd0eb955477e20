// The Resonate state machine: (now, request) -> (reply, messages to send). It keeps no state
// of its own and does no I/O: everything lives in the StateStore handed in, read and written
// synchronously inside the caller's transaction. Semantics follow the SDK's reference server
// (held to it by test/server/differential.test.ts); search follows the real Rust server.
import { CronExpressionParser } from "cron-parser";
import type {
  Message,
  Outgoing,
  PromiseCreateData,
  PromiseRecord,
  PromiseSettleData,
  PromiseState,
  Reply,
  Request,
  ScheduleRecord,
  Status,
  TaskRecord,
  TaskState,
} from "./protocol.ts";
import { encodeCursor } from "./protocol.ts";
import type {
  StateStore,
  StoredPromise,
  StoredSchedule,
  StoredTask,
  TaskTimeoutType,
} from "./store-api.ts";

/** How long an unclaimed pending task waits before its execute message is sent again. */
export const PENDING_RETRY_MS = 30_000;
/** Lease assumed for a heartbeat on a task whose ttl is unknown. */
const DEFAULT_LEASE_MS = 30_000;
/** Search page size when the request names none (the real server's default). */
const DEFAULT_SEARCH_LIMIT = 100;

export interface Applied {
  reply: Reply;
  messages: Outgoing[];
}

export interface Ticked {
  messages: Outgoing[];
  /** True when the batch limit stopped the tick before every due timeout was handled. */
  more: boolean;
}

function reply(status: Status, data: unknown): Reply {
  return { status, data };
}

function target(p: StoredPromise): string | undefined {
  return p.tags["resonate:target"];
}

/** A promise that a listener may wait on from outside its own call graph. */
function isExternal(p: StoredPromise): boolean {
  const t = p.tags;
  return (
    t["resonate:scope"] === "global" ||
    t["resonate:external"] === "true" ||
    t["resonate:target"] !== undefined ||
    t["resonate:timer"] === "true"
  );
}

/** A timer promise resolves when its deadline passes; any other promise times out. */
function timeoutState(tags: Record<string, string>): PromiseState {
  return tags["resonate:timer"] === "true" ? "resolved" : "rejected_timedout";
}

export function toPromiseRecord(p: StoredPromise): PromiseRecord {
  const { settledAt, ...rest } = p;
  return settledAt === null ? rest : { ...rest, settledAt };
}

function toTaskRecord(t: StoredTask): TaskRecord {
  const record: TaskRecord = {
    id: t.id,
    version: t.version,
    state: t.state,
    resumes: [...t.resumes],
  };
  if (t.pid !== undefined) record.pid = t.pid;
  if (t.ttl !== undefined) record.ttl = t.ttl;
  return record;
}

function execute(id: string, version: number): Message {
  return { kind: "execute", head: {}, data: { task: { id, version } } };
}

export interface StateOptions {
  /**
   * When this server started, if leases get a grace after it: a lease then lapses no sooner
   * than one lease after the start. While the server was down nobody could heartbeat, so a
   * lease that fell due meanwhile says nothing about its holder; without the grace every job
   * running through a restart would be taken from its live worker at once, before the worker
   * could heartbeat or deliver its answer (issue 12, item 6). The Resonate server has no such
   * grace. Undefined: none (the SDK's reference server has none either).
   */
  leaseGraceFrom?: number;
}

export class ResonateState {
  readonly #store: StateStore;
  #leaseGraceFrom: number | undefined;
  #messages: Outgoing[] = [];

  constructor(store: StateStore, options: StateOptions = {}) {
    this.#store = store;
    this.#leaseGraceFrom = options.leaseGraceFrom;
  }

  /**
   * Gives every lease that falls due within one lease after `at` that grace, as after a start:
   * for a server that stood still (stopped, swapping, starved of CPU) and could not take the
   * heartbeats sent meanwhile.
   */
  graceLeasesFrom(at: number): void {
    this.#leaseGraceFrom = Math.max(at, this.#leaseGraceFrom ?? at);
  }

  /** Applies one request. Writes go to the store; the caller commits, then sends the messages. */
  apply(now: number, req: Request): Applied {
    this.#messages = [];
    const result = this.#dispatch(now, req);
    return { reply: result, messages: this.#messages };
  }

  #dispatch(now: number, req: Request): Reply {
    switch (req.kind) {
      case "promise.get":
        this.#eagerTimeout(now, req.data.id);
        return this.#promiseGet(now, req.data.id);
      case "promise.create":
        this.#eagerTimeout(now, req.data.id);
        return this.#promiseCreate(now, req.data);
      case "promise.settle":
        this.#eagerTimeout(now, req.data.id);
        return this.#promiseSettle(now, req.data);
      case "promise.register_callback":
        if (req.data.awaited === req.data.awaiter) {
          return reply(400, "Awaited and awaiter must be different");
        }
        this.#eagerTimeout(now, req.data.awaited);
        this.#eagerTimeout(now, req.data.awaiter);
        return this.#registerCallback(now, req.data.awaited, req.data.awaiter);
      case "promise.register_listener":
        this.#eagerTimeout(now, req.data.awaited);
        return this.#registerListener(now, req.data.awaited, req.data.address);
      case "promise.search":
        return this.#promiseSearch(req.data);
      case "task.get":
        this.#eagerTimeout(now, req.data.id);
        return this.#taskGet(now, req.data.id);
      case "task.create":
        if (!req.data.action.data.tags["resonate:target"]) {
          return reply(400, "Action must have a resonate:target tag");
        }
        this.#eagerTimeout(now, req.data.action.data.id);
        return this.#taskCreate(now, req.data.pid, req.data.ttl, req.data.action.data);
      case "task.acquire":
        this.#eagerTimeout(now, req.data.id);
        return this.#taskAcquire(now, req.data);
      case "task.release":
        this.#eagerTimeout(now, req.data.id);
        return this.#taskRelease(now, req.data.id, req.data.version);
      case "task.fulfill":
        if (req.data.action.data.id !== req.data.id)
          return reply(400, "Promise ID must match task ID");
        this.#eagerTimeout(now, req.data.id);
        return this.#taskFulfill(now, req.data.id, req.data.version, req.data.action.data);
      case "task.suspend": {
        const { id, actions } = req.data;
        if (actions.length === 0) return reply(400, "Actions list must not be empty");
        if (actions.some((a) => a.data.awaiter !== id))
          return reply(400, "Awaiter must be the suspending task");
        if (actions.some((a) => a.data.awaited === id))
          return reply(400, "Task cannot await its own promise");
        this.#eagerTimeout(now, id);
        for (const action of actions) this.#eagerTimeout(now, action.data.awaited);
        return this.#taskSuspend(
          now,
          id,
          req.data.version,
          actions.map((a) => a.data.awaited),
        );
      }
      case "task.halt":
        this.#eagerTimeout(now, req.data.id);
        return this.#taskHalt(req.data.id);
      case "task.continue":
        this.#eagerTimeout(now, req.data.id);
        return this.#taskContinue(now, req.data.id);
      case "task.fence":
        this.#eagerTimeout(now, req.data.id);
        this.#eagerTimeout(now, req.data.action.data.id);
        return this.#taskFence(now, req);
      case "task.heartbeat":
        return this.#taskHeartbeat(now, req.data.pid, req.data.tasks);
      case "task.search":
        return this.#taskSearch(req.data);
      case "schedule.get":
        return this.#scheduleGet(req.data.id);
      case "schedule.create":
        return this.#scheduleCreate(now, req.data);
      case "schedule.delete":
        return this.#scheduleDelete(req.data.id);
      case "schedule.search":
        return this.#scheduleSearch(req.data);
    }
  }

  // ---------------------------------------------------------------------------------------
  // Promises

  #promiseGet(now: number, id: string): Reply {
    const p = this.#store.getPromise(id);
    if (!p) return reply(404, "Promise not found");
    return reply(200, { promise: toPromiseRecord(this.#projected(now, p)) });
  }

  #promiseCreate(now: number, data: PromiseCreateData): Reply {
    const existing = this.#store.getPromise(data.id);
    if (existing) return reply(200, { promise: toPromiseRecord(this.#projected(now, existing)) });
    const address = data.tags["resonate:target"];
    if (now >= data.timeoutAt) {
      // Born settled: the deadline has passed before the promise existed.
      const p = this.#newPromise(data, timeoutState(data.tags), data.timeoutAt, data.timeoutAt);
      this.#store.putPromise(p);
      if (address) this.#store.putTask(fulfilledTask(data.id), address);
      this.#settled(now, data.id);
      return reply(200, { promise: toPromiseRecord(p) });
    }
    const p = this.#newPromise(data, "pending", now, null);
    this.#store.putPromise(p);
    if (address) {
      // Only a promise with an address is expired by the timer loop, as on the real server.
      this.#store.setPromiseTimeout(data.id, data.timeoutAt);
      const delay = Number(data.tags["resonate:delay"]);
      const deferred = Number.isFinite(delay) && now < delay;
      this.#store.putTask({ id: data.id, state: "pending", version: 0, resumes: [] }, address);
      this.#store.setTaskTimeout(data.id, 0, deferred ? delay : now + PENDING_RETRY_MS);
      if (!deferred) this.#send(address, execute(data.id, 0));
    }
    return reply(200, { promise: toPromiseRecord(p) });
  }

  #newPromise(
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

  #promiseSettle(now: number, data: PromiseSettleData): Reply {
    const p = this.#store.getPromise(data.id);
    if (!p) return reply(404, "Promise not found");
    const projected = this.#projected(now, p);
    // Settling a settled promise is idempotent: it answers with what is there.
    if (projected.state !== "pending") return reply(200, { promise: toPromiseRecord(projected) });
    const settled: StoredPromise = { ...p, state: data.state, value: data.value, settledAt: now };
    this.#store.putPromise(settled);
    this.#store.deletePromiseTimeout(data.id);
    this.#settled(now, data.id);
    return reply(200, { promise: toPromiseRecord(settled) });
  }

  #registerCallback(now: number, awaitedId: string, awaiterId: string): Reply {
    const awaited = this.#store.getPromise(awaitedId);
    if (!awaited) return reply(404, "Awaited promise not found");
    const awaiter = this.#store.getPromise(awaiterId);
    if (!awaiter) return reply(422, "Awaiter promise not found");
    if (!target(awaiter)) return reply(422, "Awaiter has no address");
    const awaitedNow = this.#projected(now, awaited);
    if (awaitedNow.state === "pending" && this.#projected(now, awaiter).state === "pending") {
      this.#store.addCallback(awaitedId, awaiterId);
    }
    return reply(200, { promise: toPromiseRecord(awaitedNow) });
  }

  #registerListener(now: number, awaitedId: string, address: string): Reply {
    const p = this.#store.getPromise(awaitedId);
    if (!p) return reply(404, "Promise not found");
    if (!isExternal(p)) return reply(422, "Awaited promise is not awaitable");
    const projected = this.#projected(now, p);
    if (projected.state === "pending") this.#store.addListener(awaitedId, address);
    return reply(200, { promise: toPromiseRecord(projected) });
  }

  #promiseSearch(q: {
    state?: PromiseState;
    tags?: Record<string, string>;
    limit?: number;
    cursor?: string;
  }): Reply {
    const limit = q.limit ?? DEFAULT_SEARCH_LIMIT;
    const rows = this.#store.searchPromises({ ...q, limit: limit + 1 });
    const page = rows.slice(0, limit);
    const more = rows.length > limit;
    return reply(200, {
      promises: page.map(toPromiseRecord),
      ...(more ? { cursor: encodeCursor(page.at(-1)?.id ?? "") } : {}),
    });
  }

  // ---------------------------------------------------------------------------------------
  // Tasks

  #taskGet(now: number, id: string): Reply {
    const t = this.#store.getTask(id);
    if (!t) return reply(404, "Task not found");
    return reply(200, { task: toTaskRecord(this.#projectedTask(now, t)) });
  }

  #taskCreate(now: number, pid: string, ttl: number, data: PromiseCreateData): Reply {
    const existing = this.#store.getTask(data.id);
    if (existing) {
      const p = this.#mustGetPromise(existing.id);
      if (existing.state === "pending") {
        const acquired = this.#acquire(now, existing, pid, ttl);
        return reply(200, {
          task: toTaskRecord(acquired),
          promise: toPromiseRecord(p),
          preload: this.#preload(existing.id),
        });
      }
      if (existing.state === "fulfilled") {
        return reply(200, {
          task: toTaskRecord(existing),
          promise: toPromiseRecord(p),
          preload: this.#preload(existing.id),
        });
      }
      return reply(409, "Task already exists");
    }
    const existingPromise = this.#store.getPromise(data.id);
    if (existingPromise) {
      return target(existingPromise)
        ? reply(409, "Promise already exists")
        : reply(422, "Promise has no address");
    }
    const address = data.tags["resonate:target"] ?? "";
    if (now >= data.timeoutAt) {
      const p = this.#newPromise(data, timeoutState(data.tags), data.timeoutAt, data.timeoutAt);
      const t = fulfilledTask(data.id);
      this.#store.putPromise(p);
      this.#store.putTask(t, address);
      return reply(200, { task: toTaskRecord(t), promise: toPromiseRecord(p), preload: [] });
    }
    const p = this.#newPromise(data, "pending", now, null);
    this.#store.putPromise(p);
    this.#store.setPromiseTimeout(data.id, data.timeoutAt);
    const t: StoredTask = { id: data.id, state: "acquired", version: 1, pid, ttl, resumes: [] };
    this.#store.putTask(t, address);
    this.#store.setTaskTimeout(data.id, 1, now + ttl);
    return reply(200, {
      task: toTaskRecord(t),
      promise: toPromiseRecord(p),
      preload: this.#preload(data.id),
    });
  }

  #acquire(now: number, t: StoredTask, pid: string, ttl: number): StoredTask {
    const acquired: StoredTask = {
      ...t,
      state: "acquired",
      version: t.version + 1,
      pid,
      ttl,
      resumes: [],
    };
    this.#store.putTask(acquired);
    this.#store.setTaskTimeout(t.id, 1, now + ttl);
    return acquired;
  }

  #taskAcquire(now: number, d: { id: string; version: number; pid: string; ttl: number }): Reply {
    const t = this.#store.getTask(d.id);
    if (!t) return reply(404, "Task not found");
    if (t.state !== "pending") return reply(409, "Task not in pending state");
    const p = this.#mustGetPromise(d.id);
    if (this.#projected(now, p).state !== "pending") return reply(409, "Task logically fulfilled");
    if (t.version !== d.version) return reply(409, "Version mismatch");
    const acquired = this.#acquire(now, t, d.pid, d.ttl);
    return reply(200, {
      task: toTaskRecord(acquired),
      promise: toPromiseRecord(p),
      preload: this.#preload(d.id),
    });
  }

  /** The checks shared by release, fulfill and suspend: an acquired task at this version. */
  #checkAcquired(
    now: number,
    id: string,
    version: number,
    notAcquired: string,
  ): StoredTask | Reply {
    const t = this.#store.getTask(id);
    if (!t) return reply(404, "Task not found");
    if (t.state !== "acquired") return reply(409, notAcquired);
    if (this.#projected(now, this.#mustGetPromise(id)).state !== "pending")
      return reply(409, notAcquired);
    if (t.version !== version)
      return reply(409, notAcquired === "Fence check failed" ? notAcquired : "Version mismatch");
    return t;
  }

  #taskRelease(now: number, id: string, version: number): Reply {
    const t = this.#checkAcquired(now, id, version, "Task not acquired");
    if ("status" in t) return t;
    this.#makePending(now, t, t.resumes);
    return reply(200, {});
  }

  /** Back to pending: the task is offered to its group again. */
  #makePending(now: number, t: StoredTask, resumes: string[]): void {
    const pending: StoredTask = { id: t.id, state: "pending", version: t.version, resumes };
    this.#store.putTask(pending);
    this.#store.setTaskTimeout(t.id, 0, now + PENDING_RETRY_MS);
    this.#send(this.#mustGetAddress(t.id), execute(t.id, t.version));
  }

  #taskFulfill(now: number, id: string, version: number, settle: PromiseSettleData): Reply {
    const t = this.#checkAcquired(now, id, version, "Task not acquired");
    if ("status" in t) return t;
    const p = this.#mustGetPromise(id);
    if (p.state !== "pending") {
      this.#fulfilTask(id);
      return reply(200, { promise: toPromiseRecord(p) });
    }
    const settled: StoredPromise = {
      ...p,
      state: settle.state,
      value: settle.value,
      settledAt: now,
    };
    this.#store.putPromise(settled);
    this.#store.deletePromiseTimeout(id);
    this.#settled(now, id);
    return reply(200, { promise: toPromiseRecord(settled) });
  }

  #taskSuspend(now: number, id: string, version: number, awaitedIds: string[]): Reply {
    const t = this.#checkAcquired(now, id, version, "Task not acquired");
    if ("status" in t) return t;
    const pending: string[] = [];
    let anySettled = false;
    for (const awaitedId of awaitedIds) {
      const awaited = this.#store.getPromise(awaitedId);
      if (!awaited) return reply(422, {});
      if (awaited.state === "pending") pending.push(awaitedId);
      else anySettled = true;
    }
    if (anySettled) {
      // Something awaited is already there: the task stays acquired and resumes at once.
      this.#store.putTask({ ...t, resumes: [] });
      return reply(300, { preload: this.#preload(id) });
    }
    for (const awaitedId of pending) this.#store.addCallback(awaitedId, id);
    this.#store.putTask({ id, state: "suspended", version: t.version, resumes: [] });
    this.#store.deleteTaskTimeout(id);
    return reply(200, {});
  }

  #taskHalt(id: string): Reply {
    const t = this.#store.getTask(id);
    if (!t) return reply(404, "Task not found");
    if (t.state === "fulfilled") return reply(409, "Task is fulfilled");
    if (t.state !== "halted") {
      this.#store.putTask({ id, state: "halted", version: t.version, resumes: t.resumes });
      this.#store.deleteTaskTimeout(id);
    }
    return reply(200, {});
  }

  #taskContinue(now: number, id: string): Reply {
    const t = this.#store.getTask(id);
    if (!t) return reply(404, "Task not found");
    if (t.state !== "halted") return reply(409, "Task is not halted");
    this.#makePending(now, t, t.resumes);
    return reply(200, {});
  }

  #taskFence(now: number, req: Extract<Request, { kind: "task.fence" }>): Reply {
    const t = this.#checkAcquired(now, req.data.id, req.data.version, "Fence check failed");
    if ("status" in t) return t;
    const action = req.data.action;
    const inner =
      action.kind === "promise.create"
        ? this.#promiseCreate(now, action.data)
        : this.#promiseSettle(now, action.data);
    return reply(200, {
      action: {
        kind: action.kind,
        head: { corrId: action.head.corrId, status: inner.status, version: action.head.version },
        data: inner.data,
      },
      preload: [],
    });
  }

  #taskHeartbeat(now: number, pid: string, refs: { id: string; version: number }[]): Reply {
    for (const ref of refs) {
      const t = this.#store.getTask(ref.id);
      if (!t || t.state !== "acquired" || t.version !== ref.version || t.pid !== pid) continue;
      if (this.#projected(now, this.#mustGetPromise(ref.id)).state !== "pending") continue;
      this.#store.setTaskTimeout(ref.id, 1, now + (t.ttl ?? DEFAULT_LEASE_MS));
    }
    return reply(200, {});
  }

  #taskSearch(q: { state?: TaskState; limit?: number; cursor?: string }): Reply {
    const limit = q.limit ?? DEFAULT_SEARCH_LIMIT;
    const rows = this.#store.searchTasks({ ...q, limit: limit + 1 });
    const page = rows.slice(0, limit);
    return reply(200, {
      // The real server reports how many resumes a task holds, not which.
      tasks: page.map((t) => ({ ...toTaskRecord(t), resumes: t.resumes.length })),
      ...(rows.length > limit ? { cursor: encodeCursor(page.at(-1)?.id ?? "") } : {}),
    });
  }

  // ---------------------------------------------------------------------------------------
  // Schedules

  #scheduleRecord(s: StoredSchedule): ScheduleRecord {
    const record: ScheduleRecord = {
      id: s.id,
      cron: s.cron,
      promiseId: s.promiseId,
      promiseTimeout: s.promiseTimeout,
      promiseParam: s.promiseParam,
      promiseTags: s.promiseTags,
      createdAt: s.createdAt,
      nextRunAt: this.#store.scheduleTimeout(s.id) ?? 0,
    };
    if (s.lastRunAt !== undefined) record.lastRunAt = s.lastRunAt;
    return record;
  }

  #scheduleGet(id: string): Reply {
    const s = this.#store.getSchedule(id);
    if (!s) return reply(404, "Schedule not found");
    return reply(200, { schedule: this.#scheduleRecord(s) });
  }

  #scheduleCreate(now: number, d: Omit<StoredSchedule, "createdAt" | "lastRunAt">): Reply {
    // Every promise a schedule fires needs somewhere to go.
    if (!("resonate:target" in d.promiseTags)) {
      return reply(400, "promiseTags must include a resonate:target tag");
    }
    const existing = this.#store.getSchedule(d.id);
    if (existing) return reply(200, { schedule: this.#scheduleRecord(existing) });
    const next = nextCronRun(d.cron, now);
    if (next === undefined) return reply(400, "Invalid cron expression");
    const s: StoredSchedule = { ...d, createdAt: now };
    this.#store.setScheduleTimeout(s.id, next);
    this.#store.putSchedule(s);
    return reply(200, { schedule: this.#scheduleRecord(s) });
  }

  #scheduleDelete(id: string): Reply {
    if (!this.#store.getSchedule(id)) return reply(404, "Schedule not found");
    this.#store.deleteScheduleTimeout(id);
    this.#store.deleteSchedule(id);
    return reply(200, {});
  }

  #scheduleSearch(q: { tags?: Record<string, string>; limit?: number; cursor?: string }): Reply {
    const limit = q.limit ?? DEFAULT_SEARCH_LIMIT;
    const rows = this.#store.searchSchedules({ ...q, limit: limit + 1 });
    const page = rows.slice(0, limit);
    return reply(200, {
      schedules: page.map((s) => this.#scheduleRecord(s)),
      ...(rows.length > limit ? { cursor: encodeCursor(page.at(-1)?.id ?? "") } : {}),
    });
  }

  // ---------------------------------------------------------------------------------------
  // Timers

  /**
   * Fires every timeout due at `now`, at most `limit` of each kind: promise deadlines, task
   * leases and retries, schedules. The store finds them through an index on the deadline, so
   * the cost is that of what is due, not of what is pending.
   */
  tick(now: number, limit = 1000): Ticked {
    this.#messages = [];
    const duePromises = this.#store.duePromiseTimeouts(now, limit);
    // Task timeouts are read before promises settle, then re-checked: a task whose promise
    // timed out in this same tick is fulfilled, not released.
    const dueTasks = this.#store.dueTaskTimeouts(now, limit);
    const settledIds: string[] = [];
    for (const { id } of duePromises) {
      const p = this.#store.getPromise(id);
      this.#store.deletePromiseTimeout(id);
      if (!p || p.state !== "pending") continue;
      this.#store.putPromise({
        ...p,
        state: timeoutState(p.tags),
        value: {},
        settledAt: p.timeoutAt,
      });
      settledIds.push(id);
    }
    // Fulfil every settled promise's own task before resuming anyone waiting on them, so a
    // task whose own deadline passed goes straight to fulfilled.
    for (const id of settledIds) this.#fulfilTask(id);
    for (const id of settledIds) {
      this.#resumeAwaiters(now, id);
      this.#notifyListeners(id);
    }
    for (const due of dueTasks) this.#fireTaskTimeout(now, due.id, due.type);
    const dueSchedules = this.#store.dueScheduleTimeouts(now, limit);
    for (const due of dueSchedules) this.#fireSchedule(now, due.id, due.timeout);
    const more =
      duePromises.length === limit || dueTasks.length === limit || dueSchedules.length === limit;
    return { messages: this.#messages, more };
  }

  #fireTaskTimeout(now: number, id: string, type: TaskTimeoutType): void {
    const t = this.#store.getTask(id);
    if (t && type === 1 && t.state === "acquired") {
      const graceEndsAt =
        this.#leaseGraceFrom === undefined
          ? now
          : this.#leaseGraceFrom + (t.ttl ?? DEFAULT_LEASE_MS);
      if (now < graceEndsAt) {
        // Fell due while the server was down: the holder gets one lease to speak up.
        this.#store.setTaskTimeout(id, 1, graceEndsAt);
        return;
      }
      // The lease ran out: the holder is presumed dead, and the task goes to its group again.
      this.#makePending(now, t, t.resumes);
    } else if (t && type === 0 && t.state === "pending") {
      this.#store.setTaskTimeout(id, 0, now + PENDING_RETRY_MS);
      this.#send(this.#mustGetAddress(id), execute(id, t.version));
    } else if (this.#store.taskTimeoutType(id) === type) {
      // Nothing to do for this state; drop the entry so it is not found due again.
      this.#store.deleteTaskTimeout(id);
    }
  }

  #fireSchedule(now: number, id: string, runAt: number): void {
    const s = this.#store.getSchedule(id);
    if (!s) {
      this.#store.deleteScheduleTimeout(id);
      return;
    }
    const promiseId = s.promiseId
      .replaceAll("{{.id}}", s.id)
      .replaceAll("{{.timestamp}}", String(runAt));
    this.#promiseCreate(now, {
      id: promiseId,
      timeoutAt: runAt + s.promiseTimeout,
      param: s.promiseParam,
      tags: { ...s.promiseTags, "resonate:schedule": s.id },
    });
    const next = nextCronRun(s.cron, runAt);
    if (next === undefined) {
      this.#store.deleteScheduleTimeout(id);
    } else {
      this.#store.setScheduleTimeout(id, next);
    }
    this.#store.putSchedule({ ...s, lastRunAt: runAt });
  }

  // ---------------------------------------------------------------------------------------
  // Settlement and its consequences

  /** A promise the store still holds as pending past its deadline settles on first touch. */
  #eagerTimeout(now: number, id: string): void {
    const p = this.#store.getPromise(id);
    if (!p || p.state !== "pending" || now < p.timeoutAt) return;
    this.#store.putPromise({ ...p, state: timeoutState(p.tags), settledAt: p.timeoutAt });
    this.#store.deletePromiseTimeout(id);
    this.#settled(now, id);
  }

  #settled(now: number, id: string): void {
    this.#fulfilTask(id);
    this.#resumeAwaiters(now, id);
    this.#notifyListeners(id);
  }

  #fulfilTask(id: string): void {
    const t = this.#store.getTask(id);
    if (!t || t.state === "fulfilled") return;
    this.#store.putTask({ id, state: "fulfilled", version: t.version, resumes: [] });
    this.#store.deleteTaskTimeout(id);
    this.#store.deleteCallbacksByAwaiter(id);
  }

  #resumeAwaiters(now: number, id: string): void {
    for (const awaiterId of this.#store.callbacksOf(id)) {
      const t = this.#store.getTask(awaiterId);
      if (!t) continue;
      if (t.state === "suspended") {
        this.#store.putTask({ id: t.id, state: "pending", version: t.version, resumes: [id] });
        this.#store.setTaskTimeout(t.id, 0, now + PENDING_RETRY_MS);
        this.#send(this.#mustGetAddress(t.id), execute(t.id, t.version));
      } else if (t.state !== "fulfilled" && !t.resumes.includes(id)) {
        // Not suspended yet: remember the resume for when it suspends or continues.
        this.#store.putTask({ ...t, resumes: [...t.resumes, id] });
      }
    }
    this.#store.deleteCallbacksOf(id);
  }

  #notifyListeners(id: string): void {
    const addresses = this.#store.listenersOf(id);
    if (addresses.length === 0) return;
    const p = this.#mustGetPromise(id);
    for (const address of addresses) {
      this.#send(address, { kind: "unblock", head: {}, data: { promise: toPromiseRecord(p) } });
    }
    this.#store.deleteListenersOf(id);
  }

  // ---------------------------------------------------------------------------------------
  // Helpers

  /** The logical view: a pending promise past its deadline reads as settled. */
  #projected(now: number, p: StoredPromise): StoredPromise {
    if (p.state !== "pending" || now < p.timeoutAt) return p;
    return { ...p, state: timeoutState(p.tags), settledAt: p.timeoutAt };
  }

  #projectedTask(now: number, t: StoredTask): StoredTask {
    const p = this.#store.getPromise(t.id);
    if (!p || t.state === "fulfilled" || this.#projected(now, p).state === "pending") return t;
    return { id: t.id, state: "fulfilled", version: t.version, resumes: t.resumes };
  }

  #preload(id: string): PromiseRecord[] {
    const branch = this.#store.getPromise(id)?.tags["resonate:branch"];
    if (!branch) return [];
    return this.#store.branchPromises(branch, id).map(toPromiseRecord);
  }

  #mustGetPromise(id: string): StoredPromise {
    const p = this.#store.getPromise(id);
    if (!p) throw new Error(`invariant violated: promise ${id} not found`);
    return p;
  }

  #mustGetAddress(id: string): string {
    const address = target(this.#mustGetPromise(id));
    if (!address) throw new Error(`invariant violated: promise ${id} has no resonate:target tag`);
    return address;
  }

  #send(address: string, message: Message): void {
    this.#messages.push({ address, message });
  }
}

function fulfilledTask(id: string): StoredTask {
  return { id, state: "fulfilled", version: 0, resumes: [] };
}

/** The first run of `cron` strictly after `after` (ms), or undefined if it never runs. */
export function nextCronRun(cron: string, after: number): number | undefined {
  try {
    return CronExpressionParser.parse(cron, { currentDate: new Date(after) })
      .next()
      .getTime();
  } catch {
    return undefined;
  }
}
