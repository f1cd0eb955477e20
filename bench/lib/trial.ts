// One measurement of one cell (engine, store size, scenario) on a fresh server, repeated
// while other processes on the machine disturb it.
import type { BenchServer } from "./bench-server.ts";
import type { LoadSpec } from "./load.ts";
import { waitForQuietMachine } from "./machine-cpu.ts";
import type { PreloadReport } from "./preload.ts";
import { runLoad, type ClientPlacement, type MeasuredLoad } from "./run-load.ts";

export interface Trial extends MeasuredLoad {
  preload?: PreloadReport;
  /** Windows measured to get this one (the least disturbed of them). */
  attempts: number;
}

export interface TrialOptions {
  start: () => Promise<BenchServer>;
  pending: number;
  load: Omit<LoadSpec, "url">;
  placement: ClientPlacement;
  /** A window in which other processes used more cores than this is measured again. */
  maxOtherCores: number;
  maxAttempts: number;
  /** Longest wait, before each window, for the machine to go idle. */
  quietWaitMs: number;
  cores: number;
  log: (line: string) => void;
}

async function measureOnce(options: TrialOptions): Promise<Trial> {
  const server = await options.start();
  try {
    const preload = options.pending > 0 ? await server.preload(options.pending) : undefined;
    // After the preload, so that what it leaves behind (the kernel writing back its pages, a
    // collection of its garbage) is waited out rather than measured.
    const idle = await waitForQuietMachine(
      options.maxOtherCores,
      options.quietWaitMs,
      options.cores,
    );
    if (idle > options.maxOtherCores) {
      options.log(
        `  machine still busy (${idle.toFixed(2)} cores) after waiting: measuring anyway`,
      );
    }
    const load = await runLoad({ ...options.load, url: server.url }, options.placement);
    return { ...load, ...(preload ? { preload } : {}), attempts: 1 };
  } finally {
    await server.close();
  }
}

/** Measures until a window is undisturbed or attempts run out; keeps the least disturbed. */
export async function measureUndisturbed(options: TrialOptions): Promise<Trial> {
  const tries: Trial[] = [];
  while (tries.length < Math.max(1, options.maxAttempts)) {
    const trial = await measureOnce(options);
    tries.push(trial);
    const opsPerSec = trial.ops / (trial.measuredMs / 1000);
    options.log(
      `  ${Math.round(opsPerSec)} ops/s, other processes ${trial.otherCores.toFixed(2)} cores` +
        (trial.preload
          ? `, preloaded ${trial.preload.pendingPromises} pending promises (${trial.preload.pendingTasks} tasks, ${trial.preload.timers} timers) in ${Math.round(trial.preload.durationMs)} ms`
          : "") +
        (trial.failedOps > 0 ? `, ${trial.failedOps} failed (${trial.firstError ?? "?"})` : ""),
    );
    if (!(trial.otherCores > options.maxOtherCores)) break;
  }
  const best = tries.reduce((a, b) => (b.otherCores < a.otherCores ? b : a));
  return { ...best, attempts: tries.length };
}
