// The Resonate state machine: (now, request) -> (reply, messages to send). It keeps no state
// of its own and does no I/O: everything lives in the StateStore handed in, read and written
// synchronously inside the caller's transaction. Semantics follow the SDK's reference server
// where it agrees with the real Resonate server, and the real server where they differ (a
// listener on any promise, a callback on a settled promise, a fence's preload: issue 14, item
// 6); test/server/differential.test.ts holds it to both. Search follows the real server.
// This file checks each request's shape and hands it to the module of its resource (state-*.ts).
import { isRoutableAddress } from "./address.ts";
import type { Outgoing, Reply, Request } from "./protocol.ts";
import type { StateStore } from "./store-api.ts";
import { type StateContext, reply } from "./state-context.ts";
import {
  createPromise,
  getPromise,
  registerCallback,
  registerListener,
  searchPromises,
  settlePromise,
} from "./state-promises.ts";
import { createSchedule, deleteSchedule, getSchedule, searchSchedules } from "./state-schedules.ts";
import { eagerTimeout } from "./state-settlement.ts";
import {
  acquireTask,
  continueTask,
  createTask,
  fenceTask,
  fulfillTask,
  getTask,
  haltTask,
  heartbeatTasks,
  releaseTask,
  searchTasks,
  suspendTask,
} from "./state-tasks.ts";
import { type Ticked, tick } from "./state-tick.ts";

export type { Ticked } from "./state-tick.ts";

export interface Applied {
  reply: Reply;
  messages: Outgoing[];
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
  readonly #ctx: StateContext;

  constructor(store: StateStore, options: StateOptions = {}) {
    this.#ctx = { store, messages: [], leaseGraceFrom: options.leaseGraceFrom };
  }

  /**
   * Gives every lease that falls due within one lease after `at` that grace, as after a start:
   * for a server that stood still (stopped, swapping, starved of CPU) and could not take the
   * heartbeats sent meanwhile.
   */
  graceLeasesFrom(at: number): void {
    this.#ctx.leaseGraceFrom = Math.max(at, this.#ctx.leaseGraceFrom ?? at);
  }

  /** Applies one request. Writes go to the store; the caller commits, then sends the messages. */
  apply(now: number, req: Request): Applied {
    this.#ctx.messages = [];
    const result = dispatch(this.#ctx, now, req);
    return { reply: result, messages: this.#ctx.messages };
  }

  /** Fires every timeout due at `now`, at most `limit` of each kind (state-tick.ts). */
  tick(now: number, limit = 1000): Ticked {
    this.#ctx.messages = [];
    return tick(this.#ctx, now, limit);
  }
}

const INVALID_TARGET = "Invalid resonate:target address";

/** A target the real server would refuse is refused before anything else (server.rs:583-597). */
function routable(tags: Record<string, string>): boolean {
  const address = tags["resonate:target"];
  return address === undefined || isRoutableAddress(address);
}

function dispatch(ctx: StateContext, now: number, req: Request): Reply {
  switch (req.kind) {
    case "promise.get":
      eagerTimeout(ctx, now, req.data.id);
      return getPromise(ctx, now, req.data.id);
    case "promise.create":
      if (!routable(req.data.tags)) return reply(400, INVALID_TARGET);
      eagerTimeout(ctx, now, req.data.id);
      return createPromise(ctx, now, req.data);
    case "promise.settle":
      eagerTimeout(ctx, now, req.data.id);
      return settlePromise(ctx, now, req.data);
    case "promise.register_callback":
      if (req.data.awaited === req.data.awaiter) {
        return reply(400, "Awaited and awaiter must be different");
      }
      eagerTimeout(ctx, now, req.data.awaited);
      eagerTimeout(ctx, now, req.data.awaiter);
      return registerCallback(ctx, now, req.data.awaited, req.data.awaiter);
    case "promise.register_listener":
      if (!isRoutableAddress(req.data.address)) return reply(400, "Invalid listener address");
      eagerTimeout(ctx, now, req.data.awaited);
      return registerListener(ctx, now, req.data.awaited, req.data.address);
    case "promise.search":
      return searchPromises(ctx, req.data);
    case "task.get":
      eagerTimeout(ctx, now, req.data.id);
      return getTask(ctx, now, req.data.id);
    case "task.create":
      if (!req.data.action.data.tags["resonate:target"]) {
        return reply(400, "Action must have a resonate:target tag");
      }
      if (!routable(req.data.action.data.tags)) return reply(400, INVALID_TARGET);
      eagerTimeout(ctx, now, req.data.action.data.id);
      return createTask(ctx, now, req.data.pid, req.data.ttl, req.data.action.data);
    case "task.acquire":
      eagerTimeout(ctx, now, req.data.id);
      return acquireTask(ctx, now, req.data);
    case "task.release":
      eagerTimeout(ctx, now, req.data.id);
      return releaseTask(ctx, now, req.data.id, req.data.version);
    case "task.fulfill":
      if (req.data.action.data.id !== req.data.id) {
        return reply(400, "Promise ID must match task ID");
      }
      eagerTimeout(ctx, now, req.data.id);
      return fulfillTask(ctx, now, req.data.id, req.data.version, req.data.action.data);
    case "task.suspend": {
      const { id, actions } = req.data;
      if (actions.length === 0) return reply(400, "Actions list must not be empty");
      if (actions.some((a) => a.data.awaiter !== id))
        return reply(400, "Awaiter must be the suspending task");
      if (actions.some((a) => a.data.awaited === id))
        return reply(400, "Task cannot await its own promise");
      eagerTimeout(ctx, now, id);
      for (const action of actions) eagerTimeout(ctx, now, action.data.awaited);
      const awaitedIds = actions.map((a) => a.data.awaited);
      return suspendTask(ctx, now, id, req.data.version, awaitedIds);
    }
    case "task.halt":
      eagerTimeout(ctx, now, req.data.id);
      return haltTask(ctx, req.data.id);
    case "task.continue":
      eagerTimeout(ctx, now, req.data.id);
      return continueTask(ctx, now, req.data.id);
    case "task.fence":
      if (req.data.action.kind === "promise.create" && !routable(req.data.action.data.tags)) {
        return reply(400, INVALID_TARGET);
      }
      eagerTimeout(ctx, now, req.data.id);
      eagerTimeout(ctx, now, req.data.action.data.id);
      return fenceTask(ctx, now, req);
    case "task.heartbeat":
      return heartbeatTasks(ctx, now, req.data.pid, req.data.tasks);
    case "task.search":
      return searchTasks(ctx, req.data);
    case "schedule.get":
      return getSchedule(ctx, req.data.id);
    case "schedule.create":
      return createSchedule(ctx, now, req.data);
    case "schedule.delete":
      return deleteSchedule(ctx, req.data.id);
    case "schedule.search":
      return searchSchedules(ctx, req.data);
  }
}
