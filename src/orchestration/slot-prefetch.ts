// The slot gate's fetching ahead (issue 17): while every slot runs a job, up to `prefetch`
// waiting offers are acquired ahead, so that a freed slot starts its next job at once, without
// an acquire's round trip. A job held ahead is handed on (released, which the server offers to
// the group again at once) if no slot frees within `holdMs`, so it never waits long behind a
// long job while a peer may be idle; it is never fetched ahead again here, and nothing more is
// fetched ahead until a slot frees (else each waiting offer would be taken and handed on in
// turn).
import type { Message, Network, Response } from "@resonatehq/sdk";

/** The protocol version of the requests the gate makes itself (hand-on, prefetch). */
export const PROTOCOL_VERSION = "2026-04-01";

/** Tasks remembered in a bounded set at most (oldest forgotten). */
const MAX_REMEMBERED = 10_000;

/** Adds `id` to a bounded set of remembered tasks, forgetting the oldest past the bound. */
export function remember(set: Set<string>, id: string): void {
  set.add(id);
  if (set.size > MAX_REMEMBERED) {
    const oldest = set.values().next().value;
    if (oldest !== undefined) set.delete(oldest);
  }
}

export type Offer = Message & { kind: "execute" };
export type Acquired = Extract<Response, { kind: "task.acquire" }>;

/** A task acquired ahead of a free slot: the acquire's answer, given to the SDK's own acquire. */
interface HeldTask {
  readonly message: Offer;
  readonly res: Acquired;
  /** When its acquire was sent (performance.now()): its answer says how the task stood then. */
  readonly sentAt: number;
  readonly version: number;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** What the prefetch needs of its gate. */
export interface PrefetchHost {
  /** The gate's network below it (requests made here are not the SDK's). */
  readonly inner: Network;
  /** Whether every slot runs a job, so that fetching ahead is worth it. */
  allSlotsRunning(): boolean;
  /**
   * Takes out of the line the oldest waiting offer that needs nothing but a slot and that
   * `eligible` accepts; undefined when there is none.
   */
  takeWaiting(eligible: (taskId: string) => boolean): Offer | undefined;
  /** Something moved: pass on what can run now. */
  pump(): void;
  /** The counts changed: tell the gate's watcher. */
  changed(): void;
}

export interface SlotPrefetchOptions {
  /** Offers acquired ahead at most at once (0: none). */
  readonly prefetch: number;
  /** How long a task acquired ahead waits for a slot before it is handed on. */
  readonly holdMs: number;
  /** The pid and lease tasks are acquired with. */
  readonly handOn: { readonly pid: string; readonly ttl: number } | undefined;
}

export class SlotPrefetch {
  readonly #host: PrefetchHost;
  readonly #prefetch: number;
  readonly #holdMs: number;
  readonly #handOn: { readonly pid: string; readonly ttl: number } | undefined;
  /** Tasks acquired ahead, in the order they came, until a slot frees or they are handed on. */
  readonly #held = new Map<string, HeldTask>();
  /** Offers whose acquire ahead is on its way. */
  readonly #fetching = new Set<string>();
  /** Acquire answers of held tasks passed to the SDK, for its own acquire of them. */
  readonly #handed = new Map<string, { res: Acquired; sentAt: number }>();
  /** Tasks handed on after waiting held: if offered here again, they wait as any offer. */
  readonly #notAhead = new Set<string>();
  /** Set when a held task was handed on: the slots run long jobs (see the top). */
  #paused = false;
  /** Set by `releaseAll`: nothing more is fetched or held. */
  #closed = false;

  constructor(host: PrefetchHost, options: SlotPrefetchOptions) {
    this.#host = host;
    this.#prefetch = options.handOn ? Math.max(0, options.prefetch) : 0;
    this.#holdMs = options.holdMs;
    this.#handOn = options.handOn;
  }

  /** Tasks acquired ahead of a free slot now. */
  get held(): number {
    return this.#held.size;
  }

  /** Whether the task is held ahead here or being acquired ahead. */
  has(taskId: string): boolean {
    return this.#held.has(taskId) || this.#fetching.has(taskId);
  }

  /** A slot freed: fetching ahead may start again. */
  resume(): void {
    this.#paused = false;
  }

  /**
   * The acquire answer of a held task passed on, once, for the SDK's own acquire of it, with
   * when that acquire was sent.
   */
  takeHanded(taskId: string): { res: Acquired; sentAt: number } | undefined {
    const handed = this.#handed.get(taskId);
    this.#handed.delete(taskId);
    return handed;
  }

  /** Passes on the oldest held task (its acquire answer kept for the SDK); undefined if none. */
  nextHeld(): Offer | undefined {
    for (const [id, held] of this.#held) {
      this.#held.delete(id);
      clearTimeout(held.timer);
      this.#handed.set(id, { res: held.res, sentAt: held.sentAt });
      return held.message;
    }
    return undefined;
  }

  /** With every slot running, acquires waiting offers ahead, up to `prefetch` held at once. */
  fetchAhead(): void {
    while (
      !this.#closed &&
      !this.#paused &&
      this.#host.allSlotsRunning() &&
      this.#held.size + this.#fetching.size < this.#prefetch
    ) {
      const message = this.#host.takeWaiting((id) => !this.#notAhead.has(id));
      if (message === undefined) return;
      void this.#acquireAhead(message);
    }
  }

  async #acquireAhead(message: Offer): Promise<void> {
    const handOn = this.#handOn;
    if (handOn === undefined) return;
    const { id, version } = message.data.task;
    this.#fetching.add(id);
    const sentAt = performance.now();
    let res: Response | undefined;
    try {
      res = await this.#host.inner.send({
        kind: "task.acquire",
        head: { corrId: `ahead-${id}`, version: PROTOCOL_VERSION },
        data: { id, version, pid: handOn.pid, ttl: handOn.ttl },
      });
    } catch {
      // The server is away: its own retry offers the task again.
    }
    this.#fetching.delete(id);
    if (res?.kind === "task.acquire" && typeof res.data !== "string") {
      const acquired = res.data.task.version;
      if (this.#closed) {
        await this.#releaseTask(id, acquired);
        return;
      }
      const timer = setTimeout(() => void this.#handOnHeld(id), this.#holdMs);
      timer.unref();
      this.#held.set(id, { message, res, sentAt, version: acquired, timer });
    }
    // Taken by a peer first (409), or held now: either way the line moves.
    this.#host.pump();
    this.#host.changed();
  }

  /** No slot freed in time: the held task goes back to the group, which may have an idle peer. */
  async #handOnHeld(id: string): Promise<void> {
    const held = this.#held.get(id);
    if (!held) return;
    this.#held.delete(id);
    remember(this.#notAhead, id);
    this.#paused = true;
    await this.#releaseTask(id, held.version);
    this.#host.pump();
  }

  #releaseTask(id: string, version: number): Promise<unknown> {
    return this.#host.inner
      .send({
        kind: "task.release",
        head: { corrId: `release-${id}`, version: PROTOCOL_VERSION },
        data: { id, version },
      })
      .catch(() => undefined);
  }

  /** Gives every held task back to the server, which offers it to the group again at once. */
  releaseAll(): Promise<unknown> {
    this.#closed = true;
    const ahead = [...this.#held.values()];
    this.#held.clear();
    for (const task of ahead) clearTimeout(task.timer);
    return Promise.all(
      ahead.map((task) => this.#releaseTask(task.message.data.task.id, task.version)),
    );
  }
}
