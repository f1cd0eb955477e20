// A job's wait for a worker ends one of two ways, and exactly one wins: a worker of its group
// takes it, or its queue timeout passes. Both contend for one durable promise, the job's queue
// deadline (`<job>.queue`, names.ts), which the router makes as it routes the job. It is a
// timer promise, as the SDK's durable sleep is: at its deadline the server resolves it with
// no value. A worker settles it with its name before its job's script starts. A server
// settles a promise once, so whichever comes first is the answer every process reads, across
// restarts of any of them, through the public protocol alone.
//
// Something must then end a job nobody took. The router makes a second promise beside the
// deadline, a call to the routers (`<job>.queue-timeout`) that the server delivers
// only at the deadline (`resonate:delay`). The worker that takes the job settles that call
// too, so for a job that started in time it never runs; at the deadline a router runs it,
// contends for the deadline itself, and ends the job timed_out only if it won. The router's
// orchestration therefore waits for nothing: it routes and returns, where waiting for the
// deadline cost every job a suspension, a resumption and a replay.
import { formatDuration } from "../common/units.ts";
import { claimAttempt, finishAttempt, type AttemptRecord } from "./attempts.ts";
import {
  isJobResult,
  notRunResult,
  type JobResult,
  type JobSpec,
  type WorkerRef,
} from "./jobs/job.ts";
import {
  DEADLINE_GROUP,
  executeId,
  jobChildTags,
  queueDeadlineId,
  queueTimeoutId,
  TAG,
} from "./jobs/names.ts";
import { anycastAddress } from "./wire/poll-address.ts";
import { decodeValue, encodeValue, isOk, request, type Send } from "./wire/wire.ts";

/** What a worker writes into the deadline when it takes the job. */
export interface QueueTaker {
  takenBy: WorkerRef;
  takenAt: number;
}

/**
 * Where the deadline points. An address is what makes a server keep a promise's deadline
 * (as for the SDK's sleeps); nobody listens there, so nothing runs it or holds it.
 */
export const DEADLINE_ADDRESS = anycastAddress(DEADLINE_GROUP);

/** A deadline's own tags; "resonate:timer" makes it resolve, not reject, when it passes. */
export function deadlineTags(jobId: string): Record<string, string> {
  return { "resonate:timer": "true", [TAG.queueOf]: jobId };
}

/**
 * A queue-timeout call's own tags: the server delivers it to a router at `deliverAt`, not
 * before (`resonate:delay`, which both servers honour for a promise with a target).
 */
export function queueTimeoutTags(
  spec: Pick<JobSpec, "id" | "group" | "submittedAt">,
  deliverAt: number,
): Record<string, string> {
  return {
    "resonate:delay": String(deliverAt),
    [TAG.queueOf]: spec.id,
    // Pending until a worker takes the job, it is canceled, or its queue timeout ends it: the
    // pending calls of a group are its jobs waiting for a first worker, counted by `ls`.
    [TAG.queueGroup]: spec.group,
    [TAG.queuedSince]: String(spec.submittedAt),
  };
}

export function isQueueTaker(value: unknown): value is QueueTaker {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { takenBy?: unknown }).takenBy === "object"
  );
}

/** The submission's queue timeout, capped by the router's; the router's when it gave none. */
export function effectiveQueueTimeoutMs(spec: JobSpec, routerQueueTimeoutMs: number): number {
  return Math.min(spec.queueTimeoutMs ?? routerQueueTimeoutMs, routerQueueTimeoutMs);
}

export function queueTimeoutReason(queueTimeoutMs: number | undefined): string {
  return queueTimeoutMs === undefined
    ? "no worker took it within its queue timeout (queue timeout)"
    : `no worker took it within ${formatDuration(queueTimeoutMs)} (queue timeout)`;
}

/** The record of a job whose queue timeout passed before any worker took it: nothing ran. */
export function queueTimedOutResult(
  spec: Pick<JobSpec, "id" | "group" | "submittedAt" | "queueTimeoutMs">,
  now: number,
): JobResult {
  const reason = queueTimeoutReason(spec.queueTimeoutMs);
  return notRunResult(spec, { group: spec.group, state: "timed_out", reason }, now);
}

/** What a router writes into the deadline when it ends the job at its queue timeout. */
interface QueueTimeoutMark {
  timedOutAt: number;
}

/**
 * Settles the job's deadline with `value` unless something settled it first, and answers
 * what it holds: `value` when this call won. The deadline may not exist yet (a worker can get
 * the job before the router has made it, just after the execute promise): it is then made as
 * the router makes it, and settled; the router's own making then finds it settled.
 */
async function contendForDeadline(
  send: Send,
  spec: Pick<JobSpec, "id" | "queueTimeoutMs">,
  value: QueueTaker | QueueTimeoutMark,
  now: number,
): Promise<unknown> {
  const id = queueDeadlineId(spec.id);
  const settle = () =>
    send(request("promise.settle", { id, state: "resolved", value: encodeValue(value) }));
  let res = await settle();
  if (res.head.status === 404) {
    const made = await send(
      request("promise.create", {
        id,
        timeoutAt: now + (spec.queueTimeoutMs ?? MISSING_QUEUE_TIMEOUT_MS),
        param: encodeValue({ jobId: spec.id }),
        tags: {
          ...deadlineTags(spec.id),
          ...jobChildTags(spec.id, id),
          "resonate:target": DEADLINE_ADDRESS,
        },
      }),
    );
    if (!isOk(made))
      throw new Error(
        `could not reach the queue deadline of ${spec.id}: ${JSON.stringify(made.data)}`,
      );
    res = await settle();
  }
  if (!isOk(res))
    throw new Error(
      `could not reach the queue deadline of ${spec.id}: ${JSON.stringify(res.data)}`,
    );
  // Settling a settled promise answers with what it holds: a taker, a router's mark, or the
  // timer's nothing.
  const { promise } = res.data;
  return promise.state === "resolved" ? decodeValue(promise.value) : undefined;
}

/**
 * A worker's claim on a job, before its script starts: true when the job is this worker's to
 * run (it took it now, or a worker took it before and died), false when its queue timeout
 * won. Beside it, the job's queue-timeout call is settled, so that no router runs it at the
 * deadline; its outcome does not matter (a router that runs it anyway finds the job taken).
 */
export async function takeFromQueue(
  send: Send,
  spec: JobSpec,
  worker: WorkerRef,
  now: number,
): Promise<boolean> {
  const taker: QueueTaker = { takenBy: worker, takenAt: now };
  const [held] = await Promise.all([
    contendForDeadline(send, spec, taker, now),
    send(
      request("promise.settle", {
        id: queueTimeoutId(spec.id),
        state: "resolved",
        value: encodeValue(taker),
      }),
    ).catch(() => undefined),
  ]);
  return isQueueTaker(held);
}

/**
 * What a job's queue-timeout call carries: enough to write the record of a job nothing ran,
 * and the moment it is due.
 */
export type QueueTimeoutCall = Pick<JobSpec, "id" | "group" | "submittedAt" | "queueTimeoutMs"> & {
  deliverAt: number;
};

export function queueTimeoutCall(spec: JobSpec, deliverAt: number): QueueTimeoutCall {
  return {
    id: spec.id,
    group: spec.group,
    submittedAt: spec.submittedAt,
    ...(spec.queueTimeoutMs === undefined ? {} : { queueTimeoutMs: spec.queueTimeoutMs }),
    deliverAt,
  };
}

/** How a queue-timeout call ended: the job was taken in time, or it was ended by this call. */
export type QueueTimeoutOutcome = { taken: true } | { taken: false; result: JobResult };

/**
 * The routers' side of a queue timeout, run when the server delivers the job's queue-timeout
 * call at the deadline: contend for the deadline; having won, settle the execute promise with
 * the timed_out record, so clients waiting on it wake and its task goes to no worker. Safe to
 * run again (a router that died half-way): both settlements answer what is already there.
 */
export async function endAtQueueTimeout(
  send: Send,
  call: QueueTimeoutCall,
  now: number,
): Promise<QueueTimeoutOutcome> {
  const held = await contendForDeadline(send, call, { timedOutAt: now }, now);
  if (isQueueTaker(held)) return { taken: true };
  const result = queueTimedOutResult(call, now);
  const res = await send(
    request("promise.settle", {
      id: executeId(call.id),
      state: "resolved",
      value: encodeValue(result),
    }),
  );
  if (!isOk(res))
    throw new Error(`could not end ${call.id} at its queue timeout: ${JSON.stringify(res.data)}`);
  // A job that ended otherwise meanwhile (canceled) keeps its own record.
  const ended =
    res.data.promise.state === "resolved" ? decodeValue(res.data.promise.value) : undefined;
  return { taken: false, result: isJobResult(ended) ? ended : result };
}

/**
 * Takes the job from its queue and records the attempt side by side, so the script waits for
 * one round trip, not two: the attempt's record, or undefined when the queue timeout won.
 * Then the record just made is closed at once, as never run.
 */
export async function takeAndClaim(
  send: Send,
  spec: JobSpec,
  worker: WorkerRef,
  now: number,
  keepMs: number,
): Promise<AttemptRecord | undefined> {
  const [taken, record] = await Promise.all([
    takeFromQueue(send, spec, worker, now),
    claimAttempt(send, spec.id, worker, now, keepMs),
  ]);
  if (taken) return record;
  await finishAttempt(send, record, {
    state: "timed_out",
    reason: `not run: ${queueTimeoutReason(spec.queueTimeoutMs)}`,
  });
  return undefined;
}

/** A job routed with no queue timeout of its own (by an older router) gets this long. */
const MISSING_QUEUE_TIMEOUT_MS = 24 * 60 * 60 * 1000;
