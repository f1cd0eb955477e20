// A job's wait for a worker ends one of two ways, and exactly one wins: a worker of its group
// takes it, or its queue timeout passes. Both contend for one durable promise, the job's queue
// deadline (`modulate-queue.<job>`), which the router makes as it routes the job. It is a
// timer promise, as the SDK's durable sleep is: at its deadline the server resolves it with
// no value. A worker settles it with its name before its job's script starts. A server
// settles a promise once, so whichever comes first is the answer every process reads, across
// restarts of any of them, through the public protocol alone.
import { formatDuration } from "../common/units.ts";
import { claimAttempt, finishAttempt, type AttemptRecord } from "./attempts.ts";
import { notRunResult, type JobResult, type JobSpec, type WorkerRef } from "./jobs/job.ts";
import { DEADLINE_GROUP, queueDeadlineId, TAG } from "./jobs/names.ts";
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
export function queueTimedOutResult(spec: JobSpec, now: number): JobResult {
  const reason = queueTimeoutReason(spec.queueTimeoutMs);
  return notRunResult(spec, { group: spec.group, state: "timed_out", reason }, now);
}

/**
 * A worker's claim on a job, before its script starts: true when the job is this worker's to
 * run (it took it now, or a worker took it before and died), false when its queue timeout
 * won. A worker may get the job before the router has made the deadline (it makes it just
 * after the execute promise): it then makes the deadline itself, as the router would, and
 * settles it; the router's own making then finds it settled.
 */
export async function takeFromQueue(
  send: Send,
  spec: JobSpec,
  worker: WorkerRef,
  now: number,
): Promise<boolean> {
  const id = queueDeadlineId(spec.id);
  const taker = encodeValue({ takenBy: worker, takenAt: now } satisfies QueueTaker);
  const settle = () => send(request("promise.settle", { id, state: "resolved", value: taker }));
  let res = await settle();
  if (res.head.status === 404) {
    const made = await send(
      request("promise.create", {
        id,
        timeoutAt: now + (spec.queueTimeoutMs ?? MISSING_QUEUE_TIMEOUT_MS),
        param: encodeValue({ jobId: spec.id }),
        tags: { ...deadlineTags(spec.id), "resonate:target": DEADLINE_ADDRESS },
      }),
    );
    if (!isOk(made))
      throw new Error(`could not take ${spec.id} from its queue: ${JSON.stringify(made.data)}`);
    res = await settle();
  }
  if (!isOk(res))
    throw new Error(`could not take ${spec.id} from its queue: ${JSON.stringify(res.data)}`);
  // Settling a settled promise answers with what it holds: a taker, or the timer's nothing.
  const { promise } = res.data;
  return promise.state === "resolved" && isQueueTaker(decodeValue(promise.value));
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
