// The client side of modulate, shared by the CLI and the dashboard: submit a job, wait for
// it, and read where it stands, through any Resonate server.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { ExitCode, UserError } from "../common/errors.ts";
import { formatBytes } from "../common/units.ts";
import { base64Bytes, DEFAULT_MAX_BODY_BYTES, maxValueJsonBytes } from "../common/limits.ts";
import { scriptKindProblem } from "../sandbox/script-kind.ts";
import { listAttempts, type AttemptView } from "./attempts.ts";
import { isDetachedReceipt, isJobResult, type JobResult, type JobSpec } from "./job.ts";
import { specOfParam } from "./job-param.ts";
import { ENTRY_GROUP, executeId, processPid, SUBMIT_FUNCTION, TAG } from "./names.ts";
import { backoffDelayMs, SERVER_RETRY, type BackoffPolicy } from "./backoff.ts";
import { anycastAddress } from "./poll-address.ts";
import { submissionDifferences } from "./same-submission.ts";
import { listLiveWorkers, whyWaiting } from "./presence.ts";
import { takeSnapshot, type ClusterSnapshot } from "./snapshot.ts";
import { openListener, PromiseNotFound, type Listener } from "./listener.ts";
import { createTransport, ServerUnavailable, type Transport } from "./transport.ts";
import {
  abortableSleep,
  decodeValue,
  encodeValue,
  isOk,
  isUnreachable,
  request,
  senderOver,
  unreachable,
  type Connection,
  type Send,
} from "./wire.ts";

type PromiseRecord = {
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

export interface Submitted {
  id: string;
  /** True when a job with this id already existed: nothing new was started. */
  existing: boolean;
}

/** Time beyond a job's own limits before its promises give up, so bookkeeping can finish. */
const MARGIN_MS = 60 * 60 * 1000;

export class ModulateClient {
  readonly #connection: Connection;
  readonly #transport: Transport;
  readonly #send: Send;
  #listener: Promise<Listener> | undefined;

  constructor(connection: Connection) {
    this.#connection = connection;
    this.#transport = createTransport(connection);
    this.#send = senderOver(this.#transport, connection);
  }

  /**
   * Durable once this resolves: the router will run it even if this process dies now. The
   * job's root promise is written exactly as the SDK writes a top-level call (`beginRpc`),
   * so routers running the SDK execute it; modulate's own client needs no SDK to do it.
   */
  async submit(spec: JobSpec, queueTimeoutMs: number): Promise<Submitted> {
    refuseUnrunnable(spec);
    const call = { func: SUBMIT_FUNCTION, args: [spec], version: 1 };
    refuseOversized(spec, call);
    const created = await this.#send(
      request("promise.create", {
        id: spec.id,
        timeoutAt: Date.now() + queueTimeoutMs + spec.timeoutMs + MARGIN_MS,
        param: encodeValue(call),
        tags: {
          [TAG.kind]: "job",
          [TAG.group]: spec.group,
          // A top-level call is its own lineage: origin, branch and parent are its id.
          "resonate:origin": spec.id,
          "resonate:branch": spec.id,
          "resonate:parent": spec.id,
          "resonate:scope": "global",
          "resonate:target": anycastAddress(ENTRY_GROUP),
        },
      }),
    );
    if (!isOk(created)) {
      throw new UserError(
        `the server refused the submission: ${JSON.stringify(created.data)}`,
        ExitCode.unreachable,
      );
    }
    // Creating an existing promise answers with that promise, unchanged: if its submission
    // is not this one, the id was taken before and nothing new starts.
    const stored = specOfParam(created.data.promise.param, SUBMIT_FUNCTION);
    if (stored.ok && stored.spec.submittedAt === spec.submittedAt)
      return { id: spec.id, existing: false };
    if (!stored.ok) {
      throw new UserError(
        `--id ${spec.id} is taken on the server by something that is not a modulate job: pick another id; nothing was submitted`,
      );
    }
    const differences = submissionDifferences(stored.spec, spec);
    if (differences.length > 0) {
      throw new UserError(
        `--id ${spec.id} is already the id of a job with a different ${differences.join(", ")}: pick another id (or resubmit the same script and options to follow that job); nothing was submitted`,
      );
    }
    return { id: spec.id, existing: true };
  }

  /**
   * Waits for the job's final record. The router settles a waiting job's own promise one
   * round of replay after the worker settles the execute promise, so both are watched and
   * the first record wins. A detached job's receipt leads to its execute promise as soon as a
   * router has routed it: pass `mode` "detach" and its execute promise is not looked for
   * before (a client waiting for many queued jobs would otherwise ask again and again).
   */
  async waitForJob(id: string, mode?: JobSpec["mode"], stop?: AbortSignal): Promise<JobResult> {
    const done = new AbortController();
    // Stopping the wait (Ctrl+C, SIGTERM) ends every retry and recheck at once, so that the
    // process can exit even while the server is away; the wait then rejects.
    const onStop = (): void => done.abort(stop?.reason);
    if (stop?.aborted) onStop();
    stop?.addEventListener("abort", onStop, { once: true });
    try {
      const listener = await untilReachable(() => this.#listen(), done.signal);
      return await Promise.race([
        this.#waitThroughJob(id, done.signal),
        ...(mode === "detach" ? [] : [waitForExecute(listener, executeId(id), done.signal)]),
        ...(stop ? [rejectWhenAborted(done.signal)] : []),
      ]);
    } finally {
      stop?.removeEventListener("abort", onStop);
      done.abort();
    }
  }

  async #waitThroughJob(id: string, abandon: AbortSignal): Promise<JobResult> {
    let promiseId = id;
    for (;;) {
      const listener = await untilReachable(() => this.#listen(), abandon);
      const promise = await untilReachable(() => listener.settled(promiseId, abandon), abandon);
      if (promise.state !== "resolved") return (await this.getJob(id)).result;
      const value = decodeValue(promise.value);
      if (isJobResult(value)) return value;
      if (isDetachedReceipt(value)) {
        promiseId = value.executeId;
        continue;
      }
      throw new Error(
        `job ${id} ended with a value modulate does not know: ${JSON.stringify(value)}`,
      );
    }
  }

  async getJob(id: string): Promise<JobView> {
    const root = await this.#getPromise(id);
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
    const attempts = await listAttempts(this.#send, id);
    const done = (result: JobResult): JobView => ({ result, finished: true, spec, attempts });

    if (root.state === "resolved") {
      const value = decodeValue(root.value);
      if (isJobResult(value)) return done(value);
      if (isDetachedReceipt(value)) {
        const execute = await this.#getPromise(value.executeId);
        return this.#fromExecute(spec, value.group, execute, attempts);
      }
    }
    if (root.state !== "pending") return done(settledWithoutRecord(spec, spec.group, root));
    return this.#fromExecute(spec, spec.group, await this.#findExecute(id), attempts);
  }

  /** Live workers and every unfinished job: what the dashboard shows. */
  async snapshot(): Promise<ClusterSnapshot> {
    return takeSnapshot(this.#send, Date.now());
  }

  async close(): Promise<void> {
    const listener = this.#listener;
    this.#listener = undefined;
    // A listener still opening (the server is away) is closed once it opens; waiting for it
    // here would keep a stopped command running for as long as the server stays away.
    void listener?.then(
      (opened) => opened.close(),
      () => undefined,
    );
    this.#transport.close();
    await Promise.resolve();
  }

  /** One listener stream per client, opened on first wait; reopened after a failed open. */
  #listen(): Promise<Listener> {
    this.#listener ??= openListener(
      this.#transport,
      "modulate-client",
      // Several clients in one process (the dashboard, a test) each listen on their own.
      `${processPid("client", hostname(), process.pid)}-${randomBytes(3).toString("hex")}`,
    ).catch((error: unknown) => {
      this.#listener = undefined;
      throw error instanceof ServerUnavailable ? unreachable(this.#connection, error) : error;
    });
    return this.#listener;
  }

  async #fromExecute(
    spec: JobSpec,
    group: string,
    execute: PromiseRecord | undefined,
    attempts: AttemptView[],
  ): Promise<JobView> {
    if (execute && execute.state === "resolved") {
      const value = decodeValue(execute.value);
      if (isJobResult(value)) return { result: value, finished: true, spec, attempts };
    }
    if (execute && execute.state !== "pending") {
      return { result: settledWithoutRecord(spec, group, execute), finished: true, spec, attempts };
    }
    const workers = await listLiveWorkers(this.#send);
    const last = attempts[attempts.length - 1];
    const base = inProgress(spec, group, attempts);
    if (!execute) {
      const routers = workers.filter((w) => w.group === ENTRY_GROUP).length;
      base.reason =
        routers === 0
          ? "no live router: start one with 'modulate router'"
          : "waiting for a router to route it";
      return { result: base, finished: false, spec, attempts };
    }
    if (last && last.promiseState === "pending") {
      const alive = workers.some((w) => w.pid === last.worker.pid);
      if (alive) {
        base.state = "running";
        base.reason = `running on ${last.worker.host} (${last.worker.pid})`;
      } else {
        base.reason = `worker ${last.worker.pid} stopped answering: the job goes to another worker of group ${group} when its lease lapses`;
      }
      return { result: base, finished: false, spec, attempts };
    }
    base.reason = whyWaiting(workers, group) ?? `waiting for a worker of group ${group} to take it`;
    return { result: base, finished: false, spec, attempts };
  }

  async #getPromise(id: string): Promise<PromiseRecord | undefined> {
    const res = await this.#send(request("promise.get", { id }));
    return isOk(res) ? res.data.promise : undefined;
  }

  async #findExecute(jobId: string): Promise<PromiseRecord | undefined> {
    const res = await this.#send(
      request("promise.search", { tags: { [TAG.executeOf]: jobId }, limit: 10 }),
    );
    return isOk(res) ? res.data.promises[0] : undefined;
  }
}

/**
 * Looking again for a job's execute promise: at once at first, as a router routes a job in
 * milliseconds, then more and more rarely, up to every 2 s, for a job that waits for a router.
 */
const EXECUTE_LOOKUP_RETRY: BackoffPolicy = { firstMs: 2, maxMs: 2_000 };

/**
 * Resolves with the record the job's execute promise holds once it settles. It exists once
 * a router has routed the job, so until then it is looked for again, more and more rarely.
 * Never resolves if the promise ends without a record (a timeout), or `stop` aborts first:
 * the job's own promise then tells.
 */
async function waitForExecute(
  listener: Listener,
  promiseId: string,
  stop: AbortSignal,
): Promise<JobResult> {
  for (let failures = 0; !stop.aborted; failures++) {
    try {
      const promise = await listener.settled(promiseId, stop);
      const value = promise.state === "resolved" ? decodeValue(promise.value) : undefined;
      if (isJobResult(value)) return value;
      break;
    } catch (error) {
      if (!(error instanceof PromiseNotFound)) break;
    }
    await abortableSleep(backoffDelayMs(EXECUTE_LOOKUP_RETRY, failures), stop);
  }
  return new Promise<JobResult>(() => {});
}

/**
 * Retries `call` while the server cannot be reached: a wait should outlast a restart of the
 * server (the job is durable there). Other errors pass through, and so does the last one once
 * `stop` fires: a stopped wait holds no timer.
 */
async function untilReachable<T>(call: () => Promise<T>, stop: AbortSignal): Promise<T> {
  for (let failures = 0; ; failures++) {
    try {
      return await call();
    } catch (error) {
      if (!isUnreachable(error) && !(error instanceof ServerUnavailable)) throw error;
      if (stop.aborted) throw error;
      await abortableSleep(backoffDelayMs(SERVER_RETRY, failures), stop);
    }
  }
}

/** Rejects once `signal` fires, with its reason: a wait stopped from outside. */
function rejectWhenAborted(signal: AbortSignal): Promise<never> {
  return new Promise<never>((_resolve, reject) => {
    const fail = (): void => reject(new WaitStopped(`stopped waiting (${String(signal.reason)})`));
    if (signal.aborted) fail();
    else signal.addEventListener("abort", fail, { once: true });
  });
}

/** A wait ended because its caller stopped it (Ctrl+C, SIGTERM), not because the job ended. */
export class WaitStopped extends Error {
  override readonly name = "WaitStopped";
}

/**
 * A script no worker would run is refused here, by the rule the router and the worker use,
 * before a job record exists: otherwise it becomes a failed job to clean up.
 */
function refuseUnrunnable(spec: JobSpec): void {
  const problem = scriptKindProblem(spec.script.name, spec.script.content);
  if (problem) throw new UserError(`${problem}; nothing was submitted`);
}

/**
 * Refuses, before anything is sent, a submission whose request would be over the server's
 * default body limit: the server would refuse it (413) or reset the connection, which read
 * as "cannot reach the server". Measured on what is sent: the JSON of the call, base64.
 */
function refuseOversized(spec: JobSpec, call: unknown): void {
  const encodedBytes = base64Bytes(Buffer.byteLength(JSON.stringify(call), "utf8"));
  if (encodedBytes <= base64Bytes(maxValueJsonBytes(DEFAULT_MAX_BODY_BYTES))) return;
  const scriptBytes = Buffer.byteLength(spec.script.content, "utf8");
  throw new UserError(
    `script ${spec.script.name} is ${formatBytes(scriptBytes)}: encoded for the server its submission is ${formatBytes(encodedBytes)}, over the server's request limit of ${formatBytes(DEFAULT_MAX_BODY_BYTES)} (modulate server --max-body); make the script smaller, or have it read its data from elsewhere; nothing was submitted`,
  );
}

function inProgress(spec: JobSpec, group: string, attempts: AttemptView[]): JobResult {
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
function settledWithoutRecord(spec: JobSpec, group: string, promise: PromiseRecord): JobResult {
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
