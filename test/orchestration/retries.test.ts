import { describe, expect, it } from "vitest";
import { isRetriedEnding, mayRunAgain, retriedReason } from "../../src/orchestration/retries.ts";

const record = (attempt: number, state?: string) => ({
  attempt,
  ...(state === undefined ? {} : { outcome: { state, reason: "" } }),
});

describe("retries", () => {
  it("run a failed script again while the failed runs on record are within --retries", () => {
    const spec = { retries: 2 };
    expect(mayRunAgain(spec, 1, "failed", [record(1)])).toBe(true);
    expect(mayRunAgain(spec, 2, "failed", [record(1, "failed"), record(2)])).toBe(true);
    expect(
      mayRunAgain(spec, 3, "failed", [record(1, "failed"), record(2, "failed"), record(3)]),
    ).toBe(false);
  });

  it("do not count a run a crash cut short, which left its record open or abandoned", () => {
    const spec = { retries: 1 };
    const records = [record(1, "abandoned"), record(2), record(3)];
    expect(mayRunAgain(spec, 3, "failed", records)).toBe(true);
    expect(mayRunAgain(spec, 4, "failed", [record(1, "failed"), record(2), record(4)])).toBe(false);
  });

  it("never answer a success, a cancel, or a timeout unless asked", () => {
    expect(mayRunAgain({ retries: 3 }, 1, "succeeded", [])).toBe(false);
    expect(mayRunAgain({ retries: 3 }, 1, "canceled", [])).toBe(false);
    expect(mayRunAgain({ retries: 3 }, 1, "timed_out", [])).toBe(false);
    expect(mayRunAgain({ retries: 3, retryTimedOut: true }, 1, "timed_out", [])).toBe(true);
    expect(mayRunAgain({}, 1, "failed", [])).toBe(false);
    expect(isRetriedEnding("timed_out", { retryTimedOut: true })).toBe(true);
  });

  it("say in a retried attempt's record why it ended", () => {
    expect(retriedReason("", 3)).toBe("exit code 3; run again (--retries)");
    expect(retriedReason("killed by SIGKILL", null)).toBe(
      "killed by SIGKILL; run again (--retries)",
    );
  });
});
