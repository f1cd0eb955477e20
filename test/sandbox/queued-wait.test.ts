// Waiting in line for a pooled resource (src/sandbox/queued-wait.ts): a grant or an abort
// ends the wait, and neither leaves a listener on the caller's signal. A worker hands every
// job's signal (AbortSignal.any of its stop and the job's cancel) to the disk area pool; a
// listener left there kept that signal, its closure and the queue alive for good: about one
// signal a job, 1,326 of them after 1,500 jobs.
import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { waitInQueue } from "../../src/sandbox/queued-wait.ts";

type Grant = (value: number) => void;

describe("waitInQueue", () => {
  it("resolves with what the pool grants, and takes its listener off the signal", async () => {
    const controller = new AbortController();
    const queue: Grant[] = [];
    const waiting = waitInQueue(queue, (grant: Grant) => grant, controller.signal, "slot wait");
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(1);
    queue.shift()?.(7);
    await expect(waiting).resolves.toBe(7);
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("leaves the queue and rejects with the abort's reason when the signal aborts first", async () => {
    const controller = new AbortController();
    const queue: Grant[] = [];
    const waiting = waitInQueue(queue, (grant: Grant) => grant, controller.signal, "slot wait");
    controller.abort(new Error("job canceled"));
    await expect(waiting).rejects.toThrow("job canceled");
    expect(queue).toHaveLength(0);
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("rejects at once, queueing nothing, for a signal that has aborted already", async () => {
    const controller = new AbortController();
    controller.abort(new Error("worker stopping"));
    const queue: Grant[] = [];
    const waiting = waitInQueue(queue, (grant: Grant) => grant, controller.signal, "slot wait");
    await expect(waiting).rejects.toThrow("worker stopping");
    expect(queue).toHaveLength(0);
  });

  it("lets a composite signal of a long-lived one be collected once granted", async () => {
    // The shape of the worker's: the pool's wait must not pin it in Node's set of composite
    // signals that have abort listeners.
    const stopping = new AbortController();
    let collected = false;
    const registry = new FinalizationRegistry(() => {
      collected = true;
    });
    await (async () => {
      const signal = AbortSignal.any([stopping.signal, new AbortController().signal]);
      registry.register(signal, "job");
      const queue: Grant[] = [];
      const waiting = waitInQueue(queue, (grant: Grant) => grant, signal, "disk wait");
      queue.shift()?.(1);
      await waiting;
    })();
    const deadline = Date.now() + 10_000;
    while (!collected && Date.now() < deadline) {
      await collectGarbage();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(collected).toBe(true);
  });
});

/** A full collection, by way of a context made while --expose-gc is set. */
async function collectGarbage(): Promise<void> {
  const { setFlagsFromString } = await import("node:v8");
  const { runInNewContext } = await import("node:vm");
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  setFlagsFromString("--no-expose-gc");
  gc();
}
