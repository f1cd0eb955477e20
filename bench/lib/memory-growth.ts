// Whether a long-running process's memory grows with the work it does (bench:binary, issue
// 18: "a worker's memory after 10,000 jobs, no growth beyond noise"). Its resident memory is
// read as the jobs go; the first part of the run is its warm-up (V8 compiles and tiers the
// code, the heap finds its sizes), and from there on a leak shows as a rise that goes on.
// Two readings of the same samples: the rise from the end of the warm-up to the end (and to
// the idle process after), and the least-squares slope over the second half of the run.
import { readFile } from "node:fs/promises";

export interface MemorySample {
  /** Jobs done when it was read. */
  readonly jobs: number;
  /** Seconds since the jobs began. */
  readonly atS: number;
  readonly rssBytes: number;
  /** RssAnon: heaps and other private memory, where a leak lands. */
  readonly anonBytes: number;
  /** RssFile: the executable's pages, shared with every process of the same file. */
  readonly fileBytes: number;
}

/** VmRSS and its parts of one process, from /proc. */
export async function readMemory(
  pid: number,
): Promise<{ rssBytes: number; anonBytes: number; fileBytes: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = (key: string): number => {
    const found = new RegExp(`^${key}:\\s+(\\d+) kB$`, "m").exec(status)?.[1];
    if (found === undefined) throw new Error(`no ${key} for ${pid}`);
    return Number(found) * 1024;
  };
  return { rssBytes: kb("VmRSS"), anonBytes: kb("RssAnon"), fileBytes: kb("RssFile") };
}

/** Least-squares slope of bytes over jobs, as MiB per 1,000 jobs; 0 with fewer than 2 points. */
export function slopeMiBPerThousandJobs(samples: readonly MemorySample[]): number {
  if (samples.length < 2) return 0;
  const n = samples.length;
  const meanX = samples.reduce((sum, s) => sum + s.jobs, 0) / n;
  const meanY = samples.reduce((sum, s) => sum + s.rssBytes, 0) / n;
  let covariance = 0;
  let variance = 0;
  for (const s of samples) {
    covariance += (s.jobs - meanX) * (s.rssBytes - meanY);
    variance += (s.jobs - meanX) ** 2;
  }
  if (variance === 0) return 0;
  return ((covariance / variance) * 1000) / (1024 * 1024);
}

export interface GrowthVerdict {
  /** Jobs done at the reading taken as the end of the warm-up. */
  readonly warmJobs: number;
  readonly warmBytes: number;
  /** The higher of the last reading during the jobs and the reading once idle after them. */
  readonly endBytes: number;
  readonly growthBytes: number;
  /** Over the second half of the run. */
  readonly slopeMiBPerThousandJobs: number;
  /** What the slope would add over another `jobs` jobs, in MiB. */
  readonly projectedMiBPerRun: number;
  readonly ok: boolean;
}

/**
 * Judges `samples` (in the order read) of a run of `jobs` jobs: the warm-up ends at the first
 * reading at or past `warmFraction` of the jobs, and the run passes when the memory from there
 * to the end rose less than `barBytes`. The slope is reported beside it, not judged: over a
 * run this short, the collector's own steps make it noisy.
 */
export function judgeGrowth(
  samples: readonly MemorySample[],
  idleAfterBytes: number,
  jobs: number,
  options: { warmFraction: number; barBytes: number },
): GrowthVerdict {
  const last = samples[samples.length - 1];
  const warm = samples.find((s) => s.jobs >= jobs * options.warmFraction) ?? last;
  if (warm === undefined || last === undefined) throw new Error("no memory samples to judge");
  const endBytes = Math.max(last.rssBytes, idleAfterBytes);
  const growthBytes = endBytes - warm.rssBytes;
  const slope = slopeMiBPerThousandJobs(samples.filter((s) => s.jobs >= jobs / 2));
  return {
    warmJobs: warm.jobs,
    warmBytes: warm.rssBytes,
    endBytes,
    growthBytes,
    slopeMiBPerThousandJobs: Math.round(slope * 100) / 100,
    projectedMiBPerRun: Math.round(((slope * jobs) / 1000) * 10) / 10,
    ok: growthBytes < options.barBytes,
  };
}
