// The bars the brief sets, judged from the measurements, and the table printed at the end.
import type { CrashRun } from "./e2e-crash.ts";
import type { CpuSpent } from "./e2e-cpu.ts";
import type { ClientLatency, SpawnLatency } from "./e2e-latency.ts";
import type { QuietCheck } from "./e2e-quiet.ts";
import type { Summary } from "./e2e-stats.ts";
import { round1 } from "./e2e-stats.ts";
import type { Throughput } from "./e2e-throughput.ts";

export const MAX_CLIENT_OVERHEAD_MS = 20;
export const MIN_SHARE_OF_LIMIT = 0.6;
export const MAX_REDISPATCH_MS = 10_000;

export interface Latencies {
  readonly client: ClientLatency;
  /** The same submissions back to back, for information (`measureBackToBack`). */
  readonly clientBackToBack: Summary;
  readonly cli: SpawnLatency;
  readonly python: SpawnLatency;
  readonly node: SpawnLatency;
  /** `bin/modulate --version`: the CLI's start-up alone, no network. */
  readonly cliStart: SpawnLatency;
  /** The same submit from `release/modulate-linux-x64`, the file users deploy, when built. */
  readonly cliSingleFile?: SpawnLatency;
}

export interface MachineLimit {
  readonly cores: number;
  /** CPU of one `python3 -I -c pass`, from the bench's reaped-children time. */
  readonly cpuPerPythonStartMs: number;
  readonly jobsPerSec: number;
  /** CPU of the sandbox's own start (bwrap ... /bin/true), where the workers use bwrap. */
  readonly cpuPerSandboxStartMs?: number;
  /** cores / (python start + sandbox start): no design that starts both per job does better. */
  readonly withSandboxJobsPerSec?: number;
}

export interface E2eReport {
  readonly date: string;
  readonly machine: { readonly cores: number; readonly model: string };
  readonly setup: {
    readonly server: string;
    readonly workers: {
      readonly count: 2;
      readonly slotsEach: number;
      readonly lease: string;
      /** The workers' --prefetch, or "default (1)". */
      readonly prefetch: number | string;
    };
    readonly python: string;
    /** What the worker printed at start-up: "sandbox: bwrap" gives "bwrap". */
    readonly sandboxMode: string;
    readonly workerNotes: readonly string[];
    readonly distBuiltAt: string;
    readonly distIsStale: boolean;
    /** dist/ changed while the bench ran (tests rebuild it): the figures mix two builds. */
    readonly distRebuilt: boolean;
  };
  readonly quietChecks: readonly QuietCheck[];
  readonly latency: Latencies & {
    readonly overheadClientMs: number;
    readonly overheadCliMs: number;
    readonly cpuDuringClientRuns: CpuSpent;
  };
  readonly throughput: Throughput & { readonly limit: MachineLimit; readonly cpu: CpuSpent };
  readonly crash: {
    readonly runs: readonly CrashRun[];
    readonly maxKillToRestartMs: number;
    readonly maxKillToResultMs: number;
  };
  readonly bars: readonly Bar[];
}

export interface Bar {
  readonly bar: string;
  readonly threshold: string;
  readonly measured: string;
  readonly pass: boolean;
}

export function judgeBars(
  latencies: Latencies,
  throughput: Throughput,
  limit: MachineLimit,
  crashes: readonly CrashRun[],
): Bar[] {
  const clientOverheadMs = clientOverhead(latencies.client);
  const cliOverheadMs = round1(latencies.cli.medianMs - latencies.python.medianMs);
  const singleFile = latencies.cliSingleFile;
  const singleFileOverheadMs =
    singleFile === undefined ? undefined : round1(singleFile.medianMs - latencies.python.medianMs);
  const share = throughput.jobsPerSec / limit.jobsPerSec;
  // No repeat measured is no evidence: the bar fails rather than passing on -Infinity.
  const maxRestartMs =
    crashes.length === 0 ? Number.NaN : Math.max(...crashes.map((c) => c.killToRestartMs));
  return [
    {
      bar: "long-lived client: median overhead over python (c')",
      threshold: `<= ${MAX_CLIENT_OVERHEAD_MS} ms`,
      measured: `${clientOverheadMs} ms`,
      pass: clientOverheadMs <= MAX_CLIENT_OVERHEAD_MS,
    },
    // Issue 17: `modulate submit` adds at most one `node -e 0` (timed in the same run).
    {
      bar: "CLI: median overhead over python",
      threshold: `<= node -e 0 (${latencies.node.medianMs} ms)`,
      measured: `${cliOverheadMs} ms`,
      pass: cliOverheadMs <= latencies.node.medianMs,
    },
    ...(singleFileOverheadMs === undefined
      ? []
      : [
          {
            bar: "CLI, single executable: median overhead over python",
            threshold: `<= node -e 0 (${latencies.node.medianMs} ms)`,
            measured: `${singleFileOverheadMs} ms`,
            pass: singleFileOverheadMs <= latencies.node.medianMs,
          },
        ]),
    {
      bar: "detached throughput, share of the machine's limit",
      threshold: `>= ${MIN_SHARE_OF_LIMIT * 100}%`,
      measured: `${Math.round(share * 100)}% (${throughput.jobsPerSec} of ${limit.jobsPerSec} jobs/s)`,
      pass: share >= MIN_SHARE_OF_LIMIT,
    },
    {
      bar: "re-dispatch after kill -9 (max, kill -> attempt 2 starts)",
      threshold: `<= ${MAX_REDISPATCH_MS / 1000} s`,
      measured: `${round1(maxRestartMs / 1000)} s`,
      pass: Number.isFinite(maxRestartMs) && maxRestartMs <= MAX_REDISPATCH_MS,
    },
  ];
}

function formatTable(headers: readonly string[], rows: readonly string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/**
 * Over python run beside the submissions, from the same idle state, not over the block of
 * python runs minutes before them, back to back, with the machine's caches warm: both the
 * drift between minutes and that warmth would be counted as modulate's otherwise. The table
 * shows the overhead over the block too.
 */
function clientOverhead(client: ClientLatency): number {
  return round1(client.medianMs - client.baselineBeside.medianMs);
}

function latencyRow(label: string, s: Summary, note = ""): string[] {
  return [label, String(s.medianMs), String(s.p95Ms), String(s.runs), note];
}

export function latencyTable(l: Latencies): string {
  const hops = l.client.hopMediansMs;
  return formatTable(
    ["measurement", "median ms", "p95 ms", "runs", "cpu ms/run"],
    [
      latencyRow("(a) long-lived client: submit wait + waitForJob", l.client),
      latencyRow("    (a) back to back, for information", l.clientBackToBack),
      latencyRow("(b) CLI: bin/modulate submit (fresh process)", l.cli, String(l.cli.cpuPerRunMs)),
      latencyRow(
        "(c) python3 -I -c pass (worker's interpreter)",
        l.python,
        String(l.python.cpuPerRunMs),
      ),
      latencyRow("(c') the same python, run alone before each (a)", l.client.baselineBeside),
      latencyRow("(d) node -e 0 (node_modules/node)", l.node, String(l.node.cpuPerRunMs)),
      latencyRow(
        "    bin/modulate --version (CLI start alone)",
        l.cliStart,
        String(l.cliStart.cpuPerRunMs),
      ),
      ["    overhead (a)-(c')", String(clientOverhead(l.client)), "", "", ""],
      [
        "    overhead (a)-(c), for information",
        String(round1(l.client.medianMs - l.python.medianMs)),
        "",
        "",
        "",
      ],
      ["    overhead (b)-(c)", String(round1(l.cli.medianMs - l.python.medianMs)), "", "", ""],
      ...(l.cliSingleFile
        ? [
            latencyRow(
              "(e) CLI: release/modulate-linux-x64 submit",
              l.cliSingleFile,
              String(l.cliSingleFile.cpuPerRunMs),
            ),
            [
              "    overhead (e)-(c)",
              String(round1(l.cliSingleFile.medianMs - l.python.medianMs)),
              "",
              "",
              "",
            ],
          ]
        : []),
      ["    (a) hops: submit durable", String(hops.durableMs), "", "", ""],
      ["    (a) hops: durable -> worker starts attempt", String(hops.toWorkerMs), "", "", ""],
      ["    (a) hops: on the worker (claim + sandbox)", String(hops.onWorkerMs), "", "", ""],
      ["    (a) hops:   of which sandbox run (bwrap+python)", String(hops.sandboxMs), "", "", ""],
      ["    (a) hops: worker done -> client returns", String(hops.backMs), "", "", ""],
    ],
  );
}

export function cpuTable(spent: CpuSpent, perJobs: number): string {
  const rows = Object.entries(spent.byProcess).flatMap(([name, cpu]) => {
    const own = [`${name}`, String(round1(cpu.ownMs / perJobs))];
    return cpu.childrenMs > 0
      ? [own, [`${name}: children it reaped`, String(round1(cpu.childrenMs / perJobs))]]
      : [own];
  });
  // bwrap's init in the job's pid namespace does not pass its children's CPU up: the job's
  // python lands here, beside any other process on the machine.
  rows.push([
    "not accounted above (python under bwrap, others)",
    String(round1(spent.othersMs / perJobs)),
  ]);
  rows.push(["machine total", String(round1(spent.machineMs / perJobs))]);
  return formatTable(["process", "cpu ms/job"], rows);
}

export function crashTable(runs: readonly CrashRun[]): string {
  return formatTable(
    ["kill -9 repeat", "kill -> attempt 2 starts ms", "kill -> result ms", "attempt"],
    runs.map((r, i) => [
      String(i + 1),
      String(r.killToRestartMs),
      String(r.killToResultMs),
      String(r.attempt),
    ]),
  );
}

export function barTable(bars: readonly Bar[]): string {
  return formatTable(
    ["bar", "threshold", "measured", "result"],
    bars.map((b) => [b.bar, b.threshold, b.measured, b.pass ? "PASS" : "FAIL"]),
  );
}

export function printReport(report: E2eReport): void {
  const { setup, latency, throughput, crash } = report;
  const { limit } = throughput;
  const lines = [
    "",
    `modulate end to end: ${report.machine.cores} cores, server ${setup.server}, worker sandbox ${setup.sandboxMode}, python ${setup.python}`,
    latencyTable(latency),
    "",
    `throughput: ${throughput.jobs} detached jobs on 2 workers x ${setup.workers.slotsEach} slot(s): ${throughput.jobsPerSec} jobs/s (${throughput.wallMs} ms; all durable after ${throughput.submitAllMs} ms)`,
    `machine limit: ${limit.cores} cores / ${limit.cpuPerPythonStartMs} ms CPU per python start = ${limit.jobsPerSec} jobs/s`,
    ...(limit.withSandboxJobsPerSec === undefined
      ? []
      : [
          `with the sandbox: python + bwrap's own start (${limit.cpuPerSandboxStartMs} ms CPU) leave room for ${limit.withSandboxJobsPerSec} jobs/s at most (${Math.round((limit.withSandboxJobsPerSec / limit.jobsPerSec) * 100)}% of the limit); measured: ${Math.round((throughput.jobsPerSec / limit.withSandboxJobsPerSec) * 100)}% of that`,
        ]),
    cpuTable(throughput.cpu, throughput.jobs),
    "",
    crashTable(crash.runs),
    "",
    barTable(report.bars),
  ];
  for (const check of report.quietChecks) {
    const others = check.disturbedBy.length > 0 ? check.disturbedBy.join(" and ") : "others' work";
    if (!check.quiet) lines.push(`warning: ${check.phase} ran beside ${others}`);
  }
  if (setup.distIsStale) lines.push("warning: dist/ is older than src/: run npm run build");
  if (setup.distRebuilt)
    lines.push("warning: dist/ was rebuilt during the run: figures mix builds");
  console.log(lines.join("\n"));
}
