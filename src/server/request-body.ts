// Reads a `POST /` body under the server's limits. A body over the size limit is still read to
// its end and thrown away, so that a sender that is still writing gets the 413 rather than a
// reset connection (EPIPE); a body that has not arrived by the deadline is given up on.
import type { IncomingMessage } from "node:http";

export interface BodyLimits {
  maxBytes: number;
  /** Past this many bytes of a body over `maxBytes`, stop reading and close. */
  maxDiscardedBytes: number;
  /** From the call on; the whole body must have arrived by then. */
  timeoutMs: number;
}

export type BodyOutcome =
  | { kind: "complete"; bytes: Buffer }
  /** `drained`: the sender finished writing, so the connection may answer and stay usable. */
  | { kind: "too-large"; drained: boolean }
  | { kind: "timed-out" }
  /** The sender went away; there is nobody to answer. */
  | { kind: "aborted" };

export function readBody(req: IncomingMessage, limits: BodyLimits): Promise<BodyOutcome> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let overLimit = false;
    const finish = (outcome: BodyOutcome): void => {
      clearTimeout(deadline);
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
      chunks.push(chunk);
    };
    const onEnd = (): void =>
      finish(
        overLimit
          ? { kind: "too-large", drained: true }
          : { kind: "complete", bytes: Buffer.concat(chunks) },
      );
    const onAbort = (): void => finish({ kind: "aborted" });
    const deadline = setTimeout(() => finish({ kind: "timed-out" }), limits.timeoutMs);

    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > limits.maxDiscardedBytes) {
      finish({ kind: "too-large", drained: false });
      return;
    }
    // A declared size over the limit is known to be refused: nothing of it is kept.
    if (Number.isFinite(declared) && declared > limits.maxBytes) overLimit = true;
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onAbort);
    req.on("close", onAbort);
  });
}
