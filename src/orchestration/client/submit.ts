// Submitting a job: its root promise, written exactly as the SDK writes a top-level call, and
// the checks that refuse a submission before anything is sent.
import { timeBucketTags } from "../jobs/time-buckets.ts";
import { ExitCode, UserError } from "../../common/errors.ts";
import { base64Bytes, maxValueJsonBytes, UNANNOUNCED_MAX_BODY_BYTES } from "../../common/limits.ts";
import { formatBytes } from "../../common/units.ts";
import { scriptKindProblem } from "../../sandbox/script-kind.ts";
import type { JobSpec } from "../jobs/job.ts";
import { specOfParam } from "../jobs/job-param.ts";
import { refuseMissingDependencies } from "./dependencies.ts";
import { DEPENDENCY_WAIT_MS } from "../dependencies.ts";
import { ENTRY_GROUP, SUBMIT_FUNCTION, TAG } from "../jobs/names.ts";
import { rootLineageTags, type Generation } from "../jobs/lineage.ts";
import { SWEEP_TAG } from "../jobs/sweep.ts";
import { submissionDifferences } from "../jobs/same-submission.ts";
import { anycastAddress } from "../wire/poll-address.ts";
import { encodeValue, isOk, request, type Send } from "../wire/wire.ts";

export interface Submitted {
  id: string;
  /** True when a job with this id already existed: nothing new was started. */
  existing: boolean;
}

/** Time beyond a job's own limits before its promises give up, so bookkeeping can finish. */
const MARGIN_MS = 60 * 60 * 1000;

/**
 * `serverMaxBodyBytes` says the server's request limit, asking the server if it has not said
 * yet; it is asked only for a submission larger than every server takes.
 */
export async function submitJob(
  send: Send,
  spec: JobSpec,
  queueTimeoutMs: number,
  serverMaxBodyBytes: () => Promise<number>,
  tokenPrefix = "",
  generation: Generation = "none",
): Promise<Submitted> {
  refuseUnrunnable(spec);
  const call = { func: SUBMIT_FUNCTION, args: [spec], version: 1 };
  await refuseOversized(spec, call, serverMaxBodyBytes);
  await refuseMissingDependencies(send, spec, tokenPrefix);
  // Time for its dependencies to end, and for each run its retries allow.
  const waitMs = spec.after && spec.after.ids.length > 0 ? DEPENDENCY_WAIT_MS : 0;
  const runsMs = spec.timeoutMs * (1 + (spec.retries ?? 0));
  const created = await send(
    request("promise.create", {
      id: spec.id,
      timeoutAt: Date.now() + waitMs + queueTimeoutMs + runsMs + MARGIN_MS,
      param: encodeValue(call),
      tags: {
        [TAG.kind]: "job",
        [TAG.group]: spec.group,
        ...timeBucketTags(spec.submittedAt),
        ...(spec.sweep ? { [SWEEP_TAG.of]: spec.sweep.id } : {}),
        // A top-level call is its own lineage: origin, branch and parent are its id (a sweep's
        // job declares its sweep as its origin where the server reads origins so).
        ...rootLineageTags(generation, spec.id),
        "resonate:scope": "global",
        "resonate:target": anycastAddress(ENTRY_GROUP),
      },
    }),
  );
  if (!isOk(created)) {
    throw new UserError(
      `the server refused the submission: ${JSON.stringify(created.data)}`,
      ExitCode.unreachable,
    );
  }
  // Creating an existing promise answers with that promise, unchanged: if its submission
  // is not this one, the id was taken before and nothing new starts.
  const stored = specOfParam(created.data.promise.param, SUBMIT_FUNCTION);
  if (stored.ok && stored.spec.submittedAt === spec.submittedAt)
    return { id: spec.id, existing: false };
  if (!stored.ok) {
    throw new UserError(
      `--id ${spec.id} is taken on the server by something that is not a modulate job: pick another id; nothing was submitted`,
    );
  }
  const differences = submissionDifferences(stored.spec, spec);
  if (differences.length > 0) {
    throw new UserError(
      `--id ${spec.id} is already the id of a job with a different ${differences.join(", ")}: pick another id (or resubmit the same script and options to follow that job); nothing was submitted`,
    );
  }
  return { id: spec.id, existing: true };
}

/**
 * A script no worker would run is refused here, by the rule the router and the worker use,
 * before a job record exists: otherwise it becomes a failed job to clean up.
 */
function refuseUnrunnable(spec: JobSpec): void {
  const problem = scriptKindProblem(spec.script.name, spec.script.content);
  if (problem) throw new UserError(`${problem}; nothing was submitted`);
}

/**
 * Refuses, before anything is sent, a submission whose request would be over the server's
 * body limit: the server would refuse it (413) or reset the connection, which read as "cannot
 * reach the server". Measured on what is sent: the JSON of the call, base64.
 */
async function refuseOversized(
  spec: JobSpec,
  call: unknown,
  serverMaxBodyBytes: () => Promise<number>,
): Promise<void> {
  const encodedBytes = base64Bytes(Buffer.byteLength(JSON.stringify(call), "utf8"));
  const fits = (maxBodyBytes: number): boolean =>
    encodedBytes <= base64Bytes(maxValueJsonBytes(maxBodyBytes));
  if (fits(UNANNOUNCED_MAX_BODY_BYTES)) return;
  const maxBodyBytes = await serverMaxBodyBytes();
  if (fits(maxBodyBytes)) return;
  const scriptBytes = Buffer.byteLength(spec.script.content, "utf8");
  throw new UserError(
    `script ${spec.script.name} is ${formatBytes(scriptBytes)}: encoded for the server its submission is ${formatBytes(encodedBytes)}, over the server's request limit of ${formatBytes(maxBodyBytes)} (modulate server --max-body; a Resonate server takes ${formatBytes(UNANNOUNCED_MAX_BODY_BYTES)}); make the script smaller, or have it read its data from elsewhere; nothing was submitted`,
  );
}
