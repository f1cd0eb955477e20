// Latency summaries. Samples are kept whole and sorted once: a run of a few seconds holds at
// most some hundred thousand numbers, so an exact percentile costs less than a histogram's
// bucket-width error would.

/** The nearest-rank percentile (`p` in 0..100) of `sortedMs`, which must be sorted ascending. */
export function percentile(sortedMs: Float64Array, p: number): number {
  if (sortedMs.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sortedMs.length);
  return sortedMs[Math.min(sortedMs.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

export interface LatencySummary {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function summarize(latenciesMs: Float64Array): LatencySummary {
  const sorted = Float64Array.from(latenciesMs).sort();
  return {
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] ?? Number.NaN),
  };
}

/** A growable list of numbers without boxing each one. */
export class SampleBuffer {
  #values: Float64Array<ArrayBuffer> = new Float64Array(1 << 14);
  #length = 0;

  push(value: number): void {
    if (this.#length === this.#values.length) {
      const bigger = new Float64Array(this.#values.length * 2);
      bigger.set(this.#values);
      this.#values = bigger;
    }
    this.#values[this.#length++] = value;
  }

  get length(): number {
    return this.#length;
  }

  /** A copy that owns its buffer, so it can be transferred to another thread. */
  toArray(): Float64Array<ArrayBuffer> {
    return this.#values.slice(0, this.#length);
  }
}
