import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  GpuSets,
  describeGpus,
  detectGpus,
  parseGpuOption,
  parseGpuQuery,
  resolveGpus,
} from "../../src/sandbox/gpus.ts";
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

describe("GpuSets", () => {
  it("gives two 2-GPU jobs distinct pairs of four, and a third nothing until one lets go", () => {
    const sets = new GpuSets(["0", "1", "2", "3"]);
    const first = sets.take({ kind: "whole", count: 2 });
    const second = sets.take({ kind: "whole", count: 2 });
    expect(first?.ids).toEqual(["0", "1"]);
    expect(second?.ids).toEqual(["2", "3"]);
    expect(sets.take({ kind: "whole", count: 2 })).toBeUndefined();
    expect(sets.take({ kind: "whole", count: 0 })?.ids).toEqual([]);
    sets.release(first!);
    sets.release(first!); // twice changes nothing
    expect(sets.take({ kind: "whole", count: 2 })?.ids).toEqual(["0", "1"]);
    expect(sets.freeCount).toBe(0);
  });

  it("lets up to jobs-per-gpu sharers onto one GPU, never a whole-GPU job onto a shared one", () => {
    const sets = new GpuSets(["0", "1"], 2);
    const a = sets.take({ kind: "shared" });
    const b = sets.take({ kind: "shared" });
    // Sharers pack onto one GPU: the other stays whole for a whole-GPU job.
    expect([a?.ids, b?.ids]).toEqual([["0"], ["0"]]);
    expect(sets.take({ kind: "whole", count: 2 })).toBeUndefined();
    const whole = sets.take({ kind: "whole", count: 1 });
    expect(whole?.ids).toEqual(["1"]);
    // Both GPUs are taken: GPU 0 by two sharers (its most), GPU 1 whole.
    expect(sets.take({ kind: "shared" })).toBeUndefined();
    sets.release(a!);
    expect(sets.take({ kind: "shared" })?.ids).toEqual(["0"]);
    expect(sets.take({ kind: "whole", count: 1 })).toBeUndefined();
  });

  it("knows what it could never serve", () => {
    const sets = new GpuSets(["0", "1"]);
    expect(sets.canEverServe({ kind: "whole", count: 2 })).toBe(true);
    expect(sets.canEverServe({ kind: "whole", count: 3 })).toBe(false);
    expect(new GpuSets([]).canEverServe({ kind: "shared" })).toBe(false);
    expect(() => new GpuSets(["0"], 0)).toThrow(RangeError);
  });
});

describe("nvidia-smi --query-gpu", () => {
  it("reads index, name and memory, names with commas included", () => {
    expect(
      parseGpuQuery("0, NVIDIA H100 80GB HBM3, 81559\n1, Odd, Name, 1024\nbad line\n"),
    ).toEqual([
      { index: "0", name: "NVIDIA H100 80GB HBM3", memoryMiB: 81559 },
      { index: "1", name: "Odd, Name", memoryMiB: 1024 },
    ]);
  });

  it("asks a stand-in nvidia-smi on PATH, and finds nothing where it is missing", async () => {
    expect(await describeGpus({ PATH: `${FIXTURES}:/usr/bin:/bin` })).toEqual([
      { index: "0", name: "NVIDIA Fake", memoryMiB: 16384 },
      { index: "1", name: "NVIDIA Fake", memoryMiB: 16384 },
    ]);
    expect(await describeGpus({ PATH: path.join(FIXTURES, "absent") })).toEqual([]);
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

  it("sees no GPU when given an empty set (a --gpus 0 job on a GPU worker)", async () => {
    const sandbox = await makeSandbox({ sandbox: "none", cgroups: false });
    try {
      const outcome = await runFixture(sandbox.config, "hello.py", { gpuIds: [] });
      expect(outcome.stdout.head).toContain("CUDA \n");
      expect(outcome.gpuIds).toEqual([]);
    } finally {
      await sandbox.cleanup();
    }
  });
});
