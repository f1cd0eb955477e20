// A worker takes a job only when it has a free slot. The SDK acquires every task whose
// execute message reaches it, so this wraps its network: an execute message is passed on only
// while a slot is free, and waits here (the task still pending on the server, unclaimed,
// so a peer or a retry can take it) until one frees. A slot frees when its task is fulfilled
// or released, or when acquiring it fails (someone else got there first).
import type { Message, Network, Request, Response } from "@resonatehq/sdk";
import { NetworkLayer } from "./wire/network-layer.ts";

export interface SlotGateOptions {
  slots: number;
  /** Execute messages kept waiting at most; the oldest go first (the server re-sends them). */
  maxWaiting?: number;
  onChange?: (busy: number, waiting: number) => void;
  /**
   * This worker's pid and lease: with them, `releaseAll` hands on the offers still waiting
   * here too (acquired and released at once, so the server offers them to the group again).
   */
  handOn?: { readonly pid: string; readonly ttl: number };
}

export class SlotGate extends NetworkLayer {
  readonly #slots: number;
  readonly #maxWaiting: number;
  readonly #onChange: (busy: number, waiting: number) => void;
  readonly #handOn: { readonly pid: string; readonly ttl: number } | undefined;
  /** Tasks this worker holds or is acquiring, with the version it acquired (0 until then). */
  readonly #busy = new Map<string, number>();
  #waiting: Message[] = [];
  #deliver: (message: Message) => void = () => {};

  constructor(inner: Network, options: SlotGateOptions) {
    super(inner);
    this.#slots = options.slots;
    this.#maxWaiting = options.maxWaiting ?? 10_000;
    this.#onChange = options.onChange ?? (() => {});
    this.#handOn = options.handOn;
  }

  get busy(): number {
    return this.#busy.size;
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
    try {
      const res = await this.inner.send(req);
      if (acquiring !== undefined) {
        const plainRes: Response = res;
        if (plainRes.kind === "task.acquire" && typeof plainRes.data !== "string") {
          this.#busy.set(acquiring, plainRes.data.task.version);
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

  #onMessage(message: Message): void {
    if (message.kind !== "execute") {
      this.#deliver(message);
      return;
    }
    const taskId = message.data.task.id;
    if (this.#busy.has(taskId)) return; // already ours: a duplicate offer
    if (this.#busy.size < this.#slots) {
      this.#take(message);
      return;
    }
    // Newer offers of the same task replace older ones.
    this.#waiting = this.#waiting.filter((m) => m.kind !== "execute" || m.data.task.id !== taskId);
    this.#waiting.push(message);
    if (this.#waiting.length > this.#maxWaiting) this.#waiting.shift();
    this.#onChange(this.#busy.size, this.#waiting.length);
  }

  /**
   * Gives every held task back to the server, which offers it to the group again at once:
   * for a worker that is shutting down, faster than waiting for its leases to lapse.
   */
  async releaseAll(): Promise<void> {
    const offered = this.#waiting;
    this.#waiting = [];
    const held = [...this.#busy].filter(([, version]) => version > 0);
    await Promise.all([
      ...held.map(([id, version]) => this.#release(id, version)),
      ...offered.map((message) => this.#handOnOffer(message)),
    ]);
  }

  #release(id: string, version: number): Promise<unknown> {
    return this.send({
      kind: "task.release",
      head: { corrId: `release-${id}`, version: "2026-04-01" },
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
        head: { corrId: `hand-on-${id}`, version: "2026-04-01" },
        data: { id, version, pid, ttl },
      });
      if (res.kind === "task.acquire" && typeof res.data !== "string") {
        await this.inner.send({
          kind: "task.release",
          head: { corrId: `release-${id}`, version: "2026-04-01" },
          data: { id, version: res.data.task.version },
        });
      }
    } catch {
      // Taken by a peer meanwhile, or the server is away: its own retry offers it again.
    }
  }

  #take(message: Message & { kind: "execute" }): void {
    this.#busy.set(message.data.task.id, 0);
    this.#onChange(this.#busy.size, this.#waiting.length);
    this.#deliver(message);
  }

  #free(taskId: string): void {
    if (!this.#busy.delete(taskId)) return;
    while (this.#busy.size < this.#slots) {
      const next = this.#waiting.shift();
      if (!next) break;
      if (next.kind === "execute") this.#take(next);
    }
    this.#onChange(this.#busy.size, this.#waiting.length);
  }
}
