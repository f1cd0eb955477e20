// Where a job stands, read from its promises and its attempt records: final once a record is
// there, otherwise why it waits (no router, no worker of its group, a worker gone silent).
import { ExitCode, UserError } from "../../common/errors.ts";
import { listAttempts, type AttemptView } from "../attempts.ts";
import { waitingForReason } from "../dependencies.ts";
import { unfinishedDependencies } from "./dependencies.ts";
import { isDetachedReceipt, isJobResult, type JobResult, type JobSpec } from "../jobs/job.ts";
import { specOfParam } from "../jobs/job-param.ts";
import { ENTRY_GROUP, isOlderExecuteId, SUBMIT_FUNCTION, TAG } from "../jobs/names.ts";
import { listLiveWorkers, whyWaiting } from "../presence.ts";
import { decodeValue, isOk, isRefused, request, type Send } from "../wire/wire.ts";

export type PromiseRecord = {
  id: string;
  state: string;
  param: { data?: unknown; headers?: Record<string, string> };
  value: { data?: unknown; headers?: Record<string, string> };
  tags: Record<string, string>;
  timeoutAt: number;
  createdAt: number;
  settledAt?: number;
};

export interface JobView {
  /** The record as far as it is known; final once `finished`. */
  result: JobResult;
  finished: boolean;
  spec: JobSpec;
  attempts: AttemptView[];
}

export async function viewJob(send: Send, id: string): Promise<JobView> {
  const root = await getPromise(send, id);
  if (!root)
    throw new UserError(
      `no such job: ${id} (check the id that submit printed, and --url)`,
      ExitCode.notFound,
    );
  const reading = specOfParam(root.param, SUBMIT_FUNCTION);
  if (!reading.ok) {
    throw new UserError(
      `${id} exists on the server but is not a modulate job (${reading.problem})`,
      ExitCode.notFound,
    );
  }
  const spec = reading.spec;
  const receipt = root.state === "resolved" ? decodeValue(root.value) : undefined;
  const held = recordIn(root);
  // A record in the job's own promise was put there by a router from before receipts for
  // every job, which named attempts the older way too.
  const namedBefore =
    held !== undefined || (isDetachedReceipt(receipt) && isOlderExecuteId(receipt.executeId));
  const attempts = await listAttempts(send, id, namedBefore);
  const done = (result: JobResult): JobView => ({ result, finished: true, spec, attempts });

  if (held) return done(held);
  if (isDetachedReceipt(receipt)) {
    const execute = await getPromise(send, receipt.executeId);
    return fromExecute(send, spec, receipt.group, execute, attempts);
  }
  if (root.state !== "pending") return done(settledWithoutRecord(spec, spec.group, root));
  return fromExecute(send, spec, spec.group, await findExecute(send, id), attempts);
}

async function fromExecute(
  send: Send,
  spec: JobSpec,
  group: string,
  execute: PromiseRecord | undefined,
  attempts: AttemptView[],
): Promise<JobView> {
  const held = execute && recordIn(execute);
  if (held) return { result: held, finished: true, spec, attempts };
  if (execute && execute.state !== "pending") {
    return { result: settledWithoutRecord(spec, group, execute), finished: true, spec, attempts };
  }
  // Who is alive takes searches, which a token scoped to a prefix may not make: then the job's
  // own records say what they can.
  const workers = await listLiveWorkers(send).catch((error: unknown) => {
    if (isRefused(error)) return undefined;
    throw error;
  });
  const last = attempts[attempts.length - 1];
  const base = inProgress(spec, group, attempts);
  if (!execute) {
    const routers = workers?.filter((w) => w.group === ENTRY_GROUP).length;
    const waitingFor = routers === 0 ? [] : await unfinishedDependencies(send, spec);
    base.reason =
      routers === 0
        ? "no live router: start one with 'modulate router'"
        : waitingFor.length > 0
          ? waitingForReason(waitingFor)
          : "waiting for a router to route it";
    return { result: base, finished: false, spec, attempts };
  }
  if (last && last.promiseState === "pending") {
    const alive = workers?.some((w) => w.pid === last.worker.pid) ?? true;
    if (alive) {
      base.state = "running";
      base.reason = `running on ${last.worker.host} (${last.worker.pid})`;
    } else {
      base.reason = `worker ${last.worker.pid} stopped answering: the job goes to another worker of group ${group} when its lease lapses`;
    }
    return { result: base, finished: false, spec, attempts };
  }
  base.reason =
    (workers && whyWaiting(workers, group, spec)) ??
    `waiting for a worker of group ${group} to take it`;
  return { result: base, finished: false, spec, attempts };
}

/**
 * The job's record a settled promise holds: a resolved one's value (how it ended), or a
 * canceled one's (`modulate cancel` settles it rejected_canceled with who canceled it and
 * when). Undefined for a pending promise, or one that ended without a record.
 */
export function recordIn(promise: Pick<PromiseRecord, "state" | "value">): JobResult | undefined {
  if (promise.state !== "resolved" && promise.state !== "rejected_canceled") return undefined;
  const value = decodeValue(promise.value);
  return isJobResult(value) ? value : undefined;
}

export async function getPromise(send: Send, id: string): Promise<PromiseRecord | undefined> {
  const res = await send(request("promise.get", { id }));
  return isOk(res) ? res.data.promise : undefined;
}

/** The job's execute promise, found by its tag whatever id it was given. */
export async function findExecute(send: Send, jobId: string): Promise<PromiseRecord | undefined> {
  const res = await send(
    request("promise.search", { tags: { [TAG.executeOf]: jobId }, limit: 10 }),
  );
  return isOk(res) ? res.data.promises[0] : undefined;
}

export function inProgress(spec: JobSpec, group: string, attempts: AttemptView[]): JobResult {
  const last = attempts[attempts.length - 1];
  return {
    id: spec.id,
    group,
    state: "pending",
    reason: "",
    exitCode: null,
    stdout: "",
    stderr: "",
    durationMs: 0,
    worker: last?.worker ?? null,
    attempt: last?.attempt ?? 0,
    submittedAt: spec.submittedAt,
    startedAt: last?.startedAt ?? null,
    finishedAt: null,
  };
}

/** A promise that ended without a record: it timed out or was canceled before a worker answered. */
export function settledWithoutRecord(
  spec: JobSpec,
  group: string,
  promise: PromiseRecord,
): JobResult {
  const state =
    promise.state === "rejected_timedout"
      ? "timed_out"
      : promise.state === "rejected_canceled"
        ? "canceled"
        : "failed";
  const reason =
    state === "timed_out"
      ? `no worker of group ${group} finished it before its deadline`
      : state === "canceled"
        ? "canceled"
        : `the orchestration failed: ${JSON.stringify(decodeValue(promise.value) ?? null)}`;
  return { ...inProgress(spec, group, []), state, reason, finishedAt: promise.settledAt ?? null };
}
