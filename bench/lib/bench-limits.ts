// The limits the sandbox benches give every job: generous, so that no bench measures a limit.
import type { JobLimits } from "../../src/sandbox/types.ts";

export const BENCH_JOB_LIMITS: JobLimits = {
  timeoutMs: 30_000,
  killGraceMs: 1000,
  cpuTimeMs: 30_000,
  memoryBytes: 512 * 2 ** 20,
  maxFileBytes: 64 * 2 ** 20,
  maxProcs: 64,
  maxOutputBytes: 2 ** 20,
};
