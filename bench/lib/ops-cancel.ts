// Part 3: from launching `modulate cancel ID` to the last of the job's processes gone. The job
// is a python script waiting on a child `sleep 600.NNNNNN` (the fraction is a marker: it names
// this run's child among every process on the machine). The job's processes are found from
// the host's /proc, not from pids the script writes (the sandbox may give it a pid namespace
// of its own): the marked sleep, and every process under the topmost of its ancestors below
// the worker (sandbox wrappers, python, sleep). Gone means no such pid, or a zombie: it has
// exited, and only its parent's reaping is left.
import { readdirSync, readFileSync } from "node:fs";
import type { ModulateClient } from "../../src/orchestration/client.ts";
import { newJobId } from "../../src/orchestration/jobs/names.ts";
import { QUEUE_TIMEOUT_MS } from "./e2e-latency.ts";
import { round1, summarize, type Summary } from "./e2e-stats.ts";
import { sleep, timeCommand } from "./ops-spawn.ts";

export interface CancelRun {
  readonly jobId: string;
  /** The job's processes found before the cancel (sandbox, python, sleep). */
  readonly processes: number;
  /** Launch of `modulate cancel` until it exited. */
  readonly cliExitMs: number;
  /** Launch of `modulate cancel` until the last of the job's processes was gone. */
  readonly lastGoneMs: number;
  readonly cliExitCode: number | null;
}

export interface CancelReport {
  readonly runs: readonly CancelRun[];
  readonly lastGone: Summary;
  readonly cliExit: Summary;
}

const FIND_TIMEOUT_MS = 60_000;
const POLL_MS = 2;

function cancelScript(marker: string): string {
  return [
    "import shutil, subprocess, sys",
    "sleep = shutil.which('sleep')",
    `argv = [sleep, '${marker}'] if sleep else [sys.executable, '-c', 'import time; time.sleep(600)', '${marker}']`,
    "subprocess.Popen(argv).wait()",
    "",
  ].join("\n");
}

interface ProcEntry {
  readonly pid: number;
  readonly ppid: number;
  readonly cmdline: string;
  readonly zombie: boolean;
}

function readProc(pid: number): ProcEntry | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "latin1").replaceAll("\0", " ");
    return { pid, ppid: Number(fields[1]), cmdline, zombie: fields[0] === "Z" };
  } catch {
    return undefined; // gone meanwhile
  }
}

function allProcesses(): ProcEntry[] {
  return readdirSync("/proc").flatMap((entry) =>
    /^\d+$/.test(entry) ? (readProc(Number(entry)) ?? []) : [],
  );
}

/** The job's processes: under the topmost ancestor of the marked one below a worker. */
function jobProcesses(marker: string, workerPids: ReadonlySet<number>): number[] | undefined {
  const table = allProcesses();
  const marked = table.find((p) => p.cmdline.includes(` ${marker}`));
  if (!marked) return undefined;
  const byPid = new Map(table.map((p) => [p.pid, p]));
  let top = marked;
  for (;;) {
    if (workerPids.has(top.ppid)) break;
    const parent = byPid.get(top.ppid);
    if (!parent || parent.pid <= 1) return undefined; // not under a worker of this bench
    top = parent;
  }
  const found = [top.pid];
  for (let i = 0; i < found.length; i += 1) {
    for (const p of table) if (p.ppid === found[i]) found.push(p.pid);
  }
  return found;
}

function isGone(pid: number): boolean {
  const p = readProc(pid);
  return p === undefined || p.zombie;
}

export async function measureOneCancel(
  modulate: string,
  url: string,
  client: ModulateClient,
  group: string,
  workerPids: ReadonlySet<number>,
): Promise<CancelRun> {
  const now = Date.now();
  const marker = `600.${String(Math.floor(Math.random() * 1e6)).padStart(6, "0")}`;
  const id = newJobId(now);
  await client.submit(
    {
      id,
      group,
      script: { name: "ops-cancel.py", content: cancelScript(marker) },
      args: [],
      timeoutMs: 10 * 60_000,
      mode: "detach",
      submittedAt: now,
    },
    QUEUE_TIMEOUT_MS,
  );
  const deadline = performance.now() + FIND_TIMEOUT_MS;
  let pids: number[] | undefined;
  while (!(pids = jobProcesses(marker, workerPids))) {
    if (performance.now() > deadline) throw new Error(`job ${id}'s sleep ${marker} never started`);
    await sleep(50);
  }
  // Let the sandbox settle (the child's own start finished) before the cancel.
  await sleep(500);
  pids = jobProcesses(marker, workerPids) ?? pids;
  const started = performance.now();
  const cli = timeCommand(modulate, ["cancel", id, "--url", url]);
  let lastGoneMs = Number.NaN;
  while (performance.now() - started < FIND_TIMEOUT_MS) {
    if (pids.every(isGone)) {
      lastGoneMs = performance.now() - started;
      break;
    }
    await sleep(POLL_MS);
  }
  const done = await cli;
  if (Number.isNaN(lastGoneMs))
    throw new Error(`job ${id}'s processes outlived its cancel by 60 s`);
  return {
    jobId: id,
    processes: pids.length,
    cliExitMs: round1(done.ms),
    lastGoneMs: round1(lastGoneMs),
    cliExitCode: done.code,
  };
}

export async function measureCancel(
  modulate: string,
  url: string,
  client: ModulateClient,
  group: string,
  workerPids: ReadonlySet<number>,
  runs: number,
  log: (line: string) => void,
): Promise<CancelReport> {
  const done: CancelRun[] = [];
  for (let run = 1; run <= runs; run += 1) {
    const r = await measureOneCancel(modulate, url, client, group, workerPids);
    log(
      `cancel: run ${run} of ${runs}: last process gone ${r.lastGoneMs} ms (${r.processes} processes)`,
    );
    done.push(r);
  }
  return {
    runs: done,
    lastGone: summarize(done.map((r) => r.lastGoneMs)),
    cliExit: summarize(done.map((r) => r.cliExitMs)),
  };
}
