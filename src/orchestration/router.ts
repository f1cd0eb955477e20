// The router: a member of the `entry` group running one durable orchestration per submission.
// It validates, resolves the group, and starts `execute` there with the job's queue deadline
// and queue-timeout call beside it (queue-deadline.ts), then returns a receipt naming the
// execute promise, where the job's record will be: it waits for nothing, so a job costs the
// routers one short task. At the deadline the server hands one router the job's queue-timeout
// call, which ends the job timed_out if no worker took it. A restarted router replays the
// orchestration and re-attaches to the promises it already made.
import { OptionsBuilder, Resonate, type Context } from "@resonatehq/sdk";
import {
  notRunResult,
  rejectedResult,
  type DetachedReceipt,
  type JobResult,
  type JobSpec,
} from "./jobs/job.ts";
import {
  afterId,
  ENTRY_GROUP,
  EXECUTE_FUNCTION,
  executeId,
  jobChildTags,
  QUEUE_DEADLINE_FUNCTION,
  QUEUE_TIMEOUT_FUNCTION,
  queueDeadlineId,
  queueTimeoutId,
  SUBMIT_FUNCTION,
  TAG,
} from "./jobs/names.ts";
import { readJobSpec } from "./jobs/job-param.ts";
import { timeBucketTags } from "./jobs/time-buckets.ts";
import { ModulateClient } from "./client.ts";
import {
  awaitDependencies,
  dependencyFailure,
  DEPENDENCY_WAIT_MS,
  type DependencyEnding,
  type WaitForJob,
} from "./dependencies.ts";
import { childId } from "./jobs/lineage.ts";
import { isHeldInLane, laneAfter, SWEEP_TAG, sweepJobId } from "./jobs/sweep.ts";
import { readHeldSpec } from "./sweep-lane.ts";
import { PresenceLease } from "./presence.ts";
import {
  DEADLINE_ADDRESS,
  deadlineTags,
  effectiveQueueTimeoutMs,
  endAtQueueTimeout,
  queueTimeoutCall,
  queueTimeoutTags,
  type QueueTimeoutCall,
  type QueueTimeoutOutcome,
} from "./queue-deadline.ts";
import { resolveGroup, type Routes } from "./jobs/routes.ts";
import { learnServerGeneration } from "./server-generation.ts";
import type { Generation } from "./wire/origins.ts";
import { SdkNetwork } from "./wire/sdk-network.ts";
import { submissionProblem, type SubmissionLimits } from "./jobs/validate-submission.ts";
import { abortableSleep, requestSender, type Connection, type Send } from "./wire/wire.ts";

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
  /** Told of each job routed or refused, and of each queue timeout run (the process log). */
  events?: RouterEvents;
}

/** What the router tells its process log; a replayed orchestration may tell a job twice. */
export interface RouterEvents {
  onRouted?(jobId: string, group: string): void;
  onRejected?(jobId: string, reason: string): void;
  /** `outcome`: "taken" (a worker had taken the job) or "timed_out" (it ended it). */
  onQueueTimeout?(jobId: string, outcome: "taken" | "timed_out"): void;
}

export interface RunningRouter {
  /** The server's generation, which decides how the ids of what jobs create nest. */
  readonly generation: Generation;
  stop(): Promise<void>;
}

/** The orchestration itself, apart from the process around it. */
export function submitOrchestration(
  options: Pick<RouterOptions, "routes" | "limits" | "queueTimeoutMs" | "events"> & {
    /** The network's mapping of a group name to its address, as `ctx.options` uses. */
    match: (target: string) => string;
    clock?: () => number;
    /** Follows a job to its end, for a job that waits for others (dependencies.ts). */
    waitForJob?: WaitForJob;
    /**
     * The spec of a sweep's job that no router has routed yet (its root's), for the job whose
     * lane holds it (sweep-lane.ts); undefined where there is none or it was routed already.
     */
    readHeldSpec?: (id: string) => Promise<JobSpec | undefined>;
    /** The server's generation: a sweep's cap needs awaits that a ':' server refuses. */
    generation?: Generation;
  },
) {
  // ctx.options cannot name the call's promise; the SDK's own builder, on the same network,
  // can: a client then waits on the execute promise by its name (client.ts).
  const builder = new OptionsBuilder({ match: options.match });
  // Targets go in as addresses: the builder tells a group name from an address by parsing it
  // as a URL, and a name costs that parse's thrown error, twice a job.
  const entryAddress = options.match(ENTRY_GROUP);
  const clock = options.clock ?? Date.now;
  const waitForJob: WaitForJob =
    options.waitForJob ??
    (() => Promise.reject(new Error("this router cannot wait for dependencies")));
  // Named, since the SDK records the function's name in the step's promise.
  const awaitJobDependencies = (_ctx: Context, ids: string[]): Promise<DependencyEnding[]> =>
    awaitDependencies(waitForJob, ids);
  const readHeldSpec = options.readHeldSpec ?? (() => Promise.resolve(undefined));

  /** Starts `execute` for a valid spec with its queue deadline and timeout call beside it. */
  function* route(ctx: Context, spec: JobSpec, group: string) {
    const queueTimeoutMs = effectiveQueueTimeoutMs(spec, options.queueTimeoutMs);
    const routed: JobSpec = { ...spec, group, queueTimeoutMs };
    const execute = yield* ctx.detached<JobResult>(
      EXECUTE_FUNCTION,
      routed,
      builder.build({
        id: executeId(spec.id),
        target: options.match(group),
        timeout: queueTimeoutMs + runsAllowedMs(spec),
        tags: {
          [TAG.executeOf]: spec.id,
          [TAG.kind]: "execute",
          [TAG.group]: group,
          // The root's buckets: plain `ls` finds the newest outstanding jobs through them.
          ...timeBucketTags(spec.submittedAt),
          ...(spec.sweep ? { [SWEEP_TAG.of]: spec.sweep.id } : {}),
          ...jobChildTags(spec.id, executeId(spec.id)),
        },
      }),
    );
    // Made after the execute promise, so a worker gets the job without waiting for them: a
    // worker that comes first makes the deadline itself (queue-deadline.ts). Detached, and
    // never awaited: the job's own promise waits for neither.
    yield* ctx.detached<unknown>(
      QUEUE_DEADLINE_FUNCTION,
      spec.id,
      builder.build({
        id: queueDeadlineId(spec.id),
        target: DEADLINE_ADDRESS,
        timeout: queueTimeoutMs,
        tags: { ...deadlineTags(spec.id), ...jobChildTags(spec.id, queueDeadlineId(spec.id)) },
      }),
    );
    // Delivered to a router at the deadline, not before; it must outlive that moment, and
    // lives as long as the job may.
    const deliverAt = clock() + queueTimeoutMs;
    yield* ctx.detached<QueueTimeoutOutcome>(
      QUEUE_TIMEOUT_FUNCTION,
      queueTimeoutCall(routed, deliverAt),
      builder.build({
        id: queueTimeoutId(spec.id),
        target: entryAddress,
        timeout: queueTimeoutMs + runsAllowedMs(spec),
        tags: {
          ...queueTimeoutTags(routed, deliverAt),
          ...jobChildTags(spec.id, queueTimeoutId(spec.id)),
        },
      }),
    );
    return execute;
  }

  return function* submit(
    ctx: Context,
    submitted: unknown,
  ): Generator<unknown, JobResult | DetachedReceipt, unknown> {
    const reading = readJobSpec(submitted);
    // A root promise written by something other than modulate's client: refused as any invalid
    // submission is (below), where reading its fields threw and failed the orchestration.
    if (!reading.ok) {
      options.events?.onRejected?.(ctx.id, reading.problem);
      return rejectedResult({ id: ctx.id, submittedAt: 0 }, "?", reading.problem, 0);
    }
    const spec = reading.spec;
    const group = resolveGroup(options.routes, spec.group);
    const problem =
      submissionProblem(spec, group, options.limits) ??
      (spec.sweep?.maxRunning !== undefined && options.generation === "colon"
        ? "a sweep's --max-running needs a Resonate server with '.' lineage or none (this one reads origins up to ':'): submit without the cap"
        : undefined);
    // Invalid now is invalid on every replay: answer with the reason instead of throwing,
    // so nothing retries it.
    if (problem) {
      options.events?.onRejected?.(spec.id, problem);
      return rejectedResult(spec, group, problem, spec.submittedAt);
    }
    if (spec.after && spec.after.ids.length > 0) {
      // Before anything of the job exists but this step: its queue timeout starts once the
      // dependencies let it go (the deadline is made below, after the wait).
      const endings = yield* ctx.run(
        awaitJobDependencies,
        spec.after.ids,
        builder.build({
          id: afterId(spec.id),
          timeout: DEPENDENCY_WAIT_MS,
          tags: jobChildTags(spec.id, afterId(spec.id)),
        }),
      );
      const failure = dependencyFailure(spec.after, endings);
      if (failure) return notRunResult(spec, { group, state: "failed", reason: failure }, clock());
    }
    const receipt: DetachedReceipt = {
      detached: true,
      id: spec.id,
      group,
      executeId: executeId(spec.id),
    };
    // A capped sweep's later job waits for the head of its lane to route it (below).
    if (isHeldInLane(spec.sweep)) return receipt;
    const execute = yield* route(ctx, spec, group);
    options.events?.onRouted?.(spec.id, group);
    // The head of a capped sweep's lane (jobs k, k+m, k+2m, ...) routes each next job of its
    // lane once the one before has ended, so at most m of the sweep run at once, durably: a
    // restarted router replays this and goes on where it was.
    const member = spec.sweep;
    let running: typeof execute | undefined = execute;
    for (const next of member ? laneAfter(member) : []) {
      if (running) yield* endOf(running);
      running = undefined;
      if (!member) break;
      const nextId = sweepJobId(member.id, next);
      const held = yield* ctx.run(
        (_ctx: Context, id: string) => readHeldSpec(id),
        nextId,
        builder.build({
          id: childId(spec.id, `lane-${next}`),
          tags: jobChildTags(spec.id, childId(spec.id, `lane-${next}`)),
        }),
      );
      // Canceled or routed already, or never written: the lane goes on with the one after.
      if (!held || held.sweep?.id !== member.id) continue;
      const heldGroup = resolveGroup(options.routes, held.group);
      if (submissionProblem(held, heldGroup, options.limits)) continue;
      running = yield* route(ctx, held, heldGroup);
    }
    if (running && running !== execute) yield* endOf(running);
    // Waiting or detached, the record is in the execute promise; a waiting client watches it.
    return { ...receipt, executeId: execute.id };
  };
}

/** How long the job's runs may take in all: one, and one more for each retry it asks for. */
export function runsAllowedMs(spec: Pick<JobSpec, "timeoutMs" | "retries">): number {
  return spec.timeoutMs * (1 + (spec.retries ?? 0));
}

/** Waits for a job's execute promise to end, however it ends. */
function* endOf(execute: Iterable<unknown, unknown, unknown>): Generator<unknown, void, unknown> {
  try {
    yield* execute;
  } catch {
    // Failed, timed out or canceled: ended all the same.
  }
}

/**
 * The routers' function for a job's queue-timeout call (queue-deadline.ts). A server that
 * does not honour `resonate:delay` (v0.9.8) hands the call over at once: it then waits here,
 * holding the call's task, until the deadline. A router that stops meanwhile gives the call
 * back, and a peer takes it up.
 */
export function queueTimeoutFunction(
  send: Send,
  stop: AbortSignal,
  clock: () => number = Date.now,
  events?: RouterEvents,
) {
  return async function queueTimeout(
    _ctx: Context,
    call: QueueTimeoutCall,
  ): Promise<QueueTimeoutOutcome> {
    const early = call.deliverAt - clock();
    if (early > 0) await abortableSleep(early, stop);
    if (stop.aborted) throw new Error(`stopping: the queue timeout of ${call.id} goes to a peer`);
    const outcome = await endAtQueueTimeout(send, call, clock());
    events?.onQueueTimeout?.(call.id, outcome.taken ? "taken" : "timed_out");
    return outcome;
  };
}

export async function startRouter(options: RouterOptions): Promise<RunningRouter> {
  const { connection } = options;
  const generation = await learnServerGeneration(connection);
  const network = new SdkNetwork(connection, ENTRY_GROUP, options.pid);
  const resonate = new Resonate({
    network,
    pid: options.pid,
    ttl: options.leaseMs,
    logLevel: "error",
  });
  const send = requestSender(connection);
  const stopping = new AbortController();
  // Follows the jobs that others wait for, as any client follows a job: one listener stream
  // for every wait of this router.
  const follower = new ModulateClient(connection);
  resonate.register(
    SUBMIT_FUNCTION,
    submitOrchestration({
      ...options,
      match: (target) => network.match(target),
      waitForJob: (id) => follower.waitForJob(id, "detach", stopping.signal),
      readHeldSpec: (id) => readHeldSpec(send, id),
      generation,
    }),
  );
  resonate.register(
    QUEUE_TIMEOUT_FUNCTION,
    queueTimeoutFunction(send, stopping.signal, Date.now, options.events),
  );
  const presence = new PresenceLease({
    send,
    group: ENTRY_GROUP,
    pid: options.pid,
    slots: 0,
    leaseMs: options.leaseMs,
    // A client that submits to a machine type learns here which group the job will wait in.
    routes: Object.fromEntries(options.routes),
  });
  await presence.start();
  return {
    generation,
    async stop() {
      stopping.abort();
      await presence.stop();
      await resonate.stop();
      await follower.close();
    },
  };
}
