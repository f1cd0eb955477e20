// A server that stalls (SIGSTOP: what a long fsync, swapping or a starved CPU look like to its
// peers) for longer than a worker's request timeout and lease, with nothing killed (issue 12,
// item 7): jobs that end during the stall are answered once it resumes, and none runs again,
// neither on its worker nor on an idle peer. Outside the default suite
// (`npm run test:chaos`): it holds the server still for 15 s.
import { afterEach, describe, expect, it } from "vitest";
import { ModulateClient } from "../../src/orchestration/client.ts";
import { jobSpec, startRouterProcess, startWorkerProcess } from "../helpers/cluster.ts";
import { eventually, startServerProcess, stopAll, tempDir } from "../helpers/processes.ts";

const enabled = process.env["MODULATE_CHAOS"] === "1";
const clients: ModulateClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await stopAll();
});

describe.skipIf(!enabled)("a server that stalls", () => {
  it("gets the answers of jobs that ended while it stood still, and runs none again", async () => {
    const server = await startServerProcess(["--data", tempDir()]);
    await startRouterProcess(server.url);
    const worker = await startWorkerProcess(server.url, "g", tempDir(), ["--slots", "3"]);
    const client = new ModulateClient({ url: server.url });
    clients.push(client);
    const specs = [1, 2, 3].map(() => jobSpec("sleepy.py", { args: ["4"] }));
    for (const spec of specs) await client.submit(spec, 60_000);
    for (const spec of specs) await worker.waitFor(new RegExp(`start ${spec.id} attempt 1`));
    // A peer with free slots: a lease that lapsed after the stall would send the job there.
    const peer = await startWorkerProcess(server.url, "g", tempDir(), ["--slots", "3"]);

    server.kill("SIGSTOP");
    // The jobs end while the server stands still, not before.
    expect(worker.output()).not.toMatch(/^done /m);
    const stoppedAt = Date.now();
    try {
      for (const spec of specs) await worker.waitFor(new RegExp(`done ${spec.id} `));
      // Past the worker's 10 s request timeout and its 8 s lease.
      await eventually(() => Date.now() - stoppedAt > 15_000, "the stall to last", 30_000);
    } finally {
      server.kill("SIGCONT");
    }

    for (const spec of specs) {
      const result = await client.waitForJob(spec.id, "detach");
      expect(result.state, spec.id).toBe("succeeded");
      expect(result.attempt, `${spec.id}\n${worker.output()}`).toBe(1);
    }
    for (const spec of specs) {
      expect(worker.output().match(new RegExp(`^start ${spec.id} `, "gm"))).toHaveLength(1);
    }
    expect(peer.output()).not.toMatch(/^start /m);
    expect(worker.output()).not.toMatch(/^answer .*not taken/m);
    console.log(
      worker
        .output()
        .match(/^answer .*$/gm)
        ?.join("\n") ?? "no answer notes",
    );
  }, 120_000);
});
