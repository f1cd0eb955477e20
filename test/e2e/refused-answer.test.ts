// Issue 12, item 4: a worker fits a job's result to the request limit its server announces;
// and, as a safety net, a result the server refuses for a reason that cannot change (larger
// than the limit of a server that did not say it) ends the job as failed, saying why, in a
// small record; the job does not run again. Real processes.
import { afterEach, describe, expect, it } from "vitest";
import { MAX_BODY_HEADER } from "../../src/common/limits.ts";
import { ModulateClient } from "../../src/orchestration/client.ts";
import { jobSpec, startRouterProcess, startWorkerProcess } from "../helpers/cluster.ts";
import { headerStrippingProxy, type Proxy } from "../helpers/header-stripping-proxy.ts";
import { eventually, startServerProcess, stopAll, tempDir } from "../helpers/processes.ts";

const clients: ModulateClient[] = [];
const proxies: Proxy[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(proxies.splice(0).map((p) => p.close()));
  await stopAll();
});

describe("a result larger than the server takes", () => {
  it("is cut to the limit the server announces, and the job succeeds on its first attempt", async () => {
    const server = await startServerProcess(["--in-memory", "--max-body", "256K"]);
    await startRouterProcess(server.url);
    const worker = await startWorkerProcess(server.url, "g", tempDir());
    const client = new ModulateClient({ url: server.url });
    clients.push(client);
    const spec = jobSpec("loud.py", { args: ["1000000"] });
    await client.submit(spec, 60_000);

    const result = await client.waitForJob(spec.id, "detach");
    expect(result.state).toBe("succeeded");
    expect(result.attempt).toBe(1);
    expect(result.reason).toMatch(/^output cut to fit the result: stdout 976\.6 KiB/);
    expect(result.stdout.length).toBeGreaterThan(100_000);
    expect(result.stdout.length).toBeLessThan(256 * 1024);
    expect(worker.output()).not.toMatch(/refused by the server/);
  });
});

describe("a result the server refuses", () => {
  it("fails the job with the server's reason, once, instead of running it again", async () => {
    // Behind a proxy that hides the server's limit, as a Resonate server (or an nginx in front
    // of one) hides its own: the worker fits the result to 2 MiB, which this server refuses.
    const server = await startServerProcess(["--in-memory", "--max-body", "256K"]);
    const proxy = await headerStrippingProxy(server.url, MAX_BODY_HEADER);
    proxies.push(proxy);
    await startRouterProcess(proxy.url);
    const worker = await startWorkerProcess(proxy.url, "g", tempDir());
    const client = new ModulateClient({ url: proxy.url });
    clients.push(client);
    const spec = jobSpec("loud.py", { args: ["1000000"] });
    await client.submit(spec, 60_000);

    const result = await client.waitForJob(spec.id, "detach");
    expect(result.state).toBe("failed");
    expect(result.reason).toMatch(/^the server refused the result: request body is larger/);
    expect(result.attempt).toBe(1);
    expect(result.stdout.length).toBeLessThanOrEqual(2_000);
    expect(worker.output()).toMatch(
      new RegExp(`^answer \\S*${spec.id}\\S*: refused by the server`, "m"),
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
