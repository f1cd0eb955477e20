// Waiting for a job's final record through any Resonate server: its own promise and, once a
// router has routed it, its execute promise, whichever settles with a record first; through
// restarts of the server, and stopped at once by the caller (Ctrl+C, SIGTERM).
import { isDetachedReceipt, isJobResult, type JobResult, type JobSpec } from "../jobs/job.ts";
import { executeId } from "../jobs/names.ts";
import { backoffDelayMs, SERVER_RETRY, type BackoffPolicy } from "../wire/backoff.ts";
import { PromiseNotFound, type Listener } from "../wire/listener.ts";
import { ServerUnavailable } from "../wire/transport.ts";
import { abortableSleep, decodeValue, isUnreachable } from "../wire/wire.ts";
import { recordIn, type JobView } from "./view.ts";

/** What a wait needs of its client: the listener stream, and the job's view for its ending. */
export interface WaitSource {
  listen(): Promise<Listener>;
  view(id: string): Promise<JobView>;
}

/**
 * Waits for the job's final record. The router settles a waiting job's own promise one
 * round of replay after the worker settles the execute promise, so both are watched and
 * the first record wins. A detached job's receipt leads to its execute promise as soon as a
 * router has routed it: pass `mode` "detach" and its execute promise is not looked for
 * before (a client waiting for many queued jobs would otherwise ask again and again).
 */
export async function waitForJob(
  source: WaitSource,
  id: string,
  mode?: JobSpec["mode"],
  stop?: AbortSignal,
): Promise<JobResult> {
  const done = new AbortController();
  // Stopping the wait (Ctrl+C, SIGTERM) ends every retry and recheck at once, so that the
  // process can exit even while the server is away; the wait then rejects.
  const onStop = (): void => done.abort(stop?.reason);
  if (stop?.aborted) onStop();
  stop?.addEventListener("abort", onStop, { once: true });
  try {
    const listener = await untilReachable(() => source.listen(), done.signal);
    return await Promise.race([
      waitThroughJob(source, id, done.signal),
      ...(mode === "detach" ? [] : [waitForExecute(listener, executeId(id), done.signal)]),
      ...(stop ? [rejectWhenAborted(done.signal)] : []),
    ]);
  } finally {
    stop?.removeEventListener("abort", onStop);
    done.abort();
  }
}

async function waitThroughJob(
  source: WaitSource,
  id: string,
  abandon: AbortSignal,
): Promise<JobResult> {
  let promiseId = id;
  for (;;) {
    const listener = await untilReachable(() => source.listen(), abandon);
    const promise = await untilReachable(() => listener.settled(promiseId, abandon), abandon);
    if (promise.state !== "resolved") return (await source.view(id)).result;
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

/**
 * Looking again for a job's execute promise: at once at first, as a router routes a job in
 * milliseconds, then more and more rarely, up to every 2 s, for a job that waits for a router.
 */
const EXECUTE_LOOKUP_RETRY: BackoffPolicy = { firstMs: 2, maxMs: 2_000 };

/**
 * Resolves with the record the job's execute promise holds once it settles (its result, or
 * who canceled it and when). It exists once
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
      const record = recordIn(await listener.settled(promiseId, stop));
      if (record) return record;
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
