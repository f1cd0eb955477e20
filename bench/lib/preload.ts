// Pending promises put in place before a measurement, to see what a large store costs. Each
// has a resonate:target, so it carries a promise timeout, a pending task and a task timeout:
// the timer indexes are what grow. Its deadline, and the task's first dispatch (resonate:delay),
// are a year out, so no timer fires and no execute message is sent while the bench runs.
import type { PromiseCreateRequest } from "../../src/server/protocol.ts";
import { PROTOCOL_VERSION } from "../../src/server/protocol.ts";

const FAR_FUTURE_MS = 365 * 24 * 60 * 60 * 1000;
export const PRELOAD_TARGET = "poll://any@preload";

export function preloadRequest(index: number, nowMs: number): PromiseCreateRequest {
  const deadline = nowMs + FAR_FUTURE_MS;
  return {
    kind: "promise.create",
    head: { corrId: `preload-${index}`, version: PROTOCOL_VERSION },
    data: {
      id: `preload-${index}`,
      timeoutAt: deadline,
      param: { data: "preloaded" },
      tags: { "resonate:target": PRELOAD_TARGET, "resonate:delay": String(deadline) },
    },
  };
}

export interface PreloadReport {
  /** How the promises got there, in words, for the output. */
  method: string;
  durationMs: number;
  /** Pending promises the engine holds afterwards, counted by the engine itself. */
  pendingPromises: number;
  /** Pending tasks afterwards: one per preloaded promise. */
  pendingTasks: number;
  /** Promise and task timeouts held afterwards: two per preloaded promise. */
  timers: number;
}
