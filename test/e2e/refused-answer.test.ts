// Issue 12, item 4 (the worker's safety net): a result the server refuses for a reason that
// cannot change (here larger than its --max-body) ends the job as failed, saying why, in a
// small record; the job does not run again. Real processes.
import { afterEach, describe, expect, it } from "vitest";
import { ModulateClient } from "../../src/orchestration/client.ts";
import { jobSpec, startRouterProcess, startWorkerProcess } from "../helpers/cluster.ts";
import { eventually, startServerProcess, stopAll, tempDir } from "../helpers/processes.ts";

const clients: ModulateClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await stopAll();
});

describe("a result the server refuses", () => {
  it("fails the job with the server's reason, once, instead of running it again", async () => {
    // The worker does not know this server's small limit, so its result does not fit.
    const server = await startServerProcess(["--in-memory", "--max-body", "256K"]);
    await startRouterProcess(server.url);
    const worker = await startWorkerProcess(server.url, "g", tempDir());
    const client = new ModulateClient({ url: server.url });
    clients.push(client);
    const spec = jobSpec("loud.py", { args: ["1000000"] });
    await client.submit(spec, 60_000);

    const result = await client.waitForJob(spec.id, "detach");
    expect(result.state).toBe("failed");
    expect(result.reason).toMatch(/^the server refused the result: request body is larger/);
    expect(result.attempt).toBe(1);
    expect(result.stdout.length).toBeLessThanOrEqual(2_000);
    expect(worker.output()).toMatch(
      new RegExp(`^answer \\S*${spec.id}: refused by the server`, "m"),
    );
    expect(worker.output().match(new RegExp(`^start ${spec.id} `, "gm"))).toHaveLength(1);
    // The attempt's record says how the job ended, not what the refused answer said.
    const attempts = await eventually(async () => {
      const { attempts } = await client.getJob(spec.id);
      return attempts.every((a) => a.promiseState !== "pending") ? attempts : undefined;
    }, "the attempt record to be closed");
    expect(attempts.map((a) => [a.attempt, a.outcome?.state])).toEqual([[1, "failed"]]);
    expect(attempts[0]?.outcome?.reason).toBe(result.reason);
  });
});
