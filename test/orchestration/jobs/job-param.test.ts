// A job spec is read out of a promise's param in one place, its shape checked: a promise that
// is not a modulate job is a problem to report, where each reader cast it and some crashed.
import type { Context } from "@resonatehq/sdk";
import { describe, expect, it } from "vitest";
import { listJobs } from "../../../src/orchestration/client/list.ts";
import type { JobResult, JobSpec } from "../../../src/orchestration/jobs/job.ts";
import { readJobSpec, specOfParam } from "../../../src/orchestration/jobs/job-param.ts";
import { EXECUTE_FUNCTION, SUBMIT_FUNCTION } from "../../../src/orchestration/jobs/names.ts";
import { submitOrchestration } from "../../../src/orchestration/router.ts";
import { encodeValue } from "../../../src/orchestration/wire/values.ts";
import type { Send } from "../../../src/orchestration/wire/wire.ts";

const SPEC: JobSpec = {
  id: "job-1",
  group: "cpu",
  script: { name: "train.py", content: "print(1)\n" },
  args: ["--epochs", "3"],
  timeoutMs: 60_000,
  mode: "wait",
  submittedAt: 1_700_000_000_000,
  env: { SEED: "1" },
};

function paramOf(func: string, args: unknown): { headers: Record<string, string>; data: string } {
  return encodeValue({ func, args, version: 1 });
}

describe("specOfParam", () => {
  it("reads the spec of a submission as the client writes it", () => {
    expect(specOfParam(paramOf(SUBMIT_FUNCTION, [SPEC]), SUBMIT_FUNCTION)).toEqual({
      ok: true,
      spec: SPEC,
    });
  });

  it("says what is wrong with a param that is not a modulate job", () => {
    const problem = (param: Parameters<typeof specOfParam>[0], func = SUBMIT_FUNCTION) => {
      const reading = specOfParam(param, func);
      return reading.ok ? "read as a job" : reading.problem;
    };
    expect(problem({ headers: {}, data: "not base64 json!" })).toBe(
      "its param is not base64-encoded JSON",
    );
    expect(problem(undefined)).toMatch(/its param is missing, not a call of modulate.submit/);
    expect(problem(encodeValue("hello"))).toMatch(/is "hello", not a call of modulate.submit/);
    expect(problem(paramOf("other.fn", [SPEC]))).toMatch(/a call of "other.fn", not of modulate/);
    expect(problem(paramOf(SUBMIT_FUNCTION, [SPEC]), EXECUTE_FUNCTION)).toMatch(
      /not of modulate.execute/,
    );
    expect(problem(paramOf(SUBMIT_FUNCTION, "x"))).toMatch(/has "x" as its arguments/);
    expect(problem(paramOf(SUBMIT_FUNCTION, []))).toBe("the job spec is missing, not an object");
  });

  it("refuses a spec whose fields are missing or of the wrong type", () => {
    const problem = (spec: unknown) => {
      const reading = readJobSpec(spec);
      return reading.ok ? "read as a job" : reading.problem;
    };
    expect(problem({ ...SPEC, timeoutMs: undefined })).toBe(
      "the job spec's timeoutMs is missing, not a number",
    );
    expect(problem({ ...SPEC, args: "--epochs 3" })).toBe(
      `the job spec's args is "--epochs 3", not a list of strings`,
    );
    expect(problem({ ...SPEC, mode: "later" })).toBe(
      `the job spec's mode is "later", not "wait" or "detach"`,
    );
    expect(problem({ ...SPEC, script: { name: "a.py" } })).toBe(
      "the job spec's script.content is missing, not a string",
    );
    expect(problem({ ...SPEC, env: ["A=1"] })).toBe(`the job spec's env is ["A=1"], not an object`);
    expect(problem([SPEC])).toMatch(/^the job spec is \[.*, not an object$/);
    expect(problem({ ...SPEC, outputs: undefined })).toBe("read as a job");
    expect(problem({ ...SPEC, after: { ids: ["job-0"], any: false }, retries: 2 })).toBe(
      "read as a job",
    );
    expect(problem({ ...SPEC, after: ["job-0"] })).toBe(
      `the job spec's after is ["job-0"], not {ids: a list of strings, any: true or false}`,
    );
    expect(problem({ ...SPEC, retries: "2" })).toBe(`the job spec's retries is "2", not a number`);
  });
});

describe("readers of a job spec", () => {
  it("the router refuses a submission that is not a job spec, as an invalid submission", () => {
    const submit = submitOrchestration({
      routes: new Map(),
      limits: { maxScriptBytes: 1_000_000 },
      queueTimeoutMs: 60_000,
      match: (group) => group,
    });
    const step = submit({ id: "job-x" } as Context, { id: "job-x", script: "print(1)" }).next();
    expect(step.done).toBe(true);
    expect(step.value).toMatchObject({
      id: "job-x",
      state: "failed",
      rejected: true,
      reason: `invalid submission: the job spec's group is missing, not a string`,
    } satisfies Partial<JobResult>);
  });

  it("the dashboard's list shows a job beside a promise tagged as one that is not", async () => {
    const promise = (id: string, param: { headers: Record<string, string>; data: string }) => ({
      id,
      state: "pending",
      param,
      value: { headers: {}, data: "" },
      tags: { "modulate:kind": "job" },
      timeoutAt: 0,
      createdAt: 0,
    });
    const send = ((req: { kind: string; data: { tags?: Record<string, string> } }) => {
      if (req.kind === "task.search")
        return Promise.resolve({ head: { status: 200 }, data: { tasks: [] } });
      const kind = req.data.tags?.["modulate:kind"];
      const promises =
        kind === "job"
          ? [
              promise("job-1", paramOf(SUBMIT_FUNCTION, [SPEC])),
              promise("garbage", { headers: {}, data: "%%%" }),
            ]
          : [];
      return Promise.resolve({ head: { status: 200 }, data: { promises } });
    }) as unknown as Send;
    const listed = await listJobs(send, { all: false, limit: 100 }, 0);
    expect(listed.jobs.map((j) => [j.id, j.group, j.script, j.stage])).toEqual([
      ["job-1", "cpu", "train.py", "routing"],
    ]);
  });
});
