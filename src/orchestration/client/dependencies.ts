// The jobs a submission waits for (`submit --after`) must be there before it is sent: a job
// waiting for an id nobody submitted would wait until its own deadline. With a token scoped
// to a prefix, they must be inside it too, as every id a request names must be.
import { ExitCode, UserError } from "../../common/errors.ts";
import { isDetachedReceipt, type JobSpec } from "../jobs/job.ts";
import { specOfParam } from "../jobs/job-param.ts";
import { SUBMIT_FUNCTION } from "../jobs/names.ts";
import { decodeValue, isOk, request, type Send } from "../wire/wire.ts";

export async function refuseMissingDependencies(
  send: Send,
  spec: JobSpec,
  tokenPrefix: string,
): Promise<void> {
  const ids = spec.after?.ids ?? [];
  for (const id of ids) {
    if (!id.startsWith(tokenPrefix)) {
      throw new UserError(
        `--after ${id} is outside this token's prefix "${tokenPrefix}": a job may wait only for jobs whose ids start with it; nothing was submitted`,
        ExitCode.refused,
      );
    }
    if (id === spec.id) {
      throw new UserError(`--after ${id} is this job's own id: a job cannot wait for itself`);
    }
  }
  await Promise.all(
    ids.map(async (id) => {
      const res = await send(request("promise.get", { id }));
      if (res.head.status === 404 || !isOk(res)) {
        throw new UserError(
          `--after ${id}: no such job (check the id that submit printed, and --url); nothing was submitted`,
          ExitCode.notFound,
        );
      }
      const reading = specOfParam(res.data.promise.param, SUBMIT_FUNCTION);
      if (!reading.ok) {
        throw new UserError(
          `--after ${id} exists on the server but is not a modulate job (${reading.problem}): name a job's id; nothing was submitted`,
          ExitCode.notFound,
        );
      }
    }),
  );
}

/**
 * The jobs `spec` waits for that have not ended yet, as far as their promises tell: a job's
 * record is in its own promise or, once routed, in its execute promise (view.ts).
 */
export async function unfinishedDependencies(send: Send, spec: JobSpec): Promise<string[]> {
  const ids = spec.after?.ids ?? [];
  const stateOf = async (id: string) => {
    const res = await send(request("promise.get", { id })).catch(() => undefined);
    return res && isOk(res) ? res.data.promise : undefined;
  };
  const ended = await Promise.all(
    ids.map(async (id) => {
      const root = await stateOf(id);
      if (!root || root.state === "pending") return false;
      // Settled with anything but a receipt, the job has ended there (its record, or none).
      const receipt = root.state === "resolved" ? decodeValue(root.value) : undefined;
      if (!isDetachedReceipt(receipt)) return true;
      const execute = await stateOf(receipt.executeId);
      return execute !== undefined && execute.state !== "pending";
    }),
  );
  return ids.filter((_, i) => !ended[i]);
}
