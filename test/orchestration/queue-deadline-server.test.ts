// The queue deadline as a lock, against a real server with its clock in the test's hand: a
// worker that comes first takes the job; a deadline that passes first wins over any worker.
import { afterEach, describe, expect, it } from "vitest";
import { listAttempts } from "../../src/orchestration/attempts.ts";
import type { JobSpec, WorkerRef } from "../../src/orchestration/jobs/job.ts";
import {
  ENTRY_GROUP,
  executeId,
  queueDeadlineId,
  queueTimeoutId,
} from "../../src/orchestration/jobs/names.ts";
import {
  DEADLINE_ADDRESS,
  deadlineTags,
  endAtQueueTimeout,
  queueTimeoutCall,
  queueTimeoutTags,
  takeAndClaim,
  takeFromQueue,
} from "../../src/orchestration/queue-deadline.ts";
import { anycastAddress } from "../../src/orchestration/wire/poll-address.ts";
import {
  decodeValue,
  encodeValue,
  isOk,
  request,
  requestSender,
  type Send,
} from "../../src/orchestration/wire/wire.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

let now = 1_000_000_000;

async function server(): Promise<Send> {
  const running = await startServer({ host: "127.0.0.1", port: 0, clock: () => now });
  servers.push(running);
  return requestSender({ url: running.url });
}

const spec: JobSpec = {
  id: "job-q",
  group: "g",
  script: { name: "a.py", content: "print(1)\n" },
  args: [],
  timeoutMs: 60_000,
  queueTimeoutMs: 5_000,
  mode: "wait",
  submittedAt: now,
};
const first: WorkerRef = { host: "h", pid: "worker-1", group: "g" };
const second: WorkerRef = { host: "h", pid: "worker-2", group: "g" };

/** The deadline as the router makes it (through the SDK, with its lineage tags besides). */
async function makeDeadline(send: Send) {
  const res = await send(
    request("promise.create", {
      id: queueDeadlineId(spec.id),
      timeoutAt: now + 5_000,
      param: encodeValue({ func: "modulate.queue-deadline", args: [spec.id] }),
      tags: { ...deadlineTags(spec.id), "resonate:target": DEADLINE_ADDRESS },
    }),
  );
  if (!isOk(res)) throw new Error(JSON.stringify(res.data));
  return res.data.promise;
}

describe("the queue deadline on a server", () => {
  it("goes to the first worker that takes the job, and a later worker of the same job finds it taken", async () => {
    const send = await server();
    await makeDeadline(send);
    expect(await takeFromQueue(send, spec, first, now)).toBe(true);
    // A peer running the job again after the first worker died: the job left the queue.
    now += 10_000;
    expect(await takeFromQueue(send, spec, second, now)).toBe(true);
    const held = await send(request("promise.get", { id: queueDeadlineId(spec.id) }));
    expect(isOk(held) && decodeValue(held.data.promise.value)).toMatchObject({ takenBy: first });
  });

  it("ends the wait once the deadline has passed: a worker that comes after it does not take the job", async () => {
    const send = await server();
    await makeDeadline(send);
    now += 5_001;
    expect(await takeFromQueue(send, spec, first, now)).toBe(false);
  });

  it("lets a worker that comes before the router's deadline make it, so the router finds it taken", async () => {
    const send = await server();
    expect(await takeFromQueue(send, spec, first, now)).toBe(true);
    const routers = await makeDeadline(send);
    expect(routers.state).toBe("resolved");
    expect(decodeValue(routers.value)).toMatchObject({ takenBy: first });
  });

  it("closes the attempt record a worker made beside a take that lost, as never run", async () => {
    const send = await server();
    await makeDeadline(send);
    now += 6_000;
    expect(await takeAndClaim(send, spec, first, now, 60_000)).toBeUndefined();
    const attempts = await listAttempts(send, spec.id);
    expect(attempts.map((a) => [a.attempt, a.promiseState, a.outcome])).toEqual([
      [
        1,
        "resolved",
        { state: "timed_out", reason: "not run: no worker took it within 5s (queue timeout)" },
      ],
    ]);
  });

  it("ends a job nobody took at its queue-timeout call: the deadline holds the router's mark and the execute promise the timed_out record", async () => {
    const send = await server();
    await makeDeadline(send);
    await makeExecute(send);
    now += 5_000;
    const outcome = await endAtQueueTimeout(send, queueTimeoutCall(spec, now), now);
    expect(outcome).toMatchObject({ taken: false, result: { state: "timed_out", attempt: 0 } });
    const execute = await send(request("promise.get", { id: executeId(spec.id) }));
    expect(isOk(execute) && decodeValue(execute.data.promise.value)).toMatchObject({
      state: "timed_out",
      reason: "no worker took it within 5s (queue timeout)",
    });
    // A worker that gets the job afterwards finds it gone from its queue.
    expect(await takeFromQueue(send, spec, first, now)).toBe(false);
    // Run again (a router that died half-way): the same answer, nothing changes.
    expect(await endAtQueueTimeout(send, queueTimeoutCall(spec, now), now + 1)).toMatchObject({
      taken: false,
      result: { finishedAt: now },
    });
  });

  it("leaves a job a worker took alone at its queue-timeout call, and the taking settles the call so no router is handed it", async () => {
    const send = await server();
    await makeDeadline(send);
    await makeExecute(send);
    await makeQueueTimeoutCall(send);
    expect(await takeFromQueue(send, spec, first, now)).toBe(true);
    const call = await send(request("promise.get", { id: queueTimeoutId(spec.id) }));
    expect(isOk(call) && call.data.promise.state).toBe("resolved");
    now += 5_000;
    expect(await endAtQueueTimeout(send, queueTimeoutCall(spec, now), now)).toEqual({
      taken: true,
    });
    const execute = await send(request("promise.get", { id: executeId(spec.id) }));
    expect(isOk(execute) && execute.data.promise.state).toBe("pending");
  });
});

/** The execute promise as the router makes it, to a group nobody serves here. */
async function makeExecute(send: Send): Promise<void> {
  const res = await send(
    request("promise.create", {
      id: executeId(spec.id),
      timeoutAt: now + 65_000,
      param: encodeValue({ func: "modulate.execute", args: [spec] }),
      tags: { "resonate:target": anycastAddress("g") },
    }),
  );
  if (!isOk(res)) throw new Error(JSON.stringify(res.data));
}

/** The queue-timeout call as the router makes it: to the routers, delivered at the deadline. */
async function makeQueueTimeoutCall(send: Send): Promise<void> {
  const res = await send(
    request("promise.create", {
      id: queueTimeoutId(spec.id),
      timeoutAt: now + 65_000,
      param: encodeValue({ func: "modulate.queue-timeout", args: [queueTimeoutCall(spec, now)] }),
      tags: {
        ...queueTimeoutTags(spec, now + 5_000),
        "resonate:target": anycastAddress(ENTRY_GROUP),
      },
    }),
  );
  if (!isOk(res)) throw new Error(JSON.stringify(res.data));
}
