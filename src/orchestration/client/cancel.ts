// Cancelling a job through any Resonate server. The job's execute promise is settled
// rejected_canceled with the job's record (who canceled it, when): every reader then reads the
// job as canceled, and the server completes the promise's task, so no worker takes the job
// afterwards, wherever it waited. A worker running it hears of it through a listener on that
// promise and kills the run (worker.ts). A job no router has routed yet gets its execute promise
// made and settled the same way, and its own promise is settled first: the router's writes are
// fenced by its task, which that settling ends, so no router routes it afterwards. A job that
// has ended is left as it is.
import { userInfo, hostname } from "node:os";
import { ExitCode, UserError } from "../../common/errors.ts";
import { finishAttempt } from "../attempts.ts";
import { isDetachedReceipt, type JobResult, type WorkerRef } from "../jobs/job.ts";
import { executeId, jobChildTags, queueTimeoutId, TAG } from "../jobs/names.ts";
import { SWEEP_TAG } from "../jobs/sweep.ts";
import { PollSource } from "../wire/poll-source.ts";
import { createTransport } from "../wire/transport.ts";
import {
  decodeValue,
  encodeValue,
  isOk,
  request,
  type Connection,
  type Send,
} from "../wire/wire.ts";
import {
  findExecute,
  getPromise,
  recordIn,
  settledWithoutRecord,
  viewJob,
  type JobView,
  type PromiseRecord,
} from "./view.ts";
import type { StopReason } from "../../sandbox/job-process.ts";

/** The record of a canceled job: the usual fields, and who canceled it and when. */
export interface CanceledRecord extends JobResult {
  state: "canceled";
  /** `user@host` of whoever ran `modulate cancel`. */
  canceledBy: string;
  /** Milliseconds since the epoch. */
  canceledAt: number;
}

/** Where a job stood when it was canceled. */
export type CanceledStage = "routing" | "queued" | "running";

export type CancelOutcome =
  | {
      kind: "canceled";
      id: string;
      was: CanceledStage;
      worker: WorkerRef | null;
      record: CanceledRecord;
    }
  /** It had ended already (or ended while being canceled): nothing changed. */
  | { kind: "ended"; id: string; record: JobResult }
  | { kind: "not-found"; id: string; problem: string };

/** Who is canceling, as records name them: `user@host`. */
export function canceler(env: NodeJS.ProcessEnv = process.env): string {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    // A uid with no passwd entry (a container's): the environment's name, else the number.
    user = env["USER"] ?? env["LOGNAME"] ?? String(process.getuid?.() ?? "?");
  }
  return `${user}@${hostname()}`;
}

export function isCanceledRecord(value: unknown): value is CanceledRecord {
  const record = value as Partial<CanceledRecord> | undefined;
  return (
    record?.state === "canceled" &&
    typeof record.canceledBy === "string" &&
    typeof record.canceledAt === "number"
  );
}

/** The record a canceled job ends with, from where it stood: its attempt and worker as known. */
export function canceledRecord(view: JobView, by: string, now: number): CanceledRecord {
  const { result } = view;
  const ranFor = result.startedAt === null ? 0 : Math.max(0, now - result.startedAt);
  return {
    ...result,
    state: "canceled",
    reason: `canceled by ${by} at ${new Date(now).toISOString()}`,
    exitCode: null,
    stdout: "",
    stderr: "",
    durationMs: ranFor,
    finishedAt: now,
    canceledBy: by,
    canceledAt: now,
  };
}

/** Settles `id` canceled with `value`; answers what it then holds, or undefined if it is not there. */
async function settleCanceled(
  send: Send,
  id: string,
  value: CanceledRecord,
): Promise<PromiseRecord | undefined> {
  const res = await send(
    request("promise.settle", { id, state: "rejected_canceled", value: encodeValue(value) }),
  );
  if (isOk(res)) return res.data.promise;
  if (res.head.status === 404) return undefined;
  throw new UserError(
    `the server refused to cancel ${id}: ${JSON.stringify(res.data)}`,
    ExitCode.unreachable,
  );
}

/** A canceled job's execute promise made by the cancel lives at least this long. */
const KEEP_MS = 60 * 60 * 1000;

/**
 * The execute promise of a job no router has routed yet, made already canceled: a router that
 * comes later finds it settled, and no task of it ever reaches a worker. Made without a target,
 * so the server makes no task for it at all; tagged as a router tags it, so `ls` finds it.
 */
async function createCanceled(
  send: Send,
  id: string,
  record: CanceledRecord,
  timeoutAt: number,
  /** More tags, as the router's would carry: a sweep's job's, its sweep's. */
  extraTags: Record<string, string> = {},
): Promise<PromiseRecord> {
  const made = await send(
    request("promise.create", {
      id,
      timeoutAt,
      param: encodeValue({ canceled: record.id }),
      tags: {
        [TAG.executeOf]: record.id,
        [TAG.kind]: "execute",
        [TAG.group]: record.group,
        ...extraTags,
        ...jobChildTags(record.id, id),
      },
    }),
  );
  if (!isOk(made)) {
    throw new UserError(
      `the server refused to cancel ${record.id}: ${JSON.stringify(made.data)}`,
      ExitCode.unreachable,
    );
  }
  // A router's (pending, with its task) may have come first: settled below either way.
  const settled = await settleCanceled(send, id, record);
  if (!settled) throw new Error(`${id} vanished while ${record.id} was being canceled`);
  return settled;
}

/**
 * The id of the job's call, where a router made one: its receipt in the job's promise says,
 * else (a router cut off before it answered) the call's tag; whatever name the router gave it.
 */
async function callOf(send: Send, id: string): Promise<string | undefined> {
  const root = await getPromise(send, id);
  const receipt = root?.state === "resolved" ? decodeValue(root.value) : undefined;
  if (isDetachedReceipt(receipt)) return receipt.executeId;
  return (await findExecute(send, id))?.id;
}

function ours(promise: PromiseRecord, record: CanceledRecord): boolean {
  const held = recordIn(promise);
  return promise.state === "rejected_canceled" && held !== undefined && isCanceledRecord(held)
    ? held.canceledAt === record.canceledAt && held.canceledBy === record.canceledBy
    : false;
}

/**
 * Cancels job `id` on behalf of `by` (`user@host`). Safe to repeat: a job canceled already
 * reads as ended (canceled), and a cancel cut short by a crash is finished by the next one.
 */
export async function cancelJob(
  send: Send,
  id: string,
  by: string,
  now: number,
): Promise<CancelOutcome> {
  let view: JobView;
  try {
    view = await viewJob(send, id);
  } catch (error) {
    if (error instanceof UserError && error.exitCode === ExitCode.notFound)
      return { kind: "not-found", id, problem: error.message };
    throw error;
  }
  if (view.finished) return { kind: "ended", id, record: view.result };
  const record = canceledRecord(view, by, now);
  let callId = await callOf(send, id);
  const routed = callId !== undefined;
  let rootSettled = false;
  let timeoutAt = now + KEEP_MS;
  if (callId === undefined) {
    // Not routed yet: the job's own promise first, so that no router routes it from now on (a
    // router's writes are fenced by its task, which settling the promise ends).
    const root = await settleCanceled(send, id, record);
    if (!root) return { kind: "not-found", id, problem: `no such job: ${id}` };
    const held = recordIn(root);
    if (held && !ours(root, record)) return { kind: "ended", id, record: held };
    rootSettled = true;
    timeoutAt = Math.max(root.timeoutAt, timeoutAt);
    // A router may have routed it meanwhile: then its call, else one made here under the
    // name a router gives it.
    callId = (await callOf(send, id)) ?? executeId(id);
  }
  const execute =
    (await settleCanceled(send, callId, record)) ??
    (await createCanceled(
      send,
      callId,
      record,
      timeoutAt,
      // So that the sweep's one search finds it (client/sweep.ts).
      view.spec.sweep ? { [SWEEP_TAG.of]: view.spec.sweep.id } : {},
    ));
  if (!ours(execute, record)) {
    // It ended (or was canceled by someone else) between the look and the settling.
    const held = recordIn(execute) ?? settledWithoutRecord(view.spec, record.group, execute);
    return { kind: "ended", id, record: held };
  }
  // A router older than receipts for every job waits for the call and copies its record into
  // the job's own promise: that one says canceled too (a receipt there stays as it is).
  if (!rootSettled) await settleCanceled(send, id, record);
  // The run's record closes as canceled: its worker closes it too (the same words) once its
  // processes are gone, but a worker that is down never would. The job's queue-timeout call
  // is settled too, so that no router is handed it at the deadline for nothing.
  await Promise.all([
    send(
      request("promise.settle", {
        id: queueTimeoutId(id),
        state: "resolved",
        value: encodeValue({ canceled: true }),
      }),
    ).catch(() => undefined),
    ...view.attempts
      .filter((attempt) => attempt.promiseState === "pending")
      .map((attempt) =>
        finishAttempt(send, attempt, { state: "canceled", reason: record.reason }).catch(
          () => undefined,
        ),
      ),
  ]);
  const running = view.result.state === "running";
  return {
    kind: "canceled",
    id,
    was: running ? "running" : routed ? "queued" : "routing",
    worker: running ? view.result.worker : null,
    record,
  };
}

// The worker's side: hearing that a job it runs was canceled.

/**
 * Where a worker's cancel watch listens: a group no promise targets, so no job's work is ever
 * sent there (a stream in the worker's own group would be handed executes meant for its SDK).
 */
const WATCH_GROUP = "modulate-client";

/**
 * How long a run goes on before its watch registers a listener (a write on the server, and an
 * unblock message when the job's answer settles it). Until then a cancel is seen by the
 * registration's answer, which carries the promise's state: at most this late, so a canceled
 * job whose script shrugs SIGTERM off is gone by this + the kill grace (1 s) + a round trip,
 * inside cancel's 2 s. Most short jobs end before it and never register at all.
 */
export const LISTEN_AFTER_MS = 500;

/**
 * How often a running job's watch registers again: an unblock message sent while the watch's
 * stream was down (a server restart) is lost, and the answer to a registration says it all.
 */
const REREGISTER_MS = 10_000;

/** A run's cut short because its job was canceled: the abort reason the sandbox sees. */
/**
 * How long a canceled job's processes get between SIGTERM and SIGKILL: the bar is every
 * process gone within 2 s of the cancel, so a script that ignores SIGTERM is killed after 1 s.
 */
export const CANCEL_KILL_GRACE_MS = 1_000;

/** Why a run was aborted: its job was canceled. Asks the sandbox for the short grace. */
export class JobCanceled extends Error implements StopReason {
  override readonly name = "JobCanceled";
  readonly killGraceMs = CANCEL_KILL_GRACE_MS;
}

/** One running job's watch (`CancelWatch.run`). */
export interface RunCancel {
  /** Aborts, with a JobCanceled reason, once the job is canceled. */
  readonly signal: AbortSignal;
  /**
   * True when the job was canceled before this run could start: the script must not start.
   * The answer to the read as the run begins; never rejects (false when the server did not
   * answer).
   */
  readonly before: Promise<boolean>;
  /** The job's record as the cancel wrote it, once it is canceled. */
  readonly record: JobResult | undefined;
  /** The run has ended: the watch stops. */
  end(): void;
}

export interface CancelWatch {
  /**
   * Tells the watch how a promise stood when another answer carried it (the worker's
   * task.acquire answer carries its task's promise), at `at` (performance.now()): a run of it
   * that begins soon after needs no read of its own (below).
   */
  seen(promise: PromiseRecord, at: number): void;
  /** Watches the job's execute promise `executeId` while its run lasts. */
  run(executeId: string): RunCancel;
  close(): void;
}

/** Promises seen and not yet run kept at most (a task acquired whose run never came). */
const SEEN_MAX = 256;

/**
 * How a worker hears that a job it runs was canceled (its execute promise settled
 * rejected_canceled). Whether the job was canceled before the run got it is read from the
 * promise as the task's acquire answer carried it (`seen`); a run begun without one reads it
 * as it begins, one `promise.get` (a read: no commit, no fsync), sent beside the run's claim.
 * A run still going `listenAfterMs` after that look (the acquire, or the read) registers a listener on the promise for a poll stream the worker
 * keeps for this alone: the registration's answer carries the promise's state, so a cancel
 * between the read and the registration is seen then, and the server's unblock message tells
 * of a later one at once. Nothing polls: a `promise.get` per running job per second would cost
 * a busy cluster thousands of requests a second (each carrying the job's script) to learn of a
 * rare event. Messages for promises no run watches any more (the worker's own answers, which
 * also unblock) are dropped, not kept.
 */
export function cancelWatch(
  connection: Connection,
  pid: string,
  options: { listenAfterMs?: number } = {},
): CancelWatch {
  const listenAfterMs = options.listenAfterMs ?? LISTEN_AFTER_MS;
  const transport = createTransport(connection);
  const source = new PollSource(transport, WATCH_GROUP, `${pid}-watch`);
  const watching = new Map<string, (promise: PromiseRecord) => void>();
  source.onReceive((message) => {
    if (message.kind === "unblock") watching.get(message.data.promise.id)?.(message.data.promise);
  });
  void source.init();
  const seen = new Map<string, { promise: PromiseRecord; at: number }>();
  return {
    seen(promise, at) {
      seen.delete(promise.id);
      seen.set(promise.id, { promise, at });
      if (seen.size > SEEN_MAX) for (const id of seen.keys()) if (seen.delete(id)) break;
    },
    run(executeId) {
      const known = seen.get(executeId);
      seen.delete(executeId);
      const cancel = new AbortController();
      let record: JobResult | undefined;
      let ended = false;
      let timer: NodeJS.Timeout | undefined;
      const end = (): void => {
        ended = true;
        clearTimeout(timer);
        watching.delete(executeId);
      };
      // Settled, canceled or not, the watch is over: a job settles once.
      const settled = (promise: PromiseRecord): void => {
        if (ended) return;
        end();
        if (promise.state !== "rejected_canceled") return;
        record = recordIn(promise) ?? canceledWithoutRecord(executeId);
        cancel.abort(new JobCanceled(record.reason));
      };
      watching.set(executeId, settled);
      const register = async (): Promise<void> => {
        try {
          const res = await transport.send(
            request("promise.register_listener", { awaited: executeId, address: source.unicast }),
          );
          if (isOk(res) && res.data.promise.state !== "pending") settled(res.data.promise);
        } catch {
          // The server is away: asked again below, as after a lost message.
        }
        if (!ended) timer = setTimeout(() => void register(), REREGISTER_MS);
      };
      // Listens only once the run has lasted: most jobs have ended by then. Counted from the
      // look that said how the promise stood, so a cancel after it is heard within the bound.
      const lookedAt = known?.at ?? performance.now();
      timer = setTimeout(
        () => void register(),
        Math.max(0, lookedAt + listenAfterMs - performance.now()),
      );
      // Was it canceled before the run got it? The acquire's answer said, when there was one;
      // else a read. The registration above, if the run lasts, sees a cancel after either.
      const look = async (): Promise<boolean> => {
        if (known) {
          if (known.promise.state !== "pending") settled(known.promise);
          return record !== undefined;
        }
        try {
          const res = await transport.send(request("promise.get", { id: executeId }));
          if (isOk(res) && res.data.promise.state !== "pending") settled(res.data.promise);
        } catch {
          // The server is away: the registration asks again.
        }
        return record !== undefined;
      };
      return {
        signal: cancel.signal,
        before: look(),
        get record() {
          return record;
        },
        end,
      };
    },
    close() {
      void source.stop();
      transport.close();
    },
  };
}

/** What a promise canceled by something other than `modulate cancel` ends a run with. */
function canceledWithoutRecord(executeId: string): JobResult {
  return {
    id: executeId,
    group: "",
    state: "canceled",
    reason: "canceled",
    exitCode: null,
    stdout: "",
    stderr: "",
    durationMs: 0,
    worker: null,
    attempt: 0,
    submittedAt: 0,
    startedAt: null,
    finishedAt: null,
  };
}
