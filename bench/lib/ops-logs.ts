// Part 2: how long a line takes from the script's print to `modulate logs ID --follow`'s
// stdout. The script prints its own wall-clock time (ms since the epoch) on each line; the
// bench reads the follower's stdout and takes its own wall clock at each arrival: same
// machine, same clock. The script waits a few seconds before its first line, so the follower
// (started right after the submission) is already polling: its start-up is not a line's delay.
import type { ModulateClient } from "../../src/orchestration/client.ts";
import type { JobSpec } from "../../src/orchestration/jobs/job.ts";
import { newJobId } from "../../src/orchestration/jobs/names.ts";
import { QUEUE_TIMEOUT_MS } from "./e2e-latency.ts";
import { round1, summarize, type Summary } from "./e2e-stats.ts";
import { followLines } from "./ops-spawn.ts";

export interface LogPattern {
  readonly name: string;
  readonly linesPerSec: number;
  readonly lines: number;
}

export interface LogLatency extends Summary {
  readonly pattern: string;
  readonly linesPerSec: number;
  readonly printed: number;
  readonly received: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly followerExit: number | null;
}

/** Before the first line: a worker takes the job, and the follower starts and polls. */
const LEAD_IN_S = 4;
const LINE = /^ops-line (\d+) (\d+(?:\.\d+)?)$/;

/**
 * Prints `lines` lines at `rate` a second, each at its own scheduled time (no drift), with the
 * wall clock when it printed them: one write a line, flushed, as a chatty script's would be.
 */
function printerScript(lines: number, rate: number): string {
  return [
    "import sys, time",
    `time.sleep(${LEAD_IN_S})`,
    "start = time.monotonic()",
    `for i in range(${lines}):`,
    `    due = start + i / ${rate}`,
    "    wait = due - time.monotonic()",
    "    if wait > 0: time.sleep(wait)",
    "    sys.stdout.write(f'ops-line {i} {time.time() * 1000:.3f}\\n')",
    "    sys.stdout.flush()",
    "",
  ].join("\n");
}

export function printerSpec(group: string, lines: number, rate: number, name: string): JobSpec {
  const now = Date.now();
  return {
    id: newJobId(now),
    group,
    script: { name, content: printerScript(lines, rate) },
    args: [],
    timeoutMs: 10 * 60_000,
    mode: "detach",
    submittedAt: now,
  };
}

export async function measureLogLatency(
  modulate: string,
  url: string,
  client: ModulateClient,
  group: string,
  pattern: LogPattern,
): Promise<LogLatency> {
  const spec = printerSpec(group, pattern.lines, pattern.linesPerSec, `ops-${pattern.name}.py`);
  await client.submit(spec, QUEUE_TIMEOUT_MS);
  const latencies: number[] = [];
  const seen = new Set<number>();
  const follower = followLines(
    modulate,
    ["logs", spec.id, "--follow", "--stdout", "--url", url],
    (line, wallMs) => {
      const match = LINE.exec(line);
      if (!match) return;
      const index = Number(match[1]);
      if (seen.has(index)) return;
      seen.add(index);
      latencies.push(wallMs - Number(match[2]));
    },
  );
  // The job ends after its last line; the follower then exits with the job's exit code.
  const exit = await follower.exited();
  const s = summarize(latencies);
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    pattern: pattern.name,
    linesPerSec: pattern.linesPerSec,
    printed: pattern.lines,
    received: seen.size,
    ...s,
    p50Ms: s.medianMs,
    p99Ms: round1(sorted[Math.max(0, Math.ceil(0.99 * sorted.length) - 1)] ?? Number.NaN),
    followerExit: exit,
  };
}
