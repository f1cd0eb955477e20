// GPU sets and named interpreters (issue 17, items 5 and 6), against real server, router and
// worker processes. The worker's GPUs come from a stand-in nvidia-smi on its PATH (four fake
// H100s): it answers `-L` and the `--query-gpu` the worker asks for names and memory.
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobResult } from "../../src/orchestration/jobs/job.ts";
import type { ListedJob } from "../../src/orchestration/client/list.ts";
import { runCli, startRouterProcess, startWorkerProcess } from "../helpers/cluster.ts";
import {
  eventually,
  JOB_FIXTURES,
  ROOT,
  startServerProcess,
  stopAll,
  tempDir,
  type ServerProcess,
} from "../helpers/processes.ts";

const FAKE_GPUS = join(ROOT, "test", "fixtures", "gpus4");
const HOLD = join(JOB_FIXTURES, "gpu-hold.py");

let server: ServerProcess;
let gates: string;

beforeAll(async () => {
  server = await startServerProcess();
  await startRouterProcess(server.url);
  gates = tempDir();
  // A named interpreter that says it ran, then runs python.
  const torch = join(gates, "torch-python");
  writeFileSync(torch, '#!/bin/sh\necho "torch interpreter"\nexec /usr/bin/python3 "$@"\n');
  chmodSync(torch, 0o755);
  await startWorkerProcess(
    server.url,
    "gpu",
    tempDir(),
    // No bwrap: the held jobs look for their gate files in the test's directory.
    [
      "--gpus",
      "auto",
      "--jobs-per-gpu",
      "2",
      "--sandbox",
      "none",
      "--interpreter",
      `torch=${torch}`,
    ],
    { PATH: `${FAKE_GPUS}:${process.env["PATH"] ?? ""}` },
  );
  // A worker without GPUs, which reads a job only from the task it acquired.
  await startWorkerProcess(server.url, "plain", tempDir(), ["--sandbox", "none"]);
});

afterAll(stopAll);

/** Submits a held job; returns its id and the file that lets it end. */
async function submitHeld(...flags: string[]): Promise<{ id: string; release: () => void }> {
  const gate = join(gates, `go-${Math.random().toString(36).slice(2)}`);
  const run = await runCli(
    server.url,
    "submit",
    HOLD,
    ...(flags.includes("--group") ? [] : ["--group", "gpu"]),
    "--detach",
    ...flags,
    "--",
    gate,
  );
  expect(run.code, run.out).toBe(0);
  const id = run.out.trim().split("\n").pop() ?? "";
  return { id, release: () => writeFileSync(gate, "") };
}

async function listed(): Promise<ListedJob[]> {
  const run = await runCli(server.url, "ls", "--json");
  expect(run.code, run.out).toBe(0);
  return JSON.parse(run.out.trim().split("\n").pop() ?? "[]") as ListedJob[];
}

async function stageOf(id: string): Promise<ListedJob | undefined> {
  return (await listed()).find((job) => job.id === id);
}

async function resultOf(id: string): Promise<JobResult> {
  const run = await runCli(server.url, "get", id, "--wait", "--json");
  expect(run.code, run.out).toBe(0);
  return run.record as JobResult;
}

describe("GPU sets", () => {
  it("gives two --gpus 2 jobs distinct pairs of a 4-GPU worker, and a third waits with a reason", async () => {
    const a = await submitHeld("--gpus", "2");
    const b = await submitHeld("--gpus", "2");
    await eventually(
      async () =>
        (await stageOf(a.id))?.stage === "running" && (await stageOf(b.id))?.stage === "running"
          ? true
          : undefined,
      "both 2-GPU jobs running",
    );
    const c = await submitHeld("--gpus", "2");
    const waiting = await eventually(async () => {
      const job = await stageOf(c.id);
      return job?.stage === "queued" && /2 GPUs free/.test(job.reason) ? job : undefined;
    }, "the third 2-GPU job queued with its reason");
    expect(waiting.reason).toMatch(/waiting for 2 GPUs free on one worker of group gpu/);

    // A job asking for no GPU runs beside them, and sees none.
    const none = await submitHeld("--gpus", "0");
    none.release();
    const noneResult = await resultOf(none.id);
    expect(noneResult.state).toBe("succeeded");
    expect(noneResult.stdout).toContain("CUDA ''");
    expect(noneResult.gpus).toBeUndefined();
    expect((await stageOf(c.id))?.stage).toBe("queued");

    a.release();
    b.release();
    const [ra, rb] = [await resultOf(a.id), await resultOf(b.id)];
    const held = [ra.gpus ?? [], rb.gpus ?? []];
    expect(held.map((ids) => ids.length)).toEqual([2, 2]);
    expect(new Set(held.flat())).toEqual(new Set(["0", "1", "2", "3"]));
    expect(ra.stdout).toContain(`CUDA '${(ra.gpus ?? []).join(",")}'`);
    expect(ra.gpuInfo).toEqual(
      (ra.gpus ?? []).map((index) => ({ index, name: "NVIDIA Fake H100", memoryMiB: 81559 })),
    );

    c.release();
    const rc = await resultOf(c.id);
    expect(rc.state).toBe("succeeded");
    expect(rc.gpus).toHaveLength(2);
  });

  it("lets --gpus shared jobs share one GPU, up to --jobs-per-gpu", async () => {
    const [s1, s2] = [await submitHeld("--gpus", "shared"), await submitHeld("--gpus", "shared")];
    await eventually(
      async () =>
        (await stageOf(s1.id))?.stage === "running" && (await stageOf(s2.id))?.stage === "running"
          ? true
          : undefined,
      "both shared jobs running at once",
    );
    s1.release();
    s2.release();
    const [r1, r2] = [await resultOf(s1.id), await resultOf(s2.id)];
    expect(r1.gpus).toHaveLength(1);
    expect(r2.gpus).toEqual(r1.gpus);
  });

  it("says a job asking for more GPUs than any worker has waits for one that has them", async () => {
    const big = await submitHeld("--gpus", "5", "--queue-timeout", "30s");
    const job = await eventually(async () => {
      const found = await stageOf(big.id);
      return found?.stage === "queued" && /has 5 GPUs/.test(found.reason) ? found : undefined;
    }, "the 5-GPU job's reason");
    expect(job.reason).toMatch(/no live worker of group gpu has 5 GPUs \(the most one has: 4\)/);
    await runCli(server.url, "cancel", big.id);
  });

  it("has a worker without GPUs hand back a GPU job, and serve the next job", async () => {
    const gpuJob = await submitHeld("--group", "plain", "--gpus", "1", "--queue-timeout", "30s");
    const job = await eventually(async () => {
      const found = await stageOf(gpuJob.id);
      return found?.stage === "queued" && /has 1 GPU/.test(found.reason) ? found : undefined;
    }, "the GPU job queued on the GPU-less group with its reason");
    expect(job.reason).toMatch(/no live worker of group plain has 1 GPU \(the most one has: 0\)/);
    const plain = await submitHeld("--group", "plain");
    plain.release();
    const result = await resultOf(plain.id);
    expect(result.state).toBe("succeeded");
    expect(result.stdout).toContain("CUDA None");
    expect((await stageOf(gpuJob.id))?.stage).toBe("queued");
    await runCli(server.url, "cancel", gpuJob.id);
  });

  it("refuses a --gpus that is neither a count nor shared, naming the fix", async () => {
    const run = await runCli(server.url, "submit", HOLD, "--group", "gpu", "--gpus", "two");
    expect(run.code).toBe(2);
    expect(run.out).toMatch(/--gpus "two" is not valid: give a whole number of GPUs/);
  });
});

describe("named interpreters", () => {
  it("runs the script with the interpreter the submission names", async () => {
    const job = await submitHeld("--interpreter", "torch", "--gpus", "0");
    job.release();
    const result = await resultOf(job.id);
    expect(result.state).toBe("succeeded");
    expect(result.stdout).toContain("torch interpreter");
  });

  it("refuses by name one the group does not offer, listing what it does", async () => {
    const run = await runCli(server.url, "submit", HOLD, "--group", "gpu", "--interpreter", "jax");
    expect(run.code).toBe(2);
    expect(run.out).toMatch(/interpreter jax is not offered by group gpu \(it offers: torch\)/);
  });

  it("shows each worker's interpreters in modulate workers", async () => {
    const run = await runCli(server.url, "workers", "--json");
    const [worker] = JSON.parse(run.out.trim().split("\n").pop() ?? "[]") as {
      interpreters?: string[];
      gpus?: string[];
      slots: number;
    }[];
    expect(worker).toMatchObject({ interpreters: ["torch"], gpus: ["0", "1", "2", "3"], slots: 8 });
  });
});
