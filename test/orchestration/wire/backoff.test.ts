// The one backoff every retry loop uses: a failure count in, a delay out, capped and jittered.
import { describe, expect, it } from "vitest";
import { backoffDelayMs, SERVER_RETRY } from "../../../src/orchestration/wire/backoff.ts";

function delays(policy: Parameters<typeof backoffDelayMs>[0], count: number): number[] {
  return Array.from({ length: count }, (_, failures) => backoffDelayMs(policy, failures));
}

describe("backoffDelayMs", () => {
  it("waits for the server as the loops did: 250 ms, doubling to 5 s", () => {
    expect(delays(SERVER_RETRY, 7)).toEqual([250, 500, 1_000, 2_000, 4_000, 5_000, 5_000]);
  });

  it("sends a worker's answer again as it did: 100 ms, doubling to 1 s", () => {
    expect(delays({ firstMs: 100, maxMs: 1_000 }, 6)).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it("looks for an execute promise as the client did: 2 ms, doubling to 2 s", () => {
    const looked = delays({ firstMs: 2, maxMs: 2_000 }, 12);
    expect(looked.slice(0, 4)).toEqual([2, 4, 8, 16]);
    expect(looked.at(-1)).toBe(2_000);
  });

  it("stays at the cap, finite, however many tries failed", () => {
    expect(backoffDelayMs(SERVER_RETRY, 10_000)).toBe(5_000);
    expect(backoffDelayMs({ firstMs: 0, maxMs: 100 }, 10_000)).toBe(0);
    expect(backoffDelayMs({ firstMs: 10, maxMs: 100, factor: 1 }, 10_000)).toBe(10);
  });

  it("never waits longer than the cap, even when the first delay is longer", () => {
    expect(backoffDelayMs({ firstMs: 500, maxMs: 100 }, 0)).toBe(100);
  });

  it("takes up to its jitter's fraction off a delay, never more", () => {
    const policy = { firstMs: 1_000, maxMs: 1_000, jitterRatio: 0.25 };
    expect(backoffDelayMs(policy, 0, () => 0)).toBe(1_000);
    expect(backoffDelayMs(policy, 0, () => 0.5)).toBe(875);
    expect(backoffDelayMs(policy, 0, () => 0.999_999)).toBeGreaterThan(750);
    for (let i = 0; i < 100; i++) {
      const delayMs = backoffDelayMs(policy, 3);
      expect(delayMs).toBeGreaterThan(750);
      expect(delayMs).toBeLessThanOrEqual(1_000);
    }
  });
});
