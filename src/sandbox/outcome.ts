// Turns what was observed about a finished job into its state and a reason a person reads.
// Pure: every fact comes from execa's fields or the cgroup's counters, never from the
// job's own output.
import { formatBytes, formatDuration } from "../common/units.ts";
import type { JobLimits, JobState } from "./types.ts";

export interface RunFacts {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly timedOut: boolean;
  readonly isCanceled: boolean;
  /** The cgroup's OOM counter moved. */
  readonly oomKilled: boolean;
  /** A fork failed at the cgroup's pids limit. */
  readonly pidsLimitHit: boolean;
  /** A file in the job's directory reached the file size limit. */
  readonly fileLimitHit: boolean;
  /** The job's disk area was (nearly) out of space or of inodes when it ended. */
  readonly diskFull?: DiskFull;
  /** The sandbox itself failed before the script started (e.g. could not join the cgroup). */
  readonly startFailure?: string;
  readonly limits: JobLimits;
  readonly droppedOutputBytes: number;
}

export interface DiskFull {
  readonly of: "space" | "files";
  /** The area's size: the job's disk quota. */
  readonly quotaBytes: number;
  /** The area's inodes: how many files and directories it can hold. */
  readonly quotaFiles: number;
}

export interface Verdict {
  readonly state: JobState;
  readonly reason: string;
}

function diskQuotaNote(full: DiskFull): string {
  return full.of === "space"
    ? `disk quota ${formatBytes(full.quotaBytes)} exceeded`
    : `disk quota of ${full.quotaFiles} files exceeded`;
}

function endedBy(facts: RunFacts): Verdict {
  const { limits } = facts;
  if (facts.startFailure)
    return { state: "failed", reason: `sandbox failed to start: ${facts.startFailure}` };
  if (facts.isCanceled) return { state: "canceled", reason: "canceled" };
  if (facts.timedOut)
    return { state: "timed_out", reason: `timed out after ${formatDuration(limits.timeoutMs)}` };
  if (facts.oomKilled) {
    return {
      state: "failed",
      reason: `killed: memory limit ${formatBytes(limits.memoryBytes)} exceeded`,
    };
  }
  if (facts.signal === "SIGXCPU") {
    return {
      state: "failed",
      reason: `killed: CPU time limit ${formatDuration(limits.cpuTimeMs)} exceeded`,
    };
  }
  if (facts.signal === "SIGXFSZ") {
    return {
      state: "failed",
      reason: `killed: file size limit ${formatBytes(limits.maxFileBytes)} exceeded`,
    };
  }
  const notes = [
    ...(facts.pidsLimitHit ? [`process limit ${limits.maxProcs} reached`] : []),
    ...(facts.fileLimitHit ? [`file size limit ${formatBytes(limits.maxFileBytes)} reached`] : []),
  ];
  // A full area explains a failure; after a clean exit it is only where the job left it.
  if (facts.diskFull && (facts.signal !== null || facts.exitCode !== 0))
    notes.push(diskQuotaNote(facts.diskFull));
  const limitNotes = notes.map((note) => `; ${note}`).join("");
  if (facts.signal) return { state: "failed", reason: `killed by ${facts.signal}${limitNotes}` };
  if (facts.exitCode === 0)
    return { state: "succeeded", reason: `exited with code 0${limitNotes}` };
  return { state: "failed", reason: `exited with code ${String(facts.exitCode)}${limitNotes}` };
}

/** The state, and the reason with a note on truncated output appended. */
export function judgeOutcome(facts: RunFacts): Verdict {
  const verdict = endedBy(facts);
  if (facts.droppedOutputBytes === 0) return verdict;
  return {
    state: verdict.state,
    reason: `${verdict.reason}; output truncated: ${formatBytes(facts.droppedOutputBytes)} dropped`,
  };
}
