// A worker's answer to a job outlives trouble on its way to the server (issue 12, items 4, 6
// and 7). The SDK sends `task.fulfill` once when the job's body returns; if that send fails
// (the server is restarting, or too busy to answer in time) it releases the task, and a job
// that has already run runs again; a fulfil the server answers with 409 it ignores. This
// layer of the worker's network keeps the answer instead and sends it again, with backoff,
// through server restarts, until it lands. Meanwhile the SDK, still awaiting the send, keeps
// heartbeating the task, so that its lease does not lapse while the server is up.
//
// Fenced by the lease: if the answer finds the task no longer acquired at its version (the
// lease lapsed while the server was slow or away), the answer is not forced in. The task is
// acquired again first, as any worker of the group may acquire a pending task; that fails
// once a peer has taken it (or it is settled), and then the peer's run is the one that counts.
import type { Network, Request, Response } from "@resonatehq/sdk";
import { NetworkLayer } from "./wire/network-layer.ts";
import { abortableSleep, backoffDelayMs } from "./wire/backoff.ts";
import { request } from "./wire/wire-request.ts";
import { RequestRefused } from "./wire/sdk-network.ts";

type FulfilRequest = Extract<Request, { kind: "task.fulfill" }>;
type FulfilResponse = Extract<Response, { kind: "task.fulfill" }>;
export type EncodedAnswer = FulfilRequest["data"]["action"]["data"]["value"];

export interface AnswerDeliveryEvents {
  /**
   * The answer landed only after this many failed sends (the server was away or slow); the
   * first failure's message says which.
   */
  onDelivered?(taskId: string, failedSends: number, firstFailure: string): void;
  /** The server refused the answer itself; `replaced` went in its place. */
  onRefused?(taskId: string, reason: string): void;
  /** The lease had lapsed; the task was acquired again (at `version`) to deliver the answer. */
  onReacquired?(taskId: string, version: number): void;
  /** The task is no longer this worker's: a peer took it, or it was settled meanwhile. */
  onLost?(taskId: string, reason: string): void;
}

/** How a task's answer ended: taken as sent, taken in place of one refused, or not taken. */
export type AnswerFate =
  { kind: "delivered" } | { kind: "refused"; reason: string } | { kind: "lost" };

export interface AnswerDeliveryOptions {
  /** This worker's process id and lease, as it acquires tasks with. */
  pid: string;
  leaseMs: number;
  /**
   * What to answer instead of an answer the server refused (too large, malformed): it cannot
   * be sent as it is, however often. Undefined: give up, as the SDK would.
   */
  replaceRefused(answer: EncodedAnswer, reason: string): EncodedAnswer | undefined;
  events?: AnswerDeliveryEvents;
  /** Backoff between sends of one answer: doubles from the first to the last. */
  firstRetryMs?: number;
  lastRetryMs?: number;
}

export class AnswerDelivery extends NetworkLayer {
  readonly #options: AnswerDeliveryOptions;
  readonly #stopped = new AbortController();
  /** Answers on their way, to wait for before the worker stops. */
  readonly #inFlight = new Set<Promise<unknown>>();
  /** Who waits to hear how a task's answer ended, by task id (fateOf). */
  readonly #fates = new Map<string, { settled: Promise<AnswerFate>; tell(f: AnswerFate): void }>();

  constructor(inner: Network, options: AnswerDeliveryOptions) {
    super(inner);
    this.#options = options;
  }

  override send = async <K extends Request["kind"]>(
    req: Extract<Request, { kind: K }>,
  ): Promise<Extract<Response, { kind: K }>> => {
    const plain: Request = req;
    if (plain.kind !== "task.fulfill") return this.inner.send(req);
    let fate: AnswerFate = { kind: "lost" };
    const delivery = this.#deliver(plain, (f) => (fate = f));
    this.#inFlight.add(delivery);
    try {
      return (await delivery) as Extract<Response, { kind: K }>;
    } finally {
      this.#inFlight.delete(delivery);
      // Only a body that asked hears; the others leave nothing behind.
      this.#fates.get(plain.data.id)?.tell(fate);
    }
  };

  /**
   * How the answer to task `taskId` ends, once it has: asked before the answer is sent (the
   * job's body asks as it returns it). A task whose answer is never sent never tells.
   */
  fateOf(taskId: string): Promise<AnswerFate> {
    return this.#fate(taskId).settled;
  }

  #fate(taskId: string): { settled: Promise<AnswerFate>; tell(f: AnswerFate): void } {
    let fate = this.#fates.get(taskId);
    if (fate === undefined) {
      const { promise, resolve } = Promise.withResolvers<AnswerFate>();
      fate = {
        settled: promise,
        tell: (f) => {
          this.#fates.delete(taskId);
          resolve(f);
        },
      };
      this.#fates.set(taskId, fate);
    }
    return fate;
  }

  /**
   * Waits up to `timeoutMs` for the answers on their way, then stops sending them: a worker
   * that stops hands its unanswered tasks back to the group.
   */
  async settle(timeoutMs: number): Promise<void> {
    if (this.#inFlight.size > 0) {
      const deadline = AbortSignal.timeout(timeoutMs);
      await Promise.race([
        Promise.allSettled([...this.#inFlight]),
        abortableSleep(timeoutMs + 1, deadline),
      ]);
    }
    this.#stopped.abort();
  }

  async #deliver(
    original: FulfilRequest,
    ended: (fate: AnswerFate) => void,
  ): Promise<FulfilResponse> {
    const { events } = this.#options;
    const taskId = original.data.id;
    let req = original;
    let refusedFor: string | undefined;
    let failedSends = 0;
    let firstFailure = "";
    let reacquired = false;
    for (;;) {
      let res: FulfilResponse;
      try {
        res = await this.inner.send(req);
      } catch (error) {
        if (
          error instanceof RequestRefused &&
          req.data.action.data.value === original.data.action.data.value
        ) {
          const replaced = this.#options.replaceRefused(req.data.action.data.value, error.reason);
          if (replaced === undefined) throw error;
          events?.onRefused?.(taskId, error.reason);
          refusedFor = error.reason;
          req = withAnswer(req, replaced);
          continue;
        }
        // Anything else is the server away or too slow to answer: the answer is kept.
        if (this.#stopped.signal.aborted) throw error;
        if (failedSends === 0)
          firstFailure = error instanceof Error ? error.message : String(error);
        await abortableSleep(this.#backoffMs(failedSends++), this.#stopped.signal);
        continue;
      }
      if (res.head.status === 200) {
        if (failedSends > 0) events?.onDelivered?.(taskId, failedSends, firstFailure);
        ended(
          refusedFor === undefined
            ? { kind: "delivered" }
            : { kind: "refused", reason: refusedFor },
        );
        return res;
      }
      // 409/404: not acquired at this version any more. Once: take the task again if it is
      // pending, which only a lapsed lease nobody has acted on yet allows.
      const version = reacquired ? undefined : await this.#reacquire(req);
      if (version === undefined) {
        // A send that timed out may still have landed: then this answer is the one on record.
        if (failedSends > 0 && (await this.#landedEarlier(req))) {
          events?.onDelivered?.(taskId, failedSends, firstFailure);
          ended(
            refusedFor === undefined
              ? { kind: "delivered" }
              : { kind: "refused", reason: refusedFor },
          );
        } else {
          events?.onLost?.(
            taskId,
            typeof res.data === "string" ? res.data : `HTTP ${res.head.status}`,
          );
        }
        return res;
      }
      reacquired = true;
      events?.onReacquired?.(taskId, version);
      req = { ...req, data: { ...req.data, version } };
    }
  }

  /** Acquires the task again at the version its lapsed lease left it; undefined if taken. */
  async #reacquire(req: FulfilRequest): Promise<number | undefined> {
    for (let failedSends = 0; ; failedSends++) {
      try {
        const res = await this.inner.send(
          request("task.acquire", {
            id: req.data.id,
            version: req.data.version,
            pid: this.#options.pid,
            ttl: this.#options.leaseMs,
          }),
        );
        return res.head.status === 200 && typeof res.data !== "string"
          ? res.data.task.version
          : undefined;
      } catch {
        if (this.#stopped.signal.aborted) return undefined;
        await abortableSleep(this.#backoffMs(failedSends), this.#stopped.signal);
      }
    }
  }

  /** Whether the task's promise holds exactly this answer (a send reported failed had landed). */
  async #landedEarlier(req: FulfilRequest): Promise<boolean> {
    try {
      const res = await this.inner.send(request("promise.get", { id: req.data.action.data.id }));
      return (
        res.head.status === 200 &&
        typeof res.data !== "string" &&
        res.data.promise.value?.data === req.data.action.data.value?.data
      );
    } catch {
      return false;
    }
  }

  #backoffMs(failedSends: number): number {
    return backoffDelayMs(
      { firstMs: this.#options.firstRetryMs ?? 100, maxMs: this.#options.lastRetryMs ?? 1_000 },
      failedSends,
    );
  }
}

function withAnswer(req: FulfilRequest, value: EncodedAnswer): FulfilRequest {
  const action = req.data.action;
  return {
    ...req,
    data: { ...req.data, action: { ...action, data: { ...action.data, value } } },
  };
}
