// What the router checks before anything runs. A submission that fails here fails at once,
// with its reason, and is never retried: running it again could not make it valid.
import type { JobSpec } from "./job.ts";
import { groupNameProblem, jobIdProblem } from "./names.ts";

export interface SubmissionLimits {
  /** Largest script accepted. Default 1 MiB. */
  maxScriptBytes: number;
}

export const DEFAULT_SUBMISSION_LIMITS: SubmissionLimits = { maxScriptBytes: 1024 * 1024 };

const INTERPRETED = [".py", ".sh", ".bash", ".js", ".mjs", ".cjs"];

/** The interpreter a script will get, from its name or its first line; undefined: unknown. */
export function interpreterOf(name: string, content: string): string | undefined {
  if (content.startsWith("#!"))
    return content.slice(2, content.indexOf("\n") >>> 0).trim() || undefined;
  const dot = name.lastIndexOf(".");
  const extension = dot < 0 ? "" : name.slice(dot).toLowerCase();
  return INTERPRETED.includes(extension) ? extension : undefined;
}

export function submissionProblem(
  spec: JobSpec,
  group: string,
  limits: SubmissionLimits,
): string | undefined {
  const idProblem = jobIdProblem(spec.id);
  if (idProblem) return idProblem;
  const groupProblem = groupNameProblem(group);
  if (groupProblem) return groupProblem;
  const size = Buffer.byteLength(spec.script.content, "utf8");
  if (size > limits.maxScriptBytes) {
    return `script ${spec.script.name} is ${size} bytes, over the router's limit of ${limits.maxScriptBytes} (router --max-script)`;
  }
  if (interpreterOf(spec.script.name, spec.script.content) === undefined) {
    return `no interpreter for ${spec.script.name}: name it .py, .sh, .js or .mjs, or start it with a #! line`;
  }
  if (!Number.isFinite(spec.timeoutMs) || spec.timeoutMs <= 0) {
    return `timeout ${spec.timeoutMs} ms is not a positive duration`;
  }
  return undefined;
}
