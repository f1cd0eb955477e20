// Waits for promises to settle the way the protocol offers: register a listener address with
// the server, keep that address's poll stream open, and take the `unblock` messages that come.
// A message lost while disconnected (some servers do not hold them) is covered by asking
// again on a timer.
import type { PromiseRecord } from "@resonatehq/sdk";
import { PollSource } from "./poll-source.ts";
import { request } from "./wire-request.ts";
import type { Transport } from "./transport.ts";

/** The awaited promise does not exist (yet). */
export class PromiseNotFound extends Error {
  override readonly name = "PromiseNotFound";
}

export interface Listener {
  /**
   * Resolves with the promise once it has settled. Throws if it does not exist. Once
   * `abandon` aborts, the wait stops asking and holds no timer: it never settles.
   */
  settled(id: string, abandon?: AbortSignal): Promise<PromiseRecord>;
  close(): void;
}

/** How often a wait asks the server directly, in case an unblock message was lost. */
const RECHECK_MS = 10_000;

export interface ListenerOptions {
  /** How often a wait asks the server again. Default 10 s. */
  readonly recheckMs?: number;
}

export async function openListener(
  transport: Transport,
  group: string,
  pid: string,
  { recheckMs = RECHECK_MS }: ListenerOptions = {},
): Promise<Listener> {
  const arrived = new Map<string, PromiseRecord>();
  const waiters = new Map<string, Set<(p: PromiseRecord) => void>>();
  const deliver = (promise: PromiseRecord): void => {
    const wake = waiters.get(promise.id);
    if (wake && wake.size > 0) {
      waiters.delete(promise.id);
      for (const resolve of wake) resolve(promise);
    } else if (arrived.size < 1000) {
      arrived.set(promise.id, promise);
    }
  };
  const source = new PollSource(transport, group, pid);
  const address = source.unicast;
  source.onReceive((message) => {
    if (message.kind === "unblock") deliver(message.data.promise);
  });
  await source.init();
  try {
    await source.opened();
  } catch (error) {
    await source.stop();
    throw error;
  }

  return {
    async settled(id, abandon) {
      for (;;) {
        if (abandon?.aborted) return new Promise<PromiseRecord>(() => {});
        const res = await transport.send(
          request("promise.register_listener", { awaited: id, address }),
        );
        if (res.head.status === 404) throw new PromiseNotFound(`promise ${id} does not exist`);
        if (res.head.status !== 200 || typeof res.data === "string") {
          throw new Error(`cannot wait for ${id}: ${JSON.stringify(res.data)}`);
        }
        if (res.data.promise.state !== "pending") return res.data.promise;
        const early = arrived.get(id);
        if (early) {
          arrived.delete(id);
          return early;
        }
        const promise = await new Promise<PromiseRecord | undefined>((resolve) => {
          // Abandoned while its request was answered: a timer set now would never be
          // cleared, and kept a finished `modulate submit` alive until the recheck.
          if (abandon?.aborted) return;
          const wake = waiters.get(id) ?? new Set();
          waiters.set(id, wake);
          // A wait that ends without its message leaves no trace: a set left empty here
          // would take the message that comes while the wait asks again, and drop it.
          const stopWaiting = (): void => {
            wake.delete(onMessage);
            if (wake.size === 0 && waiters.get(id) === wake) waiters.delete(id);
          };
          const onMessage = (p: PromiseRecord): void => {
            clearTimeout(timer);
            abandon?.removeEventListener("abort", onAbandon);
            resolve(p);
          };
          const onAbandon = (): void => {
            clearTimeout(timer);
            stopWaiting();
          };
          const timer = setTimeout(() => {
            stopWaiting();
            abandon?.removeEventListener("abort", onAbandon);
            resolve(undefined);
          }, recheckMs);
          wake.add(onMessage);
          abandon?.addEventListener("abort", onAbandon, { once: true });
        });
        if (promise) return promise;
      }
    },
    close() {
      void source.stop();
    },
  };
}
