// What a worker answers when the server refuses its job's result for a reason that cannot
// change (too large for the server's --max-body, or malformed): a small record that ends the
// job as failed and says why, instead of an answer that never lands and a job that runs again
// (issue 12, item 4). The result is normally made to fit before it is sent; this is the net.
import { isJobResult, type JobResult } from "./jobs/job.ts";
import { decodeValue, encodeValue } from "./wire/values.ts";
import type { EncodedAnswer } from "./answer-delivery.ts";

/** What is kept of each output tail: enough to show how the job ended. */
const REFUSED_TAIL_CHARS = 2_000;

export function refusedResult(result: JobResult, reason: string): JobResult {
  // The list of output files goes too: it is part of what may have been too large.
  const kept: JobResult = { ...result };
  delete kept.outputs;
  return {
    ...kept,
    state: "failed",
    reason: `the server refused the result: ${reason}`,
    stdout: result.stdout.slice(-REFUSED_TAIL_CHARS),
    stderr: result.stderr.slice(-REFUSED_TAIL_CHARS),
  };
}

/** The same, on the encoded answer the SDK sends; undefined if it is not a job's result. */
export function refusedAnswer(answer: EncodedAnswer, reason: string): EncodedAnswer | undefined {
  const result = decodeValue(answer);
  return isJobResult(result) ? encodeValue(refusedResult(result, reason)) : undefined;
}
