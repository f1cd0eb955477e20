// Dependencies (`submit --after`) and retries (`submit --retries`), with real processes: a
// dependant starts only once what it waits for has succeeded, fails with the reason of a
// dependency that did not, waits through a router's kill -9; a failed script runs again as
// a recorded attempt, never more often than asked.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ModulateClient } from "../../src/orchestration/client.ts";
import { runCli, startRouterProcess, startWorkerProcess } from "../helpers/cluster.ts";
import { ed25519KeyPair, signJwt } from "../server/jwt-helper.ts";
import {
  eventually,
  JOB_FIXTURES,
  startServerProcess,
  stopAll,
  tempDir,
} from "../helpers/processes.ts";

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

const fixture = (name: string): string => join(JOB_FIXTURES, name);

/** Submits detached and answers the job's id (stdout's last line). */
async function submitDetached(url: string, script: string, ...args: string[]): Promise<string> {
  const run = await runCli(url, "submit", fixture(script), "--group", "g", "--detach", ...args);
  expect(run.code, run.out).toBe(0);
  return run.out.trim().split("\n").pop() ?? "";
}

/** Where in the worker's log `line` first appears; -1 if nowhere. */
function logIndex(output: string, line: string): number {
  return output.indexOf(line);
}

describe("submit --after", () => {
  it("waits for its dependency to succeed before it runs, saying so in get, its queue timeout not running meanwhile", async () => {
    const server = await startServerProcess(["--data", tempDir()]);
    await startRouterProcess(server.url);
    const worker = await startWorkerProcess(server.url, "g", tempDir(), ["--slots", "2"]);
    const first = await submitDetached(server.url, "sleepy.py", "--", "2");
    // Its queue timeout counts from when its dependency lets it go, not from the submission.
    const second = await submitDetached(
      server.url,
      "quick.py",
      "--after",
      first,
      "--queue-timeout",
      "1s",
    );

    const waiting = await eventually(async () => {
      const view = await clientFor(server.url).getJob(second);
      return view.result.reason === `waiting for job ${first}` ? view : undefined;
    }, "get to say what the dependant waits for");
    expect(waiting.result.state).toBe("pending");

    const get = await runCli(server.url, "get", second, "--wait", "--json");
    expect(get.code).toBe(0);
    expect(get.record).toMatchObject({ state: "succeeded", attempt: 1 });
    const log = worker.output();
    // Two slots: only the dependency held the second one back.
    expect(logIndex(log, `done ${first} succeeded`)).toBeGreaterThanOrEqual(0);
    expect(logIndex(log, `start ${second} attempt 1`)).toBeGreaterThan(
      logIndex(log, `done ${first} succeeded`),
    );
  });

  it("fails the dependant with its dependency's reason when the dependency fails, and never runs it", async () => {
    const server = await startServerProcess(["--data", tempDir()]);
    await startRouterProcess(server.url);
    const worker = await startWorkerProcess(server.url, "g", tempDir());
    const first = await submitDetached(server.url, "exit-7.py");
    const submit = await runCli(
      server.url,
      "submit",
      fixture("quick.py"),
      "--group",
      "g",
      "--after",
      first,
      "--json",
    );
    expect(submit.code).toBe(1);
    expect(submit.record.state).toBe("failed");
    expect(submit.record.reason).toMatch(new RegExp(`^dependency ${first} failed`));
    expect(submit.record.attempt).toBe(0);
    expect(worker.output()).not.toContain(`start ${submit.record.id}`);
  });

  it("starts once its dependencies ended at all with --after-any", async () => {
    const server = await startServerProcess(["--data", tempDir()]);
    await startRouterProcess(server.url);
    await startWorkerProcess(server.url, "g", tempDir());
    const failing = await submitDetached(server.url, "exit-7.py");
    const fine = await submitDetached(server.url, "quick.py");
    const submit = await runCli(
      server.url,
      "submit",
      fixture("quick.py"),
      "--group",
      "g",
      "--after",
      `${failing},${fine}`,
      "--after-any",
      "--json",
    );
    expect(submit.code).toBe(0);
    expect(submit.record.state).toBe("succeeded");
  });

  it("keeps waiting through a router's kill -9, and runs the dependant once", async () => {
    const server = await startServerProcess(["--data", tempDir()]);
    const router = await startRouterProcess(server.url);
    const worker = await startWorkerProcess(server.url, "g", tempDir(), ["--slots", "2"]);
    const first = await submitDetached(server.url, "sleepy.py", "--", "4");
    const second = await submitDetached(server.url, "quick.py", "--after", first);
    await worker.waitFor(new RegExp(`start ${first} attempt 1`));
    await eventually(async () => {
      const view = await clientFor(server.url).getJob(second);
      return view.result.reason === `waiting for job ${first}` || undefined;
    }, "the dependant to wait");
    router.kill("SIGKILL");
    await router.exited();
    await startRouterProcess(server.url);

    const get = await runCli(server.url, "get", second, "--wait", "--json");
    expect(get.code).toBe(0);
    expect(get.record).toMatchObject({ state: "succeeded", attempt: 1 });
    const log = worker.output();
    expect(log.match(new RegExp(`start ${second}`, "g"))).toHaveLength(1);
    expect(logIndex(log, `start ${second} attempt 1`)).toBeGreaterThan(
      logIndex(log, `done ${first} succeeded`),
    );
  });

  it("lists a waiting dependant with what it waits for, and cancel stops it for good", async () => {
    const server = await startServerProcess(["--data", tempDir()]);
    await startRouterProcess(server.url);
    const worker = await startWorkerProcess(server.url, "g", tempDir(), ["--slots", "2"]);
    const first = await submitDetached(server.url, "sleepy.py", "--", "3");
    const second = await submitDetached(server.url, "quick.py", "--after", first);
    const listed = await eventually(async () => {
      const { jobs } = await clientFor(server.url).list({ all: false, limit: 10 });
      const job = jobs.find((j) => j.id === second);
      return job?.reason === `waiting for job ${first}` ? job : undefined;
    }, "ls to say what the dependant waits for");
    expect(listed.stage).toBe("routing");

    expect((await runCli(server.url, "cancel", second)).code).toBe(0);
    const get = await runCli(server.url, "get", second, "--wait", "--json");
    expect(get.record.state).toBe("canceled");
    await worker.waitFor(new RegExp(`done ${first} succeeded`));
    // Its dependency has ended: a router that still routed it would have done so by now.
    await runCli(server.url, "submit", fixture("quick.py"), "--group", "g");
    expect(worker.output()).not.toContain(`start ${second}`);
  });

  it("refuses a dependency on an unknown id at submit, in one line, exit 4", async () => {
    const server = await startServerProcess(["--in-memory"]);
    const submit = await runCli(
      server.url,
      "submit",
      fixture("quick.py"),
      "--after",
      "job-nobody",
      "--detach",
    );
    expect(submit.code).toBe(4);
    expect(submit.out.trim()).toBe(
      "modulate: --after job-nobody: no such job (check the id that submit printed, and --url); nothing was submitted",
    );
  });
});

describe("submit --after under a tenant's token", () => {
  it("waits for the tenant's own job, and refuses one outside its prefix with exit 5", async () => {
    const keys = ed25519KeyPair();
    const token = (claims: Record<string, unknown>): string =>
      signJwt(
        { alg: "EdDSA", typ: "JWT" },
        { exp: Math.floor(Date.now() / 1000) + 3600, ...claims },
        keys.privateKey,
      );
    const keyFile = join(tempDir(), "auth.pub");
    writeFileSync(keyFile, keys.publicKeyPem);
    const server = await startServerProcess(["--data", tempDir(), "--auth-public-key", keyFile]);
    const admin = token({ role: "admin" });
    await startRouterProcess(server.url, ["--token", admin]);
    await startWorkerProcess(server.url, "g", tempDir(), ["--token", admin]);
    const t1 = token({ prefix: "t1-" });
    const submit = (id: string, ...args: string[]) =>
      runCli(
        server.url,
        "submit",
        "--token",
        t1,
        fixture("quick.py"),
        "--group",
        "g",
        "--id",
        id,
        ...args,
      );

    expect((await submit("t1-first", "--detach")).code).toBe(0);
    const second = await submit("t1-second", "--after", "t1-first", "--json");
    expect(second.code).toBe(0);
    expect(second.record.state).toBe("succeeded");

    const outside = await submit("t1-third", "--after", "t2-theirs", "--detach");
    expect(outside.code).toBe(5);
    expect(outside.out.trim()).toBe(
      'modulate: --after t2-theirs is outside this token\'s prefix "t1-": a job may wait only for jobs whose ids start with it; nothing was submitted',
    );
  });
});

describe("submit --retries", () => {
  it("runs a script that fails twice then succeeds three times with --retries 2: attempt 3 succeeded", async () => {
    const server = await startServerProcess(["--data", tempDir()]);
    await startRouterProcess(server.url);
    await startWorkerProcess(server.url, "g", tempDir());
    const submit = await runCli(
      server.url,
      "submit",
      fixture("fails-before-attempt.py"),
      "--group",
      "g",
      "--retries",
      "2",
      "--json",
      "--",
      "3",
    );
    expect(submit.code).toBe(0);
    expect(submit.record).toMatchObject({ state: "succeeded", attempt: 3 });
    expect(submit.record.stdout).toContain("attempt 3 succeeds");
    const { attempts } = await clientFor(server.url).getJob(submit.record.id ?? "");
    expect(attempts.map((a) => [a.attempt, a.promiseState, a.outcome?.state])).toEqual([
      [1, "resolved", "failed"],
      [2, "resolved", "failed"],
      [3, "resolved", "succeeded"],
    ]);
  });

  it("streams each run's output as it prints, marking each new attempt", async () => {
    const server = await startServerProcess(["--data", tempDir()]);
    await startRouterProcess(server.url);
    await startWorkerProcess(server.url, "g", tempDir());
    const submit = await runCli(
      server.url,
      "submit",
      fixture("fails-before-attempt.py"),
      "--group",
      "g",
      "--retries",
      "1",
      "--",
      "2",
    );
    expect(submit.code).toBe(0);
    expect(submit.out).toContain("attempt 1 fails");
    expect(submit.out).toMatch(/--- attempt 2 on \S+ \(\S+\) ---\n/);
    expect(submit.out).toContain("attempt 2 succeeds");
  });

  it("stops after --retries more runs of a script that always fails", async () => {
    const server = await startServerProcess(["--data", tempDir()]);
    await startRouterProcess(server.url);
    const worker = await startWorkerProcess(server.url, "g", tempDir());
    const submit = await runCli(
      server.url,
      "submit",
      fixture("exit-7.py"),
      "--group",
      "g",
      "--retries",
      "1",
      "--json",
    );
    expect(submit.code).toBe(7);
    expect(submit.record).toMatchObject({ state: "failed", attempt: 2, exitCode: 7 });
    expect(worker.output().match(new RegExp(`start ${submit.record.id}`, "g"))).toHaveLength(2);
  });

  it("never gives a job more failed runs than --retries allows when its worker is killed mid-retry", async () => {
    const server = await startServerProcess(["--data", tempDir()]);
    await startRouterProcess(server.url);
    const workers = await Promise.all([
      startWorkerProcess(server.url, "g", tempDir()),
      startWorkerProcess(server.url, "g", tempDir()),
    ]);
    const id = await submitDetached(server.url, "fails-slowly.py", "--retries", "1", "--", "1.5");
    // The retry, attempt 2, runs where attempt 1 failed: that worker is killed in it.
    const retried = new RegExp(`start ${id} attempt 2`);
    const first = await Promise.race(workers.map((w) => w.waitFor(retried, 30_000).then(() => w)));
    first.kill("SIGKILL");
    await first.exited();

    const get = await runCli(server.url, "get", id, "--wait", "--json");
    expect(get.code).toBe(7);
    // Attempt 3 is the crash's re-run, not a retry: with attempt 1 it makes the two failed
    // runs that --retries 1 allows, and nothing runs after it.
    expect(get.record).toMatchObject({ state: "failed", attempt: 3, exitCode: 7 });
    const attempts = await eventually(async () => {
      const { attempts } = await clientFor(server.url).getJob(id);
      return attempts.every((a) => a.promiseState !== "pending") ? attempts : undefined;
    }, "every attempt record to be closed");
    expect(attempts.map((a) => [a.attempt, a.promiseState, a.outcome?.state])).toEqual([
      [1, "resolved", "failed"],
      [2, "rejected", "abandoned"],
      [3, "resolved", "failed"],
    ]);
  });
});
