// Jobs written straight through the protocol as a client, a router and a worker that is gone
// leave them, for listing tests that need thousands of them, or states a live cluster reaches
// only by chance (a worker that died between two runs).
import type { JobSpec } from "../../src/orchestration/jobs/job.ts";
import {
  attemptId,
  EXECUTE_FUNCTION,
  executeId,
  jobChildTags,
  QUEUE_TIMEOUT_FUNCTION,
  queueTimeoutId,
  SUBMIT_FUNCTION,
  TAG,
} from "../../src/orchestration/jobs/names.ts";
import { timeBucketTags } from "../../src/orchestration/jobs/time-buckets.ts";
import { queueTimeoutTags } from "../../src/orchestration/queue-deadline.ts";
import { anycastAddress } from "../../src/orchestration/wire/poll-address.ts";
import { encodeValue } from "../../src/orchestration/wire/values.ts";
import { send } from "./protocol-client.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

async function must(url: string, kind: string, data: unknown): Promise<void> {
  const answer = await send(url, kind, data);
  if (answer.status >= 300) throw new Error(`${kind} answered ${answer.status}`);
}

export interface RoutedJobOptions {
  /** False: only its root, which no router will see (no router's address): still routing. */
  readonly routed?: boolean;
  /**
   * Its queue-timeout call: pending (no worker took the job yet), settled as taken by a worker
   * that is gone, or not made. Addressed to nobody: no router ends these jobs while tests read.
   */
  readonly queueCall?: "pending" | "taken" | "none";
}

/**
 * A job as a client and a router leave one routed to `spec.group`: its root resolved with the
 * receipt, its execute promise pending and addressed to the group, and its queue-timeout call.
 */
export async function writeRoutedJob(
  url: string,
  spec: JobSpec,
  { routed = true, queueCall = "pending" }: RoutedJobOptions = {},
): Promise<void> {
  const timeoutAt = Date.now() + DAY_MS;
  const execute = executeId(spec.id);
  await must(url, "promise.create", {
    id: spec.id,
    timeoutAt,
    param: encodeValue({ func: SUBMIT_FUNCTION, args: [spec], version: 1 }),
    tags: { [TAG.kind]: "job", [TAG.group]: spec.group, ...timeBucketTags(spec.submittedAt) },
  });
  if (!routed) return;
  await must(url, "promise.settle", {
    id: spec.id,
    state: "resolved",
    value: encodeValue({ detached: true, id: spec.id, group: spec.group, executeId: execute }),
  });
  await must(url, "promise.create", {
    id: execute,
    timeoutAt,
    param: encodeValue({ func: EXECUTE_FUNCTION, args: [spec], version: 1 }),
    tags: {
      [TAG.executeOf]: spec.id,
      [TAG.kind]: "execute",
      [TAG.group]: spec.group,
      ...timeBucketTags(spec.submittedAt),
      ...jobChildTags(spec.id, execute),
      "resonate:target": anycastAddress(spec.group),
    },
  });
  if (queueCall === "none") return;
  const call = queueTimeoutId(spec.id);
  await must(url, "promise.create", {
    id: call,
    timeoutAt,
    param: encodeValue({ func: QUEUE_TIMEOUT_FUNCTION, args: [{ id: spec.id }], version: 1 }),
    tags: { ...queueTimeoutTags(spec, timeoutAt), ...jobChildTags(spec.id, call) },
  });
  if (queueCall === "taken")
    await must(url, "promise.settle", {
      id: call,
      state: "resolved",
      value: encodeValue({ takenBy: { host: "gone", pid: "gone-1", group: spec.group } }),
    });
}

/** Attempt `n`'s record as a worker that is gone left it: open, or settled with `settled`. */
export async function writeAttemptRecord(
  url: string,
  spec: JobSpec,
  n: number,
  run: {
    readonly pid: string;
    readonly startedAt: number;
    readonly token: string;
    readonly settled?: { state: string; reason: string };
  },
): Promise<void> {
  const id = attemptId(spec.id, n);
  await must(url, "promise.create", {
    id,
    timeoutAt: Date.now() + DAY_MS,
    param: encodeValue({
      jobId: spec.id,
      attempt: n,
      worker: { host: "gone", pid: run.pid, group: spec.group },
      startedAt: run.startedAt,
      token: run.token,
    }),
    tags: { [TAG.attemptOf]: spec.id, [TAG.kind]: "attempt", ...jobChildTags(spec.id, id) },
  });
  if (run.settled)
    await must(url, "promise.settle", { id, state: "resolved", value: encodeValue(run.settled) });
}
