// `npm run bench:e2e -- --only cli`: the CLI's part of bench:e2e alone (issue 17's bar:
// `modulate submit` adds at most one `node -e 0` to python alone). Every command is run once a
// round, round after round, so that the load of a shared machine, which drifts from minute to
// minute, falls on each alike; the bar is judged on medians of the same rounds.
import { spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import path from "node:path";
import { processCpu } from "./e2e-cpu.ts";
import type { QuietCheck } from "./e2e-quiet.ts";
import { round1, summarize, type Summary } from "./e2e-stats.ts";

export interface TimedCommand {
  /** Short name, the key of the report. */
  readonly name: string;
  readonly file: string;
  readonly args: readonly string[];
  /** What it must print on stdout, every run (a pattern where it differs: a fresh id). */
  readonly expectStdout: string | RegExp;
}

export interface CommandLatency extends Summary {
  readonly command: string;
  /** CPU of one run (its user + system, and its children's), from RUSAGE_CHILDREN. */
  readonly cpuPerRunMs: number;
}

/** Spawn to close of its output: what a user at a shell waits for. */
function timeOne(
  command: TimedCommand,
): Promise<{ ms: number; code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command.file, command.args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
    child.once("error", reject);
    child.once("close", (code) => resolve({ ms: performance.now() - started, code, out, err }));
  });
}

/**
 * Runs each command once a round, `warmups + runs` rounds, and checks every run's output. The
 * bench itself spawns nothing else meanwhile: each run's CPU is read from its own accounting
 * of reaped children before and after it (in clock ticks, so summed over the runs).
 */
export async function measureInterleaved(
  commands: readonly TimedCommand[],
  warmups: number,
  runs: number,
): Promise<Record<string, CommandLatency>> {
  const samples = new Map<string, number[]>(commands.map((c) => [c.name, []]));
  const cpuMs = new Map<string, number>(commands.map((c) => [c.name, 0]));
  for (let round = 0; round < warmups + runs; round += 1) {
    for (const command of commands) {
      const before = processCpu("self")?.childrenMs ?? Number.NaN;
      const run = await timeOne(command);
      const after = processCpu("self")?.childrenMs ?? Number.NaN;
      const expected = command.expectStdout;
      const printed = typeof expected === "string" ? run.out === expected : expected.test(run.out);
      if (run.code !== 0 || !printed) {
        throw new Error(
          `${[command.file, ...command.args].join(" ")} exited ${String(run.code)} with stdout ${JSON.stringify(run.out)} (expected ${typeof expected === "string" ? JSON.stringify(expected) : String(expected)}): ${run.err}`,
        );
      }
      if (round < warmups) continue;
      samples.get(command.name)?.push(run.ms);
      cpuMs.set(command.name, (cpuMs.get(command.name) ?? 0) + (after - before));
    }
  }
  return Object.fromEntries(
    commands.map((c) => [
      c.name,
      {
        command: [c.file, ...c.args].join(" "),
        ...summarize(samples.get(c.name) ?? []),
        cpuPerRunMs: round1((cpuMs.get(c.name) ?? 0) / runs),
      },
    ]),
  );
}

export interface CliBar {
  readonly bar: string;
  readonly threshold: string;
  readonly measured: string;
  readonly pass: boolean;
}

/**
 * The issue's bar for one CLI build: its median over python's adds at most node -e 0's
 * median, all from the same rounds.
 */
export function cliBar(
  label: string,
  cli: Summary,
  python: Summary,
  node: Summary,
): CliBar & { readonly overheadMs: number; readonly overOverNode: number } {
  const overheadMs = round1(cli.medianMs - python.medianMs);
  return {
    bar: `${label}: median overhead over python alone`,
    threshold: `<= node -e 0 (${node.medianMs} ms)`,
    measured: `${overheadMs} ms (${round1(overheadMs / node.medianMs)}x node -e 0)`,
    pass: overheadMs <= node.medianMs,
    overheadMs,
    overOverNode: round1(overheadMs / node.medianMs),
  };
}

export interface CliRunSetup {
  readonly url: string;
  readonly group: string;
  /** The trivial fixture, which prints 1. */
  readonly script: string;
  /** The worker's interpreter: python alone is timed with it. */
  readonly python: string;
  readonly node: string;
  /** bin/modulate. */
  readonly modulate: string;
  /** release/modulate-linux-x64 where it was built from this src/. */
  readonly singleFile: string | undefined;
  /** The version `modulate --version` prints on its first line (the commit follows). */
  readonly version: string;
}

/** The commands of one round: the baselines, the CLI's start alone, and its submissions. */
export function cliCommands(setup: CliRunSetup): TimedCommand[] {
  const submit = ["submit", setup.script, "--group", setup.group, "--url", setup.url];
  const id = /^job-[a-z0-9-]+\n$/;
  // Only the first line: a rebuild of dist/ meanwhile (tests rebuild it) changes the commit.
  const version = new RegExp(`^${setup.version.replaceAll(".", "\\.")}\\n`);
  return [
    { name: "python", file: setup.python, args: ["-I", "-c", "pass"], expectStdout: "" },
    { name: "node", file: setup.node, args: ["-e", "0"], expectStdout: "" },
    {
      name: "cliStart",
      file: setup.modulate,
      args: ["--version"],
      expectStdout: version,
    },
    { name: "cli", file: setup.modulate, args: submit, expectStdout: "1\n" },
    // --no-quiet says what the default says, but only yargs reads it (src/modes/quick-args.ts):
    // the same submission through the parser, as every submit ran before the quick lane.
    {
      name: "cliThroughParser",
      file: setup.modulate,
      args: [...submit, "--no-quiet"],
      expectStdout: "1\n",
    },
    { name: "cliDetach", file: setup.modulate, args: [...submit, "--detach"], expectStdout: id },
    ...(setup.singleFile === undefined
      ? []
      : [
          { name: "cliSingleFile", file: setup.singleFile, args: submit, expectStdout: "1\n" },
          {
            name: "cliSingleFileThroughParser",
            file: setup.singleFile,
            args: [...submit, "--no-quiet"],
            expectStdout: "1\n",
          },
          {
            name: "cliSingleFileStart",
            file: setup.singleFile,
            args: ["--version"],
            expectStdout: version,
          },
        ]),
  ];
}

export interface CliReport {
  readonly date: string;
  readonly machine: { readonly cores: number; readonly model: string };
  readonly rounds: { readonly warmups: number; readonly runs: number };
  readonly quietChecks: readonly QuietCheck[];
  readonly latency: Record<string, CommandLatency>;
  /** Each command's median over node -e 0's, from the same rounds. */
  readonly ratiosToNode: Record<string, number>;
  readonly bars: readonly CliBar[];
}

export function cliReport(
  latency: Record<string, CommandLatency>,
  warmups: number,
  runs: number,
  quietChecks: readonly QuietCheck[],
): CliReport {
  const { python, node, cli, cliSingleFile } = latency;
  if (!python || !node || !cli) throw new Error("the CLI rounds lack python, node or the CLI");
  return {
    date: new Date().toISOString(),
    machine: { cores: cpus().length, model: cpus()[0]?.model ?? "unknown" },
    rounds: { warmups, runs },
    quietChecks,
    latency,
    ratiosToNode: Object.fromEntries(
      Object.entries(latency).map(([name, l]) => [
        name,
        Math.round((l.medianMs / node.medianMs) * 100) / 100,
      ]),
    ),
    bars: [
      cliBar("CLI: bin/modulate submit", cli, python, node),
      ...(cliSingleFile
        ? [cliBar("CLI: release/modulate-linux-x64 submit", cliSingleFile, python, node)]
        : []),
    ],
  };
}

export function printCliReport(report: CliReport): string[] {
  const rows = Object.entries(report.latency).map(
    ([name, l]) =>
      `${name.padEnd(27)} median ${String(l.medianMs).padStart(7)} ms  p95 ${String(l.p95Ms).padStart(7)} ms  cpu ${String(l.cpuPerRunMs).padStart(6)} ms/run  ${String(report.ratiosToNode[name]).padStart(5)}x node -e 0`,
  );
  const bars = report.bars.map(
    (b) => `${b.pass ? "PASS" : "FAIL"}  ${b.bar}: ${b.measured}, bar ${b.threshold}`,
  );
  const quiet = report.quietChecks
    .filter((c) => !c.quiet)
    .map((c) => `warning: ${c.phase} ran beside ${c.disturbedBy.join(" and ") || "others' work"}`);
  return ["", `CLI, ${report.rounds.runs} rounds:`, ...rows, "", ...bars, ...quiet];
}

export async function writeCliReport(report: CliReport, out: string): Promise<void> {
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
}
