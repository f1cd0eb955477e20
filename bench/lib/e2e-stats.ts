// Summaries of a few dozen latency samples: exact nearest-rank percentiles over the sorted
// samples, kept to 0.1 ms (the timers' honest resolution for process start-ups).

export interface Summary {
  readonly runs: number;
  readonly medianMs: number;
  readonly p95Ms: number;
  readonly minMs: number;
  readonly maxMs: number;
}

/** Nearest-rank percentile (`fraction` in 0..1) of ascending `sorted`. */
export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(fraction * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

export function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

export function summarize(samplesMs: readonly number[]): Summary {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  return {
    runs: sorted.length,
    medianMs: round1(percentile(sorted, 0.5)),
    p95Ms: round1(percentile(sorted, 0.95)),
    minMs: round1(sorted[0] ?? Number.NaN),
    maxMs: round1(sorted[sorted.length - 1] ?? Number.NaN),
  };
}

/** The median of each named field over `rows`, for a per-hop breakdown. */
export function medians<K extends string>(rows: readonly Record<K, number>[]): Record<K, number> {
  const first = rows[0];
  const out = {} as Record<K, number>;
  if (!first) return out;
  for (const key of Object.keys(first) as K[]) {
    out[key] = round1(
      percentile(
        [...rows.map((row) => row[key])].sort((a, b) => a - b),
        0.5,
      ),
    );
  }
  return out;
}
