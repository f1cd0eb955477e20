// What the run prints and what it writes to bench/results/server.json.
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { BarResult } from "./bars.ts";
import { ENGINE_LABELS, type Measurement } from "./measurement.ts";
import { SCENARIO_OPS } from "./scenarios.ts";
import { formatNumber, formatPercent, formatTable } from "./table.ts";

export interface RunSettings {
  warmupMs: number;
  measureMs: number;
  concurrency: number;
  /** Pending promises preloaded before each measurement; each level gets its own servers. */
  pendingLevels: number[];
  loadGenerator: string;
  httpClient: string;
  /** A window in which other processes used more cores than this is measured again. */
  maxOtherCores: number;
  maxAttempts: number;
  /** Times the whole matrix is measured; each row pools its rounds. */
  rounds: number;
}

export function measurementTable(measurements: Measurement[]): string {
  return formatTable(
    [
      { header: "engine" },
      { header: "pending", alignRight: true },
      { header: "scenario" },
      { header: "ops/s", alignRight: true },
      { header: "rounds ops/s", alignRight: true },
      { header: "req/s", alignRight: true },
      { header: "p50 ms", alignRight: true },
      { header: "p99 ms", alignRight: true },
      { header: "failed", alignRight: true },
      { header: "server busy", alignRight: true },
      { header: "client busy", alignRight: true },
      { header: "cpu cores", alignRight: true },
      { header: "others", alignRight: true },
    ],
    measurements.map((m) => [
      ENGINE_LABELS[m.engine],
      formatNumber(m.pendingPreloaded),
      m.scenario,
      formatNumber(m.opsPerSec),
      m.rounds.map((r) => formatNumber(r.opsPerSec)).join(" / "),
      formatNumber(m.requestsPerSec),
      formatNumber(m.p50Ms, 2),
      formatNumber(m.p99Ms, 2),
      formatNumber(m.failedOps),
      formatPercent(m.serverBusy),
      formatPercent(m.clientBusy),
      formatNumber(m.processCores, 2),
      formatNumber(m.otherCores, 2) + (m.disturbed ? " !" : ""),
    ]),
  );
}

export function barTable(bars: BarResult[]): string {
  const show = (value: number, unit: BarResult["unit"]): string =>
    unit === "ratio" ? formatPercent(value) : formatNumber(value);
  return formatTable(
    [
      { header: "bar" },
      { header: "engine" },
      { header: "scenario" },
      { header: "measured", alignRight: true },
      { header: "needed", alignRight: true },
      { header: "result" },
    ],
    bars.map((b) => [
      b.bar,
      ENGINE_LABELS[b.engine] + (b.counts ? "" : " (info)"),
      b.scenario,
      show(b.measured, b.unit),
      show(b.threshold, b.unit),
      b.pass ? "PASS" : "FAIL",
    ]),
  );
}

export function scenarioLegend(): string {
  return Object.entries(SCENARIO_OPS)
    .map(([name, ops]) => `  ${name}: one op = ${ops}`)
    .join("\n");
}

export async function writeResults(
  path: string,
  settings: RunSettings,
  environment: Record<string, unknown>,
  measurements: Measurement[],
  bars: BarResult[],
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const round = (value: number, digits: number): number | null =>
    Number.isFinite(value) ? Number(value.toFixed(digits)) : null;
  const body = {
    generatedAt: new Date().toISOString(),
    environment,
    settings,
    scenarios: SCENARIO_OPS,
    measurements: measurements.map((m) => ({
      ...m,
      engineLabel: ENGINE_LABELS[m.engine],
      opsPerSec: round(m.opsPerSec, 1),
      requestsPerSec: round(m.requestsPerSec, 1),
      p50Ms: round(m.p50Ms, 3),
      p99Ms: round(m.p99Ms, 3),
      maxMs: round(m.maxMs, 3),
      serverBusy: round(m.serverBusy, 3),
      clientBusy: round(m.clientBusy, 3),
      processCores: round(m.processCores, 3),
      otherCores: round(m.otherCores, 3),
      rounds: m.rounds.map((r) => ({
        ...r,
        opsPerSec: round(r.opsPerSec, 1),
        p50Ms: round(r.p50Ms, 3),
        p99Ms: round(r.p99Ms, 3),
        maxMs: round(r.maxMs, 3),
        otherCores: round(r.otherCores, 3),
      })),
    })),
    bars: bars.map((b) => ({ ...b, measured: round(b.measured, 3) })),
    barsPassed: bars.filter((b) => b.counts).every((b) => b.pass),
  };
  await writeFile(path, `${JSON.stringify(body, null, 2)}\n`);
}
