// Waiting for a job's final record through any Resonate server: its execute promise, or its
// own promise and the receipt there that names the execute promise; through
// restarts of the server, and stopped at once by the caller (Ctrl+C, SIGTERM).
import { isDetachedReceipt, isJobResult, type JobResult, type JobSpec } from "../jobs/job.ts";
import { executeId } from "../jobs/names.ts";
import { backoffDelayMs, SERVER_RETRY } from "../wire/backoff.ts";
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
 * Waits for the job's final record. A waiting job's record lands in its execute promise, which
 * the router names after the job: that one promise is listened for first, so that a job
 * routed by the time its submission was answered costs its client one request to wait. Where it
 * does not exist yet (no router has routed the job), or it ended without a record, the job's
 * own promise is followed, and its receipt leads to the execute promise once a router has
 * routed the job (a router from before receipts settles the job's own promise with the
 * record). A detached job (`mode` "detach") is followed through its own promise alone: a client
 * waiting for many queued jobs then asks nothing for those not routed yet.
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
    const wait = async (): Promise<JobResult> =>
      (mode === "detach" ? undefined : await recordOfExecute(source, id, done.signal)) ??
      (await waitThroughJob(source, id, done.signal));
    return await Promise.race([wait(), ...(stop ? [rejectWhenAborted(done.signal)] : [])]);
  } finally {
    stop?.removeEventListener("abort", onStop);
    done.abort();
  }
}

/**
 * The record the job's execute promise ends with, waiting for it to settle; undefined where
 * that promise does not exist yet, ends without a record (a queue timeout: the job's own
 * promise then tells), or the server cannot be reached (the job's own promise is then
 * followed, with its retries).
 */
async function recordOfExecute(
  source: WaitSource,
  id: string,
  abandon: AbortSignal,
): Promise<JobResult | undefined> {
  try {
    const listener = await source.listen();
    return recordIn(await listener.settled(executeId(id), abandon));
  } catch (error) {
    if (error instanceof PromiseNotFound || isUnreachable(error)) return undefined;
    if (error instanceof ServerUnavailable) return undefined;
    throw error;
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
