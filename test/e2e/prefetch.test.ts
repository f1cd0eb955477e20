// A worker's prefetch (issue 17), with real processes: while its slot runs a job it holds the
// next one ahead. Jobs still run once each, and a kill -9 of a worker holding a job ahead
// loses nothing: the held job never ran there, so it runs once, on the peer, as attempt 1.
import { afterEach, describe, expect, it } from "vitest";
import { ModulateClient } from "../../src/orchestration/client.ts";
import { jobSpec, startRouterProcess, startWorkerProcess } from "../helpers/cluster.ts";
import { startServerProcess, stopAll, tempDir } from "../helpers/processes.ts";

const clients: ModulateClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await stopAll();
});

function clientFor(url: string): ModulateClient {
  const client = new ModulateClient({ url });
  clients.push(client);
  return client;
}

/** How many times a worker's log says it started `id`. */
function starts(output: string, id: string): number {
  return output.match(new RegExp(`start ${id} attempt`, "g"))?.length ?? 0;
}

describe("a worker's prefetch", () => {
  it("runs jobs queued behind its one slot back to back, each once", async () => {
    const server = await startServerProcess(["--data", tempDir()]);
    await startRouterProcess(server.url);
    const worker = await startWorkerProcess(server.url, "g", tempDir(), ["--slots", "1"]);
    const client = clientFor(server.url);
    const specs = Array.from({ length: 6 }, () => jobSpec("quick.py"));
    for (const spec of specs) await client.submit(spec, 60_000);
    const results = await Promise.all(specs.map((spec) => client.waitForJob(spec.id)));
    expect(results.map((r) => [r.state, r.attempt])).toEqual(specs.map(() => ["succeeded", 1]));
    for (const spec of specs) expect(starts(worker.output(), spec.id)).toBe(1);
  }, 90_000);

  it("loses no job it holds ahead when it is killed: the peer runs it once, as attempt 1", async () => {
    const server = await startServerProcess(["--data", tempDir()]);
    await startRouterProcess(server.url);
    const lease = ["--slots", "1", "--lease", "3s"];
    const first = await startWorkerProcess(server.url, "g", tempDir(), lease);
    const client = clientFor(server.url);
    const running = jobSpec("sleepy.py", { args: ["3"] });
    const held = jobSpec("quick.py");
    await client.submit(running, 60_000);
    await client.submit(held, 60_000);
    // The slot runs the first job; the second is offered meanwhile and acquired ahead.
    await first.waitFor(new RegExp(`start ${running.id} attempt 1`));
    first.kill("SIGKILL");
    await first.exited();
    const peer = await startWorkerProcess(server.url, "g", tempDir(), lease);

    const [ran, next] = await Promise.all([
      client.waitForJob(running.id),
      client.waitForJob(held.id),
    ]);
    expect([ran.state, ran.attempt, ran.worker?.pid]).toEqual(["succeeded", 2, peer.workerPid]);
    expect([next.state, next.attempt, next.worker?.pid]).toEqual(["succeeded", 1, peer.workerPid]);
    expect(starts(first.output(), held.id)).toBe(0);
    expect(starts(peer.output(), held.id)).toBe(1);
  }, 120_000);

  it("never starts a job canceled while it was held ahead", async () => {
    const server = await startServerProcess(["--data", tempDir()]);
    await startRouterProcess(server.url);
    const worker = await startWorkerProcess(server.url, "g", tempDir(), ["--slots", "1"]);
    const client = clientFor(server.url);
    const running = jobSpec("sleepy.py", { args: ["2"] });
    const held = jobSpec("quick.py");
    await client.submit(running, 60_000);
    await client.submit(held, 60_000);
    await worker.waitFor(new RegExp(`start ${running.id} attempt 1`));
    const outcome = await client.cancel(held.id, Date.now());
    expect(outcome.kind).toBe("canceled");
    const [ran, canceled] = await Promise.all([
      client.waitForJob(running.id),
      client.waitForJob(held.id),
    ]);
    expect(ran.state).toBe("succeeded");
    expect(canceled.state).toBe("canceled");
    // The next job still runs on the freed slot: nothing of the canceled one held it.
    const after = jobSpec("quick.py");
    await client.submit(after, 60_000);
    expect((await client.waitForJob(after.id)).state).toBe("succeeded");
    expect(starts(worker.output(), held.id)).toBe(0);
  }, 90_000);
});
