// Reads a `POST /` body under the server's limits. A body over the size limit is still read to
// its end and thrown away, so that a sender that is still writing gets the 413 rather than a
// reset connection (EPIPE); a body that has not arrived by the deadline is given up on.
import type { IncomingMessage } from "node:http";

export interface BodyLimits {
  maxBytes: number;
  /** Past this many bytes of a body over `maxBytes`, stop reading and close. */
  maxDiscardedBytes: number;
  /**
   * How long, from the call on, a body of a given size may take to arrive: asked with the
   * declared length, or, for a chunked body, with what has arrived when the time is up, so a
   * body that keeps coming at the floor rate is given the time its size needs.
   */
  deadlineMs: (bytes: number) => number;
}

export type BodyOutcome =
  | { kind: "complete"; bytes: Buffer }
  /** `drained`: the sender finished writing, so the connection may answer and stay usable. */
  | { kind: "too-large"; drained: boolean }
  | { kind: "timed-out"; allowedMs: number }
  /** The sender went away; there is nobody to answer. */
  | { kind: "aborted" };

interface Deadline {
  dueAt: number;
  onDue: () => void;
}

/**
 * The body deadlines of every read under way, on one timer armed for the earliest. A timer of
 * its own for each request (armed, then cleared a millisecond later when its body arrived) cost
 * the main thread more than reading a small body. Left armed when the reads it was for are
 * done, it fires once for nothing; unreferenced, since a read holds its socket open anyway.
 */
class SharedDeadlines {
  readonly #pending = new Set<Deadline>();
  #timer: NodeJS.Timeout | undefined;
  #armedFor = Infinity;

  add(dueAt: number, onDue: () => void): Deadline {
    const deadline = { dueAt, onDue };
    this.#pending.add(deadline);
    if (dueAt < this.#armedFor) this.#arm(dueAt);
    return deadline;
  }

  remove(deadline: Deadline): void {
    this.#pending.delete(deadline);
  }

  #arm(dueAt: number): void {
    clearTimeout(this.#timer);
    this.#armedFor = dueAt;
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, dueAt - performance.now()));
    this.#timer.unref();
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedFor = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const deadline of [...this.#pending]) {
      if (deadline.dueAt <= now) {
        this.#pending.delete(deadline);
        deadline.onDue();
      } else next = Math.min(next, deadline.dueAt);
    }
    if (next < this.#armedFor) this.#arm(next);
  }
}

const deadlines = new SharedDeadlines();

export function readBody(req: IncomingMessage, limits: BodyLimits): Promise<BodyOutcome> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    // A body that declares its length is copied chunk by chunk into one buffer of its own as
    // it arrives, so no single step copies the whole body (8 MB at once held the thread 20 ms
    // and more), and the buffer can be handed to the engine's thread without a copy.
    let whole: Buffer | undefined;
    let overLimit = false;
    const startedAt = performance.now();
    let deadline: Deadline | undefined;
    const finish = (outcome: BodyOutcome): void => {
      if (deadline !== undefined) deadlines.remove(deadline);
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onAbort);
      req.off("close", onAbort);
      resolve(outcome);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limits.maxBytes) {
        overLimit = true;
        chunks.length = 0;
      }
      if (overLimit) {
        if (size > limits.maxDiscardedBytes) finish({ kind: "too-large", drained: false });
        return;
      }
      if (whole !== undefined && size <= whole.length) chunk.copy(whole, size - chunk.length);
      else {
        // Longer than declared cannot pass Node's parser; kept as chunks all the same.
        if (whole !== undefined) chunks.push(whole.subarray(0, size - chunk.length));
        whole = undefined;
        chunks.push(chunk);
      }
    };
    const onEnd = (): void =>
      finish(
        overLimit
          ? { kind: "too-large", drained: true }
          : {
              kind: "complete",
              bytes: whole?.subarray(0, size) ?? Buffer.concat(chunks),
            },
      );
    const onAbort = (): void => finish({ kind: "aborted" });

    const declared = Number(req.headers["content-length"]);
    const expectedBytes = Number.isFinite(declared) ? declared : 0;
    const armDeadline = (): void => {
      const allowedMs = limits.deadlineMs(Math.max(expectedBytes, size));
      const leftMs = allowedMs - (performance.now() - startedAt);
      if (leftMs <= 0) finish({ kind: "timed-out", allowedMs });
      else deadline = deadlines.add(performance.now() + leftMs, armDeadline);
    };
    armDeadline();
    if (Number.isFinite(declared) && declared > limits.maxDiscardedBytes) {
      finish({ kind: "too-large", drained: false });
      return;
    }
    // A declared size over the limit is known to be refused: nothing of it is kept.
    if (Number.isFinite(declared) && declared > limits.maxBytes) overLimit = true;
    else if (Number.isFinite(declared) && declared > 0) whole = Buffer.allocUnsafeSlow(declared);
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onAbort);
    req.on("close", onAbort);
  });
}
