// How long this thread was held at a stretch while `work` ran: what a key pressed or a frame due
// during a dashboard refresh waits for. Two measures side by side:
// - the event loop's delay (perf_hooks monitorEventLoopDelay), on the wall clock: on a shared
//   machine it also counts time the thread was ready but had no core;
// - the thread's own CPU time between two ticks of a 1 ms timer (process.threadCpuUsage): the
//   longest stretch the code itself ran without a turn of the event loop, whatever the load.
import { monitorEventLoopDelay } from "node:perf_hooks";

export interface Stalls {
  /** Event-loop delay, wall clock. */
  loopP99Ms: number;
  loopMaxMs: number;
  /** The thread's CPU time between two turns of the event loop. */
  heldP99Ms: number;
  heldMaxMs: number;
}

function threadCpuMs(): number {
  const { user, system } = process.threadCpuUsage();
  return (user + system) / 1000;
}

/** Stalls while `work` runs, with its result. */
export async function measureStalls<T>(work: () => Promise<T>): Promise<{ value: T } & Stalls> {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  const held: number[] = [];
  let cpuAt = threadCpuMs();
  const ticker = setInterval(() => {
    const cpu = threadCpuMs();
    held.push(cpu - cpuAt);
    cpuAt = cpu;
  }, 1);
  delay.enable();
  try {
    const value = await work();
    held.push(threadCpuMs() - cpuAt);
    const sorted = held.sort((a, b) => a - b);
    return {
      value,
      loopP99Ms: delay.percentile(99) / 1e6,
      loopMaxMs: delay.max / 1e6,
      heldP99Ms: sorted[Math.min(sorted.length - 1, Math.floor(0.99 * sorted.length))] ?? 0,
      heldMaxMs: sorted.at(-1) ?? 0,
    };
  } finally {
    delay.disable();
    clearInterval(ticker);
  }
}

/** The worst of each measure over several runs. */
export function worstOf(runs: readonly Stalls[]): Stalls {
  const most = (pick: (s: Stalls) => number) => Math.max(0, ...runs.map(pick));
  return {
    loopP99Ms: most((s) => s.loopP99Ms),
    loopMaxMs: most((s) => s.loopMaxMs),
    heldP99Ms: most((s) => s.heldP99Ms),
    heldMaxMs: most((s) => s.heldMaxMs),
  };
}
