// The queue timeout, with real processes: a job no worker takes in time ends timed_out and
// is never run afterwards, even by a worker that gets it later.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ModulateClient } from "../../src/orchestration/client.ts";
import { executeId, queueDeadlineId } from "../../src/orchestration/jobs/names.ts";
import { jobSpec, runCli, startRouterProcess, startWorkerProcess } from "../helpers/cluster.ts";
import { eventually, startServerProcess, stopAll, tempDir } from "../helpers/processes.ts";
import { send } from "../helpers/protocol-client.ts";

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

/** A script that says it ran: a job's output (and its worker's log) shows whether it did. */
const SAYS_IT_RAN = 'print("this job ran")\n';

function scriptFile(): string {
  const script = join(tempDir(), "job.py");
  writeFileSync(script, SAYS_IT_RAN);
  return script;
}

async function promiseState(url: string, id: string): Promise<string | undefined> {
  const answer = await send(url, "promise.get", { id });
  return answer.status === 200
    ? (answer.data as { promise: { state: string } }).promise.state
    : undefined;
}

describe("the queue timeout", () => {
  it("ends a job no worker takes within --queue-timeout as timed_out with exit 124, and a worker started later never runs it", async () => {
    const server = await startServerProcess(["--data", tempDir()]);
    await startRouterProcess(server.url);
    const script = scriptFile();
    const startedAt = Date.now();
    const submit = await runCli(
      server.url,
      "submit",
      script,
      "--group",
      "lonely",
      "--queue-timeout",
      "2s",
      "--json",
    );
    expect(submit.code).toBe(124);
    expect(submit.record).toMatchObject({
      state: "timed_out",
      reason: "no worker took it within 2s (queue timeout)",
      attempt: 0,
      worker: null,
      stdout: "",
    });
    // The default job timeout is ten minutes: the wait ended at the queue timeout, not there.
    expect(Date.now() - startedAt).toBeLessThan(60_000);
    const id = submit.record.id ?? "";

    const worker = await startWorkerProcess(server.url, "lonely", tempDir());
    // A job submitted after it runs on the worker: by then the worker has had its chance at
    // the first one.
    const later = await runCli(server.url, "submit", script, "--group", "lonely", "--json");
    expect(later.code).toBe(0);
    expect(worker.output()).toContain(`start ${later.record.id} attempt 1`);
    expect(worker.output()).not.toContain(`start ${id}`);

    const get = await runCli(server.url, "get", id, "--json");
    expect(get.code).toBe(124);
    expect(get.record).toMatchObject({
      state: "timed_out",
      reason: "no worker took it within 2s (queue timeout)",
    });
    const view = await clientFor(server.url).getJob(id);
    expect(view.attempts).toEqual([]);
    expect(await promiseState(server.url, executeId(id))).toBe("resolved");
    expect(get.record.stdout).toBe("");
  });

  it("ends a detached job no worker takes in time too: get --wait exits 124 with the reason", async () => {
    const server = await startServerProcess(["--data", tempDir()]);
    await startRouterProcess(server.url);
    const submit = await runCli(
      server.url,
      "submit",
      scriptFile(),
      "--group",
      "lonely",
      "--queue-timeout",
      "1.5s",
      "--detach",
    );
    expect(submit.code).toBe(0);
    // The id is stdout's one line; stderr warns first that group lonely has no live worker.
    const id = submit.out.trim().split("\n").pop() ?? "";
    const get = await runCli(server.url, "get", id, "--wait", "--json");
    expect(get.code).toBe(124);
    expect(get.record).toMatchObject({
      state: "timed_out",
      reason: "no worker took it within 1.5s (queue timeout)",
    });
  });

  it("has a worker that gets a job after its queue timeout, while no router is up, answer timed_out without running it", async () => {
    const server = await startServerProcess(["--data", tempDir()]);
    const router = await startRouterProcess(server.url);
    const client = clientFor(server.url);
    const spec = jobSpec("quick.py", {
      group: "late",
      mode: "wait",
      queueTimeoutMs: 1_000,
      script: { name: "job.py", content: SAYS_IT_RAN },
    });
    await client.submit(spec, 1_000);
    // Routed: the deadline and the execute promise exist. Then the router goes, so nothing
    // but the deadline itself decides the race when a worker comes.
    await eventually(
      async () => (await promiseState(server.url, executeId(spec.id))) === "pending" || undefined,
      "the job to be routed",
    );
    router.kill("SIGKILL");
    await router.exited();
    await eventually(
      async () =>
        (await promiseState(server.url, queueDeadlineId(spec.id))) === "resolved" || undefined,
      "the queue deadline to pass",
    );

    const worker = await startWorkerProcess(server.url, "late", tempDir());
    const result = await client.waitForJob(spec.id);
    expect(result).toMatchObject({
      state: "timed_out",
      reason: "no worker took it within 1s (queue timeout)",
      attempt: 0,
      stdout: "",
    });
    await worker.waitFor(new RegExp(`done ${spec.id} timed_out`));
    expect(worker.output()).not.toContain(`start ${spec.id}`);
    // It recorded its look at the job, closed as never run.
    const { attempts } = await client.getJob(spec.id);
    expect(attempts.map((a) => [a.worker.pid, a.promiseState, a.outcome])).toEqual([
      [
        worker.workerPid,
        "resolved",
        { state: "timed_out", reason: "not run: no worker took it within 1s (queue timeout)" },
      ],
    ]);
  });
});
