import { describe, expect, it } from "vitest";
import {
  dependenciesProblem,
  retriesProblem,
  submissionProblem,
} from "../../../src/orchestration/jobs/validate-submission.ts";
import type { JobSpec } from "../../../src/orchestration/jobs/job.ts";

const SPEC: JobSpec = {
  id: "job-1",
  group: "cpu",
  script: { name: "train.py", content: "print(1)\n" },
  args: [],
  timeoutMs: 60_000,
  mode: "wait",
  submittedAt: 0,
};

describe("a submission's dependencies and retries", () => {
  it("are refused by the router when they could never be right", () => {
    const limits = { maxScriptBytes: 1_000_000 };
    expect(submissionProblem({ ...SPEC, retries: 2 }, "cpu", limits)).toBeUndefined();
    expect(submissionProblem({ ...SPEC, retries: -1 }, "cpu", limits)).toBe(
      "retries -1 is not a whole number from 0 to 10",
    );
    expect(
      submissionProblem({ ...SPEC, after: { ids: ["job-1"], any: false } }, "cpu", limits),
    ).toBe("job job-1 cannot wait for itself");
  });

  it("name what is wrong in one line", () => {
    expect(retriesProblem(1.5)).toBe("retries 1.5 is not a whole number from 0 to 10");
    expect(retriesProblem(undefined)).toBeUndefined();
    expect(dependenciesProblem("job-1", ["job-0", "a.b"])).toMatch(
      /^dependency "a.b" is not a valid job id: '.' separates/,
    );
    expect(
      dependenciesProblem(
        "job-1",
        Array.from({ length: 101 }, (_, i) => `j${i}`),
      ),
    ).toBe("101 dependencies are more than the 100 a job may wait for");
  });
});
