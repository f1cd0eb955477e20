// What every part of the state machine shares while it applies one request or one tick: the
// store it reads and writes inside the caller's transaction, the messages to send once that
// commits, and the lease grace. No I/O here: the store is synchronous and the caller commits.
import type { Message, Outgoing, Reply, Status } from "./protocol.ts";
import type { StateStore, StoredPromise } from "./store-api.ts";

/** How long an unclaimed pending task waits before its execute message is sent again. */
export const PENDING_RETRY_MS = 30_000;
/** Lease assumed for a heartbeat on a task whose ttl is unknown. */
export const DEFAULT_LEASE_MS = 30_000;
/** Search page size when the request names none (the real server's default). */
export const DEFAULT_SEARCH_LIMIT = 100;

export interface StateContext {
  readonly store: StateStore;
  /** The messages of the request or tick being applied; the caller sends them after commit. */
  messages: Outgoing[];
  /**
   * When leases get a grace from (state.ts, StateOptions.leaseGraceFrom): a lease then lapses
   * no sooner than one lease after it. Undefined: no grace.
   */
  leaseGraceFrom: number | undefined;
}

export function reply(status: Status, data: unknown): Reply {
  return { status, data };
}

export function send(ctx: StateContext, address: string, message: Message): void {
  ctx.messages.push({ address, message });
}

/** The message that offers a task to its group. */
export function execute(id: string, version: number): Message {
  return { kind: "execute", head: {}, data: { task: { id, version } } };
}

/** Where a promise's task is routed, if it has one. */
export function target(p: StoredPromise): string | undefined {
  return p.tags["resonate:target"];
}

export function mustGetPromise(ctx: StateContext, id: string): StoredPromise {
  const p = ctx.store.promises.get(id);
  if (!p) throw new Error(`invariant violated: promise ${id} not found`);
  return p;
}

export function mustGetAddress(ctx: StateContext, id: string): string {
  const address = target(mustGetPromise(ctx, id));
  if (!address) throw new Error(`invariant violated: promise ${id} has no resonate:target tag`);
  return address;
}
