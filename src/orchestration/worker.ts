// The worker: a member of one group that runs `execute` for each job routed there, at most
// `slots` at once, recording each attempt. Stopping hands running jobs back to the group.
import { Resonate, type Context } from "@resonatehq/sdk";
import { hostname } from "node:os";
import {
  claimAttempt,
  closeEarlierAttempts,
  finishAttempt,
  type AttemptRecord,
} from "./attempts.ts";
import { retriedReason, shouldRunAgain } from "./retries.ts";
import { cancelWatch } from "./client/cancel.ts";
import type {
  GpuInfo,
  JobOutputFile,
  JobResult,
  JobSpec,
  JobState,
  WorkerRef,
} from "./jobs/job.ts";
import type { GpuSets } from "../sandbox/gpus.ts";
import { WorkerResources } from "./worker-resources.ts";
import { EXECUTE_FUNCTION } from "./jobs/names.ts";
import { PresenceLease, type WorkerAnnouncement } from "./presence.ts";
import { queueTimedOutResult, takeAndClaim } from "./queue-deadline.ts";
import { AnswerDelivery, type AnswerDeliveryEvents } from "./answer-delivery.ts";
import { refusedAnswer, refusedResult } from "./refused-result.ts";
import { learnServerGeneration } from "./server-generation.ts";
import type { Generation } from "./wire/origins.ts";
import { SdkNetwork } from "./wire/sdk-network.ts";
import type { ServerLimits } from "./wire/server-limits.ts";
import { SlotGate } from "./slot-gate.ts";
import type { Connection, Send } from "./wire/wire.ts";

/** What running one attempt produced, as the sandbox reports it. */
export interface RunOutcome {
  state: Exclude<JobState, "pending" | "running">;
  reason: string;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  gpus?: string[];
  gpuInfo?: GpuInfo[];
  outputs?: JobOutputFile[];
}

/** What the worker lent this attempt before it took the task: its GPU set. */
export interface RunGrant {
  /** The GPU ids it holds (CUDA_VISIBLE_DEVICES); [] for none. */
  gpuIds: readonly string[];
  /** GPUs the worker has at all: where it has some, a job holding none sees none. */
  gpusOnWorker: number;
}

export interface JobRunner {
  /**
   * Runs one attempt. `attempt` may still be on its way from the server: the runner prepares
   * what does not depend on it meanwhile, and rejects if it rejects.
   */
  run(
    spec: JobSpec,
    attempt: number | Promise<number>,
    signal: AbortSignal,
    grant?: RunGrant,
  ): Promise<RunOutcome>;
}

export interface WorkerEvents {
  onStart?(spec: JobSpec, attempt: number): void;
  onFinish?(spec: JobSpec, result: JobResult): void;
  /** Attempt `attempt` failed, and the job runs again (`--retries`). */
  onRetry?(spec: JobSpec, attempt: number, outcome: RunOutcome): void;
  /** How an answer fared on its way to the server, where it did not simply land. */
  onAnswerNote?(taskId: string, note: string): void;
}

export interface WorkerOptions {
  connection: Connection;
  group: string;
  slots: number;
  /** A worker silent this long loses its jobs to a peer of its group. */
  leaseMs: number;
  pid: string;
  runner: JobRunner;
  /** Learns the server's request limit from its answers; the runner fits results to it. */
  serverLimits?: ServerLimits;
  events?: WorkerEvents;
  /** What `modulate workers` shows of it: GPUs, sandbox, version. */
  announcement?: WorkerAnnouncement;
  /**
   * The GPU sets it hands out: a job is taken only once the GPUs it asks for are free here,
   * and one asking for more than this worker has is left to a peer.
   */
  gpus?: GpuSets;
  /** Names of the interpreters it declares: a job asking for another is left to a peer. */
  interpreters?: readonly string[];
  /**
   * Jobs acquired ahead while every slot runs one, so that a freed slot starts its next job
   * without waiting on the network (slot-gate.ts); one held ahead is handed on to the group
   * if no slot frees within a second. Default 1; 0 turns it off.
   */
  prefetch?: number;
  clock?: () => number;
}

export interface RunningWorker {
  readonly busy: number;
  /** The server's generation, which decides how the ids of what jobs create nest. */
  readonly generation: Generation;
  stop(): Promise<void>;
}

/** Jobs a worker acquires ahead of a free slot unless told (`--prefetch`). */
export const DEFAULT_PREFETCH = 1;

/** A stopping worker waits this long for answers on their way before it hands tasks back. */
const ANSWER_SETTLE_MS = 5_000;

function answerNotes(events: WorkerEvents | undefined): AnswerDeliveryEvents {
  const note = (taskId: string, text: string): void => events?.onAnswerNote?.(taskId, text);
  return {
    onDelivered: (id, failed, first) =>
      note(id, `delivered after ${failed} failed sends (the first: ${first})`),
    onRefused: (id, reason) => note(id, `refused by the server (${reason}): answered failed`),
    onReacquired: (id, version) => note(id, `lease had lapsed: acquired again at ${version}`),
    onLost: (id, reason) => note(id, `not taken (${reason}): the task is no longer ours`),
  };
}

/** Attempt records outlive the run by this much, so `get` can still show the history. */
const ATTEMPT_KEEP_MS = 60 * 60 * 1000;

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const { connection, group, pid, clock = Date.now } = options;
  const generation = await learnServerGeneration(connection);
  // The answer's layer sits under the gate: a task's slot stays taken until its answer lands.
  const network = new SdkNetwork(connection, group, pid, options.serverLimits);
  const answers = new AnswerDelivery(network, {
    pid,
    leaseMs: options.leaseMs,
    replaceRefused: refusedAnswer,
    events: answerNotes(options.events),
  });
  // Every offered job's needs are read before it is taken (one promise.get per offer).
  const resources = new WorkerResources({
    send: answers.send,
    gpus: options.gpus,
    interpreters: options.interpreters ?? [],
  });
  // The cancel watch reads whether a job was canceled before its run from the task's acquire
  // answer, which the gate sees: no read of its own per job.
  const watch = cancelWatch(connection, pid);
  const gate = new SlotGate(answers, {
    slots: options.slots,
    resources,
    handOn: { pid, ttl: options.leaseMs },
    prefetch: options.prefetch ?? DEFAULT_PREFETCH,
    onAcquired: (promise, sentAt) => watch.seen(promise, sentAt),
  });
  const send: Send = gate.send;
  const resonate = new Resonate({ network: gate, pid, ttl: options.leaseMs, logLevel: "error" });
  const worker: WorkerRef = { host: hostname(), pid, group };
  const stopping = new AbortController();

  resonate.register(EXECUTE_FUNCTION, async (ctx: Context, spec: JobSpec): Promise<JobResult> => {
    const startedAt = clock();
    // A cancel ends this run only; one canceled before the run got here never starts its script.
    const cancel = watch.run(ctx.id);
    // The job is ours once we take it from its queue before its queue timeout does
    // (queue-deadline.ts); undefined when the timeout won. The claim's round trip overlaps
    // the making of the job's directory and limits; the script starts only once its attempt
    // is on record.
    const claim = takeAndClaim(send, spec, worker, startedAt, spec.timeoutMs + ATTEMPT_KEEP_MS);
    const attemptNumber = Promise.all([claim, cancel.before]).then(([record, canceled]) => {
      if (canceled) return Promise.reject(new Error(`${spec.id} was canceled`));
      return record?.attempt ?? Promise.reject(new Error(`${spec.id} timed out in its queue`));
    });
    // Handled below through `claim`; the runner may look at it only after its own waits.
    attemptNumber.catch(() => undefined);
    const signal = AbortSignal.any([stopping.signal, cancel.signal]);
    // Every run of the job, retries too, holds the GPU set the gate lent it: a retry given
    // none would see every GPU of the worker.
    const grant: RunGrant = {
      gpuIds: resources.gpusOf(ctx.id),
      gpusOnWorker: options.gpus?.size ?? 0,
    };
    const running = options.runner.run(spec, attemptNumber, signal, grant);
    let claimed: AttemptRecord | undefined;
    try {
      claimed = await claim;
    } catch (error) {
      // Not recorded, so not run: the SDK retries the call, or a peer takes it.
      cancel.end();
      await running.catch(() => undefined);
      throw error;
    }
    if (!claimed) {
      // Its queue timeout passed before any worker took it: nothing runs, and the answer is
      // the record the router settles the job with.
      cancel.end();
      await running.catch(() => undefined);
      const timedOut = queueTimedOutResult(spec, clock());
      options.events?.onFinish?.(spec, timedOut);
      return timedOut;
    }
    let attempt = claimed;
    let runStartedAt = startedAt;
    let pending = running;
    let outcome: RunOutcome;
    try {
      for (;;) {
        // A retry starts only while the job is not canceled (below); the first run, unless
        // it was canceled before it got here.
        if (attempt !== claimed || !(await cancel.before))
          options.events?.onStart?.(spec, attempt.attempt);
        outcome = await pending.catch((error: unknown): RunOutcome => ({
          state: "failed",
          reason: `worker error: ${error instanceof Error ? error.message : String(error)}`,
          exitCode: null,
          stdout: "",
          stderr: "",
          durationMs: clock() - runStartedAt,
        }));
        if (cancel.record || signal.aborted) break;
        if (!(await shouldRunAgain(send, spec, attempt.attempt, outcome.state))) break;
        // The failed run is on record before the next is claimed: a crash from here on finds
        // it there, and counts it (retries.ts).
        await finishAttempt(send, attempt, {
          state: outcome.state,
          reason: retriedReason(outcome.reason, outcome.exitCode),
        });
        options.events?.onRetry?.(spec, attempt.attempt, outcome);
        // Canceled or stopping meanwhile: no run starts (a stopping worker's peer counts this
        // failed run from its record, as this one would have).
        if (cancel.record || signal.aborted) break;
        runStartedAt = clock();
        attempt = await claimAttempt(
          send,
          spec.id,
          worker,
          runStartedAt,
          spec.timeoutMs + ATTEMPT_KEEP_MS,
        );
        pending = options.runner.run(spec, attempt.attempt, signal, grant);
      }
    } finally {
      cancel.end();
    }
    const record = cancel.record;
    if (record) {
      // Every process of the run is gone (the runner resolves only then). The job's record is
      // the one the cancel wrote: this answer finds the promise settled and changes nothing.
      void finishAttempt(send, attempt, { state: "canceled", reason: record.reason }).catch(
        () => undefined,
      );
      options.events?.onFinish?.(spec, record);
      return record;
    }
    if (stopping.signal.aborted) {
      // Shutting down: the job was cut short by us, not by the script. Never answer, so the
      // lease lapses (or the release below lands) and a peer runs it again.
      return new Promise<JobResult>(() => {});
    }
    const result: JobResult = {
      id: spec.id,
      group: spec.group,
      ...outcome,
      worker,
      attempt: attempt.attempt,
      submittedAt: spec.submittedAt,
      startedAt: runStartedAt,
      finishedAt: clock(),
    };
    // The attempt's record closes once the answer's fate is known: after the answer, so that
    // the answer does not wait behind that record's commit, and with what the server took (a
    // refused result ends the job failed). Earlier attempts' records close too: their runs
    // died, and the job has ended.
    void answers
      .fateOf(ctx.id)
      .then((fate) => {
        const ended = fate.kind === "refused" ? refusedResult(result, fate.reason) : result;
        return Promise.all([
          finishAttempt(send, attempt, { state: ended.state, reason: ended.reason }),
          closeEarlierAttempts(send, spec.id, attempt.attempt),
        ]);
      })
      .catch(() => undefined);
    options.events?.onFinish?.(spec, result);
    return result;
  });

  const presence = new PresenceLease({
    send,
    group,
    pid,
    slots: options.slots,
    leaseMs: options.leaseMs,
    ...(options.announcement ? { announcement: options.announcement } : {}),
  });
  await presence.start();
  return {
    generation,
    get busy() {
      return gate.busy;
    },
    async stop() {
      stopping.abort();
      // Answers still on their way get a moment to land before their tasks are handed back.
      await answers.settle(ANSWER_SETTLE_MS);
      // Off the group's poll first: the server offers a released task to a member of the
      // group at once, and offered to this one it would wait for the server's pending retry.
      await network.stopReceiving();
      await gate.releaseAll();
      await presence.stop();
      watch.close();
      await resonate.stop();
    },
  };
}
