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
  const cpuSeconds = Math.max(1, Math.ceil(limits.cpuTimeMs / 1000));
  // Soft limit sends SIGXCPU (which the outcome names); the hard one a second later, SIGKILL.
  const options = [
    `--cpu=${cpuSeconds}:${cpuSeconds + 1}`,
    `--fsize=${limits.maxFileBytes}`,
    "--core=0",
  ];
  if (!coveredByCgroup.memory) options.push(`--data=${limits.memoryBytes}`);
  if (!coveredByCgroup.pids) options.push(`--nproc=${limits.maxProcs}`);
  return options;
}
