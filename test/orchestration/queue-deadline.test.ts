// The queue deadline's pure rules: which timeout applies, and the record a timed-out job ends with.
import { describe, expect, it } from "vitest";
import { exitCodeFor, type JobSpec } from "../../src/orchestration/jobs/job.ts";
import {
  effectiveQueueTimeoutMs,
  isQueueTaker,
  queueTimedOutResult,
  queueTimeoutReason,
} from "../../src/orchestration/queue-deadline.ts";
import { parseDurationMs } from "../../src/common/units.ts";

const spec: JobSpec = {
  id: "job-1",
  group: "cpu",
  script: { name: "a.py", content: "print(1)\n" },
  args: [],
  timeoutMs: 600_000,
  mode: "wait",
  submittedAt: 1,
};

describe("the queue deadline", () => {
  it("takes the submission's queue timeout, capped by the router's, or the router's when it gave none", () => {
    const day = 24 * 60 * 60 * 1000;
    expect(effectiveQueueTimeoutMs({ ...spec, queueTimeoutMs: 5_000 }, day)).toBe(5_000);
    expect(effectiveQueueTimeoutMs({ ...spec, queueTimeoutMs: 2 * day }, day)).toBe(day);
    expect(effectiveQueueTimeoutMs(spec, 60_000)).toBe(60_000);
  });

  it("says the queue timeout in the units a flag takes, the largest whole ones", () => {
    for (const [written, said] of [
      ["5s", "5s"],
      ["1.5s", "1.5s"],
      ["90s", "1m30s"],
      ["10m", "10m"],
      ["2h", "2h"],
      ["250ms", "250ms"],
    ]) {
      expect(queueTimeoutReason(parseDurationMs(written ?? "", "--queue-timeout"))).toBe(
        `no worker took it within ${said} (queue timeout)`,
      );
    }
  });

  it("ends a job nothing ran as timed_out, exit code 124, with no worker and no attempt", () => {
    const result = queueTimedOutResult({ ...spec, queueTimeoutMs: 5_000 }, 7);
    expect(result).toMatchObject({
      id: "job-1",
      state: "timed_out",
      reason: "no worker took it within 5s (queue timeout)",
      worker: null,
      attempt: 0,
      startedAt: null,
      finishedAt: 7,
    });
    expect(exitCodeFor(result)).toBe(124);
  });

  it("tells a worker's claim from the timer's empty settlement", () => {
    expect(isQueueTaker({ takenBy: { host: "h", pid: "p", group: "g" }, takenAt: 1 })).toBe(true);
    expect(isQueueTaker(undefined)).toBe(false);
    expect(isQueueTaker({})).toBe(false);
  });
});
