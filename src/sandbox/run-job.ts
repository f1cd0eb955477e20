// prepare + execute, with a bad submission turned into a failed outcome instead of a throw:
// what the worker's execute body calls for each attempt.
import { randomBytes } from "node:crypto";
import { SandboxInputError } from "./errors.ts";
import { execute, type ExecuteOptions } from "./execute.ts";
import { verdictOf } from "./outcome.ts";
import { attemptLogFile, jobLogDir } from "./paths.ts";
import { prepare, prepareAttempt, type AttemptPlan, type JobPlan } from "./prepare.ts";
import type { CapturedOutput, JobOutcome, JobRequest, SandboxConfig } from "./types.ts";

const NO_OUTPUT: CapturedOutput = { head: "", tail: "", totalBytes: 0, droppedBytes: 0 };

/**
 * A request whose attempt number may still be on its way: a worker claims it from its server
 * while the sandbox makes the job's directory and writes its limits.
 */
export type PendingJobRequest = Omit<JobRequest, "attempt"> & {
  readonly attempt: number | Promise<number>;
};

/**
 * Runs one attempt of a job and reports. Resolves for anything the job does (crash, limit,
 * timeout, cancel) and for a submission that cannot run (state `failed`, nothing started);
 * rejects only when the worker itself cannot work (its disk or cgroups failing), or when a
 * pending attempt number rejects (nothing of the job is left then).
 */
export async function runJob(
  request: PendingJobRequest,
  config: SandboxConfig,
  options: ExecuteOptions = {},
): Promise<JobOutcome> {
  const runId = randomBytes(6).toString("hex");
  const { attempt } = request;
  // The job's plan is made once; only the attempt's part waits for a number still claimed.
  let job: JobPlan;
  let attemptPlan: AttemptPlan | Promise<AttemptPlan>;
  try {
    job = prepare(request, config, runId);
    attemptPlan =
      typeof attempt === "number"
        ? prepareAttempt(job, attempt)
        : attempt.then((claimed) => prepareAttempt(job, claimed));
  } catch (error) {
    if (!(error instanceof SandboxInputError)) throw error;
    return notStarted(request, await attempt, error.message, config);
  }
  return execute(job, attemptPlan, config, options);
}

function notStarted(
  request: PendingJobRequest,
  attempt: number,
  problem: string,
  config: SandboxConfig,
): JobOutcome {
  const verdict = verdictOf({ kind: "refused", problem });
  return {
    jobId: request.jobId,
    attempt,
    ...verdict,
    exitCode: null,
    signal: null,
    stdout: NO_OUTPUT,
    stderr: NO_OUTPUT,
    durationMs: 0,
    outputs: [],
    gpuIds: request.gpuIds ?? [],
    limits: config.defaultLimits,
    logFile: attemptLogFile(jobLogDir(config.logDir, request.jobId), attempt),
    sandbox: {
      mode: config.mode,
      ...(config.jobUser ? { user: config.jobUser.name } : {}),
      cgroup: false,
    },
  };
}
