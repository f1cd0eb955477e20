// Which limits apply to a job, and how they become rlimits. Pure: the worker's defaults and the
// request go in, numbers and `prlimit` options come out.
import type { JobLimits } from "./types.ts";
import { SandboxInputError } from "./errors.ts";

const LIMIT_NAMES = [
  "timeoutMs",
  "killGraceMs",
  "cpuTimeMs",
  "memoryBytes",
  "maxFileBytes",
  "maxProcs",
  "maxOutputBytes",
] as const satisfies readonly (keyof JobLimits)[];

/**
 * The worker's defaults, each lowered where the request asks for less. A request can never
 * raise a limit: asking for more than the worker allows quietly gets the worker's value.
 */
export function mergeLimits(defaults: JobLimits, requested: Partial<JobLimits> = {}): JobLimits {
  const merged: Record<keyof JobLimits, number> = { ...defaults };
  for (const name of LIMIT_NAMES) {
    const wanted = requested[name];
    if (wanted === undefined) continue;
    if (!Number.isSafeInteger(wanted) || wanted <= 0) {
      throw new SandboxInputError(
        `limit ${name} is ${String(wanted)}: expected a positive whole number`,
      );
    }
    merged[name] = Math.min(defaults[name], wanted);
  }
  return merged;
}

/** Which limits a cgroup enforces for this job, so rlimits stand in only for the rest. */
export interface CgroupCoverage {
  readonly memory: boolean;
  readonly pids: boolean;
}

/**
 * `prlimit` options for a job. CPU and file size are per-process limits with no cgroup
 * counterpart, so they always apply. Memory and process count use rlimits only where no
 * cgroup covers them: RLIMIT_NPROC counts every process of the job user, so with several
 * jobs of one user a fork bomb in one would starve its neighbours, and RLIMIT_DATA is
 * per-process. RLIMIT_DATA rather than RLIMIT_AS, because node and CUDA reserve far more
 * address space than they use and fail under an address-space limit.
 */
export function prlimitOptions(limits: JobLimits, coveredByCgroup: CgroupCoverage): string[] {
  const r = jobRlimits(limits, coveredByCgroup);
  const options = [
    `--cpu=${r.cpuSeconds.soft}:${r.cpuSeconds.hard}`,
    `--fsize=${r.fileBytes}`,
    "--core=0",
  ];
  if (r.dataBytes !== undefined) options.push(`--data=${r.dataBytes}`);
  if (r.processes !== undefined) options.push(`--nproc=${r.processes}`);
  return options;
}

/** A job's rlimits (see `prlimitOptions` for which apply when). */
export interface JobRlimits {
  readonly cpuSeconds: { readonly soft: number; readonly hard: number };
  readonly fileBytes: number;
  readonly dataBytes?: number;
  readonly processes?: number;
}

export function jobRlimits(limits: JobLimits, coveredByCgroup: CgroupCoverage): JobRlimits {
  const cpu = Math.max(1, Math.ceil(limits.cpuTimeMs / 1000));
  return {
    // The soft limit sends SIGXCPU (which the outcome names); the hard one a second later, SIGKILL.
    cpuSeconds: { soft: cpu, hard: cpu + 1 },
    fileBytes: limits.maxFileBytes,
    ...(coveredByCgroup.memory ? {} : { dataBytes: limits.memoryBytes }),
    ...(coveredByCgroup.pids ? {} : { processes: limits.maxProcs }),
  };
}

/**
 * The same rlimits as the shell's own `ulimit` lines, for a shell that execs the job (saving
 * prlimit's exec); undefined where it cannot say them exactly: dash counts file size in
 * 512-byte blocks, and memory and process limits are left to prlimit.
 */
export function shellUlimitLines(r: JobRlimits): string[] | undefined {
  if (r.dataBytes !== undefined || r.processes !== undefined || r.fileBytes % 512 !== 0) {
    return undefined;
  }
  // Soft before hard: a hard limit below the soft one is refused.
  return [
    `ulimit -S -t ${r.cpuSeconds.soft} || exit 126`,
    `ulimit -H -t ${r.cpuSeconds.hard} || exit 126`,
    `ulimit -f ${r.fileBytes / 512} || exit 126`,
    "ulimit -c 0 || exit 126",
  ];
}
