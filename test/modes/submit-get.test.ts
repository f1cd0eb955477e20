// `submit` and `get` called directly (runSubmit, runGet) with their real dependencies: an
// embedded server, or a whole local cluster, started in this process. What they print is
// caught by the context's writers.
import { hostname } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { ExitCode } from "../../src/common/errors.ts";
import type { JobResult } from "../../src/orchestration/jobs/job.ts";
import { processPid } from "../../src/orchestration/jobs/names.ts";
import type { RunningServer } from "../../src/server/server.ts";
import { openModulateClient } from "../../src/modes/deps.ts";
import { startEmbeddedServer } from "../../src/modes/embedded-server.ts";
import { getCommand, runGet } from "../../src/modes/get.ts";
import { startLocalCluster, type LocalCluster } from "../../src/modes/local-cluster.ts";
import { runSubmit, submitCommand, type SubmitDeps } from "../../src/modes/submit.ts";
import { defaultJobLimits } from "../../src/modes/worker-setup.ts";
import { JOB_FIXTURES, stopAll, tempDir } from "../helpers/processes.ts";
import { captureContext } from "./capture-context.ts";
import { argsOf } from "./mode-args.ts";

const stoppers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stoppers.splice(0).reverse()) await stop();
  await stopAll();
});

async function embeddedServer(): Promise<RunningServer> {
  const server = await startEmbeddedServer({ host: "127.0.0.1", port: 0 });
  stoppers.push(() => server.close());
  return server;
}

async function localCluster(group: string): Promise<LocalCluster> {
  const cluster = await startLocalCluster({
    groups: [group],
    slotsPerWorker: 1,
    port: 0,
    sandbox: {
      sandbox: "none",
      limits: defaultJobLimits(),
      networkAllowed: false,
      workDir: tempDir(),
      maxDiskBytes: 0,
      python: "/usr/bin/python3",
    },
    env: process.env,
  });
  stoppers.push(() => cluster.stop());
  return cluster;
}

/** submit's real dependencies, at a fixed time; its stdin is never read here. */
function submitDeps(nowMs = Date.now()): SubmitDeps {
  return { openClient: openModulateClient, stdin: Readable.from([]), clock: () => nowMs };
}

function lastJson<T>(text: string): T {
  const line = text.trim().split("\n").pop() ?? "";
  return JSON.parse(line) as T;
}

describe("runSubmit and runGet against a server in this process", () => {
  it("submit --detach prints the id once durable; get shows that job, submitted at submit's clock", async () => {
    const server = await embeddedServer();
    const submittedAt = Date.UTC(2026, 0, 2, 3, 4, 5);
    const submitted = captureContext();
    const submitArgs = await argsOf(submitCommand, ["--url", server.url, "--detach", "--json"], {
      script: join(JOB_FIXTURES, "quick.py"),
    });
    expect(await runSubmit(submitArgs, submitted, submitDeps(submittedAt))).toBe(0);
    const receipt = lastJson<{ id: string; existing: boolean }>(submitted.out());
    expect(receipt.existing).toBe(false);
    expect(receipt.id).toMatch(/^job-/);

    const got = captureContext();
    const getArgs = await argsOf(getCommand, ["--url", server.url, "--json"], { id: receipt.id });
    // Not finished (no router takes it here): exit 0, and the record so far.
    expect(await runGet(getArgs, got, { openClient: openModulateClient })).toBe(0);
    const record = lastJson<JobResult>(got.out());
    expect(record.id).toBe(receipt.id);
    expect(record.group).toBe("cpu");
    expect(record.submittedAt).toBe(submittedAt);
    expect(record.finishedAt).toBeNull();
  });

  it("get of an id the server does not hold fails with exit code 4, naming the id", async () => {
    const server = await embeddedServer();
    const args = await argsOf(getCommand, ["--url", server.url], { id: "job-none" });
    const got = runGet(args, captureContext(), { openClient: openModulateClient });
    await expect(got).rejects.toThrow("no such job: job-none");
    await expect(got).rejects.toMatchObject({ exitCode: ExitCode.notFound });
  });

  it("submit waits for its job on a local cluster, prints its output and exits with its code", async () => {
    const cluster = await localCluster("g");
    const ctx = captureContext();
    const args = await argsOf(submitCommand, ["--url", cluster.url, "--group", "g"], {
      script: join(JOB_FIXTURES, "exit-7.py"),
    });
    expect(await runSubmit(args, ctx, submitDeps())).toBe(7);
    expect(ctx.err()).toMatch(/^modulate: job (\S+) queued on g\n/);
    expect(ctx.err()).toContain("failing on purpose\n");
    expect(ctx.err()).toMatch(/modulate: job \S+ failed/);
    const id = /job (\S+) queued/.exec(ctx.err())?.[1] ?? "";

    const got = captureContext();
    const getArgs = await argsOf(getCommand, ["--url", cluster.url, "--json"], { id });
    expect(await runGet(getArgs, got, { openClient: openModulateClient })).toBe(7);
    const record = lastJson<JobResult>(got.out());
    expect(record.exitCode).toBe(7);
    // The worker that ran it goes by the pid every worker takes (names.ts), as the cluster says.
    expect(record.worker?.pid).toBe(processPid("g", hostname(), process.pid));
    expect(cluster.workerPids.get("g")).toBe(record.worker?.pid);
  });
});
