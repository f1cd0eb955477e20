// How bench:binary judges a worker's memory over a long run (bench/lib/memory-growth.ts):
// growth is counted from the end of the warm-up, and the slope is read over the second half.
import { describe, expect, it } from "vitest";
import {
  judgeGrowth,
  slopeMiBPerThousandJobs,
  type MemorySample,
} from "../../bench/lib/memory-growth.ts";

const MIB = 1024 * 1024;

function sample(jobs: number, rssMiB: number): MemorySample {
  return { jobs, atS: jobs / 10, rssBytes: rssMiB * MIB, anonBytes: 0, fileBytes: 0 };
}

describe("the memory judge", () => {
  it("passes a run that rose only during its warm-up and then went up and down", () => {
    const samples = [
      sample(1000, 70),
      sample(2000, 82),
      sample(4000, 84),
      sample(6000, 81),
      sample(8000, 85),
      sample(10000, 83),
    ];
    const verdict = judgeGrowth(samples, 82 * MIB, 10_000, {
      warmFraction: 0.2,
      barBytes: 8 * MIB,
    });
    expect(verdict).toMatchObject({ warmJobs: 2000, ok: true });
    expect(verdict.growthBytes).toBe(1 * MIB);
  });

  it("fails a steady rise past the warm-up, and its slope says how steep", () => {
    const samples = [1000, 2000, 4000, 6000, 8000, 10000].map((jobs) =>
      sample(jobs, 70 + jobs / 500),
    );
    const verdict = judgeGrowth(samples, 0, 10_000, { warmFraction: 0.2, barBytes: 8 * MIB });
    expect(verdict.ok).toBe(false);
    expect(verdict.growthBytes).toBe(16 * MIB);
    expect(verdict.slopeMiBPerThousandJobs).toBe(2);
    expect(verdict.projectedMiBPerRun).toBe(20);
  });

  it("counts the idle reading after the jobs when it is the higher end", () => {
    const samples = [sample(2000, 80), sample(10000, 80)];
    const verdict = judgeGrowth(samples, 90 * MIB, 10_000, {
      warmFraction: 0.2,
      barBytes: 8 * MIB,
    });
    expect(verdict).toMatchObject({ ok: false, endBytes: 90 * MIB });
  });

  it("reads no slope from fewer than two samples or one job count", () => {
    expect(slopeMiBPerThousandJobs([sample(5, 80)])).toBe(0);
    expect(slopeMiBPerThousandJobs([sample(5, 80), sample(5, 90)])).toBe(0);
  });
});
