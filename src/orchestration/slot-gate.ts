// A worker takes a job only when it has a free slot. The SDK acquires every task whose
// execute message reaches it, so this wraps its network: an execute message is passed on only
// while a slot is free, and waits here (the task still pending on the server, unclaimed,
// so a peer or a retry can take it) until one frees. A slot frees when its task is fulfilled
// or released, or when acquiring it fails (someone else got there first).
//
// `resources` add what a job asks beyond a slot (GPU sets, a named interpreter). A worker that
// looks offers up first (one with GPUs) reads each offered job's ask before passing it on, and
// passes it on only once its slot and its GPUs are both free; one it could never serve is not
// kept (the server offers a pending task to the group again every 30 s). Otherwise the job is
// read from the promise its acquire returns, and one this worker cannot serve is released at
// once, its later offers dropped here. Nothing spins: a waiting offer is looked at again only
// when something this worker holds is let go.
//
// Between two jobs of a slot nothing need wait on the network (issue 17): a slot counts as
// free once its job's answer is on its way (the job's processes are over; the answer's layer
// below keeps trying), and while every slot runs, the gate acquires up to `prefetch` waiting
// offers ahead, so that a freed slot starts its next job at once, without an acquire's round
// trip (slot-prefetch.ts).
import type { Message, Network, Request, Response } from "@resonatehq/sdk";
import { PROTOCOL_VERSION, remember, SlotPrefetch, type Offer } from "./slot-prefetch.ts";
import { NetworkLayer } from "./wire/network-layer.ts";

/** What one offered task's job needs of this worker beyond a slot. */
export interface ResourceClaim {
  /** False when this worker could never serve it (more GPUs than it has, say). */
  readonly servable: boolean;
  /**
   * Takes what the job needs if it is free now and not kept for an older offer that waits;
   * false when it is not. `pass` is the gate's look over its waiting offers, oldest first
   * (`TaskResources.newPass`); without one, no older offer waits.
   */
  tryTake(pass?: object): boolean;
  /** Gives back what `tryTake` took: the task is over on this worker. */
  release(): void;
}

export interface TaskResources {
  /**
   * Whether an offer's job must be read before the task is taken (a worker with GPUs: a job
   * waits here for its set). Otherwise the job is read from the promise its acquire returns,
   * at no extra round trip, and one this worker cannot serve is handed straight back.
   */
  readonly lookUpFirst: boolean;
  /** What the task's job needs; never rejects (a job it cannot read needs what a default job does). */
  claim(taskId: string): Promise<ResourceClaim>;
  /** The same, from the task's promise as its acquire returned it. */
  claimOfPromise(taskId: string, promise: unknown): ResourceClaim;
  /**
   * Starts a look over the waiting offers, oldest first, handed to each one's `tryTake`: what
   * an older offer that must wait needs is kept from the younger ones (no starvation).
   */
  newPass?(): object;
}

/** The longest a job fetched ahead is held for a slot before it is handed on (see above). */
export const DEFAULT_PREFETCH_HOLD_MS = 1_000;

export interface SlotGateOptions {
  slots: number;
  resources?: TaskResources;
  /** Execute messages kept waiting at most; the oldest go first (the server re-sends them). */
  maxWaiting?: number;
  onChange?: (busy: number, waiting: number) => void;
  /**
   * This worker's pid and lease: with them, `releaseAll` hands on the offers still waiting
   * here too (acquired and released at once, so the server offers them to the group again).
   */
  handOn?: { readonly pid: string; readonly ttl: number };
  /**
   * Waiting offers acquired ahead while every slot runs a job (default 0; needs `handOn`, whose
   * pid and lease they are acquired with). Only offers needing nothing but a slot are.
   */
  prefetch?: number;
  /**
   * How long a task acquired ahead waits for a slot before it is handed on to the group
   * (default 1 s, and at most a quarter of the lease, so it never needs a heartbeat).
   */
  prefetchHoldMs?: number;
  /**
   * Told of each task's promise as the acquire answer the SDK is given carried it, with when
   * that acquire was sent (performance.now()): the worker's cancel watch reads it there.
   */
  onAcquired?: (promise: AcquiredPromise, sentAt: number) => void;
}

/** A task's promise as an acquire answer carries it. */
export type AcquiredPromise = Extract<
  Response,
  { kind: "task.acquire"; head: { status: 200 } }
>["data"]["promise"];

export class SlotGate extends NetworkLayer {
  readonly #slots: number;
  readonly #maxWaiting: number;
  readonly #onChange: (busy: number, waiting: number) => void;
  readonly #handOn: { readonly pid: string; readonly ttl: number } | undefined;
  /** Tasks this worker holds or is acquiring, with the version it acquired (0 until then). */
  readonly #busy = new Map<string, number>();
  /** Offers waiting for a slot or resources, oldest first (by when each first came). */
  #waiting: {
    message: Message & { kind: "execute" };
    claim?: ResourceClaim;
    arrival: number;
  }[] = [];
  /** When each offer being looked up first came, so a slow look-up keeps its place in line. */
  readonly #arrivals = new Map<string, number>();
  #nextArrival = 0;
  /** Claims of the tasks passed on, by task id, given back when the task frees. */
  readonly #claims = new Map<string, ResourceClaim>();
  /** Offers whose claim is being looked up: the latest offer of each. */
  readonly #lookingUp = new Map<string, Message & { kind: "execute" }>();
  readonly #resources: TaskResources | undefined;
  /** Tasks this worker cannot serve, handed back: later offers of them are left to peers. */
  readonly #refused = new Set<string>();
  /** Set by `releaseAll`: a stopping worker takes nothing more, looked up or not. */
  #closed = false;
  /** Tasks whose answer is on its way: their job is over, so their slot is free again. */
  readonly #answering = new Set<string>();
  readonly #ahead: SlotPrefetch;
  readonly #onAcquired: ((promise: AcquiredPromise, sentAt: number) => void) | undefined;
  #deliver: (message: Message) => void = () => {};

  constructor(inner: Network, options: SlotGateOptions) {
    super(inner);
    this.#slots = options.slots;
    this.#maxWaiting = options.maxWaiting ?? 10_000;
    this.#onChange = options.onChange ?? (() => {});
    this.#resources = options.resources;
    this.#handOn = options.handOn;
    this.#onAcquired = options.onAcquired;
    this.#ahead = new SlotPrefetch(
      {
        inner,
        allSlotsRunning: () => this.#running >= this.#slots,
        takeWaiting: (eligible) => this.#takeWaiting(eligible),
        pump: () => this.#pump(),
        changed: () => this.#onChange(this.#busy.size, this.#waiting.length),
      },
      {
        prefetch: options.prefetch ?? 0,
        holdMs: Math.min(
          options.prefetchHoldMs ?? DEFAULT_PREFETCH_HOLD_MS,
          (options.handOn?.ttl ?? 0) / 4,
        ),
        handOn: options.handOn,
      },
    );
  }

  /** Slots taken by a running job (a task whose answer is on its way holds none). */
  get busy(): number {
    return this.#running;
  }
  /** Tasks acquired ahead of a free slot now. */
  get held(): number {
    return this.#ahead.held;
  }
  /** Slots taken by a job still running (not those whose answer is on its way). */
  get #running(): number {
    return this.#busy.size - this.#answering.size;
  }
  get waiting(): number {
    return this.#waiting.length;
  }

  override recv(callback: (message: Message) => void): void {
    this.#deliver = callback;
    this.inner.recv((message) => this.#onMessage(message));
  }

  override send = async <K extends Request["kind"]>(
    req: Extract<Request, { kind: K }>,
  ): Promise<Extract<Response, { kind: K }>> => {
    const plain: Request = req;
    const acquiring = plain.kind === "task.acquire" ? plain.data.id : undefined;
    const finishing =
      plain.kind === "task.fulfill" || plain.kind === "task.release" ? plain.data.id : undefined;
    if (plain.kind === "task.fulfill") this.#answerOnItsWay(plain.data.id);
    try {
      const handed = acquiring === undefined ? undefined : this.#ahead.takeHanded(acquiring);
      const sentAt = handed?.sentAt ?? performance.now();
      const res = handed
        ? (handed.res as Extract<Response, { kind: K }>)
        : await this.inner.send(req);
      if (acquiring !== undefined) {
        const plainRes: Response = res;
        if (plainRes.kind === "task.acquire" && typeof plainRes.data !== "string") {
          const version = plainRes.data.task.version;
          this.#busy.set(acquiring, version);
          if (this.#resources && !this.#claims.has(acquiring)) {
            const claim = this.#resources.claimOfPromise(acquiring, plainRes.data.promise);
            if (!claim.servable || !claim.tryTake()) {
              return (await this.#handBack(acquiring, version, plainRes)) as Extract<
                Response,
                { kind: K }
              >;
            }
            this.#claims.set(acquiring, claim);
          }
          this.#onAcquired?.(plainRes.data.promise, sentAt);
        } else {
          this.#free(acquiring);
        }
      }
      return res;
    } catch (error) {
      if (acquiring !== undefined) this.#free(acquiring);
      throw error;
    } finally {
      if (finishing !== undefined) this.#free(finishing);
    }
  };

  /**
   * Gives back a task acquired for a job this worker cannot serve (found only once acquired,
   * on a worker that does not look offers up first), and tells the SDK it was not taken.
   * Its later offers are dropped here, so the group's other workers get it, not this one
   * again and again.
   */
  async #handBack(
    taskId: string,
    version: number,
    res: Extract<Response, { kind: "task.acquire" }>,
  ): Promise<Response> {
    remember(this.#refused, taskId);
    await this.inner
      .send({
        kind: "task.release",
        head: { corrId: `hand-back-${taskId}`, version: res.head.version },
        data: { id: taskId, version },
      })
      .catch(() => undefined);
    this.#free(taskId);
    return {
      kind: "task.acquire",
      head: { ...res.head, status: 409 },
      data: `${taskId} is not served by this worker: left to its group's other workers`,
    } as unknown as Response;
  }

  /**
   * A task's answer is on its way: its job's processes are over, so its slot and what it
   * claimed are free for the next job, while the answer's layer below sees it land.
   */
  #answerOnItsWay(taskId: string): void {
    if (!this.#busy.has(taskId) || this.#answering.has(taskId)) return;
    this.#answering.add(taskId);
    this.#ahead.resume();
    const claim = this.#claims.get(taskId);
    this.#claims.delete(taskId);
    claim?.release();
    this.#pump();
    this.#onChange(this.#busy.size, this.#waiting.length);
  }

  #onMessage(message: Message): void {
    if (message.kind !== "execute") {
      this.#deliver(message);
      return;
    }
    const taskId = message.data.task.id;
    if (this.#busy.has(taskId)) return; // already ours: a duplicate offer
    if (this.#ahead.has(taskId)) return; // ours, held ahead
    if (this.#refused.has(taskId)) return; // not servable here: a peer's to take
    const resources = this.#resources;
    if (resources === undefined || !resources.lookUpFirst) {
      this.#enqueue(message, undefined);
      return;
    }
    if (this.#lookingUp.has(taskId)) {
      this.#lookingUp.set(taskId, message);
      return;
    }
    const known = this.#waiting.find((w) => w.message.data.task.id === taskId);
    if (known) {
      this.#enqueue(message, known.claim);
      return;
    }
    this.#lookingUp.set(taskId, message);
    this.#arrivals.set(taskId, this.#nextArrival++);
    void resources.claim(taskId).then((claim) => {
      const latest = this.#lookingUp.get(taskId) ?? message;
      const arrival = this.#arrivals.get(taskId);
      this.#lookingUp.delete(taskId);
      this.#arrivals.delete(taskId);
      if (this.#busy.has(taskId)) return;
      if (!claim.servable) {
        this.#onChange(this.#busy.size, this.#waiting.length);
        return;
      }
      this.#enqueue(latest, claim, arrival);
    });
  }

  #enqueue(
    message: Message & { kind: "execute" },
    claim: ResourceClaim | undefined,
    arrival = this.#nextArrival++,
  ): void {
    if (this.#closed) return;
    const taskId = message.data.task.id;
    // Newer offers of the same task replace older ones, in the older one's place in line.
    const at = this.#waiting.findIndex((w) => w.message.data.task.id === taskId);
    if (at >= 0) {
      const kept = this.#waiting[at];
      this.#waiting[at] = { message, arrival: kept.arrival, ...(claim ? { claim } : {}) };
    } else {
      // In line by first arrival: a look-up that answered late does not lose its place.
      const entry = { message, arrival, ...(claim ? { claim } : {}) };
      const after = this.#waiting.findIndex((w) => w.arrival > arrival);
      if (after < 0) this.#waiting.push(entry);
      else this.#waiting.splice(after, 0, entry);
    }
    if (this.#waiting.length > this.#maxWaiting) this.#waiting.shift();
    this.#pump();
    this.#onChange(this.#busy.size, this.#waiting.length);
  }

  /**
   * Passes on, oldest first, the tasks held ahead and then every waiting offer whose slot and
   * resources are free now; with every slot running, fetches ahead. What an older offer waits
   * for is kept from younger ones (`newPass`): without that, a stream of small GPU jobs would
   * take each GPU as it frees and starve a job that asks for several.
   */
  #pump(): void {
    while (this.#running < this.#slots) {
      const held = this.#ahead.nextHeld();
      if (held === undefined) break;
      this.#take(held);
    }
    const pass = this.#resources?.newPass?.();
    for (let i = 0; i < this.#waiting.length && this.#running < this.#slots;) {
      const { message, claim } = this.#waiting[i];
      if (claim === undefined || claim.tryTake(pass)) {
        this.#waiting.splice(i, 1);
        if (claim) this.#claims.set(message.data.task.id, claim);
        this.#take(message);
      } else {
        i++;
      }
    }
    this.#ahead.fetchAhead();
  }

  /**
   * Takes out of the line the oldest waiting offer that needs nothing but a slot (a claim would
   * hold GPUs for it while it waits ahead) and that `eligible` accepts, for fetching ahead.
   */
  #takeWaiting(eligible: (taskId: string) => boolean): Offer | undefined {
    if (this.#closed) return undefined;
    const at = this.#waiting.findIndex(
      (w) => w.claim === undefined && eligible(w.message.data.task.id),
    );
    if (at < 0) return undefined;
    const [entry] = this.#waiting.splice(at, 1);
    return entry?.message;
  }

  /**
   * Gives every held task back to the server, which offers it to the group again at once:
   * for a worker that is shutting down, faster than waiting for its leases to lapse.
   */
  async releaseAll(): Promise<void> {
    this.#closed = true;
    const offered = this.#waiting.map((entry) => entry.message);
    this.#waiting = [];
    const held = [...this.#busy].filter(([, version]) => version > 0);
    await Promise.all([
      ...held.map(([id, version]) => this.#release(id, version)),
      this.#ahead.releaseAll(),
      ...offered.map((message) => this.#handOnOffer(message)),
    ]);
  }

  #release(id: string, version: number): Promise<unknown> {
    return this.send({
      kind: "task.release",
      head: { corrId: `release-${id}`, version: PROTOCOL_VERSION },
      data: { id, version },
    }).catch(() => undefined);
  }

  /**
   * An offer left waiting for a slot is still pending on the server, which would offer it
   * again only after its pending retry (30 s); taken and given back, it is offered at once.
   */
  async #handOnOffer(message: Message): Promise<void> {
    if (message.kind !== "execute" || this.#handOn === undefined) return;
    const { id, version } = message.data.task;
    const { pid, ttl } = this.#handOn;
    try {
      const res: Response = await this.inner.send({
        kind: "task.acquire",
        head: { corrId: `hand-on-${id}`, version: PROTOCOL_VERSION },
        data: { id, version, pid, ttl },
      });
      if (res.kind === "task.acquire" && typeof res.data !== "string") {
        await this.inner.send({
          kind: "task.release",
          head: { corrId: `release-${id}`, version: PROTOCOL_VERSION },
          data: { id, version: res.data.task.version },
        });
      }
    } catch {
      // Taken by a peer meanwhile, or the server is away: its own retry offers it again.
    }
  }

  #take(message: Message & { kind: "execute" }): void {
    this.#busy.set(message.data.task.id, 0);
    this.#deliver(message);
  }

  #free(taskId: string): void {
    this.#answering.delete(taskId);
    if (!this.#busy.delete(taskId)) return;
    this.#ahead.resume();
    const claim = this.#claims.get(taskId);
    this.#claims.delete(taskId);
    claim?.release();
    this.#pump();
    this.#onChange(this.#busy.size, this.#waiting.length);
  }
}
