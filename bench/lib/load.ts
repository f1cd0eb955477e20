// The load generator: `concurrency` callers, each sending its next op as soon as the last one
// is answered (a closed loop), for a warm-up and then a measured window. An op counts when it
// completes inside the window; callers stop starting ops when the window ends.
import { performance, type EventLoopUtilization } from "node:perf_hooks";
import { ProtocolClient, type HttpClientKind } from "./protocol-client.ts";
import { runOp, type ScenarioName } from "./scenarios.ts";
import { SampleBuffer } from "./stats.ts";

export interface LoadSpec {
  url: string;
  httpClient: HttpClientKind;
  scenario: ScenarioName;
  concurrency: number;
  warmupMs: number;
  measureMs: number;
  /** Makes ids unique across runs against the same server. */
  idPrefix: string;
}

export interface LoadResult {
  /** Ops completed inside the measured window. */
  ops: number;
  /** Ops inside the window that got a non-200 reply or failed at the HTTP level. */
  failedOps: number;
  measuredMs: number;
  latenciesMs: Float64Array<ArrayBuffer>;
  /** Share of the window the load generator's own event loop was busy (0..1). */
  clientBusy: number;
  firstError?: string;
}

/** Calls `onStart` when the measured window opens and `onEnd` when it closes. */
export interface WindowHooks {
  onStart?: () => void;
  onEnd?: () => void;
}

export async function generateLoad(spec: LoadSpec, hooks: WindowHooks = {}): Promise<LoadResult> {
  const latencies = new SampleBuffer();
  const startedAt = performance.now();
  const windowStart = startedAt + spec.warmupMs;
  const windowEnd = windowStart + spec.measureMs;
  let ops = 0;
  let failedOps = 0;
  let firstError: string | undefined;
  let eluAtStart: EventLoopUtilization | undefined;
  let eluInWindow: EventLoopUtilization | undefined;

  const startTimer = setTimeout(() => {
    eluAtStart = performance.eventLoopUtilization();
    hooks.onStart?.();
  }, spec.warmupMs);
  const closeWindow = (): void => {
    if (eluAtStart === undefined || eluInWindow !== undefined) return;
    eluInWindow = performance.eventLoopUtilization(eluAtStart);
    hooks.onEnd?.();
  };
  const endTimer = setTimeout(closeWindow, spec.warmupMs + spec.measureMs);

  const clients = Array.from(
    { length: spec.concurrency },
    () => new ProtocolClient(spec.httpClient, spec.url),
  );

  async function caller(index: number, client: ProtocolClient): Promise<void> {
    let n = 0;
    while (performance.now() < windowEnd) {
      const id = `${spec.idPrefix}-${index}-${n++}`;
      const sentAt = performance.now();
      let ok: boolean;
      try {
        ok = await runOp(client, spec.scenario, id);
      } catch (error) {
        ok = false;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
      const doneAt = performance.now();
      if (doneAt < windowStart || doneAt > windowEnd) continue;
      ops++;
      if (!ok) {
        failedOps++;
        firstError ??= `op ${id} got a reply other than 200`;
      }
      latencies.push(doneAt - sentAt);
    }
  }

  try {
    await Promise.all(clients.map((client, i) => caller(i, client)));
  } finally {
    clearTimeout(startTimer);
    clearTimeout(endTimer);
    // The last callers can finish before the end timer gets its turn.
    closeWindow();
    for (const client of clients) client.close();
  }
  return {
    ops,
    failedOps,
    measuredMs: spec.measureMs,
    latenciesMs: latencies.toArray(),
    clientBusy: eluInWindow?.utilization ?? Number.NaN,
    ...(firstError === undefined ? {} : { firstError }),
  };
}
