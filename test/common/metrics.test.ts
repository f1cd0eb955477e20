// The exposition writer: what Prometheus reads of counters, gauges and histograms.
import { describe, expect, it } from "vitest";
import { MetricsRegistry, parseExposition } from "../../src/common/metrics.ts";

describe("metrics exposition", () => {
  it("writes HELP and TYPE, labelled samples, and cumulative histogram buckets", async () => {
    const registry = new MetricsRegistry();
    const jobs = registry.counter("jobs_total", "Jobs.");
    const busy = registry.gauge("slots_busy", "Busy.");
    const wait = registry.histogram("wait_seconds", "Wait.", [1, 5]);
    jobs.inc({ outcome: "succeeded" });
    jobs.inc({ outcome: "succeeded" });
    jobs.inc({ outcome: 'fa"il\\ed\n' });
    busy.set({}, 3);
    wait.observe({ group: "g" }, 0.5);
    wait.observe({ group: "g" }, 2);
    wait.observe({ group: "g" }, 50);
    const text = await registry.exposition();
    expect(text).toContain("# TYPE jobs_total counter\n");
    expect(text).toContain("# TYPE wait_seconds histogram\n");
    expect(text).toContain('jobs_total{outcome="fa\\"il\\\\ed\\n"} 1\n');
    const samples = parseExposition(text);
    const value = (name: string, labels: Record<string, string>): number | undefined =>
      samples.find(
        (s) =>
          s.name === name &&
          Object.entries(labels).every(([k, v]) => s.labels[k] === v) &&
          Object.keys(s.labels).length === Object.keys(labels).length,
      )?.value;
    expect(value("jobs_total", { outcome: "succeeded" })).toBe(2);
    expect(value("jobs_total", { outcome: 'fa"il\\ed\n' })).toBe(1);
    expect(value("slots_busy", {})).toBe(3);
    expect(value("wait_seconds_bucket", { group: "g", le: "1" })).toBe(1);
    expect(value("wait_seconds_bucket", { group: "g", le: "5" })).toBe(2);
    expect(value("wait_seconds_bucket", { group: "g", le: "+Inf" })).toBe(3);
    expect(value("wait_seconds_count", { group: "g" })).toBe(3);
    expect(value("wait_seconds_sum", { group: "g" })).toBe(52.5);
  });

  it("refreshes on-demand values before writing", async () => {
    const registry = new MetricsRegistry();
    const size = registry.gauge("size_bytes", "Size.");
    let bytes = 10;
    registry.onCollect(() => size.set({}, bytes));
    expect(parseExposition(await registry.exposition())[0]?.value).toBe(10);
    bytes = 20;
    expect(parseExposition(await registry.exposition())[0]?.value).toBe(20);
  });
});
