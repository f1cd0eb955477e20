// `node bench/server-cpu.ts`: the embedded server's CPU per op (all its threads and its fsyncs,
// from process.cpuUsage), for a fixed number of ops sent by a client in a child process at a
// given concurrency. CPU time, unlike a rate, holds up on a machine shared with others' work,
// so two builds can be compared on one: `--baseline DIR` measures the server of another source
// tree (a `git archive` of an earlier commit with node_modules linked in) in alternation with
// this one, and the report gives this one's CPU as a ratio to it. Concurrency 3 is a sweep's
// (a router and two workers, each waiting for its answer); 32 is bench:server's.
// Options: --ops N (3000), --concurrency 3,32, --scenarios "create+settle,task cycle",
// --rounds N (2), --baseline DIR, --out FILE (bench/results/server-cpu.json).
// With `client URL SCENARIO OPS CONCURRENCY` it is the client.
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { ProtocolClient } from "./lib/protocol-client.ts";
import { runOp, SCENARIOS, type ScenarioName } from "./lib/scenarios.ts";
import type { RunningServer, ServerOptions } from "../src/server/server.ts";

const SELF = fileURLToPath(import.meta.url);
const HERE_ROOT = join(dirname(SELF), "..");
/** Ops sent before measuring: the server's code is warm when the count starts. */
const WARMUP_OPS = 300;
/** A build may cost this much more than its baseline and still count as within noise. */
const BAR_RATIO = 1.05;

async function runClient(url: string, scenario: ScenarioName, ops: number, concurrency: number) {
  let next = 0;
  const run = `${process.pid}-${Date.now()}`;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      const client = new ProtocolClient("raw", url);
      try {
        while (next < ops) {
          const at = next++;
          if (!(await runOp(client, scenario, `cpu-${run}-${at}`))) {
            throw new Error(`op ${at} of ${scenario} failed`);
          }
        }
      } finally {
        client.close();
      }
    }),
  );
}

function clientRun(url: string, scenario: string, ops: number, concurrency: number) {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [SELF, "client", url, scenario, String(ops), String(concurrency)],
      { stdio: "inherit" },
    );
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`the client exited with code ${code}`)),
    );
  });
}

interface Sample {
  cpuUsPerOp: number;
  userUsPerOp: number;
  systemUsPerOp: number;
  opsPerSec: number;
}

/** One measurement: a fresh durable server of `root`, warmed up, then `ops` ops counted. */
async function measure(
  root: string,
  scenario: string,
  ops: number,
  concurrency: number,
): Promise<Sample> {
  const module = (await import(pathToFileURL(join(root, "src/server/server.ts")).href)) as {
    startServer(options: ServerOptions): Promise<RunningServer>;
  };
  const dataDir = await mkdtemp(join(tmpdir(), "modulate-bench-cpu-"));
  const server = await module.startServer({ host: "127.0.0.1", port: 0, dataDir });
  try {
    await clientRun(server.url, scenario, WARMUP_OPS, concurrency);
    const before = process.cpuUsage();
    const startedAt = performance.now();
    await clientRun(server.url, scenario, ops, concurrency);
    const spent = process.cpuUsage(before);
    const wallMs = performance.now() - startedAt;
    const round = (n: number) => Math.round(n);
    return {
      cpuUsPerOp: round((spent.user + spent.system) / ops),
      userUsPerOp: round(spent.user / ops),
      systemUsPerOp: round(spent.system / ops),
      opsPerSec: round((ops * 1000) / wallMs),
    };
  } finally {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? 0)
    : Math.round(((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      ops: { type: "string", default: "3000" },
      concurrency: { type: "string", default: "3,32" },
      scenarios: { type: "string", default: "create+settle,task cycle" },
      rounds: { type: "string", default: "2" },
      baseline: { type: "string" },
      out: { type: "string", default: "bench/results/server-cpu.json" },
    },
  });
  const ops = Number(values.ops);
  const rounds = Number(values.rounds);
  const levels = values.concurrency.split(",").map(Number);
  const scenarios = values.scenarios.split(",").map((name) => {
    if (!(SCENARIOS as readonly string[]).includes(name)) {
      throw new Error(`--scenarios: "${name}" is not one of ${SCENARIOS.join(", ")}`);
    }
    return name as ScenarioName;
  });
  const trees: [string, string][] = [["this checkout", HERE_ROOT]];
  if (values.baseline !== undefined) trees.push(["baseline", values.baseline]);
  const loadBefore = loadavg()[0] ?? 0;
  const results = [];
  for (const scenario of scenarios) {
    for (const concurrency of levels) {
      const samples = new Map<string, Sample[]>(trees.map(([name]) => [name, []]));
      // Alternated round by round, so that a change in the machine's load falls on both.
      for (let round = 0; round < rounds; round++) {
        for (const [name, root] of trees) {
          const sample = await measure(root, scenario, ops, concurrency);
          samples.get(name)?.push(sample);
          console.log(
            `[bench:server-cpu] ${name}, ${scenario}, concurrency ${concurrency}, round ${round + 1}: ${sample.cpuUsPerOp} µs of CPU an op (user ${sample.userUsPerOp}, system ${sample.systemUsPerOp}), ${sample.opsPerSec} ops/s`,
          );
        }
      }
      const summary = Object.fromEntries(
        [...samples].map(([name, list]) => [
          name,
          {
            cpuUsPerOpMedian: median(list.map((s) => s.cpuUsPerOp)),
            opsPerSecMedian: median(list.map((s) => s.opsPerSec)),
            rounds: list,
          },
        ]),
      );
      const ours = summary["this checkout"]?.cpuUsPerOpMedian ?? 0;
      const base = summary["baseline"]?.cpuUsPerOpMedian;
      const ratio = base === undefined ? undefined : Math.round((ours / base) * 100) / 100;
      results.push({
        scenario,
        concurrency,
        ...summary,
        ...(ratio === undefined ? {} : { ratio }),
      });
      if (ratio !== undefined)
        console.log(
          `[bench:server-cpu] ${scenario}, concurrency ${concurrency}: ${ours} µs an op against ${base} µs, ${ratio}x`,
        );
    }
  }
  const ratios = results.flatMap((r) => (r.ratio === undefined ? [] : [r.ratio]));
  const report = {
    date: new Date().toISOString(),
    machine: { cores: cpus().length, model: cpus()[0]?.model ?? "unknown" },
    settings: { ops, warmupOps: WARMUP_OPS, rounds, concurrency: levels, scenarios },
    baseline: values.baseline ?? null,
    /** The machine's 1-minute load average before and after: others' work too. */
    load: {
      before: Math.round(loadBefore * 10) / 10,
      after: Math.round((loadavg()[0] ?? 0) * 10) / 10,
    },
    results,
    bar:
      ratios.length === 0
        ? null
        : {
            wanted: `CPU an op at most ${BAR_RATIO}x the baseline's in every case (within noise or better)`,
            met: ratios.every((r) => r <= BAR_RATIO),
          },
  };
  await mkdir(dirname(values.out), { recursive: true });
  await writeFile(values.out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${values.out}`);
}

const [mode, url, scenario, ops, concurrency] = process.argv.slice(2);
if (mode === "client") {
  await runClient(url ?? "", scenario as ScenarioName, Number(ops), Number(concurrency));
} else {
  await main();
}
