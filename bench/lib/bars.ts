// The acceptance bars, computed from the measurements. They apply to the durable
// engine as shipped (sync full) and, for the two throughput ratios, to the two scenarios the
// issue names: create+settle and the task cycle. Sync normal, and the ratios of plain
// creates, are judged the same way for information.
import type { EngineKey, Measurement } from "./measurement.ts";
import type { ScenarioName } from "./scenarios.ts";

export interface BarResult {
  bar: string;
  engine: EngineKey;
  scenario: ScenarioName;
  /** The measured figure: a ratio (0..1) or a rate (ops/s), as `unit` says. */
  measured: number;
  threshold: number;
  unit: "ratio" | "ops/s";
  pass: boolean;
  /** True for what the bar is about; false for rows shown for information. */
  counts: boolean;
}

export const CEILING_SHARE = 0.5;
export const LOADED_SHARE = 0.8;
export const MIN_CREATES_PER_SEC = 5_000;

export function computeBars(measurements: Measurement[], pending: number): BarResult[] {
  const find = (engine: EngineKey, pendingPreloaded: number, scenario: ScenarioName) =>
    measurements.find(
      (m) =>
        m.engine === engine && m.pendingPreloaded === pendingPreloaded && m.scenario === scenario,
    );
  const results: BarResult[] = [];
  for (const engine of ["durable-full", "durable-normal"] as const) {
    for (const scenario of ["create+settle", "task cycle", "create"] as const) {
      const counts = engine === "durable-full" && scenario !== "create";
      const idle = find(engine, 0, scenario);
      const ceiling = find("sdk-memory", 0, scenario);
      const loaded = find(engine, pending, scenario);
      if (idle && ceiling) {
        const measured = idle.opsPerSec / ceiling.opsPerSec;
        results.push({
          bar: `throughput >= ${CEILING_SHARE * 100}% of in-memory ceiling (0 pending)`,
          engine,
          scenario,
          measured,
          threshold: CEILING_SHARE,
          unit: "ratio",
          pass: measured >= CEILING_SHARE,
          counts,
        });
      }
      if (idle && loaded && pending > 0) {
        const measured = loaded.opsPerSec / idle.opsPerSec;
        results.push({
          bar: `throughput at ${pending.toLocaleString("en-US")} pending >= ${LOADED_SHARE * 100}% of at 0`,
          engine,
          scenario,
          measured,
          threshold: LOADED_SHARE,
          unit: "ratio",
          pass: measured >= LOADED_SHARE,
          counts,
        });
      }
    }
    // Plain creates are measured directly; at either store size.
    for (const pendingPreloaded of new Set([0, pending])) {
      const creates = find(engine, pendingPreloaded, "create");
      if (!creates) continue;
      results.push({
        bar: `>= ${MIN_CREATES_PER_SEC.toLocaleString("en-US")} promise creates/s (${pendingPreloaded.toLocaleString("en-US")} pending)`,
        engine,
        scenario: "create",
        measured: creates.opsPerSec,
        threshold: MIN_CREATES_PER_SEC,
        unit: "ops/s",
        pass: creates.opsPerSec >= MIN_CREATES_PER_SEC,
        counts: engine === "durable-full",
      });
    }
  }
  // The ceiling's own loaded-versus-empty ratio: not a bar, but what the 100,000-pending
  // comparison means for the reference server (its timeouts live in arrays it scans).
  for (const scenario of ["create+settle", "task cycle", "create"] as const) {
    const idle = find("sdk-memory", 0, scenario);
    const loaded = find("sdk-memory", pending, scenario);
    if (!idle || !loaded || pending === 0) continue;
    const measured = loaded.opsPerSec / idle.opsPerSec;
    results.push({
      bar: `throughput at ${pending.toLocaleString("en-US")} pending >= ${LOADED_SHARE * 100}% of at 0`,
      engine: "sdk-memory",
      scenario,
      measured,
      threshold: LOADED_SHARE,
      unit: "ratio",
      pass: measured >= LOADED_SHARE,
      counts: false,
    });
  }
  return results;
}
