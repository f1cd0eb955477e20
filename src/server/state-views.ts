// How stored rows read: at a given time (a pending promise past its deadline reads as settled
// before the timer loop gets to it) and on the wire (the protocol's records).
import type { PromiseRecord, PromiseState, TaskRecord } from "./protocol.ts";
import type { StoredPromise, StoredTask } from "./store-api.ts";
import type { StateContext } from "./state-context.ts";

/** A timer promise resolves when its deadline passes; any other promise times out. */
export function timeoutState(tags: Record<string, string>): PromiseState {
  return tags["resonate:timer"] === "true" ? "resolved" : "rejected_timedout";
}

/** The logical view: a pending promise past its deadline reads as settled. */
export function projected(now: number, p: StoredPromise): StoredPromise {
  if (p.state !== "pending" || now < p.timeoutAt) return p;
  return { ...p, state: timeoutState(p.tags), settledAt: p.timeoutAt };
}

/** A task whose promise reads as settled reads as fulfilled. */
export function projectedTask(ctx: StateContext, now: number, t: StoredTask): StoredTask {
  const p = ctx.store.promises.get(t.id);
  if (!p || t.state === "fulfilled" || projected(now, p).state === "pending") return t;
  return { id: t.id, state: "fulfilled", version: t.version, resumes: t.resumes };
}

export function toPromiseRecord(p: StoredPromise): PromiseRecord {
  const { settledAt, ...rest } = p;
  return settledAt === null ? rest : { ...rest, settledAt };
}

export function toTaskRecord(t: StoredTask): TaskRecord {
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

/** The other promises of a task's branch, sent along so a replay needs no round trips. */
export function preload(ctx: StateContext, id: string): PromiseRecord[] {
  const branch = ctx.store.promises.get(id)?.tags["resonate:branch"];
  if (!branch) return [];
  return ctx.store.promises.branch(branch, id).map(toPromiseRecord);
}
