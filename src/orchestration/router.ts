// The router: a member of the `entry` group running one durable orchestration per submission.
// It validates, resolves the group, makes the job's queue deadline and starts `execute` there,
// then waits for the deadline to settle: a worker took the job, or its queue timeout passed
// (queue-deadline.ts). Taken, it returns the job's result (wait) or a receipt (fire-and-
// forget); timed out, it settles the execute promise with the timed_out record itself, so
// no worker runs it later. A restarted router replays the orchestration and re-attaches to
// the promises it already made.
import { OptionsBuilder, Resonate, type Context } from "@resonatehq/sdk";
import {
  isJobResult,
  rejectedResult,
  type DetachedReceipt,
  type JobResult,
  type JobSpec,
} from "./jobs/job.ts";
import {
  ENTRY_GROUP,
  EXECUTE_FUNCTION,
  executeId,
  QUEUE_DEADLINE_FUNCTION,
  queueDeadlineId,
  SUBMIT_FUNCTION,
  TAG,
} from "./jobs/names.ts";
import { readJobSpec } from "./jobs/job-param.ts";
import { PresenceLease } from "./presence.ts";
import {
  DEADLINE_ADDRESS,
  deadlineTags,
  effectiveQueueTimeoutMs,
  isQueueTaker,
  queueTimedOutResult,
} from "./queue-deadline.ts";
import { resolveGroup, type Routes } from "./jobs/routes.ts";
import { SdkNetwork } from "./wire/sdk-network.ts";
import { submissionProblem, type SubmissionLimits } from "./jobs/validate-submission.ts";
import {
  decodeValue,
  encodeValue,
  isOk,
  request,
  requestSender,
  type Connection,
  type Send,
} from "./wire/wire.ts";

export interface RouterOptions {
  connection: Connection;
  routes: Routes;
  limits: SubmissionLimits;
  /**
   * How long a job may wait for a worker of its group to take it before it times out; caps
   * what a submission asks for.
   */
  queueTimeoutMs: number;
  /** A router silent this long loses its submissions to a peer. */
  leaseMs: number;
  pid: string;
}

export interface RunningRouter {
  stop(): Promise<void>;
}

/** The orchestration itself, apart from the process around it. */
export function submitOrchestration(
  options: Pick<RouterOptions, "routes" | "limits" | "queueTimeoutMs"> & {
    /** The network's mapping of a group name to its address, as `ctx.options` uses. */
    match: (target: string) => string;
    /** Requests to the server outside the SDK's calls: settling a job that timed out. */
    send: Send;
    clock?: () => number;
  },
) {
  // ctx.options cannot name the call's promise; the SDK's own builder, on the same network,
  // can: a client then waits on the execute promise by its name (client.ts).
  const builder = new OptionsBuilder({ match: options.match });
  const settleTimedOut = settleQueueTimeout(options.send, options.clock ?? Date.now);
  return function* submit(
    ctx: Context,
    submitted: unknown,
  ): Generator<unknown, JobResult | DetachedReceipt, unknown> {
    const reading = readJobSpec(submitted);
    // A root promise written by something other than modulate's client: refused as any invalid
    // submission is (below), where reading its fields threw and failed the orchestration.
    if (!reading.ok) return rejectedResult({ id: ctx.id, submittedAt: 0 }, "?", reading.problem, 0);
    const spec = reading.spec;
    const group = resolveGroup(options.routes, spec.group);
    const problem = submissionProblem(spec, group, options.limits);
    // Invalid now is invalid on every replay: answer with the reason instead of throwing,
    // so nothing retries it.
    if (problem) return rejectedResult(spec, group, problem, spec.submittedAt);
    const queueTimeoutMs = effectiveQueueTimeoutMs(spec, options.queueTimeoutMs);
    const routed: JobSpec = { ...spec, group, queueTimeoutMs };
    const execute = yield* ctx.detached<JobResult>(
      EXECUTE_FUNCTION,
      routed,
      builder.build({
        id: executeId(spec.id),
        target: group,
        timeout: queueTimeoutMs + spec.timeoutMs,
        tags: { [TAG.executeOf]: spec.id, [TAG.kind]: "execute", [TAG.group]: group },
      }),
    );
    // Made after the execute promise, so a worker gets the job without waiting for it: a
    // worker that comes first makes it itself (takeFromQueue). Detached: the job's own
    // promise must not wait for a deadline nobody needs any more.
    const deadline = yield* ctx.detached<unknown>(
      QUEUE_DEADLINE_FUNCTION,
      spec.id,
      builder.build({
        id: queueDeadlineId(spec.id),
        target: DEADLINE_ADDRESS,
        timeout: queueTimeoutMs,
        tags: deadlineTags(spec.id),
      }),
    );
    let taker: unknown;
    try {
      taker = yield* deadline;
    } catch {
      // A server that rejects a passed deadline instead of resolving it says the same.
      taker = undefined;
    }
    if (!isQueueTaker(taker)) return yield* ctx.run(settleTimedOut, routed);
    if (spec.mode === "detach")
      return { detached: true, id: spec.id, group, executeId: execute.id };
    return yield* execute;
  };
}

/**
 * Ends a job whose queue timeout passed before a worker took it: its execute promise is
 * settled with the timed_out record, so clients waiting on it wake, and its task goes to no
 * worker. Answers what the promise holds: a worker that got the job in the meantime found
 * the same deadline and answered the same.
 */
function settleQueueTimeout(send: Send, clock: () => number) {
  return async function settleQueueTimeout(_ctx: Context, spec: JobSpec): Promise<JobResult> {
    const result = queueTimedOutResult(spec, clock());
    const res = await send(
      request("promise.settle", {
        id: executeId(spec.id),
        state: "resolved",
        value: encodeValue(result),
      }),
    );
    if (!isOk(res))
      throw new Error(`could not end ${spec.id} at its queue timeout: ${JSON.stringify(res.data)}`);
    const held = decodeValue(res.data.promise.value);
    return isJobResult(held) ? held : result;
  };
}

export async function startRouter(options: RouterOptions): Promise<RunningRouter> {
  const { connection } = options;
  const network = new SdkNetwork(connection, ENTRY_GROUP, options.pid);
  const resonate = new Resonate({
    network,
    pid: options.pid,
    ttl: options.leaseMs,
    logLevel: "error",
  });
  const send = requestSender(connection);
  resonate.register(
    SUBMIT_FUNCTION,
    submitOrchestration({ ...options, match: (target) => network.match(target), send }),
  );
  const presence = new PresenceLease({
    send,
    group: ENTRY_GROUP,
    pid: options.pid,
    slots: 0,
    leaseMs: options.leaseMs,
  });
  await presence.start();
  return {
    async stop() {
      await presence.stop();
      await resonate.stop();
    },
  };
}
