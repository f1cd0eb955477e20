// The arithmetic of `modulate stats`: nearest-rank percentiles and per-group sums.
import { describe, expect, it } from "vitest";
import type { ListedJob } from "../../src/orchestration/client/list.ts";
import { percentile, summarizeJobs } from "../../src/orchestration/client/stats.ts";

function job(
  group: string,
  stage: ListedJob["stage"],
  waitMs: number | null,
  runMs: number,
): ListedJob {
  return {
    id: `${group}-${Math.random()}`,
    group,
    state: stage === "routing" || stage === "queued" ? "pending" : stage,
    stage,
    script: "x.py",
    reason: "",
    exitCode: 0,
    stdout: "",
    stderr: "",
    durationMs: runMs,
    worker: null,
    attempt: 1,
    submittedAt: 1_000,
    startedAt: waitMs === null ? null : 1_000 + waitMs,
    finishedAt: null,
  };
}

describe("stats", () => {
  it("takes percentiles by nearest rank", () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 0.5)).toBe(50);
    expect(percentile(values, 0.95)).toBe(95);
    expect(percentile([7], 0.95)).toBe(7);
    expect(percentile([], 0.5)).toBeNull();
  });

  it("sums jobs per group and stage, timing only those that started", () => {
    const report = summarizeJobs(
      [
        job("gpu", "succeeded", 100, 1_000),
        job("gpu", "failed", 300, 3_000),
        job("gpu", "running", 200, 0),
        job("cpu", "queued", null, 0),
      ],
      5_000,
      60_000,
    );
    expect(report.groups.map((g) => g.group)).toEqual(["cpu", "gpu"]);
    const gpu = report.groups[1];
    expect(gpu?.byStage).toEqual({ succeeded: 1, failed: 1, running: 1 });
    expect(gpu?.queueWait).toEqual({ count: 3, p50Ms: 200, p95Ms: 300 });
    expect(gpu?.runTime).toEqual({ count: 2, p50Ms: 1_000, p95Ms: 3_000 });
    expect(report.total.jobs).toBe(4);
    expect(report.sinceMs).toBe(60_000);
  });
});
