// Issue 12, item 6: a worker that finishes a job while the server is away keeps its answer and
// delivers it when the server is back, instead of the job running again; the server gives
// leases that fell due while it was down one lease to be renewed. Real processes, kill -9.
import { afterEach, describe, expect, it } from "vitest";
import { ModulateClient } from "../../src/orchestration/client.ts";
import { freePort, jobSpec, startRouterProcess, startWorkerProcess } from "../helpers/cluster.ts";
import {
  MODULATE,
  eventually,
  start,
  startServerProcess,
  stopAll,
  tempDir,
} from "../helpers/processes.ts";

const clients: ModulateClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await stopAll();
});

describe("answers through a server restart", () => {
  it("delivers the answers of jobs that finished while the server was down, and runs none again", async () => {
    const data = tempDir();
    const port = await freePort();
    const server = await startServerProcess(["--data", data, "--port", String(port)]);
    await startRouterProcess(server.url);
    const leaseMs = 3_000;
    const worker = await startWorkerProcess(server.url, "g", tempDir(), [
      "--slots",
      "3",
      "--lease",
      `${leaseMs}ms`,
    ]);
    const client = new ModulateClient({ url: server.url });
    clients.push(client);
    const specs = [1, 2, 3].map(() => jobSpec("sleepy.py", { args: ["1"] }));
    for (const spec of specs) await client.submit(spec, 60_000);
    for (const spec of specs) await worker.waitFor(new RegExp(`start ${spec.id} attempt 1`));

    server.kill("SIGKILL");
    await server.exited();
    const downAt = Date.now();
    // A peer that comes up with the server: the jobs must not go to it either.
    const peer = start(MODULATE, [
      "worker",
      "--url",
      server.url,
      "--group",
      "g",
      "--work-dir",
      tempDir(),
      "--python",
      "/usr/bin/python3",
      "--slots",
      "3",
    ]);
    // Every job ends while the server is away, and the server stays away past their leases,
    // so that each lease has fallen due by the time it is back.
    for (const spec of specs) await worker.waitFor(new RegExp(`done ${spec.id} succeeded`));
    await eventually(() => Date.now() - downAt > leaseMs + 500, "the leases to fall due");
    const restarted = start(MODULATE, ["server", "--data", data, "--port", String(port)]);
    await restarted.waitFor(/listening on /);
    await peer.waitFor(/modulate worker \S+ ready/);

    for (const spec of specs) {
      const result = await client.waitForJob(spec.id, "detach");
      expect(result.state, spec.id).toBe("succeeded");
      expect(result.attempt, spec.id).toBe(1);
    }
    // The worker said how its answers fared, and each job started once, there.
    expect(worker.output()).toMatch(/^answer \S+: delivered after \d+ failed sends \(the first: /m);
    expect(peer.output()).not.toMatch(/^start /m);
    for (const spec of specs) {
      expect(worker.output().match(new RegExp(`^start ${spec.id} `, "gm"))).toHaveLength(1);
      const view = await client.getJob(spec.id);
      expect(view.attempts.map((a) => a.attempt)).toEqual([1]);
    }
  });
});
