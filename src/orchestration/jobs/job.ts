// A job as it travels: the submission (spec) and the result record, in the promise and in
// `--json`. Plain data only: they cross the wire as JSON.
import { ExitCode } from "../../common/errors.ts";
import type { SweepMember } from "./sweep.ts";

export type JobState = "pending" | "running" | "succeeded" | "failed" | "timed_out" | "canceled";

export interface JobSpec {
  id: string;
  /** As submitted (a machine type or a group); the router resolves it to a group. */
  group: string;
  script: { name: string; content: string };
  args: string[];
  /** Wall-clock limit of one run; the worker may lower it, never raise it. */
  timeoutMs: number;
  /**
   * Longest the job may wait for a worker of its group to take it; the router's own
   * --queue-timeout caps it. The router sets it on the spec it routes.
   */
  queueTimeoutMs?: number;
  /**
   * `wait`: the submitting client waits for the result; `detach`: it returns at once. The
   * router treats both alike: it routes the job and returns a receipt.
   */
  mode: "wait" | "detach";
  submittedAt: number;
  env?: Record<string, string>;
  /** Limits the submission asks for; each may only lower the worker's. */
  limits?: JobLimitRequest;
  /** Files (relative to the job's directory) to bring back with the result. */
  outputs?: string[];
  /** Whether the script needs the network; granted only where the worker allows it. */
  network?: boolean;
  /** GPUs asked for: a count (0: none), or "shared" (a share of one). */
  gpus?: number | "shared";
  /** A named interpreter the worker declares (`worker --interpreter NAME=PATH`) to run the script. */
  interpreter?: string;
  /**
   * Jobs this one waits for before it is routed (`submit --after`): it starts once each has
   * succeeded, or with `any` once each has ended at all; a dependency that did not succeed
   * fails it (without `any`). The router waits durably (dependencies.ts). Default: none.
   */
  after?: JobDependencies;
  /** Runs again after a failed script (non-zero exit), at most this many times. Default 0. */
  retries?: number;
  /** Runs again after a run that timed out too, within `retries`. Default false. */
  retryTimedOut?: boolean;
  /** The job's place in its sweep (jobs/sweep.ts), for a job submitted as one of many. */
  sweep?: SweepMember;
}

export interface JobDependencies {
  ids: string[];
  /** Start once each has ended, whatever its state (Slurm's afterany), not only succeeded. */
  any: boolean;
}

export interface JobLimitRequest {
  memoryBytes?: number;
  cpuTimeMs?: number;
  maxProcs?: number;
  maxOutputBytes?: number;
}

/** A declared output file as the job left it, carried back base64-encoded and size-capped. */
export interface JobOutputFile {
  path: string;
  found: boolean;
  sizeBytes: number;
  truncated: boolean;
  contentBase64: string;
}

/** One GPU a job held, as `nvidia-smi --query-gpu=index,name,memory.total` names it. */
export interface GpuInfo {
  index: string;
  name: string;
  memoryMiB: number;
}

export interface WorkerRef {
  host: string;
  pid: string;
  group: string;
}

export interface JobResult {
  id: string;
  group: string;
  state: JobState;
  /** In words, why a job did not succeed (or what was odd about a success). */
  reason: string;
  exitCode: number | null;
  /** Capped tails of the script's output. */
  stdout: string;
  stderr: string;
  durationMs: number;
  worker: WorkerRef | null;
  attempt: number;
  submittedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** GPUs the job was given (CUDA_VISIBLE_DEVICES), if the worker has any. */
  gpus?: string[];
  /** What `nvidia-smi` said of those GPUs, where it answered on the worker. */
  gpuInfo?: GpuInfo[];
  outputs?: JobOutputFile[];
  /** Set when the router refused the submission: nothing ran, nothing will. */
  rejected?: boolean;
}

/**
 * What the router returns for a routed submission, waiting or detached: where the result
 * will be. (`detached` is the field's name from when only detached submissions got one.)
 */
export interface DetachedReceipt {
  detached: true;
  id: string;
  group: string;
  executeId: string;
}

export function isDetachedReceipt(value: unknown): value is DetachedReceipt {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { detached?: unknown }).detached === true
  );
}

export function isJobResult(value: unknown): value is JobResult {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { state?: unknown }).state === "string"
  );
}

/** The exit code `submit` and `get --wait` end with for a finished job. */
export function exitCodeFor(result: JobResult): number {
  switch (result.state) {
    case "succeeded":
      return ExitCode.ok;
    case "timed_out":
      return ExitCode.timedOut;
    case "canceled":
      return ExitCode.canceled;
    case "failed":
      if (result.rejected) return ExitCode.usage;
      // A script that died by a signal has no code of its own; 1 says "failed" plainly.
      return result.exitCode === null || result.exitCode === 0 ? 1 : result.exitCode;
    case "pending":
    case "running":
      return ExitCode.ok;
  }
}

/** The record of a job that ended before any attempt ran its script. */
export function notRunResult(
  spec: Pick<JobSpec, "id" | "submittedAt">,
  ending: { group: string; state: Exclude<JobState, "pending" | "running">; reason: string },
  now: number,
): JobResult {
  return {
    id: spec.id,
    ...ending,
    exitCode: null,
    stdout: "",
    stderr: "",
    durationMs: 0,
    worker: null,
    attempt: 0,
    submittedAt: spec.submittedAt,
    startedAt: null,
    finishedAt: now,
  };
}

export function rejectedResult(
  spec: Pick<JobSpec, "id" | "submittedAt">,
  group: string,
  reason: string,
  now: number,
): JobResult {
  return {
    ...notRunResult(spec, { group, state: "failed", reason: `invalid submission: ${reason}` }, now),
    rejected: true,
  };
}
