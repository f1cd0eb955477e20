// A job's cgroup (one directory per v1 controller, one in v2), made for the attempt or one of
// the worker's per-slot cgroups reused (cgroup-slots.ts): limits memory and
// process count for the job as a whole, tells whether the kernel's OOM killer or the pids
// limit struck, and lets the worker kill every process of the job, however it daemonised.
import { readFileSync } from "node:fs";
import { mkdir, rmdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { CgroupSetup, JobLimits } from "./types.ts";

export interface JobCgroup {
  /** Directories made for this job; removed (empty) by `removeJobCgroup`. */
  readonly dirs: readonly string[];
  /** Files a process writes its pid to, to join (every controller's). */
  readonly procsFiles: readonly string[];
  /** The `cgroup.procs` that lists every process of the job. */
  readonly membersFile: string;
  readonly setup: CgroupSetup;
}

export interface CgroupEvents {
  /** The kernel's OOM killer killed a process of the job. */
  readonly oomKilled: boolean;
  /** A fork or clone failed because the job had `maxProcs` processes. */
  readonly pidsLimitHit: boolean;
}

/**
 * A cgroup file's text, or "" where it cannot be read. Read on the event loop: the kernel makes
 * the text on the spot and no disk is involved, so the read takes microseconds, where a trip
 * through the thread pool and back costs each job's worker about ten times that in CPU.
 */
function readKernelFile(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

async function writeOptional(file: string, value: string): Promise<void> {
  try {
    await writeFile(file, value);
  } catch {
    // Absent where the kernel lacks the feature (memsw without swap accounting); not required.
  }
}

/** Where the cgroup called `name` lives (one directory per v1 controller); nothing is made. */
export function jobCgroupAt(setup: CgroupSetup, name: string): JobCgroup {
  if (setup.version === 1) {
    const pidsDir = path.join(setup.pidsRoot, name);
    const memoryDir = path.join(setup.memoryRoot, name);
    return {
      dirs: [pidsDir, memoryDir],
      procsFiles: [path.join(pidsDir, "cgroup.procs"), path.join(memoryDir, "cgroup.procs")],
      membersFile: path.join(pidsDir, "cgroup.procs"),
      setup,
    };
  }
  const dir = path.join(setup.root, name);
  return {
    dirs: [dir],
    procsFiles: [path.join(dir, "cgroup.procs")],
    membersFile: path.join(dir, "cgroup.procs"),
    setup,
  };
}

/** Makes the job's cgroup(s) and writes its limits. `name` must be unique to the attempt. */
export async function createJobCgroup(
  setup: CgroupSetup,
  name: string,
  limits: JobLimits,
): Promise<JobCgroup> {
  const cgroup = jobCgroupAt(setup, name);
  for (const dir of cgroup.dirs) await mkdir(dir);
  await applyJobLimits(cgroup, limits);
  return cgroup;
}

/**
 * The limits last written to each cgroup. A slot's cgroup usually gets the same limits job
 * after job, and only the worker writes them: unchanged, they are not written again (four
 * writes, each a trip through the thread pool and a memory cgroup charge check).
 */
const writtenLimits = new WeakMap<JobCgroup, string>();

/** Writes a job's limits into its cgroup, which may have held another job's before. */
export async function applyJobLimits(cgroup: JobCgroup, limits: JobLimits): Promise<void> {
  const key = `${limits.maxProcs}/${limits.memoryBytes}`;
  if (writtenLimits.get(cgroup) === key) return;
  // Forgotten while being written: a failed write leaves them unknown.
  writtenLimits.delete(cgroup);
  await writeLimits(cgroup, limits);
  writtenLimits.set(cgroup, key);
}

async function writeLimits(cgroup: JobCgroup, limits: JobLimits): Promise<void> {
  const memory = String(limits.memoryBytes);
  if (cgroup.setup.version === 1) {
    const [pidsDir, memoryDir] = cgroup.dirs as [string, string];
    await writeFile(path.join(pidsDir, "pids.max"), String(limits.maxProcs));
    // With swap, the memory limit alone lets a job spill to swap instead of being stopped.
    // memsw may never be below the memory limit, so which goes first depends on whether the
    // limit goes down (memory first) or up (memsw first); the second write settles both.
    const limitFile = path.join(memoryDir, "memory.limit_in_bytes");
    const memswFile = path.join(memoryDir, "memory.memsw.limit_in_bytes");
    const lowered = await writeFile(limitFile, memory).then(
      () => true,
      () => false,
    );
    await writeOptional(memswFile, memory);
    if (!lowered) await writeFile(limitFile, memory);
    return;
  }
  const [dir] = cgroup.dirs as [string];
  await writeFile(path.join(dir, "pids.max"), String(limits.maxProcs));
  await writeFile(path.join(dir, "memory.max"), memory);
  await writeOptional(path.join(dir, "memory.swap.max"), "0");
}

/** The pids now in the job's cgroup (exited processes are not listed). */
export function listCgroupPids(cgroup: JobCgroup): number[] {
  const text = readKernelFile(cgroup.membersFile);
  return text
    .split("\n")
    .filter((line) => line.length > 0)
    .map(Number);
}

/** Sends `signal` to every process in the job's cgroup; `exceptPids` are spared. */
export function signalCgroup(
  cgroup: JobCgroup,
  signal: NodeJS.Signals,
  exceptPids: readonly number[] = [],
): void {
  for (const pid of listCgroupPids(cgroup)) {
    if (exceptPids.includes(pid)) continue;
    try {
      process.kill(pid, signal);
    } catch {
      // Gone already: that is the goal.
    }
  }
}

/** Reads a "key value" counter from a flat-keyed cgroup file; 0 if absent. */
export function readCounter(text: string, key: string): number {
  for (const line of text.split("\n")) {
    const [name, value] = line.trim().split(/\s+/);
    if (name === key) return Number(value) || 0;
  }
  return 0;
}

/** The kernel's running totals for a cgroup: OOM kills, and forks refused at pids.max. */
export interface CgroupCounters {
  readonly oomKills: number;
  readonly pidsLimitHits: number;
}

export const NO_COUNTS: CgroupCounters = { oomKills: 0, pidsLimitHits: 0 };

export function readCgroupCounters(cgroup: JobCgroup): CgroupCounters {
  const [first, second = first] = cgroup.dirs as [string, string?];
  // v1: pids and memory directories; v2: one directory for both.
  const [pidsDir, memoryDir] = cgroup.setup.version === 1 ? [first, second] : [first, first];
  const memoryFile = cgroup.setup.version === 1 ? "memory.oom_control" : "memory.events";
  const memory = readKernelFile(path.join(memoryDir, memoryFile));
  const pids = readKernelFile(path.join(pidsDir, "pids.events"));
  return { oomKills: readCounter(memory, "oom_kill"), pidsLimitHits: readCounter(pids, "max") };
}

/** What struck since `before` was read (the counters of a reused cgroup never go back). */
export function eventsSince(now: CgroupCounters, before: CgroupCounters): CgroupEvents {
  return {
    oomKilled: now.oomKills > before.oomKills,
    pidsLimitHit: now.pidsLimitHits > before.pidsLimitHits,
  };
}

/**
 * SIGKILLs every process of the job until none is left or `deadlineMs` passes; resolves to
 * whether the cgroup is empty. The pids limit keeps a fork bomb from outrunning the loop.
 */
export async function killCgroup(cgroup: JobCgroup, deadlineMs: number): Promise<boolean> {
  if (cgroup.setup.version === 2) {
    const [dir] = cgroup.dirs as [string];
    // cgroup.kill (Linux 5.14) kills the whole tree atomically; the loop below covers older kernels.
    await writeOptional(path.join(dir, "cgroup.kill"), "1");
  }
  const stopAt = Date.now() + deadlineMs;
  for (let round = 0; ; round++) {
    const pids = listCgroupPids(cgroup);
    if (pids.length === 0) return true;
    if (Date.now() > stopAt) return false;
    signalCgroup(cgroup, "SIGKILL");
    // A job's processes are usually gone within a millisecond or two of its end (bwrap's pid
    // namespace taking its members with it): look again soon, then back off.
    await new Promise((resolve) => setTimeout(resolve, round < 4 ? 1 : 5));
  }
}

/** Removes the job's (empty) cgroup directories; a leftover is reported, not thrown. */
export async function removeJobCgroup(cgroup: JobCgroup): Promise<string[]> {
  const failed: string[] = [];
  for (const dir of cgroup.dirs) {
    try {
      await rmdir(dir);
    } catch {
      failed.push(dir);
    }
  }
  return failed;
}
