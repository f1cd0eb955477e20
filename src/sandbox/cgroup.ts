// A job's cgroup (one directory per v1 controller, one in v2), made for the attempt or one of
// the worker's per-slot cgroups reused (cgroup-slots.ts): limits memory and
// process count for the job as a whole, tells whether the kernel's OOM killer or the pids
// limit struck, and lets the worker kill every process of the job, however it daemonised.
// A `JobCgroup` is the handle on one: its paths, and what can be done with it, in one value.
import { readFileSync } from "node:fs";
import { mkdir, rmdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { CgroupSetup, JobLimits } from "./types.ts";

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

/** What struck since `before` was read (the counters of a reused cgroup never go back). */
export function eventsSince(now: CgroupCounters, before: CgroupCounters): CgroupEvents {
  return {
    oomKilled: now.oomKills > before.oomKills,
    pidsLimitHit: now.pidsLimitHits > before.pidsLimitHits,
  };
}

/** The directory whose children are the job cgroups (the pids one under v1). */
export function jobCgroupsParent(setup: CgroupSetup): string {
  return setup.version === 1 ? setup.pidsRoot : setup.root;
}

export class JobCgroup {
  /** Directories of this cgroup (v1: pids, then memory; v2: one); removed (empty) by `remove`. */
  readonly dirs: readonly string[];
  /** Files a process writes its pid to, to join (every controller's). */
  readonly procsFiles: readonly string[];
  /** The `cgroup.procs` that lists every process of the job. */
  readonly membersFile: string;
  readonly #version: 1 | 2;
  /** Where the pids controller's files are. */
  readonly #pidsDir: string;
  /** Where the memory controller's files are: the same directory as pids' under v2. */
  readonly #memoryDir: string;
  /**
   * The limits last written. A slot's cgroup usually gets the same limits job after job, and
   * only the worker writes them: unchanged, they are not written again (four writes, each a
   * trip through the thread pool and a memory cgroup charge check).
   */
  #writtenLimits: string | undefined;

  private constructor(setup: CgroupSetup, name: string) {
    this.#version = setup.version;
    if (setup.version === 1) {
      const pidsDir = path.join(setup.pidsRoot, name);
      const memoryDir = path.join(setup.memoryRoot, name);
      this.#pidsDir = pidsDir;
      this.#memoryDir = memoryDir;
      this.dirs = [pidsDir, memoryDir];
      this.procsFiles = [path.join(pidsDir, "cgroup.procs"), path.join(memoryDir, "cgroup.procs")];
      this.membersFile = path.join(pidsDir, "cgroup.procs");
    } else {
      const dir = path.join(setup.root, name);
      this.#pidsDir = dir;
      this.#memoryDir = dir;
      this.dirs = [dir];
      this.membersFile = path.join(dir, "cgroup.procs");
      this.procsFiles = [this.membersFile];
    }
  }

  /** The cgroup called `name`, which may exist already (a dead worker's); nothing is made. */
  static at(setup: CgroupSetup, name: string): JobCgroup {
    return new JobCgroup(setup, name);
  }

  /** Makes the cgroup(s) called `name` and writes `limits`. `name` must be unused. */
  static async create(setup: CgroupSetup, name: string, limits: JobLimits): Promise<JobCgroup> {
    const cgroup = new JobCgroup(setup, name);
    for (const dir of cgroup.dirs) await mkdir(dir);
    await cgroup.applyLimits(limits);
    return cgroup;
  }

  /** Writes a job's limits, where another job's may have been before. */
  async applyLimits(limits: JobLimits): Promise<void> {
    const key = `${limits.maxProcs}/${limits.memoryBytes}`;
    if (this.#writtenLimits === key) return;
    // Forgotten while being written: a failed write leaves them unknown.
    this.#writtenLimits = undefined;
    await this.#writeLimits(limits);
    this.#writtenLimits = key;
  }

  async #writeLimits(limits: JobLimits): Promise<void> {
    const memory = String(limits.memoryBytes);
    await writeFile(path.join(this.#pidsDir, "pids.max"), String(limits.maxProcs));
    if (this.#version === 1) {
      // With swap, the memory limit alone lets a job spill to swap instead of being stopped.
      // memsw may never be below the memory limit, so which goes first depends on whether the
      // limit goes down (memory first) or up (memsw first); the second write settles both.
      const limitFile = path.join(this.#memoryDir, "memory.limit_in_bytes");
      const memswFile = path.join(this.#memoryDir, "memory.memsw.limit_in_bytes");
      const lowered = await writeFile(limitFile, memory).then(
        () => true,
        () => false,
      );
      await writeOptional(memswFile, memory);
      if (!lowered) await writeFile(limitFile, memory);
      return;
    }
    await writeFile(path.join(this.#memoryDir, "memory.max"), memory);
    await writeOptional(path.join(this.#memoryDir, "memory.swap.max"), "0");
  }

  /**
   * Moves process `pid` into the cgroup, every controller's. A job's own command joins by
   * itself before it forks (launch.ts); this is for a process the worker started already.
   */
  async addProcess(pid: number): Promise<void> {
    for (const file of this.procsFiles) await writeFile(file, String(pid));
  }

  /** The pids now in the cgroup (exited processes are not listed). */
  pids(): number[] {
    return readKernelFile(this.membersFile)
      .split("\n")
      .filter((line) => line.length > 0)
      .map(Number);
  }

  /** Sends `signal` to every process in the cgroup; `exceptPids` are spared. */
  signal(signal: NodeJS.Signals, exceptPids: readonly number[] = []): void {
    for (const pid of this.pids()) {
      if (exceptPids.includes(pid)) continue;
      try {
        process.kill(pid, signal);
      } catch {
        // Gone already: that is the goal.
      }
    }
  }

  /** The kernel's totals so far; `eventsSince` tells what struck between two readings. */
  readCounters(): CgroupCounters {
    const memoryFile = this.#version === 1 ? "memory.oom_control" : "memory.events";
    const memory = readKernelFile(path.join(this.#memoryDir, memoryFile));
    const pids = readKernelFile(path.join(this.#pidsDir, "pids.events"));
    return { oomKills: readCounter(memory, "oom_kill"), pidsLimitHits: readCounter(pids, "max") };
  }

  /**
   * SIGKILLs every process in it until none is left or `deadlineMs` passes; resolves to
   * whether it is empty. The pids limit keeps a fork bomb from outrunning the loop.
   */
  async kill(deadlineMs: number): Promise<boolean> {
    if (this.#version === 2) {
      // cgroup.kill (Linux 5.14) kills the whole tree atomically; the loop covers older kernels.
      await writeOptional(path.join(this.#pidsDir, "cgroup.kill"), "1");
    }
    const stopAt = Date.now() + deadlineMs;
    for (let round = 0; ; round++) {
      if (this.pids().length === 0) return true;
      if (Date.now() > stopAt) return false;
      this.signal("SIGKILL");
      // A job's processes are usually gone within a millisecond or two of its end (bwrap's pid
      // namespace taking its members with it): look again soon, then back off.
      await new Promise((resolve) => setTimeout(resolve, round < 4 ? 1 : 5));
    }
  }

  /** Removes its (empty) directories; resolves to those left over, reported, not thrown. */
  async remove(): Promise<string[]> {
    const failed: string[] = [];
    for (const dir of this.dirs) {
      try {
        await rmdir(dir);
      } catch {
        failed.push(dir);
      }
    }
    return failed;
  }
}
