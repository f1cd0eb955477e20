// prepare + execute, with a bad submission turned into a failed outcome instead of a throw:
// what the worker's execute body calls for each attempt.
import { randomBytes } from "node:crypto";
import { SandboxInputError } from "./errors.ts";
import { execute, type ExecuteOptions } from "./execute.ts";
import { attemptLogFile } from "./paths.ts";
import { prepare } from "./prepare.ts";
import type { CapturedOutput, JobOutcome, JobRequest, SandboxConfig } from "./types.ts";

const NO_OUTPUT: CapturedOutput = { head: "", tail: "", totalBytes: 0, droppedBytes: 0 };

/**
 * Runs one attempt of a job and reports. Resolves for anything the job does (crash, limit,
 * timeout, cancel) and for a submission that cannot run (state `failed`, nothing started);
 * rejects only when the worker itself cannot work (its disk or cgroups failing).
 */
export async function runJob(
  request: JobRequest,
  config: SandboxConfig,
  options: ExecuteOptions = {},
): Promise<JobOutcome> {
  let plan;
  try {
    plan = prepare(request, config, randomBytes(6).toString("hex"));
  } catch (error) {
    if (!(error instanceof SandboxInputError)) throw error;
    return {
      jobId: request.jobId,
      attempt: request.attempt,
      state: "failed",
      reason: error.message,
      exitCode: null,
      signal: null,
      stdout: NO_OUTPUT,
      stderr: NO_OUTPUT,
      durationMs: 0,
      outputs: [],
      gpuIds: request.gpuIds ?? [],
      limits: config.defaultLimits,
      logFile: attemptLogFile(config.logDir, request.jobId, request.attempt),
      sandbox: {
        mode: config.mode,
        ...(config.jobUser ? { user: config.jobUser.name } : {}),
        cgroup: false,
      },
    };
  }
  return execute(plan, config, options);
}
