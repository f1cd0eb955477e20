// The attempt history with real processes and kill -9: a job that outlives a killed worker
// closes that worker's attempt record, so no record of a dead attempt stays open.
import { afterEach, describe, expect, it } from "vitest";
import { ModulateClient } from "../../src/orchestration/client.ts";
import { jobSpec, startRouterProcess, startWorkerProcess } from "../helpers/cluster.ts";
import { eventually, startServerProcess, stopAll, tempDir } from "../helpers/processes.ts";

const clients: ModulateClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await stopAll();
});

describe("the attempt history", () => {
  it("closes the record of an attempt whose worker was killed once a peer finishes the job", async () => {
    const server = await startServerProcess(["--data", tempDir()]);
    await startRouterProcess(server.url);
    const workDir = tempDir();
    // Both workers are up before the job comes, so the one that runs it is killed at once.
    const workers = await Promise.all([
      startWorkerProcess(server.url, "g", workDir),
      startWorkerProcess(server.url, "g", workDir),
    ]);
    const client = new ModulateClient({ url: server.url });
    clients.push(client);
    const spec = jobSpec("sleepy.py", { args: ["2"] });
    await client.submit(spec, 60_000);
    const started = new RegExp(`start ${spec.id} attempt 1`);
    const first = await Promise.race(workers.map((w) => w.waitFor(started).then(() => w)));
    const peer = workers.find((w) => w !== first)!;
    first.kill("SIGKILL");
    await first.exited();

    const result = await client.waitForJob(spec.id);
    expect(result).toMatchObject({ state: "succeeded", attempt: 2 });
    expect(result.worker?.pid).toBe(peer.workerPid);
    // The records close just after the answer: wait for the history to settle.
    const attempts = await eventually(async () => {
      const { attempts } = await client.getJob(spec.id);
      return attempts.every((a) => a.promiseState !== "pending") ? attempts : undefined;
    }, "every attempt record to be closed");
    expect(attempts.map((a) => [a.attempt, a.promiseState, a.outcome?.state])).toEqual([
      [1, "rejected", "abandoned"],
      [2, "resolved", "succeeded"],
    ]);
    expect(attempts[0]?.worker.pid).toBe(first.workerPid);
    expect(attempts[0]?.outcome?.reason).toBe("its worker stopped answering");
  });
});
