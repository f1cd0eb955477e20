// The environment a job sees: a short allow-list of the worker's, the submission's `--env`,
// then what the sandbox itself sets. Nothing else of the worker's (tokens, paths of its data
// directory, SSH agents) reaches a job.
import { SandboxInputError } from "./errors.ts";

/** Variables copied from the worker's environment when present. */
const DEFAULT_PASSED_ENV: readonly string[] = ["LANG", "LC_ALL", "LC_CTYPE", "TZ"];

/** A fixed PATH: the worker's own may point into a home directory the job user cannot read. */
const JOB_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Names the sandbox owns: a submission setting them could claim another job's GPU. */
function isReservedName(name: string): boolean {
  return (
    name === "CUDA_VISIBLE_DEVICES" ||
    name === "NVIDIA_VISIBLE_DEVICES" ||
    name.startsWith("MODULATE_")
  );
}

/** The part of the worker's environment every job starts from; read once at start-up. */
export function pickBaseEnv(
  hostEnv: Readonly<Record<string, string | undefined>>,
  passed: readonly string[] = DEFAULT_PASSED_ENV,
): Record<string, string> {
  const env: Record<string, string> = { PATH: JOB_PATH };
  for (const name of passed) {
    const value = hostEnv[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** Checks a submission's `--env` names; throws a `SandboxInputError` naming the bad one. */
function validateSubmissionEnv(env: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(env)) {
    if (!ENV_NAME.test(name)) {
      throw new SandboxInputError(
        `--env ${JSON.stringify(name)} is not a valid variable name: use letters, digits and '_', not starting with a digit`,
      );
    }
    if (isReservedName(name)) {
      throw new SandboxInputError(
        `--env ${name} is set by the worker and cannot be given: remove it from the submission`,
      );
    }
    if (value.includes("\0")) {
      throw new SandboxInputError(`--env ${name} contains a NUL byte, which no process can see`);
    }
  }
}

/** Base, then submission, then the sandbox's own (which always win). */
export function buildJobEnv(
  base: Readonly<Record<string, string>>,
  submission: Readonly<Record<string, string>>,
  own: Readonly<Record<string, string>>,
): Record<string, string> {
  validateSubmissionEnv(submission);
  return { ...base, ...submission, ...own };
}
