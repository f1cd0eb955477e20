import { describe, expect, it } from "vitest";
import {
  formatBytes,
  formatDuration,
  parseBytes,
  parseDurationMs,
} from "../../src/common/units.ts";

describe("durations", () => {
  it("are written with the largest whole units, the way a job's reason names a limit", () => {
    expect([600_000, 5_400_000, 1500, 250, 604_800_000, 90_061_000].map(formatDuration)).toEqual([
      "10m",
      "1h30m",
      "1.5s",
      "250ms",
      "7d",
      "1d1h1m1s",
    ]);
  });

  it("read back what they were written as, so a shown default can be typed as a flag", () => {
    for (const ms of [250, 1_000, 1_500, 90_000, 5_400_000, 604_800_000, 90_061_000]) {
      expect(parseDurationMs(formatDuration(ms), "--timeout")).toBe(ms);
    }
  });

  it("take a bare number as seconds, alone only", () => {
    expect(parseDurationMs("90", "--timeout")).toBe(90_000);
    expect(() => parseDurationMs("1h30", "--timeout")).toThrow(
      /--timeout "1h30" is not a duration/,
    );
    expect(() => parseDurationMs("-5s", "--timeout")).toThrow(/is not a duration/);
  });
});

describe("sizes", () => {
  it("are written in binary units with one decimal where not whole", () => {
    expect([formatBytes(512 * 2 ** 20), formatBytes(1536), formatBytes(100)]).toEqual([
      "512 MiB",
      "1.5 KiB",
      "100 B",
    ]);
  });

  it("read binary units, with or without B or iB", () => {
    expect(["512M", "512MiB", "2g", "100"].map((t) => parseBytes(t, "--memory"))).toEqual([
      512 * 2 ** 20,
      512 * 2 ** 20,
      2 * 2 ** 30,
      100,
    ]);
  });
});
