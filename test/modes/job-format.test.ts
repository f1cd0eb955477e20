import { describe, expect, it } from "vitest";
import { ABANDONED, type AttemptView } from "../../src/orchestration/attempts.ts";
import type { JobResult } from "../../src/orchestration/jobs/job.ts";
import { jobDetails } from "../../src/modes/job-format.ts";

const worker = { host: "node1", pid: "w1", group: "cpu" };

function attempt(n: number, view: Partial<AttemptView>): AttemptView {
  return {
    jobId: "job-1",
    attempt: n,
    worker,
    startedAt: 1_000 * n,
    token: `t${n}`,
    promiseState: "resolved",
    ...view,
  };
}

const result: JobResult = {
  id: "job-1",
  group: "cpu",
  state: "succeeded",
  reason: "",
  exitCode: 0,
  stdout: "",
  stderr: "",
  durationMs: 5,
  worker,
  attempt: 2,
  submittedAt: 0,
  startedAt: 2_000,
  finishedAt: 2_005,
};

describe("a job's details", () => {
  it("say how each attempt ended: abandoned for a dead one, the job's state for the last", () => {
    const text = jobDetails(result, [
      attempt(1, { promiseState: "rejected", outcome: ABANDONED }),
      attempt(2, { outcome: { state: "succeeded", reason: "" } }),
    ]);
    const lines = text.split("\n").filter((line) => /^ {2}\d /.test(line));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/abandoned$/);
    expect(lines[1]).toMatch(/succeeded$/);
  });

  it("say unfinished for an attempt whose record is still open", () => {
    const text = jobDetails(result, [attempt(1, { promiseState: "pending" }), attempt(2, {})]);
    expect(text).toMatch(/ {2}1 .*unfinished\n/);
  });
});
