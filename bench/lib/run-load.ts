// Runs one load against a server that lives on this (the main) thread, and measures how busy
// this thread was during the window: with the client on a worker, that is the server alone.
import { availableParallelism } from "node:os";
import { performance, type EventLoopUtilization } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import { generateLoad, type LoadResult, type LoadSpec } from "./load.ts";
import { busyCores, readCpuTicks } from "./machine-cpu.ts";

/** "worker": the generator on a worker thread of this process; "inline": on the main thread. */
export type ClientPlacement = "worker" | "inline";

export interface MeasuredLoad extends LoadResult {
  /** Share of the window the main thread (the server, plus the client if inline) was busy. */
  serverBusy: number;
  /** CPU time of the whole process over the window, in cores (2 = both cores of the machine). */
  processCores: number;
  /** Busy cores of the whole machine beyond this process: above a few tenths, a disturbance. */
  otherCores: number;
}

type WorkerMessage =
  { type: "window-start" } | { type: "window-end" } | { type: "result"; result: LoadResult };

export async function runLoad(spec: LoadSpec, placement: ClientPlacement): Promise<MeasuredLoad> {
  let eluAtStart: EventLoopUtilization | undefined;
  let eluInWindow: EventLoopUtilization | undefined;
  let cpuAtStart: NodeJS.CpuUsage | undefined;
  let startedAtMs = 0;
  let processCores = Number.NaN;
  let otherCores = Number.NaN;
  let ticksAtStart: ReturnType<typeof readCpuTicks>;
  const hooks = {
    onStart: () => {
      eluAtStart = performance.eventLoopUtilization();
      cpuAtStart = process.cpuUsage();
      ticksAtStart = readCpuTicks();
      startedAtMs = performance.now();
    },
    onEnd: () => {
      if (!eluAtStart || !cpuAtStart) return;
      eluInWindow = performance.eventLoopUtilization(eluAtStart);
      const cpu = process.cpuUsage(cpuAtStart);
      processCores = (cpu.user + cpu.system) / 1000 / (performance.now() - startedAtMs);
      const ticks = readCpuTicks();
      if (ticksAtStart && ticks) {
        otherCores = busyCores(ticksAtStart, ticks, availableParallelism()) - processCores;
      }
    },
  };
  const result =
    placement === "inline" ? await generateLoad(spec, hooks) : await inWorker(spec, hooks);
  return {
    ...result,
    serverBusy: eluInWindow?.utilization ?? Number.NaN,
    processCores,
    otherCores,
  };
}

function inWorker(
  spec: LoadSpec,
  hooks: { onStart: () => void; onEnd: () => void },
): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./load-worker.ts", import.meta.url), { workerData: spec });
    let result: LoadResult | undefined;
    worker.on("message", (message: WorkerMessage) => {
      if (message.type === "window-start") hooks.onStart();
      else if (message.type === "window-end") hooks.onEnd();
      else result = message.result;
    });
    worker.on("error", reject);
    worker.on("exit", (code) => {
      if (result) resolve(result);
      else reject(new Error(`load worker exited with code ${code} before reporting a result`));
    });
  });
}
