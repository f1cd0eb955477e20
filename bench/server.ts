// `npm run bench:server`: throughput and latency of the embedded Resonate server over real
// HTTP on 127.0.0.1, for modulate's durable engine (sync full and normal) and the SDK's
// in-memory reference server behind the same HTTP layer, on an empty store and on one with
// many pending promises. Prints tables and writes bench/results/server.json.
import { availableParallelism, cpus, tmpdir } from "node:os";
import type { BenchServer } from "./lib/bench-server.ts";
import { computeBars } from "./lib/bars.ts";
import { combineRounds } from "./lib/combine.ts";
import { startDurable } from "./lib/durable-engine.ts";
import { ENGINE_LABELS, type EngineKey, type Measurement } from "./lib/measurement.ts";
import { parseBenchOptions } from "./lib/options.ts";
import { barTable, measurementTable, scenarioLegend, writeResults } from "./lib/report.ts";
import type { ScenarioName } from "./lib/scenarios.ts";
import { startSdk } from "./lib/sdk-engine.ts";
import { formatNumber } from "./lib/table.ts";
import { measureUndisturbed, type Trial } from "./lib/trial.ts";

/** Longest wait, before each measurement, for other processes to leave the cores alone. */
const QUIET_WAIT_MS = 10_000;
const cores = availableParallelism();

const STARTERS: Record<EngineKey, () => Promise<BenchServer>> = {
  "durable-full": () => startDurable("full"),
  "durable-normal": () => startDurable("normal"),
  "sdk-memory": startSdk,
};

const { settings, engines, scenarios, httpClient, placement, outPath } = parseBenchOptions(
  process.argv.slice(2),
  ["durable-full", "durable-normal", "sdk-memory"],
);
const pendingLevels = settings.pendingLevels;

const environment = {
  node: process.version,
  cpu: cpus()[0]?.model ?? "unknown",
  cores,
  platform: `${process.platform} ${process.arch}`,
  tempDir: tmpdir(),
};

console.log(
  `modulate server bench: node ${environment.node}, ${environment.cores} cores (${environment.cpu})`,
);
console.log(
  `${settings.concurrency} concurrent callers, ${settings.warmupMs} ms warm-up + ${settings.measureMs} ms measured, ${settings.rounds} round(s) pooled; load generator: ${settings.loadGenerator}`,
);
console.log(`HTTP client: ${settings.httpClient}`);
console.log(scenarioLegend());
console.log(
  "Each measurement runs on a fresh server (a fresh temp data dir for durable engines), after " +
    `waiting up to ${QUIET_WAIT_MS / 1000} s for an idle machine; a window in which other processes ` +
    `used more than ${settings.maxOtherCores} cores is measured again, up to ${settings.maxAttempts} times.\n`,
);

// Rounds go over the whole matrix, so slow drift of the machine (disk, neighbours) spreads
// over every cell. Within a round the engines run back to back for each store size and
// scenario, so the ratios the bars take compare windows close in time.
const trials = new Map<string, Trial[]>();
const cellKey = (engine: EngineKey, pending: number, scenario: ScenarioName): string =>
  `${engine}|${pending}|${scenario}`;
for (let round = 1; round <= settings.rounds; round++) {
  for (const scenario of scenarios) {
    for (const pending of pendingLevels) {
      for (const engine of engines) {
        console.log(
          `round ${round}/${settings.rounds}: ${ENGINE_LABELS[engine]}, ${formatNumber(pending)} pending, ${scenario}`,
        );
        const trial = await measureUndisturbed({
          start: STARTERS[engine],
          pending,
          load: {
            httpClient,
            scenario,
            concurrency: settings.concurrency,
            warmupMs: settings.warmupMs,
            measureMs: settings.measureMs,
            idPrefix: `r${round}-${engine}-${pending}-${scenario.replace(/\W/g, "")}`,
          },
          placement,
          maxOtherCores: settings.maxOtherCores,
          maxAttempts: settings.maxAttempts,
          quietWaitMs: QUIET_WAIT_MS,
          cores,
          log: (line) => console.log(line),
        });
        const key = cellKey(engine, pending, scenario);
        trials.set(key, [...(trials.get(key) ?? []), trial]);
      }
    }
  }
}

const measurements: Measurement[] = [];
for (const engine of engines) {
  for (const pending of pendingLevels) {
    for (const scenario of scenarios) {
      const cellTrials = trials.get(cellKey(engine, pending, scenario)) ?? [];
      if (cellTrials.length === 0) continue;
      measurements.push(
        combineRounds(
          { engine, pendingPreloaded: pending, scenario },
          cellTrials,
          settings.maxOtherCores,
        ),
      );
    }
  }
}

const bars = computeBars(measurements, Math.max(...pendingLevels));
console.log(`\n${measurementTable(measurements)}`);
console.log(
  "busy: share of the window each thread's event loop was busy; cpu cores: CPU the bench process used;\n" +
    `others: busy cores of other processes (! = above ${settings.maxOtherCores} in every attempt of some round)\n`,
);
const preloadMethods = new Map(
  measurements.flatMap((m) => (m.preload ? [[m.engine, m.preload.method] as const] : [])),
);
for (const [engine, method] of preloadMethods) {
  console.log(`preload, ${ENGINE_LABELS[engine]}: ${method}`);
}
console.log(`\n${barTable(bars)}`);
console.log("(info): shown for information; the bars are judged on the other rows.\n");
await writeResults(outPath, settings, environment, measurements, bars);
console.log(`wrote ${outPath}`);
