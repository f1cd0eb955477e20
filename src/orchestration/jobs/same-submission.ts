// "The same --id twice is the same job" holds only for the same submission: a second one with
// the same id but another script, arguments or limits would silently get the first one's
// result. Pure: two specs in, the names of the fields that differ out.
import type { JobSpec } from "./job.ts";

/** JSON with object keys sorted, so that `{a, b}` and `{b, a}` compare equal. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === "object" && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** Each compared field as the user names it, with its value where absent and empty are one. */
const FIELDS: readonly [string, (spec: Partial<JobSpec>) => unknown][] = [
  ["script name", (s) => s.script?.name],
  ["script content", (s) => s.script?.content],
  ["arguments", (s) => s.args ?? []],
  ["group", (s) => s.group],
  ["env", (s) => s.env ?? {}],
  ["limits", (s) => s.limits ?? {}],
  ["timeout", (s) => s.timeoutMs],
  ["outputs", (s) => s.outputs ?? []],
  ["network", (s) => s.network ?? false],
  ["dependencies", (s) => s.after ?? null],
  ["retries", (s) => [s.retries ?? 0, s.retryTimedOut ?? false]],
];

/**
 * The fields in which `fresh` differs from the submission `stored` under the same id; empty
 * when it is the same job. The mode (wait or detach) and the time of submission are not
 * compared: following a job by resubmitting it is the same job.
 */
export function submissionDifferences(stored: Partial<JobSpec>, fresh: JobSpec): string[] {
  return FIELDS.filter(([, pick]) => canonical(pick(stored)) !== canonical(pick(fresh))).map(
    ([name]) => name,
  );
}
