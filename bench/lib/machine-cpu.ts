// How busy the whole machine was, from /proc/stat: set against the bench process's own CPU
// time, it shows whether something else (another engineer's tests) took cores mid-run.
import { readFileSync } from "node:fs";

interface CpuTicks {
  busy: number;
  total: number;
}

/** Aggregate ticks of all CPUs; undefined where /proc/stat does not exist (not Linux). */
export function readCpuTicks(): CpuTicks | undefined {
  let text: string;
  try {
    text = readFileSync("/proc/stat", "latin1");
  } catch {
    return undefined;
  }
  const fields = (text.split("\n", 1)[0] ?? "").trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: idle and iowait are the not-busy ones.
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] =
    fields;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

/** Cores' worth of busy time between two readings (0..number of cores). */
export function busyCores(from: CpuTicks, to: CpuTicks, cores: number): number {
  const total = to.total - from.total;
  return total > 0 ? ((to.busy - from.busy) / total) * cores : Number.NaN;
}

/**
 * Waits until the machine has been nearly idle for one `sampleMs` window (other work below
 * `maxBusyCores`), or `maxWaitMs` has passed. Resolves with the busy cores of the last window.
 */
export async function waitForQuietMachine(
  maxBusyCores: number,
  maxWaitMs: number,
  cores: number,
  sampleMs = 500,
): Promise<number> {
  const deadline = performance.now() + maxWaitMs;
  for (;;) {
    const from = readCpuTicks();
    await new Promise((resolve) => setTimeout(resolve, sampleMs));
    const to = readCpuTicks();
    if (!from || !to) return Number.NaN;
    const busy = busyCores(from, to, cores);
    if (busy <= maxBusyCores || performance.now() >= deadline) return busy;
  }
}
