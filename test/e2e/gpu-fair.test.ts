// The worker hands its GPUs out fairly: a `--gpus 4` job that waits on a 4-GPU worker gets its
// GPUs even while `--gpus 1` jobs keep coming, and a job that runs again (`--retries`) keeps
// its GPU set. Real server, router and worker processes; the worker's GPUs come from the
// stand-in nvidia-smi the GPU tests use (four fake H100s).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ListedJob } from "../../src/orchestration/client/list.ts";
import type { JobResult } from "../../src/orchestration/jobs/job.ts";
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
  // Eight slots for four GPUs: what a job waits for here is GPUs, never a slot.
  await startWorkerProcess(
    server.url,
    "gpu",
    tempDir(),
    ["--gpus", "auto", "--slots", "8", "--sandbox", "none"],
    { PATH: `${FAKE_GPUS}:${process.env["PATH"] ?? ""}` },
  );
});

afterAll(stopAll);

/** Submits a held job; returns its id and what lets it end. */
async function submitHeld(...flags: string[]): Promise<{ id: string; release: () => void }> {
  const gate = join(gates, `go-${Math.random().toString(36).slice(2)}`);
  const run = await runCli(
    server.url,
    "submit",
    HOLD,
    "--group",
    "gpu",
    "--detach",
    ...flags,
    "--",
    gate,
  );
  expect(run.code, run.out).toBe(0);
  const id = run.out.trim().split("\n").pop() ?? "";
  return { id, release: () => writeFileSync(gate, "") };
}

async function stages(): Promise<Map<string, ListedJob>> {
  const run = await runCli(server.url, "ls", "--json");
  expect(run.code, run.out).toBe(0);
  const jobs = JSON.parse(run.out.trim().split("\n").pop() ?? "[]") as ListedJob[];
  return new Map(jobs.map((job) => [job.id, job]));
}

async function resultOf(id: string): Promise<JobResult> {
  const run = await runCli(server.url, "get", id, "--wait", "--json");
  expect(run.code, run.out).toBe(0);
  return run.record as JobResult;
}

describe("fair GPU sets", () => {
  it("does not let a stream of --gpus 1 jobs starve a --gpus 4 job", async () => {
    const first: Awaited<ReturnType<typeof submitHeld>>[] = [];
    for (let n = 0; n < 4; n++) first.push(await submitHeld("--gpus", "1"));
    await eventually(async () => {
      const now = await stages();
      return first.every((job) => now.get(job.id)?.stage === "running") || undefined;
    }, "four 1-GPU jobs running");
    const big = await submitHeld("--gpus", "4");
    const waiting = await eventually(async () => {
      const job = (await stages()).get(big.id);
      return job?.stage === "queued" && /4 GPUs free/.test(job.reason) ? job : undefined;
    }, "the 4-GPU job queued with its reason");
    expect(waiting.reason).toMatch(/waiting for 4 GPUs free on one worker of group gpu/);

    // 1-GPU jobs keep coming while the first four end one by one: each freed GPU would do.
    const stream: Awaited<ReturnType<typeof submitHeld>>[] = [];
    for (const job of first) {
      stream.push(await submitHeld("--gpus", "1"));
      const listed = await stages();
      expect(stream.every((s) => listed.get(s.id)?.stage === "queued")).toBe(true);
      job.release();
    }
    await eventually(
      async () => ((await stages()).get(big.id)?.stage === "running" ? true : undefined),
      "the 4-GPU job running",
    );
    const meanwhile = await stages();
    expect(stream.map((s) => meanwhile.get(s.id)?.stage)).toEqual(Array(4).fill("queued"));
    expect(meanwhile.get(stream[0]?.id ?? "")?.reason).toMatch(
      /waiting for 1 GPU free on one worker of group gpu/,
    );

    big.release();
    const bigResult = await resultOf(big.id);
    expect(bigResult.state).toBe("succeeded");
    expect(bigResult.gpus).toEqual(["0", "1", "2", "3"]);
    for (const job of stream) job.release();
    for (const job of stream) expect((await resultOf(job.id)).state).toBe("succeeded");
  }, 120_000);

  it("runs each run of a --retries job on the GPU set it was given", async () => {
    const script = join(gates, "fails-once.py");
    writeFileSync(
      script,
      'import os, sys\nprint("CUDA", repr(os.environ.get("CUDA_VISIBLE_DEVICES")), flush=True)\nsys.exit(0 if os.environ["MODULATE_ATTEMPT"] == "2" else 5)\n',
    );
    const run = await runCli(
      server.url,
      "submit",
      script,
      "--group",
      "gpu",
      "--gpus",
      "2",
      "--retries",
      "1",
      "--json",
    );
    expect(run.code, run.out).toBe(0);
    const result = run.record as JobResult;
    expect(result.attempt).toBe(2);
    expect(result.gpus).toHaveLength(2);
    expect(result.stdout).toContain(`CUDA '${(result.gpus ?? []).join(",")}'`);
  }, 60_000);
});
