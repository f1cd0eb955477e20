// A job's submission as its promises carry it: the call record the SDK writes into a promise's
// param (`{ func, args, version }`), whose first argument is the JobSpec. Read here only, and
// its shape checked, because anything can write a promise on a shared server (another program,
// another version of modulate): a param that is not a job is a problem to say, not a crash in
// whatever read it next.
import type { JobSpec } from "./job.ts";
import { EXECUTE_FUNCTION, SUBMIT_FUNCTION } from "./names.ts";
import { decodeValue } from "../wire/values.ts";

/** A promise's param as a server hands it over, not yet known to be well formed. */
type EncodedParam = { headers?: Record<string, string>; data?: unknown };

/** A job spec read from a promise, or why what is there is not one. */
export type SpecReading = { ok: true; spec: JobSpec } | { ok: false; problem: string };

/** What a field must be; optional fields may also be absent. */
type Shape = "string" | "number" | "boolean" | "object" | "strings" | "mode" | "gpus" | "after";

const REQUIRED: readonly (readonly [keyof JobSpec, Shape])[] = [
  ["id", "string"],
  ["group", "string"],
  ["script", "object"],
  ["args", "strings"],
  ["timeoutMs", "number"],
  ["mode", "mode"],
  ["submittedAt", "number"],
];

const OPTIONAL: readonly (readonly [keyof JobSpec, Shape])[] = [
  ["queueTimeoutMs", "number"],
  ["env", "object"],
  ["limits", "object"],
  ["outputs", "strings"],
  ["network", "boolean"],
  ["gpus", "gpus"],
  ["interpreter", "string"],
  ["after", "after"],
  ["retries", "number"],
  ["retryTimedOut", "boolean"],
  ["sweep", "object"],
];

function fits(value: unknown, shape: Shape): boolean {
  switch (shape) {
    case "string":
    case "number":
    case "boolean":
      return typeof value === shape;
    case "object":
      return typeof value === "object" && value !== null && !Array.isArray(value);
    case "strings":
      return Array.isArray(value) && value.every((item) => typeof item === "string");
    case "mode":
      return value === "wait" || value === "detach";
    case "gpus":
      return (
        value === "shared" || (typeof value === "number" && Number.isInteger(value) && value >= 0)
      );
    case "after": {
      if (!fits(value, "object")) return false;
      const { ids, any } = value as { ids?: unknown; any?: unknown };
      return fits(ids, "strings") && typeof any === "boolean";
    }
  }
}

const EXPECTED: Record<Shape, string> = {
  string: "a string",
  number: "a number",
  boolean: "true or false",
  object: "an object",
  strings: "a list of strings",
  mode: '"wait" or "detach"',
  gpus: 'a whole number of GPUs or "shared"',
  after: "{ids: a list of strings, any: true or false}",
};

function described(value: unknown): string {
  if (value === undefined) return "missing";
  const json = JSON.stringify(value);
  return json.length > 40 ? `${json.slice(0, 40)}…` : json;
}

/**
 * `value` as a JobSpec, if it has a job spec's shape: the fields every reader relies on, with
 * their types. Values (a valid id, a known group) are the router's checks, not this one's.
 */
export function readJobSpec(value: unknown): SpecReading {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, problem: `the job spec is ${described(value)}, not an object` };
  }
  const fields = value as Record<string, unknown>;
  for (const [name, shape] of REQUIRED) {
    if (!fits(fields[name], shape)) {
      return {
        ok: false,
        problem: `the job spec's ${name} is ${described(fields[name])}, not ${EXPECTED[shape]}`,
      };
    }
  }
  for (const [name, shape] of OPTIONAL) {
    if (fields[name] !== undefined && !fits(fields[name], shape)) {
      return {
        ok: false,
        problem: `the job spec's ${name} is ${described(fields[name])}, not ${EXPECTED[shape]}`,
      };
    }
  }
  const script = fields["script"] as Record<string, unknown>;
  for (const name of ["name", "content"]) {
    if (typeof script[name] !== "string") {
      return {
        ok: false,
        problem: `the job spec's script.${name} is ${described(script[name])}, not a string`,
      };
    }
  }
  return { ok: true, spec: value as JobSpec };
}

/**
 * The job spec in a promise's `param`, written as the call of `func` (the router's submit, or
 * the worker's execute) with the spec as its first argument.
 */
export function specOfParam(param: EncodedParam | undefined, func: string): SpecReading {
  let call: unknown;
  try {
    call = decodeValue(param);
  } catch {
    return { ok: false, problem: "its param is not base64-encoded JSON" };
  }
  if (typeof call !== "object" || call === null) {
    return { ok: false, problem: `its param is ${described(call)}, not a call of ${func}` };
  }
  const { func: called, args } = call as { func?: unknown; args?: unknown };
  if (called !== func) {
    return { ok: false, problem: `its param is a call of ${described(called)}, not of ${func}` };
  }
  if (!Array.isArray(args)) {
    return { ok: false, problem: `its call of ${func} has ${described(args)} as its arguments` };
  }
  return readJobSpec(args[0]);
}

/**
 * The job a promise of modulate's is for, by the kind it is tagged with (a job's root or its
 * execute promise); undefined for one whose param is not a job's call.
 */
export function specOfKind(
  promise: { param?: EncodedParam },
  kind: "job" | "execute",
): JobSpec | undefined {
  const reading = specOfParam(promise.param, kind === "job" ? SUBMIT_FUNCTION : EXECUTE_FUNCTION);
  return reading.ok ? reading.spec : undefined;
}
