// One row of results: an engine, a preloaded store size, a scenario, and what the load saw.
import type { PreloadReport } from "./preload.ts";
import type { ScenarioName } from "./scenarios.ts";

export type EngineKey = "durable-full" | "durable-normal" | "sdk-memory";

export const ENGINE_LABELS: Record<EngineKey, string> = {
  "durable-full": "modulate durable, sync full",
  "durable-normal": "modulate durable, sync normal",
  "sdk-memory": "SDK in-memory Server",
};

export interface RoundSummary {
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  otherCores: number;
  /** Windows measured for this round; the one kept is the least disturbed. */
  attempts: number;
}

/** Pooled over the rounds: ops over all windows, percentiles over all latencies. */
export interface Measurement {
  engine: EngineKey;
  pendingPreloaded: number;
  scenario: ScenarioName;
  opsPerSec: number;
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  ops: number;
  failedOps: number;
  /** Share of the window the server's thread was busy (0..1). */
  serverBusy: number;
  /** Share of the window the load generator's thread was busy (0..1). */
  clientBusy: number;
  /** CPU the bench process used over the window, in cores (the machine has `cores`). */
  processCores: number;
  /** Busy cores of the machine beyond the bench process during the window. */
  otherCores: number;
  /** True when some round stayed above the other-processes limit in every attempt. */
  disturbed: boolean;
  /** Each round on its own: the spread says how far to trust the pooled figures. */
  rounds: RoundSummary[];
  preload?: PreloadReport;
  firstError?: string;
}
