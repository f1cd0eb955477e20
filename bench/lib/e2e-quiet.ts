// The machine is shared and has two cores: another engineer's server benchmark
// (bench/server.ts) or test run (vitest) would take them. Before each phase, wait until
// neither runs; while a phase runs, watch for one starting, and measure that phase again
// once if one did. Unnamed work (a build, a type-check) is waited for by the machine's load.
// Their processes are only looked at, never touched.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { machineBusyMs } from "./e2e-cpu.ts";

const POLL_MS = 30_000;
/** The brief's limit for a server benchmark; tests get less, as they run more often. */
const MAX_WAIT_SERVER_BENCH_MS = 15 * 60_000;
const MAX_WAIT_TESTS_MS = 5 * 60_000;
const WATCH_EVERY_MS = 1_000;
/** A phase disturbed this many times is kept as it is, marked. */
const MAX_TRIES = 2;

const SERVER_BENCH = "bench/server.ts";
const TESTS = "vitest";

/** The check the brief names: `ps aux | grep -c "[b]ench/server.ts"`. */
function serverBenchesRunning(): number {
  const table = execFileSync("ps", ["aux"], { encoding: "utf8" });
  return table.split("\n").filter((line) => line.includes(SERVER_BENCH)).length;
}

/** Which of `needles` some process's command line holds, read from /proc: nothing spawned. */
function runningCommands(needles: readonly string[]): Set<string> {
  const found = new Set<string>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, "latin1");
    } catch {
      continue; // gone meanwhile
    }
    for (const needle of needles) if (cmdline.includes(needle)) found.add(needle);
  }
  return found;
}

/** Busy cores the bench's own idle cluster (heartbeats) stays well under. */
const MAX_IDLE_BUSY_CORES = 0.5;
const IDLE_SAMPLE_MS = 1_000;
const IDLE_POLL_MS = 5_000;
/** Unnamed work (a type-check, a build) is waited for this long at most. */
const MAX_WAIT_BUSY_MS = 2 * 60_000;

/** Cores' worth of busy time over the next `IDLE_SAMPLE_MS`, from /proc/stat. */
async function busyCores(): Promise<number> {
  const from = machineBusyMs();
  await new Promise((resolve) => setTimeout(resolve, IDLE_SAMPLE_MS));
  return (machineBusyMs() - from) / IDLE_SAMPLE_MS;
}

export interface Wait {
  readonly waitedMs: number;
  /** Neither a server benchmark nor tests ran, and the machine was idle, when the wait ended. */
  readonly quiet: boolean;
}

export async function waitForQuiet(phase: string, log: (line: string) => void): Promise<Wait> {
  const started = performance.now();
  for (;;) {
    const waitedMs = Math.round(performance.now() - started);
    const benches = serverBenchesRunning();
    const tests = runningCommands([TESTS]).has(TESTS);
    if (benches === 0 && !tests) {
      const busy = await busyCores();
      if (busy <= MAX_IDLE_BUSY_CORES) return { waitedMs, quiet: true };
      if (waitedMs >= MAX_WAIT_BUSY_MS) {
        log(
          `warning: the machine stays busy (${busy.toFixed(1)} cores); measuring ${phase} anyway`,
        );
        return { waitedMs, quiet: false };
      }
      log(`${phase}: the machine is busy (${busy.toFixed(1)} cores); checking again in 5 s`);
      await new Promise((resolve) => setTimeout(resolve, IDLE_POLL_MS));
      continue;
    }
    const givenUp =
      benches > 0 ? waitedMs >= MAX_WAIT_SERVER_BENCH_MS : waitedMs >= MAX_WAIT_TESTS_MS;
    const what = benches > 0 ? `${SERVER_BENCH} (${benches} processes)` : "tests (vitest)";
    if (givenUp) {
      log(
        `warning: ${what} still running after ${Math.round(waitedMs / 60_000)} min; measuring ${phase} anyway`,
      );
      return { waitedMs, quiet: false };
    }
    log(`${phase}: ${what} running; checking again in 30 s`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

export interface QuietCheck {
  readonly phase: string;
  /** How long the phase waited for others' work to end, over all its tries. */
  readonly waitedMs: number;
  readonly tries: number;
  /** Nothing else ran before or during the kept try: its figures are clean of it. */
  readonly quiet: boolean;
  /** What else ran during the kept try, if anything. */
  readonly disturbedBy: readonly string[];
}

/**
 * Runs `measure` once the machine is quiet, watching (once a second) for a server benchmark
 * or tests starting; a disturbed try is measured again, up to twice in all.
 */
export async function measureQuietly<T>(
  phase: string,
  measure: () => Promise<T>,
  log: (line: string) => void,
): Promise<{ result: T; check: QuietCheck }> {
  let waitedMs = 0;
  for (let tries = 1; ; tries += 1) {
    const before = await waitForQuiet(phase, log);
    waitedMs += before.waitedMs;
    const seen = new Set<string>();
    const timer = setInterval(() => {
      for (const name of runningCommands([SERVER_BENCH, TESTS])) seen.add(name);
    }, WATCH_EVERY_MS);
    let result: T;
    try {
      result = await measure();
    } finally {
      clearInterval(timer);
    }
    if (seen.size === 0 || tries === MAX_TRIES) {
      const quiet = before.quiet && seen.size === 0;
      return { result, check: { phase, waitedMs, tries, quiet, disturbedBy: [...seen] } };
    }
    log(`${phase}: ${[...seen].join(" and ")} started while it ran; measuring it again`);
  }
}
