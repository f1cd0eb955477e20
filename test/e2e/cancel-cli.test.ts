// `modulate cancel` with real processes (server, router, workers, and the jobs' own processes):
// a running job's whole process tree goes, a child that called setsid included, and nothing
// runs the job again; a job canceled while it waits never starts; a job that has ended stays
// as it was; a filter asks before it cancels (issue 15, item 3).
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { CanceledRecord } from "../../src/orchestration/client/cancel.ts";
import { ModulateClient } from "../../src/orchestration/client.ts";
import type { JobSpec } from "../../src/orchestration/jobs/job.ts";
import { executeId, newJobId, queueTimeoutId } from "../../src/orchestration/jobs/names.ts";
import { runCli, startRouterProcess, startWorkerProcess } from "../helpers/cluster.ts";
import {
  eventually,
  MODULATE,
  start,
  startServerProcess,
  stopAll,
  tempDir,
} from "../helpers/processes.ts";
import { send } from "../helpers/protocol-client.ts";
import { requestsOfKind } from "../helpers/server-metrics.ts";

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

/** A job of `group` running `content` as a bash script. */
function bashJob(group: string, content: string, mode: JobSpec["mode"] = "detach"): JobSpec {
  const now = Date.now();
  return {
    id: newJobId(now),
    group,
    script: { name: "job.sh", content },
    args: [],
    timeoutMs: 10 * 60_000,
    mode,
    submittedAt: now,
  };
}

/**
 * A job that sleeps for `seconds` beside two children doing the same: one in its process group
 * and one that left it with setsid (its own session and group, out of reach of a signal to
 * the job's group). The odd number of seconds is how the test finds all three in /proc.
 */
function sleeperTree(seconds: number): string {
  return `setsid sleep ${seconds} &\nsleep ${seconds} &\nsleep ${seconds}\n`;
}

/** A number of seconds no other test's process sleeps for. */
function markerSeconds(): number {
  return 600_000 + Math.floor(Math.random() * 99_999);
}

interface Found {
  pid: number;
  session: number;
}

/** Live processes running `sleep SECONDS`, with their session ids. */
function sleepers(seconds: number): Found[] {
  const found: Found[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (cmdline !== `sleep\0${seconds}\0`) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const [state, , , session] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // A zombie holds nothing: an orphan's may wait long for the container's init to reap it.
      if (state === "Z") continue;
      found.push({ pid: Number(entry), session: Number(session) });
    } catch {
      // Gone while it was read.
    }
  }
  return found;
}

/** `kill -0` and not a zombie: the process still exists and holds what it held. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0] !== "Z";
  } catch {
    return false;
  }
}

/** Waits until worker `pid` is no longer listed alive: its leases have lapsed. */
async function leaseLapsed(url: string, pid: string): Promise<void> {
  const client = clientFor(url);
  await eventually(
    async () => !(await client.workers()).some((w) => w.pid === pid) || undefined,
    `the lease of worker ${pid} to lapse`,
  );
}

/**
 * Submits a job to `group` and waits for it to succeed: a worker of the group has taken what
 * the server offered it by then.
 */
async function witnessRuns(url: string, group: string): Promise<void> {
  const client = clientFor(url);
  const witness = bashJob(group, "echo witness\n", "wait");
  await client.submit(witness, 60_000);
  expect((await client.waitForJob(witness.id)).state).toBe("succeeded");
}

/** How many listeners the server has been asked to register (its /metrics). */
function registrations(url: string): Promise<number> {
  return requestsOfKind(url, "promise.register_listener");
}

async function cancelRecord(url: string, id: string): Promise<Partial<CanceledRecord>> {
  const got = await runCli(url, "get", id, "--json");
  expect(got.code).toBe(130);
  return got.record as Partial<CanceledRecord>;
}

describe("modulate cancel", () => {
  it("kills a running job's whole process tree, setsid child included, within 2 s; the job reads canceled with who and when, and nothing runs it again", async () => {
    const server = await startServerProcess(["--data", tempDir()]);
    await startRouterProcess(server.url);
    const worker = await startWorkerProcess(server.url, "tree", tempDir(), ["--lease", "2s"]);
    const seconds = markerSeconds();
    const spec = bashJob("tree", sleeperTree(seconds));
    await clientFor(server.url).submit(spec, 60_000);
    const tree = await eventually(() => {
      const found = sleepers(seconds);
      return found.length === 3 ? found : undefined;
    }, "the job's three sleeps");
    // One of them left the job's session: a signal to the job's process group misses it.
    expect(new Set(tree.map((p) => p.session)).size).toBe(2);

    const canceled = await runCli(server.url, "cancel", spec.id);
    const canceledAt = Date.now();
    expect(canceled.code).toBe(0);
    expect(canceled.out).toContain(`canceled ${spec.id} (was running on `);
    expect(canceled.out).toContain(worker.workerPid);
    // The bar: every process gone within 2 s of the cancel (its command has returned
    // by then, so this measures the worker's part, and starts after the cancel was on record).
    await eventually(
      () => tree.every((p) => !alive(p.pid)) || undefined,
      "every process of the job to be gone",
      2_000,
    );
    expect(Date.now() - canceledAt).toBeLessThan(2_000);

    const record = await cancelRecord(server.url, spec.id);
    expect(record).toMatchObject({ id: spec.id, state: "canceled", exitCode: null });
    expect(record.canceledBy).toMatch(/^\S+@\S+$/);
    expect(record.canceledAt).toBeLessThanOrEqual(canceledAt);
    expect(record.reason).toBe(
      `canceled by ${record.canceledBy} at ${new Date(record.canceledAt ?? 0).toISOString()}`,
    );
    expect(record.worker?.pid).toBe(worker.workerPid);
    await eventually(
      () => /done (\S+) canceled: canceled by /.exec(worker.output()) ?? undefined,
      "the worker to say the run ended canceled",
    );
    const view = await clientFor(server.url).getJob(spec.id);
    expect(view.attempts.map((a) => a.outcome?.state)).toEqual(["canceled"]);

    // The worker dies; once its lease has lapsed a peer of its group is offered what it held,
    // and runs a later job, but not this one: none of its processes is back.
    const peer = await startWorkerProcess(server.url, "tree", tempDir(), ["--lease", "2s"]);
    worker.kill("SIGKILL");
    await leaseLapsed(server.url, worker.workerPid);
    await witnessRuns(server.url, "tree");
    expect(sleepers(seconds)).toEqual([]);
    expect(worker.output().match(new RegExp(`start ${spec.id}`, "g"))).toHaveLength(1);
    expect(peer.output()).not.toContain(`start ${spec.id}`);
    expect(await cancelRecord(server.url, spec.id)).toEqual(record);
  });

  it("kills a job that ignores SIGTERM within 2 s too: a cancel's grace before SIGKILL is short", async () => {
    const server = await startServerProcess(["--data", tempDir()]);
    await startRouterProcess(server.url);
    await startWorkerProcess(server.url, "stubborn", tempDir());
    const seconds = markerSeconds();
    // The script and its child shrug SIGTERM off; only SIGKILL ends them.
    const spec = bashJob(
      "stubborn",
      `trap '' TERM\nbash -c "trap '' TERM; sleep ${seconds}" &\nsleep ${seconds}\n`,
    );
    await clientFor(server.url).submit(spec, 60_000);
    const tree = await eventually(() => {
      const found = sleepers(seconds);
      return found.length === 2 ? found : undefined;
    }, "the job's two sleeps");
    const canceled = await runCli(server.url, "cancel", spec.id);
    const canceledAt = Date.now();
    expect(canceled.code).toBe(0);
    await eventually(
      () => tree.every((p) => !alive(p.pid)) || undefined,
      "every process of the job to be gone",
      5_000,
    );
    expect(Date.now() - canceledAt).toBeLessThan(2_000);
  });

  it("kills a job canceled before its worker listens for a cancel (soon after it starts) within 2 s: a child that shrugs SIGTERM off and a setsid one too", async () => {
    const server = await startServerProcess(["--data", tempDir()]);
    await startRouterProcess(server.url);
    const worker = await startWorkerProcess(server.url, "early", tempDir());
    const seconds = markerSeconds();
    const spec = bashJob(
      "early",
      `trap '' TERM\nsetsid bash -c "trap '' TERM; sleep ${seconds}" &\nsleep ${seconds} &\nsleep ${seconds}\n`,
    );
    const client = clientFor(server.url);
    const listenedBefore = await registrations(server.url);
    await client.submit(spec, 60_000);
    const tree = await eventually(() => {
      const found = sleepers(seconds);
      return found.length === 3 ? found : undefined;
    }, "the job's three sleeps");
    // Canceled from this process, at once: the worker's watch has only read the job's promise
    // as the run began, and listens only once the run has lasted (cancel.ts LISTEN_AFTER_MS).
    const cancelStartedAt = Date.now();
    expect(await client.cancel(spec.id, cancelStartedAt)).toMatchObject({ kind: "canceled" });
    expect(await registrations(server.url)).toBe(listenedBefore);
    await eventually(
      () => tree.every((p) => !alive(p.pid)) || undefined,
      "every process of the job to be gone",
      5_000,
    );
    expect(Date.now() - cancelStartedAt).toBeLessThan(2_000);
    await eventually(
      () => worker.output().includes(`done ${spec.id} canceled: canceled by `) || undefined,
      "the worker to say the run ended canceled",
    );
    expect(worker.output().match(new RegExp(`start ${spec.id}`, "g"))).toHaveLength(1);
  });

  it("cancels a job whose worker is down: no other worker starts it, and its worker kills it once it is back", async () => {
    const server = await startServerProcess();
    await startRouterProcess(server.url);
    const worker = await startWorkerProcess(server.url, "down", tempDir(), ["--lease", "2s"]);
    const seconds = markerSeconds();
    const spec = bashJob("down", sleeperTree(seconds));
    await clientFor(server.url).submit(spec, 60_000);
    const tree = await eventually(() => {
      const found = sleepers(seconds);
      return found.length === 3 ? found : undefined;
    }, "the job's three sleeps");
    worker.kill("SIGSTOP");
    try {
      expect((await runCli(server.url, "cancel", spec.id)).code).toBe(0);
      // Its lease lapses, and the server offers a peer nothing: the job's task is done.
      const peer = await startWorkerProcess(server.url, "down", tempDir(), ["--lease", "2s"]);
      await leaseLapsed(server.url, worker.workerPid);
      const task = await send(server.url, "task.get", { id: executeId(spec.id) });
      expect(task.data).toMatchObject({ task: { state: "fulfilled" } });
      expect(peer.output()).not.toContain(`start ${spec.id}`);
      // Nobody has touched its processes meanwhile: the worker that runs them is stopped.
      expect(tree.every((p) => alive(p.pid))).toBe(true);
    } finally {
      worker.kill("SIGCONT");
    }
    await eventually(
      () => tree.every((p) => !alive(p.pid)) || undefined,
      "the worker, back, to kill the job's processes",
    );
    await eventually(
      () => worker.output().includes(`done ${spec.id} canceled: canceled by `) || undefined,
      "the worker to say the run ended canceled",
    );
    expect((await cancelRecord(server.url, spec.id)).state).toBe("canceled");
  });

  it("ends a waiting submit with exit 130, and frees the worker's slot", async () => {
    const server = await startServerProcess();
    await startRouterProcess(server.url);
    await startWorkerProcess(server.url, "wait", tempDir());
    const script = join(tempDir(), "long.sh");
    const seconds = markerSeconds();
    writeFileSync(script, `sleep ${seconds}\n`);
    const submit = start(MODULATE, ["submit", "--url", server.url, "--group", "wait", script]);
    const queued = await submit.waitFor(/job (\S+) queued on wait/);
    const id = queued[1] ?? "";
    await eventually(() => sleepers(seconds).length === 1 || undefined, "the job to run");
    expect((await runCli(server.url, "cancel", id)).code).toBe(0);
    expect(await submit.exited()).toBe(130);
    expect(submit.output()).toMatch(/modulate: job \S+ canceled: canceled by /);
    // The worker's one slot is free again: the next job of its group runs there.
    await witnessRuns(server.url, "wait");
  });

  it("cancels a queued job, which never starts once a worker of its group comes", async () => {
    const server = await startServerProcess();
    await startRouterProcess(server.url);
    const client = clientFor(server.url);
    const spec = bashJob("later", 'echo "this job ran"\n');
    await client.submit(spec, 60_000);
    await eventually(
      async () =>
        (await send(server.url, "promise.get", { id: executeId(spec.id) })).status === 200 ||
        undefined,
      "the job to be routed",
    );
    const canceled = await runCli(server.url, "cancel", spec.id);
    expect(canceled.code).toBe(0);
    expect(canceled.out).toContain(`canceled ${spec.id} (was queued)`);
    // Its queue-timeout call is settled: no router is handed it at the deadline.
    const call = await send(server.url, "promise.get", { id: queueTimeoutId(spec.id) });
    expect(call.data).toMatchObject({ promise: { state: "resolved" } });

    const worker = await startWorkerProcess(server.url, "later", tempDir());
    // A job submitted after the worker started runs there: by then the worker has had its
    // chance at the canceled one.
    const after = bashJob("later", "echo after\n", "wait");
    await client.submit(after, 60_000);
    expect((await client.waitForJob(after.id)).state).toBe("succeeded");
    expect(worker.output()).toContain(`start ${after.id} attempt 1`);
    expect(worker.output()).not.toContain(`start ${spec.id}`);
    expect(await cancelRecord(server.url, spec.id)).toMatchObject({
      state: "canceled",
      attempt: 0,
      worker: null,
      startedAt: null,
    });
  });

  it("cancels a job no router has routed yet: routed later, it never starts", async () => {
    const server = await startServerProcess();
    const client = clientFor(server.url);
    const spec = bashJob("unrouted", 'echo "this job ran"\n');
    await client.submit(spec, 60_000);
    const canceled = await runCli(server.url, "cancel", spec.id);
    expect(canceled.code).toBe(0);
    expect(canceled.out).toContain(`canceled ${spec.id} (was waiting for a router)`);

    await startRouterProcess(server.url);
    const worker = await startWorkerProcess(server.url, "unrouted", tempDir());
    const after = bashJob("unrouted", "echo after\n", "wait");
    await client.submit(after, 60_000);
    expect((await client.waitForJob(after.id)).state).toBe("succeeded");
    expect(worker.output()).not.toContain(`start ${spec.id}`);
    expect((await cancelRecord(server.url, spec.id)).state).toBe("canceled");
    // Its execute promise was made settled, with no target: the server made it no task.
    const task = await send(server.url, "task.get", { id: executeId(spec.id) });
    expect(task.status).toBe(404);
  });

  it("says a job that has ended already ended, exits 0, and changes nothing", async () => {
    const server = await startServerProcess();
    await startRouterProcess(server.url);
    await startWorkerProcess(server.url, "done", tempDir());
    const client = clientFor(server.url);
    const spec = bashJob("done", "echo finished\n", "wait");
    await client.submit(spec, 60_000);
    const result = await client.waitForJob(spec.id);
    expect(result.state).toBe("succeeded");
    const before = await runCli(server.url, "get", spec.id, "--json");

    const canceled = await runCli(server.url, "cancel", spec.id);
    expect(canceled.code).toBe(0);
    expect(canceled.out).toContain(`${spec.id} already ended succeeded: nothing changed`);
    const after = await runCli(server.url, "get", spec.id, "--json");
    expect(after.code).toBe(0);
    expect(after.record).toEqual(before.record);
  });

  it("exits 4 naming an id the server does not hold, and still cancels the others", async () => {
    const server = await startServerProcess();
    const client = clientFor(server.url);
    const spec = bashJob("nobody", "echo hi\n");
    await client.submit(spec, 60_000);
    const run = await runCli(server.url, "cancel", "job-none", spec.id);
    expect(run.code).toBe(4);
    expect(run.out).toContain("no such job: job-none");
    expect(run.out).toContain(`canceled ${spec.id}`);
  });

  it("refuses a cancel by filter without --yes off a terminal, and with --yes cancels every job it chooses", async () => {
    const server = await startServerProcess();
    await startRouterProcess(server.url);
    const client = clientFor(server.url);
    const specs = [bashJob("bulk", "echo a\n"), bashJob("bulk", "echo b\n")];
    const other = bashJob("elsewhere", "echo c\n");
    for (const spec of [...specs, other]) await client.submit(spec, 60_000);

    const refused = await runCli(server.url, "cancel", "--group", "bulk", "--state", "pending");
    expect(refused.code).toBe(2);
    expect(refused.out.trim().split("\n")).toHaveLength(1);
    expect(refused.out).toContain("add --yes");
    for (const spec of specs) expect((await client.getJob(spec.id)).finished).toBe(false);

    const bulk = await runCli(server.url, "cancel", "--group", "bulk", "--yes", "--json");
    expect(bulk.code).toBe(0);
    const line = bulk.out.split("\n").find((l) => l.startsWith("[")) ?? "[]";
    const outcomes = JSON.parse(line) as { id: string; outcome: string }[];
    expect(outcomes.map((o) => o.id).sort()).toEqual(specs.map((s) => s.id).sort());
    expect(outcomes.every((o) => o.outcome === "canceled")).toBe(true);
    expect((await client.getJob(other.id)).finished).toBe(false);
  });
});
