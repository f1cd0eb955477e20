// Retries (`submit --retries N`): a job whose script failed runs again, each run an attempt
// of its own, at most N times more. What counts is read from the job's durable attempt
// records (attempts.ts), never from a count in memory: a run cut short by a crash leaves its
// record open or abandoned, which is not a failed run, and a worker that takes over a job
// finds the failed runs before it on record. So crashes never buy a job an extra failed run.
import { listAttempts, type AttemptView } from "./attempts.ts";
import type { JobSpec, JobState } from "./jobs/job.ts";
import type { Send } from "./wire/wire.ts";

/** True when a run that ended `state` is one `--retries` may answer with another run. */
export function isRetriedEnding(state: string, spec: Pick<JobSpec, "retryTimedOut">): boolean {
  return state === "failed" || (state === "timed_out" && spec.retryTimedOut === true);
}

/**
 * Whether attempt `attempt`, which just ended `state`, may be followed by another run: the
 * failed runs on record before it, and this one, are within the job's retries.
 */
export function mayRunAgain(
  spec: Pick<JobSpec, "retries" | "retryTimedOut">,
  attempt: number,
  state: JobState,
  records: readonly Pick<AttemptView, "attempt" | "outcome">[],
): boolean {
  const retries = spec.retries ?? 0;
  if (retries <= 0 || !isRetriedEnding(state, spec)) return false;
  const failedBefore = records.filter(
    (r) => r.attempt < attempt && r.outcome !== undefined && isRetriedEnding(r.outcome.state, spec),
  ).length;
  return failedBefore + 1 <= retries;
}

/**
 * `mayRunAgain` from the job's records on the server. A record that cannot be read says no:
 * a job then ends with this run's outcome rather than risk a run more than it asked for.
 */
export async function shouldRunAgain(
  send: Send,
  spec: JobSpec,
  attempt: number,
  state: JobState,
): Promise<boolean> {
  if ((spec.retries ?? 0) <= 0 || !isRetriedEnding(state, spec)) return false;
  const records = await listAttempts(send, spec.id).catch(() => undefined);
  return records !== undefined && mayRunAgain(spec, attempt, state, records);
}

/** What a failed run's attempt record says of it, once the job runs again. */
export function retriedReason(reason: string, exitCode: number | null): string {
  const what = reason !== "" ? reason : `exit code ${exitCode ?? "none"}`;
  return `${what}; run again (--retries)`;
}
