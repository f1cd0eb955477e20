// The two halves of a cancel against a real server in this process: cancelJob's settlements,
// read back through the protocol, and the worker's watch, which must hear a cancel at once,
// say whether one came before the run, and ignore every other settlement.
import { afterEach, describe, expect, it } from "vitest";
import { startEmbeddedServer } from "../../src/modes/embedded-server.ts";
import {
  cancelJob,
  cancelWatch,
  JobCanceled,
  type CanceledRecord,
  type CancelWatch,
} from "../../src/orchestration/client/cancel.ts";
import { submitJob } from "../../src/orchestration/client/submit.ts";
import type { JobSpec } from "../../src/orchestration/jobs/job.ts";
import { executeId, newJobId } from "../../src/orchestration/jobs/names.ts";
import { createTransport } from "../../src/orchestration/wire/transport.ts";
import {
  decodeValue,
  encodeValue,
  senderOver,
  request,
  type Send,
} from "../../src/orchestration/wire/wire.ts";
import type { RunningServer } from "../../src/server/server.ts";
import { eventually } from "../helpers/processes.ts";
import { requestsOfKind } from "../helpers/server-metrics.ts";

const stoppers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const stop of stoppers.splice(0).reverse()) await stop();
});

async function serverAndSend(): Promise<{ server: RunningServer; send: Send }> {
  const server = await startEmbeddedServer({ host: "127.0.0.1", port: 0 });
  stoppers.push(() => server.close());
  const transport = createTransport({ url: server.url });
  stoppers.push(() => transport.close());
  return { server, send: senderOver(transport, { url: server.url }) };
}

function watchOn(url: string, listenAfterMs?: number): CancelWatch {
  const options = listenAfterMs === undefined ? {} : { listenAfterMs };
  const watch = cancelWatch({ url }, `test-${process.pid}`, options);
  stoppers.push(() => watch.close());
  return watch;
}

function spec(): JobSpec {
  const now = Date.now();
  return {
    id: newJobId(now),
    group: "g",
    script: { name: "job.sh", content: "echo hi\n" },
    args: [],
    timeoutMs: 60_000,
    mode: "detach",
    submittedAt: now,
  };
}

async function promiseOf(send: Send, id: string) {
  const res = await send(request("promise.get", { id }));
  if (res.head.status !== 200 || typeof res.data === "string") return undefined;
  return res.data.promise;
}

/** A pending promise addressed to a group nobody serves, as a job's execute promise waits. */
async function createPending(send: Send, id: string, address = "poll://any@nobody"): Promise<void> {
  const tags: Record<string, string> = address ? { "resonate:target": address } : {};
  await send(request("promise.create", { id, timeoutAt: Date.now() + 60_000, param: {}, tags }));
}

async function settle(
  send: Send,
  id: string,
  state: "resolved" | "rejected_canceled",
  value: unknown,
) {
  await send(request("promise.settle", { id, state, value: encodeValue(value) }));
}

/** How many listeners the server has been asked to register (its /metrics). */
function registrations(url: string): Promise<number> {
  return requestsOfKind(url, "promise.register_listener");
}

const CANCELED = { state: "canceled", reason: "canceled by ada@lab at then" };

describe("cancelJob", () => {
  it("cancels a job no router has taken: its own promise and a made execute promise hold the record, and no task exists for it", async () => {
    const { send } = await serverAndSend();
    const job = spec();
    await submitJob(send, job, 60_000, () => Promise.resolve(10 * 1024 * 1024));
    const outcome = await cancelJob(send, job.id, "ada@lab", 1_000);
    expect(outcome).toMatchObject({ kind: "canceled", was: "routing", worker: null });
    const root = await promiseOf(send, job.id);
    const execute = await promiseOf(send, executeId(job.id));
    for (const promise of [root, execute]) {
      expect(promise?.state).toBe("rejected_canceled");
      expect(decodeValue(promise?.value)).toMatchObject({
        id: job.id,
        state: "canceled",
        canceledBy: "ada@lab",
        canceledAt: 1_000,
        reason: "canceled by ada@lab at 1970-01-01T00:00:01.000Z",
      } satisfies Partial<CanceledRecord>);
    }
    // The root's task (the routers') is done, and the execute promise never had one.
    const tasks = await send(request("task.get", { id: executeId(job.id) }));
    expect(tasks.head.status).toBe(404);
  });

  it("finishes a cancel cut short after it made the execute promise, and says a second cancel found the job ended", async () => {
    const { send } = await serverAndSend();
    const job = spec();
    await submitJob(send, job, 60_000, () => Promise.resolve(10 * 1024 * 1024));
    // What a cancel that died between its create and its settle leaves: a pending promise
    // with no task, which no router's own create replaces.
    await createPending(send, executeId(job.id), "");
    expect((await cancelJob(send, job.id, "ada@lab", 2_000)).kind).toBe("canceled");
    expect((await promiseOf(send, executeId(job.id)))?.state).toBe("rejected_canceled");
    const again = await cancelJob(send, job.id, "bob@lab", 3_000);
    expect(again).toMatchObject({
      kind: "ended",
      record: { state: "canceled", canceledBy: "ada@lab" },
    });
  });

  it("says an id the server does not hold is not found", async () => {
    const { send } = await serverAndSend();
    expect(await cancelJob(send, "job-none", "ada@lab", 1)).toMatchObject({
      kind: "not-found",
      id: "job-none",
    });
  });
});

describe("a worker's cancel watch", () => {
  it("aborts a run that is listening when its promise is canceled, with the record's reason", async () => {
    const { server, send } = await serverAndSend();
    await createPending(send, "p-running");
    const run = watchOn(server.url, 0).run("p-running");
    expect(await run.before).toBe(false);
    // Listening: the server's unblock message is what tells it.
    await eventually(
      async () => (await registrations(server.url)) > 0 || undefined,
      "the run to register",
      5_000,
    );
    await settle(send, "p-running", "rejected_canceled", CANCELED);
    await eventually(() => run.signal.aborted || undefined, "the run to be aborted", 5_000);
    expect(run.signal.reason).toBeInstanceOf(JobCanceled);
    expect((run.signal.reason as Error).message).toBe(CANCELED.reason);
    expect(run.record).toMatchObject(CANCELED);
  });

  it("says a promise canceled before the run came was canceled before it could start", async () => {
    const { server, send } = await serverAndSend();
    await createPending(send, "p-early");
    await settle(send, "p-early", "rejected_canceled", CANCELED);
    const run = watchOn(server.url).run("p-early");
    expect(await run.before).toBe(true);
    expect(run.signal.aborted).toBe(true);
    expect(run.record?.reason).toBe(CANCELED.reason);
  });

  it("leaves a run alone when its promise settles otherwise, or is canceled after the run ended", async () => {
    const { server, send } = await serverAndSend();
    const watch = watchOn(server.url);
    await createPending(send, "p-answered");
    await createPending(send, "p-ended");
    await createPending(send, "p-witness");
    const answered = watch.run("p-answered");
    const ended = watch.run("p-ended");
    const witness = watch.run("p-witness");
    await Promise.all([answered.before, ended.before, witness.before]);
    ended.end();
    await settle(send, "p-answered", "resolved", { state: "succeeded" });
    await settle(send, "p-ended", "rejected_canceled", CANCELED);
    // A cancel that comes after both, through the same stream: once it is heard, the
    // messages before it have been read.
    await settle(send, "p-witness", "rejected_canceled", CANCELED);
    await eventually(() => witness.signal.aborted || undefined, "the witness to be aborted", 5_000);
    expect(answered.signal.aborted).toBe(false);
    expect(answered.record).toBeUndefined();
    expect(ended.signal.aborted).toBe(false);
  });

  it("reads the promise as the run begins and listens only once the run has lasted: a run that ended first never registers", async () => {
    const { server, send } = await serverAndSend();
    const watch = watchOn(server.url, 300);
    await createPending(send, "p-short");
    await createPending(send, "p-long");
    const short = watch.run("p-short");
    const long = watch.run("p-long");
    expect(await short.before).toBe(false);
    expect(await long.before).toBe(false);
    short.end();
    // The long run's registration comes after the short one's would have: once it is counted,
    // the short one's time has passed too.
    await eventually(
      async () => (await registrations(server.url)) > 0 || undefined,
      "the long run to register",
      5_000,
    );
    expect(await registrations(server.url)).toBe(1);
    await settle(send, "p-long", "rejected_canceled", CANCELED);
    await eventually(() => long.signal.aborted || undefined, "the long run to be aborted", 5_000);
    expect(short.signal.aborted).toBe(false);
  });

  it("hears a cancel that came between its read and its registration from the registration's answer", async () => {
    const { server, send } = await serverAndSend();
    // Long enough that the cancel below lands first, whatever the machine's load.
    const watch = watchOn(server.url, 2_000);
    await createPending(send, "p-window");
    const run = watch.run("p-window");
    expect(await run.before).toBe(false);
    await settle(send, "p-window", "rejected_canceled", CANCELED);
    // Nothing listened yet when the cancel landed: no message can have told the watch.
    expect(await registrations(server.url)).toBe(0);
    await eventually(() => run.signal.aborted || undefined, "the run to be aborted", 10_000);
    expect(run.signal.reason).toBeInstanceOf(JobCanceled);
    expect(run.record).toMatchObject(CANCELED);
    expect(await registrations(server.url)).toBe(1);
  });

  it("takes a promise seen in an acquire answer for its first look: no read, and a cancel in it stops the run before it starts", async () => {
    const { server, send } = await serverAndSend();
    const watch = watchOn(server.url, 60_000);
    await createPending(send, "p-seen-pending");
    await createPending(send, "p-seen-canceled");
    const pending = await promiseOf(send, "p-seen-pending");
    await settle(send, "p-seen-canceled", "rejected_canceled", CANCELED);
    const canceled = await promiseOf(send, "p-seen-canceled");
    if (!pending || !canceled) throw new Error("the promises were not made");
    watch.seen(pending, performance.now());
    watch.seen(canceled, performance.now());
    const reads = await requestsOfKind(server.url, "promise.get");
    const calm = watch.run("p-seen-pending");
    const early = watch.run("p-seen-canceled");
    expect(await calm.before).toBe(false);
    expect(await early.before).toBe(true);
    expect(early.signal.aborted).toBe(true);
    expect(early.record?.reason).toBe(CANCELED.reason);
    expect(calm.signal.aborted).toBe(false);
    expect(await requestsOfKind(server.url, "promise.get")).toBe(reads);
    // Seen once: a second run of the same promise reads it.
    const again = watch.run("p-seen-pending");
    expect(await again.before).toBe(false);
    expect(await requestsOfKind(server.url, "promise.get")).toBe(reads + 1);
    calm.end();
    again.end();
  });

  it("counts the wait before it listens from when the acquire was sent: a cancel after a long-held acquire is heard at once", async () => {
    const { server, send } = await serverAndSend();
    const watch = watchOn(server.url, 300);
    await createPending(send, "p-held");
    const held = await promiseOf(send, "p-held");
    if (!held) throw new Error("the promise was not made");
    // Acquired ahead a second ago, pending then, canceled while it was held.
    watch.seen(held, performance.now() - 1_000);
    await settle(send, "p-held", "rejected_canceled", CANCELED);
    const run = watch.run("p-held");
    expect(await run.before).toBe(false);
    // Registers at once (its 300 ms have passed), and the registration's answer says canceled.
    await eventually(() => run.signal.aborted || undefined, "the run to be aborted", 5_000);
    expect(run.record).toMatchObject(CANCELED);
    expect(await registrations(server.url)).toBe(1);
  });
});
