import path from "node:path";
import { describe, expect, it } from "vitest";
import { GpuPool, detectGpus, parseGpuOption, resolveGpus } from "../../src/sandbox/gpus.ts";
import { FIXTURES, makeSandbox, runFixture } from "./harness.ts";

describe("--gpus", () => {
  it("parses auto, a count and a list, and refuses anything else", () => {
    expect(parseGpuOption("auto")).toEqual({ kind: "auto" });
    expect(parseGpuOption("2")).toEqual({ kind: "count", count: 2 });
    expect(parseGpuOption("0,2")).toEqual({ kind: "list", ids: ["0", "2"] });
    expect(() => parseGpuOption("0,0")).toThrow(/distinct ids/);
    expect(() => parseGpuOption("gpu 1")).toThrow(/not valid/);
  });

  it("counts GPUs from a stand-in nvidia-smi -L on PATH", async () => {
    const env = { PATH: `${FIXTURES}:/usr/bin:/bin` };
    expect(await detectGpus(env)).toEqual(["0", "1"]);
    expect(await resolveGpus({ kind: "count", count: 1 }, () => detectGpus(env))).toEqual(["0"]);
    await expect(resolveGpus({ kind: "count", count: 3 }, () => detectGpus(env))).rejects.toThrow(
      /only 2 GPU/,
    );
  });

  it("finds no GPU where nvidia-smi is missing", async () => {
    expect(await detectGpus({ PATH: path.join(FIXTURES, "absent") })).toEqual([]);
  });
});

describe("GpuPool", () => {
  it("gives each job its own GPU and the next job one only after a release", async () => {
    const pool = new GpuPool(["0", "1"]);
    const first = await pool.acquire(1);
    const second = await pool.acquire(1);
    expect([first.ids, second.ids]).toEqual([["0"], ["1"]]);
    let thirdIds: readonly string[] | undefined;
    const third = pool.acquire(1).then((lease) => (thirdIds = lease.ids));
    await Promise.resolve();
    expect(thirdIds).toBeUndefined();
    pool.release(first);
    await third;
    expect(thirdIds).toEqual(["0"]);
  });

  it("serves waiters first come, first served, and forgets an aborted one", async () => {
    const pool = new GpuPool(["0"]);
    const held = await pool.acquire(1);
    const controller = new AbortController();
    const aborted = pool.acquire(1, controller.signal);
    const next = pool.acquire(1);
    controller.abort(new Error("worker stopping"));
    await expect(aborted).rejects.toThrow("worker stopping");
    pool.release(held);
    expect((await next).ids).toEqual(["0"]);
  });

  it("refuses to hand out more GPUs than it has", async () => {
    await expect(new GpuPool(["0"]).acquire(2)).rejects.toThrow(RangeError);
  });
});

describe("a job given a GPU", () => {
  it("sees only its GPU in CUDA_VISIBLE_DEVICES and the result records it", async () => {
    const sandbox = await makeSandbox({ sandbox: "none", cgroups: false });
    try {
      const outcome = await runFixture(sandbox.config, "hello.py", { gpuIds: ["1"] });
      expect(outcome.stdout.head).toContain("CUDA 1");
      expect(outcome.gpuIds).toEqual(["1"]);
    } finally {
      await sandbox.cleanup();
    }
  });
});
