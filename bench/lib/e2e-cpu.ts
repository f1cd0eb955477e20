// CPU time from /proc, the kernel's own accounting: a process's utime+stime, plus
// cutime+cstime, the CPU of children it has waited for (what getrusage(RUSAGE_CHILDREN)
// reports). A worker waits for each job's sandbox, which waits for python: so a worker's
// children time is the CPU its jobs cost, and the bench's own children time is that of the
// CLI and baseline processes it spawned.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

function clockTicksPerSecond(): number {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100; // Linux's USER_HZ on every common architecture.
  }
}

const MS_PER_TICK = 1000 / clockTicksPerSecond();

export interface ProcessCpu {
  readonly ownMs: number;
  /** CPU of children this process has reaped. */
  readonly childrenMs: number;
}

/** Undefined once the process is gone (a killed worker takes its figures with it). */
export function processCpu(pid: number | "self"): ProcessCpu | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return undefined;
  }
  // The command name may hold spaces and parentheses: fields are counted after the last ')'.
  const fields = text
    .slice(text.lastIndexOf(")") + 2)
    .split(" ")
    .map(Number);
  // Fields 14..17 of proc(5) (utime, stime, cutime, cstime), counted from field 3 here.
  const [utime = 0, stime = 0, cutime = 0, cstime = 0] = fields.slice(11, 15);
  return { ownMs: (utime + stime) * MS_PER_TICK, childrenMs: (cutime + cstime) * MS_PER_TICK };
}

/** Busy CPU time of the whole machine, all cores, in ms; NaN where /proc/stat is missing. */
export function machineBusyMs(): number {
  let text: string;
  try {
    text = readFileSync("/proc/stat", "latin1");
  } catch {
    return Number.NaN;
  }
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = (
    text.split("\n", 1)[0] ?? ""
  )
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return (user + nice + system + irq + softirq + steal) * MS_PER_TICK;
}

export interface CpuSnapshot {
  readonly atMs: number;
  readonly machineBusyMs: number;
  readonly processes: ReadonlyMap<string, ProcessCpu | undefined>;
}

export function snapshotCpu(pids: ReadonlyMap<string, number | "self">): CpuSnapshot {
  const processes = new Map<string, ProcessCpu | undefined>();
  for (const [name, pid] of pids) processes.set(name, processCpu(pid));
  return { atMs: performance.now(), machineBusyMs: machineBusyMs(), processes };
}

export interface CpuSpent {
  readonly wallMs: number;
  /** Per process: own CPU and its reaped children's, in ms, over the interval. */
  readonly byProcess: Record<string, { ownMs: number; childrenMs: number }>;
  readonly oursMs: number;
  readonly machineMs: number;
  /** Busy time of the machine not accounted to our processes: someone else's work. */
  readonly othersMs: number;
}

export function cpuBetween(from: CpuSnapshot, to: CpuSnapshot): CpuSpent {
  const byProcess: Record<string, { ownMs: number; childrenMs: number }> = {};
  let oursMs = 0;
  for (const [name, start] of from.processes) {
    const end = to.processes.get(name);
    if (!start || !end) continue;
    const spent = { ownMs: end.ownMs - start.ownMs, childrenMs: end.childrenMs - start.childrenMs };
    byProcess[name] = spent;
    oursMs += spent.ownMs + spent.childrenMs;
  }
  const machineMs = to.machineBusyMs - from.machineBusyMs;
  return {
    wallMs: to.atMs - from.atMs,
    byProcess,
    oursMs,
    machineMs,
    othersMs: Math.max(0, machineMs - oursMs),
  };
}
