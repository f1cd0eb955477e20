// Several rounds of one cell, pooled into one row: throughput over all measured windows
// together, percentiles over all latencies together, and each round kept for the spread.
import type { EngineKey, Measurement } from "./measurement.ts";
import { REQUESTS_PER_OP, type ScenarioName } from "./scenarios.ts";
import { summarize } from "./stats.ts";
import type { Trial } from "./trial.ts";

function mean(values: number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

export function combineRounds(
  cell: { engine: EngineKey; pendingPreloaded: number; scenario: ScenarioName },
  trials: Trial[],
  maxOtherCores: number,
): Measurement {
  const ops = trials.reduce((sum, t) => sum + t.ops, 0);
  const measuredMs = trials.reduce((sum, t) => sum + t.measuredMs, 0);
  const latencies = new Float64Array(trials.reduce((sum, t) => sum + t.latenciesMs.length, 0));
  let offset = 0;
  for (const t of trials) {
    latencies.set(t.latenciesMs, offset);
    offset += t.latenciesMs.length;
  }
  const opsPerSec = ops / (measuredMs / 1000);
  const firstError = trials.find((t) => t.firstError !== undefined)?.firstError;
  const preload = trials.find((t) => t.preload)?.preload;
  return {
    ...cell,
    opsPerSec,
    requestsPerSec: opsPerSec * REQUESTS_PER_OP[cell.scenario],
    ...summarize(latencies),
    ops,
    failedOps: trials.reduce((sum, t) => sum + t.failedOps, 0),
    serverBusy: mean(trials.map((t) => t.serverBusy)),
    clientBusy: mean(trials.map((t) => t.clientBusy)),
    processCores: mean(trials.map((t) => t.processCores)),
    otherCores: mean(trials.map((t) => t.otherCores)),
    disturbed: trials.some((t) => t.otherCores > maxOtherCores),
    rounds: trials.map((t) => ({
      opsPerSec: t.ops / (t.measuredMs / 1000),
      ...summarize(t.latenciesMs),
      otherCores: t.otherCores,
      attempts: t.attempts,
    })),
    ...(preload ? { preload } : {}),
    ...(firstError === undefined ? {} : { firstError }),
  };
}
