// The issue's bars for `npm run bench:ops`, judged from the measurements, and the tables
// printed at the end. Each part may be absent (--only).
import type { CancelReport } from "./ops-cancel.ts";
import type { LsPart } from "./ops-ls-part.ts";
import type { LogLatency } from "./ops-logs.ts";
import type { WritesReport } from "./ops-writes.ts";
import { formatNumber, formatTable } from "./table.ts";

/** `ls` over `--version`'s start-up, median, at 10,000 outstanding and 100,000 finished jobs. */
export const MAX_LS_OVER_START_MS = 300;
/** A line's print to `logs --follow`'s output, p95, for a line every 100 ms. */
export const MAX_LOG_P95_MS = 1_000;
/** `cancel` launched to the job's last process gone. */
export const MAX_CANCEL_MS = 2_000;

export interface Bar {
  readonly bar: string;
  readonly measured: number;
  readonly threshold: number;
  readonly pass: boolean;
}

export interface OpsReport {
  readonly date: string;
  readonly machine: {
    readonly cores: number;
    readonly model: string;
    readonly loadAverageAtStart: readonly number[];
  };
  readonly setup: Record<string, unknown>;
  readonly ls?: LsPart;
  readonly logs?: readonly LogLatency[];
  readonly cancel?: CancelReport;
  readonly writes?: WritesReport;
  readonly bars: readonly Bar[];
}

export function judgeBars(report: Omit<OpsReport, "bars">): Bar[] {
  const bars: Bar[] = [];
  for (const c of report.ls?.commands ?? []) {
    bars.push({
      bar: `${c.command} median over --version's (ms)`,
      measured: c.overVersionMs,
      threshold: MAX_LS_OVER_START_MS,
      pass: c.overVersionMs < MAX_LS_OVER_START_MS && c.failedRuns === 0,
    });
  }
  const steady = report.logs?.find((l) => l.pattern === "steady");
  if (steady) {
    bars.push({
      bar: "log line latency p95, a line every 100 ms (ms)",
      measured: steady.p95Ms,
      threshold: MAX_LOG_P95_MS,
      pass: steady.p95Ms < MAX_LOG_P95_MS && steady.received === steady.printed,
    });
  }
  if (report.cancel) {
    bars.push({
      bar: "cancel to last process gone, max (ms)",
      measured: report.cancel.lastGone.maxMs,
      threshold: MAX_CANCEL_MS,
      pass: report.cancel.lastGone.maxMs < MAX_CANCEL_MS,
    });
  }
  return bars;
}

const ms = (value: number): string => formatNumber(value, 1);

export function printReport(report: OpsReport): void {
  const out: string[] = [];
  if (report.ls) {
    const { fill, version, commands, breakdown } = report.ls;
    out.push(
      `\n1. ls at ${formatNumber(fill.outstanding)} outstanding + ${formatNumber(fill.finished)} finished jobs (filled in ${fill.seconds} s, ${formatNumber(fill.requestsPerSec)} requests/s), ${report.ls.runs} runs each`,
      formatTable(
        [
          { header: "command" },
          { header: "median ms", alignRight: true },
          { header: "p95 ms", alignRight: true },
          { header: "over --version ms", alignRight: true },
          { header: "x --version", alignRight: true },
          { header: "rows", alignRight: true },
          { header: "failed", alignRight: true },
        ],
        [
          ["modulate --version", ms(version.medianMs), ms(version.p95Ms), "-", "1.0", "-", "-"],
          ...commands.map((c) => [
            c.command,
            ms(c.medianMs),
            ms(c.p95Ms),
            ms(c.overVersionMs),
            c.ratioToVersion.toFixed(1),
            String(c.rows),
            `${c.failedRuns}/${c.runs}${c.gaveUp ? " (gave up)" : ""}`,
          ]),
        ],
      ),
      `CPU per run (median; a loaded machine stretches these far less than wall times): --version's CLI ${ms(version.cliCpuMs)} ms; ${commands
        .map(
          (c) =>
            `${c.command}: CLI ${ms(c.cliCpuMs)} ms (+${ms(c.cliCpuOverVersionMs)}), server ${ms(c.serverCpuMs)} ms`,
        )
        .join("; ")}`,
      `in-process listJobs (src/): ${Object.entries(breakdown.inProcessMs)
        .map(([name, t]) => `${name} ${ms(t)} ms`)
        .join(", ")}`,
      `where it goes: pending searches ${ms(breakdown.pendingSearchesMs)} ms (${breakdown.pendingPages} pages; one page of 1,000 executes ${ms(breakdown.onePendingPageMs)} ms, ${formatNumber(breakdown.onePendingPageBytes / 1024)} KiB, ${ms(breakdown.onePendingPageUntaggedMs)} ms without the tag filter); --all searches ${ms(breakdown.allSearchesMs)} ms (${breakdown.allPages} pages); a queued job's attempt get ${ms(breakdown.oneAttemptGetMs)} ms (a tag search instead: ${ms(breakdown.oneAttemptTagSearchMs)} ms)`,
      ...commands.flatMap((c) => (c.failure ? [`${c.command} failed: ${c.failure}`] : [])),
    );
  }
  if (report.logs) {
    out.push(
      "\n2. log line latency, print to `logs --follow` stdout",
      formatTable(
        [
          { header: "script" },
          { header: "lines/s", alignRight: true },
          { header: "received", alignRight: true },
          { header: "p50 ms", alignRight: true },
          { header: "p95 ms", alignRight: true },
          { header: "p99 ms", alignRight: true },
          { header: "max ms", alignRight: true },
        ],
        report.logs.map((l) => [
          l.pattern,
          String(l.linesPerSec),
          `${l.received}/${l.printed}`,
          ms(l.p50Ms),
          ms(l.p95Ms),
          ms(l.p99Ms),
          ms(l.maxMs),
        ]),
      ),
    );
  }
  if (report.cancel) {
    const c = report.cancel;
    out.push(
      "\n3. cancel: `modulate cancel ID` launched to the job's last process gone",
      formatTable(
        [
          { header: "measure" },
          { header: "runs", alignRight: true },
          { header: "median ms", alignRight: true },
          { header: "max ms", alignRight: true },
        ],
        [
          [
            "last process gone",
            String(c.lastGone.runs),
            ms(c.lastGone.medianMs),
            ms(c.lastGone.maxMs),
          ],
          [
            "cancel CLI exited",
            String(c.cliExit.runs),
            ms(c.cliExit.medianMs),
            ms(c.cliExit.maxMs),
          ],
        ],
      ),
    );
  }
  if (report.writes) {
    const w = report.writes;
    const kinds = [
      ...new Set([...Object.keys(w.quiet.byKindPerSec), ...Object.keys(w.chatty.byKindPerSec)]),
    ].sort();
    out.push(
      `\n4. server requests/s with ${w.jobs} running jobs (window ${w.chatty.windowSec} s)`,
      formatTable(
        [
          { header: "kind" },
          { header: "printing nothing", alignRight: true },
          { header: `printing ${w.linesPerSecEach} lines/s`, alignRight: true },
        ],
        [
          ...kinds.map((k) => [
            k,
            formatNumber(w.quiet.byKindPerSec[k] ?? 0, 1),
            formatNumber(w.chatty.byKindPerSec[k] ?? 0, 1),
          ]),
          [
            "all writes",
            formatNumber(w.quiet.writesPerSec, 1),
            formatNumber(w.chatty.writesPerSec, 1),
          ],
          [
            "all reads",
            formatNumber(w.quiet.readsPerSec, 1),
            formatNumber(w.chatty.readsPerSec, 1),
          ],
          [
            "jobs running at start",
            String(w.quiet.runningAtStart),
            String(w.chatty.runningAtStart),
          ],
        ],
      ),
      `extra writes/s: ${formatNumber(w.extraWritesPerSec, 1)} in all, ${formatNumber(w.extraWritesPerSecPerJob, 2)} per running job (by kind, per job: ${Object.entries(
        w.extraPerJobByKind,
      )
        .map(([kind, rate]) => `${kind} ${formatNumber(rate, 2)}`)
        .join(", ")})`,
    );
  }
  if (report.bars.length > 0) {
    out.push(
      "\nbars",
      formatTable(
        [
          { header: "bar" },
          { header: "measured", alignRight: true },
          { header: "under", alignRight: true },
          { header: "result" },
        ],
        report.bars.map((b) => [b.bar, ms(b.measured), ms(b.threshold), b.pass ? "pass" : "FAIL"]),
      ),
    );
  }
  console.log(out.join("\n"));
}
