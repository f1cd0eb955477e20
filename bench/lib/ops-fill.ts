// Part 1's store: jobs written through the public protocol (promise.create, promise.settle),
// over many keep-alive connections at once, shaped as the client and a router leave them:
// - an outstanding job, routed to a group with no worker: its root promise resolved with the
//   router's receipt, its execute promise pending and addressed to the group (so the server
//   holds a pending task for it, as for a real queued job);
// - a finished job: the same, with the execute promise resolved with a succeeded record.
// An outstanding job also has its queue deadline and its queue-timeout call, pending as the
// router leaves them (plain `ls` counts a group's queue from the calls). What else a job makes
// (attempt records, output chunks) is left out: `ls` reads neither for these jobs.
import type { JobResult, JobSpec } from "../../src/orchestration/jobs/job.ts";
import {
  ENTRY_GROUP,
  EXECUTE_FUNCTION,
  executeId,
  jobChildTags,
  newJobId,
  QUEUE_DEADLINE_FUNCTION,
  QUEUE_TIMEOUT_FUNCTION,
  queueDeadlineId,
  queueTimeoutId,
  SUBMIT_FUNCTION,
  TAG,
} from "../../src/orchestration/jobs/names.ts";
import {
  DEADLINE_ADDRESS,
  deadlineTags,
  queueTimeoutCall,
  queueTimeoutTags,
} from "../../src/orchestration/queue-deadline.ts";
import { timeBucketTags } from "../../src/orchestration/jobs/time-buckets.ts";
import { anycastAddress } from "../../src/orchestration/wire/poll-address.ts";
import { encodeValue } from "../../src/orchestration/wire/values.ts";
import { ProtocolClient } from "./protocol-client.ts";

export interface FillPlan {
  readonly outstanding: number;
  readonly finished: number;
  /** The group outstanding jobs wait for; nobody serves it. */
  readonly group: string;
  /** Connections writing at once. */
  readonly concurrency: number;
}

export interface FillResult {
  readonly jobs: number;
  readonly requests: number;
  readonly seconds: number;
  readonly requestsPerSec: number;
}

/** Far enough that no promise times out while the bench runs. */
const DAY_MS = 24 * 60 * 60 * 1000;

function specOf(index: number, submittedAt: number, group: string): JobSpec {
  return {
    id: `${newJobId(submittedAt)}-${index.toString(36)}`,
    group,
    script: { name: "ops-fill.py", content: "print(1)\n" },
    args: [],
    timeoutMs: 60_000,
    mode: "detach",
    submittedAt,
  };
}

function succeeded(spec: JobSpec): JobResult {
  const startedAt = spec.submittedAt + 20;
  return {
    id: spec.id,
    group: spec.group,
    state: "succeeded",
    reason: "",
    exitCode: 0,
    stdout: "1\n",
    stderr: "",
    durationMs: 30,
    worker: { host: "bench", pid: `${spec.group}-bench-1`, group: spec.group },
    attempt: 1,
    submittedAt: spec.submittedAt,
    startedAt,
    finishedAt: startedAt + 30,
  };
}

/** The requests that leave one job as a client and a router would have. */
function jobRequests(
  spec: JobSpec,
  isFinished: boolean,
  now: number,
): { kind: string; data: unknown }[] {
  const timeoutAt = now + DAY_MS;
  const execute = executeId(spec.id);
  const requests: { kind: string; data: unknown }[] = [
    {
      kind: "promise.create",
      data: {
        id: spec.id,
        timeoutAt,
        param: encodeValue({ func: SUBMIT_FUNCTION, args: [spec], version: 1 }),
        // The client's tags, less the routers' address: the router's task for it is done.
        tags: {
          [TAG.kind]: "job",
          [TAG.group]: spec.group,
          ...timeBucketTags(spec.submittedAt),
          "resonate:origin": spec.id,
          "resonate:branch": spec.id,
          "resonate:parent": spec.id,
          "resonate:scope": "global",
        },
      },
    },
    {
      kind: "promise.settle",
      data: {
        id: spec.id,
        state: "resolved",
        value: encodeValue({ detached: true, id: spec.id, group: spec.group, executeId: execute }),
      },
    },
    {
      kind: "promise.create",
      data: {
        id: execute,
        timeoutAt,
        param: encodeValue({
          func: EXECUTE_FUNCTION,
          args: [{ ...spec, queueTimeoutMs: DAY_MS }],
          version: 1,
        }),
        tags: {
          [TAG.executeOf]: spec.id,
          [TAG.kind]: "execute",
          [TAG.group]: spec.group,
          ...timeBucketTags(spec.submittedAt),
          ...jobChildTags(spec.id, execute),
          "resonate:scope": "global",
          // Only a job still to run is addressed to its group: the server then holds its task.
          ...(isFinished ? {} : { "resonate:target": anycastAddress(spec.group) }),
        },
      },
    },
  ];
  if (!isFinished) {
    const deadline = queueDeadlineId(spec.id);
    const call = queueTimeoutId(spec.id);
    requests.push(
      {
        kind: "promise.create",
        data: {
          id: deadline,
          timeoutAt,
          param: encodeValue({ func: QUEUE_DEADLINE_FUNCTION, args: [spec.id], version: 1 }),
          tags: {
            ...deadlineTags(spec.id),
            ...jobChildTags(spec.id, deadline),
            "resonate:target": DEADLINE_ADDRESS,
          },
        },
      },
      {
        kind: "promise.create",
        data: {
          id: call,
          timeoutAt,
          param: encodeValue({
            func: QUEUE_TIMEOUT_FUNCTION,
            args: [queueTimeoutCall({ ...spec, queueTimeoutMs: DAY_MS }, timeoutAt)],
            version: 1,
          }),
          tags: {
            ...queueTimeoutTags(spec, timeoutAt),
            ...jobChildTags(spec.id, call),
            "resonate:target": anycastAddress(ENTRY_GROUP),
          },
        },
      },
    );
  }
  if (isFinished) {
    requests.push({
      kind: "promise.settle",
      data: { id: execute, state: "resolved", value: encodeValue(succeeded(spec)) },
    });
  }
  return requests;
}

/**
 * Writes the plan's jobs to the server at `url`: finished ones first (older), outstanding ones
 * last (newest), each job's requests in order on one connection, `concurrency` jobs at a time.
 */
export async function fillStore(
  url: string,
  plan: FillPlan,
  progress: (line: string) => void,
): Promise<FillResult> {
  const total = plan.finished + plan.outstanding;
  const now = Date.now();
  // Submission times one millisecond apart, ending a minute ago: newest first is outstanding.
  const firstAt = now - 60_000 - total;
  let next = 0;
  let requests = 0;
  const started = performance.now();
  let reportedAt = started;
  const connection = async (): Promise<void> => {
    const client = new ProtocolClient("raw", url);
    try {
      for (;;) {
        const index = next;
        next += 1;
        if (index >= total) return;
        const spec = specOf(index, firstAt + index, plan.group);
        for (const r of jobRequests(spec, index < plan.finished, now)) {
          const reply = await client.send(r.kind, `fill-${index}`, r.data);
          requests += 1;
          if (reply.status >= 300) {
            throw new Error(
              `${r.kind} for ${spec.id} answered ${reply.status}: ${JSON.stringify(reply.data)}`,
            );
          }
        }
        const at = performance.now();
        if (at - reportedAt > 10_000) {
          reportedAt = at;
          progress(
            `fill: ${index + 1} of ${total} jobs, ${Math.round((requests * 1000) / (at - started))} requests/s`,
          );
        }
      }
    } finally {
      client.close();
    }
  };
  await Promise.all(Array.from({ length: plan.concurrency }, connection));
  const seconds = (performance.now() - started) / 1000;
  return {
    jobs: total,
    requests,
    seconds: Math.round(seconds * 10) / 10,
    requestsPerSec: Math.round(requests / seconds),
  };
}
