// The FaaS core under crashes, with real processes and kill -9: nothing accepted is lost,
// and a job's body runs again only where a crash forces it (with a fresh attempt).
import { existsSync, readdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { ModulateClient } from "../../src/orchestration/client.ts";
import { freePort, jobSpec, startRouterProcess, startWorkerProcess } from "../helpers/cluster.ts";
import {
  eventually,
  MODULATE,
  start,
  startServerProcess,
  stopAll,
  tempDir,
} from "../helpers/processes.ts";
import { ModulateClient as Client } from "../../src/orchestration/client.ts";

const clients: ModulateClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await stopAll();
});

function clientFor(url: string): ModulateClient {
  const client = new Client({ url });
  clients.push(client);
  return client;
}

describe("the FaaS core under crashes", () => {
  it("finishes a job on a peer when its worker is killed mid-job, as attempt 2 in a fresh directory", async () => {
    const server = await startServerProcess(["--data", tempDir()]);
    await startRouterProcess(server.url);
    const workDir = tempDir();
    // Both are up before the job is sent: a peer started after it could take longer to start
    // on a loaded machine than the job takes to finish. Whichever takes it is killed.
    const workers = await Promise.all([
      startWorkerProcess(server.url, "g", workDir),
      startWorkerProcess(server.url, "g", workDir),
    ]);
    const client = clientFor(server.url);
    const spec = jobSpec("sleepy.py", { args: ["2"] });
    await client.submit(spec, 60_000);
    const started = new RegExp(`start ${spec.id} attempt 1`);
    const first = await Promise.race(workers.map((w) => w.waitFor(started).then(() => w)));
    const peer = workers.find((w) => w !== first)!;
    first.kill("SIGKILL");
    await first.exited();

    const result = await client.waitForJob(spec.id);
    expect(result.state).toBe("succeeded");
    expect(result.attempt).toBe(2);
    expect(result.worker?.pid).toBe(peer.workerPid);
    expect(result.stdout).toContain("finished");
    const view = await client.getJob(spec.id);
    expect(view.attempts.map((a) => a.attempt)).toEqual([1, 2]);
    // The dead attempt's record is closed once the peer has answered: none stays open.
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
    // The dead attempt's directory is left as it was; the re-run had its own (now removed).
    // Where the workers run as root, each attempt's directory is inside its slot's disk area.
    const rerunDir = /started in (\S+)/.exec(result.stdout)?.[1];
    expect(rerunDir).toBeDefined();
    const left = readdirSync(join(workDir, "jobs"), { recursive: true, encoding: "utf8" })
      .filter((entry) => basename(entry) === "sleepy.py")
      .map((entry) => join(workDir, "jobs", dirname(entry)));
    expect(left).toHaveLength(1);
    expect(left[0]).not.toBe(rerunDir);
    expect(existsSync(rerunDir!)).toBe(false);
    expect(peer.output().match(new RegExp(`done ${spec.id}`, "g"))).toHaveLength(1);
  });

  it("completes a waiting submission after its router is killed and restarted, without running it twice", async () => {
    const server = await startServerProcess(["--data", tempDir()]);
    const router = await startRouterProcess(server.url);
    const worker = await startWorkerProcess(server.url, "g", tempDir());
    const client = clientFor(server.url);
    const spec = jobSpec("sleepy.py", { args: ["1.5"], mode: "wait" });
    await client.submit(spec, 60_000);
    await worker.waitFor(new RegExp(`start ${spec.id} attempt 1`));
    router.kill("SIGKILL");
    await router.exited();
    await startRouterProcess(server.url);

    const result = await client.waitForJob(spec.id);
    expect(result.state).toBe("succeeded");
    expect(result.attempt).toBe(1);
    expect(worker.output().match(new RegExp(`start ${spec.id}`, "g"))).toHaveLength(1);
  });

  it("finishes every accepted submission after the server is killed and restarted", async () => {
    const data = tempDir();
    const port = await freePort();
    const server = await startServerProcess(["--data", data, "--port", String(port)]);
    await startRouterProcess(server.url);
    const worker = await startWorkerProcess(server.url, "g", tempDir(), ["--slots", "2"]);
    const client = clientFor(server.url);
    const specs = [jobSpec("sleepy.py", { args: ["1"] }), jobSpec("quick.py"), jobSpec("quick.py")];
    for (const spec of specs) await client.submit(spec, 60_000);
    await worker.waitFor(/start \S+ attempt 1/);
    server.kill("SIGKILL");
    await server.exited();
    start(MODULATE, ["server", "--data", data, "--port", String(port)]);

    for (const spec of specs) {
      const result = await client.waitForJob(spec.id);
      expect(result.state, spec.id).toBe("succeeded");
    }
  });

  it("finishes a detached job after the submitting client is killed, and get finds it", async () => {
    const server = await startServerProcess(["--data", tempDir()]);
    await startRouterProcess(server.url);
    await startWorkerProcess(server.url, "g", tempDir());
    const script = join(tempDir(), "job.py");
    const { writeFileSync } = await import("node:fs");
    writeFileSync(script, "print('survived the client')\n");
    const submit = start(MODULATE, [
      "submit",
      script,
      "--group",
      "g",
      "--detach",
      "--url",
      server.url,
    ]);
    const id = (await submit.waitFor(/^(job-\S+)$/m))[1] ?? "";
    submit.kill("SIGKILL");
    await submit.exited();

    const get = start(MODULATE, ["get", id, "--wait", "--json", "--url", server.url]);
    expect(await get.exited()).toBe(0);
    const record = JSON.parse(get.output()) as { state: string; stdout: string };
    expect(record.state).toBe("succeeded");
    expect(record.stdout).toContain("survived the client");
    expect(existsSync(script)).toBe(true);
  });

  it("stops a router and a worker on SIGTERM although their server is gone", async () => {
    const server = await startServerProcess(["--data", tempDir()]);
    const router = await startRouterProcess(server.url);
    const worker = await startWorkerProcess(server.url, "g", tempDir());
    server.kill("SIGKILL");
    await server.exited();
    // Long enough for their streams to notice and start reconnecting.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    router.kill("SIGTERM");
    worker.kill("SIGTERM");
    // A hung process would leave these pending until the test's own timeout.
    expect(await router.exited()).toBe(0);
    expect(await worker.exited()).toBe(0);
  });
});
