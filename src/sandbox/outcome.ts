// Turns what was observed about a finished job into its state, how it ended and what else the
// sandbox noticed, as data; and renders that data, here only, as the reason a person reads.
// Pure: every fact comes from execa's fields or the cgroup's counters, never from the job's
// own output. Callers decide on the typed fields (`ending`, `notes`), never on the words.
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

/** The limit whose breach killed the job, with the ceiling that applied. */
export type LimitExceeded =
  | { readonly limit: "memory"; readonly memoryBytes: number }
  | { readonly limit: "cpu_time"; readonly cpuTimeMs: number }
  | { readonly limit: "file_size"; readonly maxFileBytes: number };

/** How the job ended: one of these, in the order `judgeOutcome` checks them. */
export type Ending =
  /** The submission could never run (bad script name, no interpreter...): nothing started. */
  | { readonly kind: "refused"; readonly problem: string }
  /** The sandbox failed before the script started. */
  | { readonly kind: "start_failed"; readonly detail: string }
  | { readonly kind: "canceled" }
  | { readonly kind: "timed_out"; readonly timeoutMs: number }
  | ({ readonly kind: "limit_exceeded" } & LimitExceeded)
  | { readonly kind: "killed"; readonly signal: string }
  | { readonly kind: "exited"; readonly exitCode: number | null };

/** Something else the sandbox noticed, which may explain a failure. */
export type OutcomeNote =
  | { readonly kind: "process_limit_reached"; readonly maxProcs: number }
  | { readonly kind: "file_size_limit_reached"; readonly maxFileBytes: number }
  | ({ readonly kind: "disk_quota_exceeded" } & DiskFull)
  | { readonly kind: "output_truncated"; readonly droppedBytes: number };

export interface Verdict {
  readonly state: JobState;
  readonly ending: Ending;
  readonly notes: readonly OutcomeNote[];
  /** `ending` and `notes` in words (`describeOutcome`). */
  readonly reason: string;
}

/** The state a job that ended so is in. */
function stateOf(ending: Ending): JobState {
  switch (ending.kind) {
    case "canceled":
      return "canceled";
    case "timed_out":
      return "timed_out";
    case "exited":
      return ending.exitCode === 0 ? "succeeded" : "failed";
    default:
      return "failed";
  }
}

/** Whether the job exited 0 and the sandbox noticed nothing: a result that needs no reason. */
export function isCleanExit(ending: Ending, notes: readonly OutcomeNote[]): boolean {
  return ending.kind === "exited" && ending.exitCode === 0 && notes.length === 0;
}

function describeLimit(exceeded: LimitExceeded): string {
  switch (exceeded.limit) {
    case "memory":
      return `killed: memory limit ${formatBytes(exceeded.memoryBytes)} exceeded`;
    case "cpu_time":
      return `killed: CPU time limit ${formatDuration(exceeded.cpuTimeMs)} exceeded`;
    case "file_size":
      return `killed: file size limit ${formatBytes(exceeded.maxFileBytes)} exceeded`;
  }
}

function describeEnding(ending: Ending): string {
  switch (ending.kind) {
    case "refused":
      return ending.problem;
    case "start_failed":
      return `sandbox failed to start: ${ending.detail}`;
    case "canceled":
      return "canceled";
    case "timed_out":
      return `timed out after ${formatDuration(ending.timeoutMs)}`;
    case "limit_exceeded":
      return describeLimit(ending);
    case "killed":
      return `killed by ${ending.signal}`;
    case "exited":
      return `exited with code ${String(ending.exitCode)}`;
  }
}

function describeNote(note: OutcomeNote): string {
  switch (note.kind) {
    case "process_limit_reached":
      return `process limit ${note.maxProcs} reached`;
    case "file_size_limit_reached":
      return `file size limit ${formatBytes(note.maxFileBytes)} reached`;
    case "disk_quota_exceeded":
      return note.of === "space"
        ? `disk quota ${formatBytes(note.quotaBytes)} exceeded`
        : `disk quota of ${note.quotaFiles} files exceeded`;
    case "output_truncated":
      return `output truncated: ${formatBytes(note.droppedBytes)} dropped`;
  }
}

/** The reason a person reads: "exited with code 1; process limit 64 reached". */
export function describeOutcome(ending: Ending, notes: readonly OutcomeNote[]): string {
  return [describeEnding(ending), ...notes.map(describeNote)].join("; ");
}

function endingOf(facts: RunFacts): Ending {
  const { limits } = facts;
  if (facts.startFailure) return { kind: "start_failed", detail: facts.startFailure };
  if (facts.isCanceled) return { kind: "canceled" };
  if (facts.timedOut) return { kind: "timed_out", timeoutMs: limits.timeoutMs };
  if (facts.oomKilled)
    return { kind: "limit_exceeded", limit: "memory", memoryBytes: limits.memoryBytes };
  if (facts.signal === "SIGXCPU")
    return { kind: "limit_exceeded", limit: "cpu_time", cpuTimeMs: limits.cpuTimeMs };
  if (facts.signal === "SIGXFSZ")
    return { kind: "limit_exceeded", limit: "file_size", maxFileBytes: limits.maxFileBytes };
  if (facts.signal) return { kind: "killed", signal: facts.signal };
  return { kind: "exited", exitCode: facts.exitCode };
}

/** What explains an ordinary exit or kill; an ending that names its cause needs none. */
function limitNotes(facts: RunFacts, ending: Ending): OutcomeNote[] {
  if (ending.kind !== "killed" && ending.kind !== "exited") return [];
  const { limits } = facts;
  const notes: OutcomeNote[] = [];
  if (facts.pidsLimitHit) notes.push({ kind: "process_limit_reached", maxProcs: limits.maxProcs });
  if (facts.fileLimitHit)
    notes.push({ kind: "file_size_limit_reached", maxFileBytes: limits.maxFileBytes });
  // A full area explains a failure; after a clean exit it is only where the job left it.
  if (facts.diskFull && stateOf(ending) !== "succeeded")
    notes.push({ kind: "disk_quota_exceeded", ...facts.diskFull });
  return notes;
}

/** Builds a verdict from its ending and notes, the reason rendered from them. */
export function verdictOf(ending: Ending, notes: readonly OutcomeNote[] = []): Verdict {
  return { state: stateOf(ending), ending, notes, reason: describeOutcome(ending, notes) };
}

/** The state, how the job ended, and every note, truncated output last. */
export function judgeOutcome(facts: RunFacts): Verdict {
  const ending = endingOf(facts);
  const notes = limitNotes(facts, ending);
  if (facts.droppedOutputBytes > 0)
    notes.push({ kind: "output_truncated", droppedBytes: facts.droppedOutputBytes });
  return verdictOf(ending, notes);
}
