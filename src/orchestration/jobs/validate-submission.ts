// What the router checks before anything runs. A submission that fails here fails at once,
// with its reason, and is never retried: running it again could not make it valid.
import { DEFAULT_MAX_SCRIPT_BYTES } from "../../common/limits.ts";
import { scriptKindProblem } from "../../sandbox/script-kind.ts";
import type { JobSpec } from "./job.ts";
import { groupNameProblem, jobIdProblem } from "./names.ts";
import { gpusAskedProblem, interpreterNameProblem } from "./resources.ts";
import { sweepMemberProblem } from "./sweep.ts";

export interface SubmissionLimits {
  /** Largest script accepted. Default: what the server's default request limit carries (3.7 MiB). */
  maxScriptBytes: number;
}

export const DEFAULT_SUBMISSION_LIMITS: SubmissionLimits = {
  maxScriptBytes: DEFAULT_MAX_SCRIPT_BYTES,
};

/**
 * The start of the ids modulate makes outside any job (names.ts: `modulate-presence.…`), and
 * of every id it made for a job before ids followed the job's lineage (`modulate-execute.<job>`).
 * A job id may not start with it. What a job creates extends the job's own id with a
 * separator no job id holds (lineage.ts), so it can never be another job's id. Ids modulate
 * generates start with `job-`.
 */
const RESERVED_ID_PREFIX = "modulate-";

/** What is wrong with a job id a user gave, if anything. */
export function userJobIdProblem(id: string): string | undefined {
  const shape = jobIdProblem(id);
  if (shape) return shape;
  if (id.startsWith(RESERVED_ID_PREFIX)) {
    return `"${id}" starts with "${RESERVED_ID_PREFIX}", which modulate keeps for its own records: pick an id that does not`;
  }
  return undefined;
}

export function submissionProblem(
  spec: JobSpec,
  group: string,
  limits: SubmissionLimits,
): string | undefined {
  const idProblem = spec.sweep
    ? sweepMemberProblem(spec.id, spec.sweep)
    : userJobIdProblem(spec.id);
  if (idProblem) return idProblem;
  const groupProblem = groupNameProblem(group);
  if (groupProblem) return groupProblem;
  const size = Buffer.byteLength(spec.script.content, "utf8");
  if (size > limits.maxScriptBytes) {
    return `script ${spec.script.name} is ${size} bytes, over the router's limit of ${limits.maxScriptBytes} (router --max-script)`;
  }
  // The worker's own rule: what it would refuse (or run otherwise) is decided here the same way.
  const kindProblem = scriptKindProblem(spec.script.name, spec.script.content);
  if (kindProblem) return kindProblem;
  if (!Number.isFinite(spec.timeoutMs) || spec.timeoutMs <= 0) {
    return `timeout ${spec.timeoutMs} ms is not a positive duration`;
  }
  const gpusProblem = gpusAskedProblem(spec.gpus);
  if (gpusProblem) return gpusProblem;
  if (spec.interpreter !== undefined) {
    const nameProblem = interpreterNameProblem(spec.interpreter);
    if (nameProblem) return nameProblem;
  }
  return retriesProblem(spec.retries) ?? dependenciesProblem(spec.id, spec.after?.ids ?? []);
}

/** The most re-runs a job may ask for: each is a recorded attempt, and attempts are capped. */
export const MAX_RETRIES = 10;

/** The most jobs one job may wait for. */
export const MAX_DEPENDENCIES = 100;

/** What is wrong with a number of retries, if anything. */
export function retriesProblem(retries: number | undefined): string | undefined {
  if (retries === undefined) return undefined;
  if (Number.isInteger(retries) && retries >= 0 && retries <= MAX_RETRIES) return undefined;
  return `retries ${retries} is not a whole number from 0 to ${MAX_RETRIES}`;
}

/** What is wrong with the jobs job `id` is to wait for, if anything. */
export function dependenciesProblem(id: string, after: readonly string[]): string | undefined {
  if (after.length > MAX_DEPENDENCIES) {
    return `${after.length} dependencies are more than the ${MAX_DEPENDENCIES} a job may wait for`;
  }
  for (const dependency of after) {
    const shape = jobIdProblem(dependency);
    if (shape) return `dependency ${shape}`;
    if (dependency === id) return `job ${id} cannot wait for itself`;
  }
  return undefined;
}
