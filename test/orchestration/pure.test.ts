// The orchestration's pure decisions: names, routes, validation, exit codes, waiting reasons.
import { describe, expect, it } from "vitest";
import {
  exitCodeFor,
  rejectedResult,
  type JobResult,
  type JobSpec,
} from "../../src/orchestration/jobs/job.ts";
import { groupNameProblem, jobIdProblem, newJobId } from "../../src/orchestration/jobs/names.ts";
import { whyWaiting, type WorkerView } from "../../src/orchestration/presence.ts";
import { parseRoutes, resolveGroup } from "../../src/orchestration/jobs/routes.ts";
import {
  DEFAULT_SUBMISSION_LIMITS,
  submissionProblem,
} from "../../src/orchestration/jobs/validate-submission.ts";
import { chooseInterpreter } from "../../src/sandbox/choose-interpreter.ts";
import { SandboxInputError } from "../../src/sandbox/errors.ts";
import type { Interpreters } from "../../src/sandbox/types.ts";
import { parseBytes, parseDurationMs } from "../../src/common/units.ts";

const spec: JobSpec = {
  id: "job-1",
  group: "cpu",
  script: { name: "a.py", content: "print(1)\n" },
  args: [],
  timeoutMs: 60_000,
  mode: "wait",
  submittedAt: 1,
};

/** A worker with every interpreter, so only the kind of script decides. */
const ALL_INTERPRETERS: Interpreters = {
  python: { path: "/usr/bin/python3", prefixArgs: ["-I"], note: "" },
  bash: { path: "/usr/bin/bash", prefixArgs: [], note: "" },
  node: { path: "/usr/bin/node", prefixArgs: [], note: "" },
};

function result(state: JobResult["state"], exitCode: number | null = null): JobResult {
  return { ...rejectedResult(spec, "cpu", "x", 2), state, exitCode, rejected: false };
}

describe("names", () => {
  it("accepts plain group names and explains a bad one", () => {
    expect(groupNameProblem("gpu-a100")).toBeUndefined();
    expect(groupNameProblem("GPU!")).toBe(
      `"GPU!" is not a valid group name: use letters, digits, '-' and '_' (at most 63, starting with a letter or digit)`,
    );
  });

  it("keeps '.' and ':' out of job ids, which separate what a job creates from the job", () => {
    expect(jobIdProblem("train-v2_run-3")).toBeUndefined();
    expect(jobIdProblem("train.v2")).toMatch(/not a valid job id/);
    expect(jobIdProblem("a:b")).toMatch(/not a valid job id/);
    expect(jobIdProblem(newJobId(Date.now()))).toBeUndefined();
  });
});

describe("routes", () => {
  it("reads arrow, colon and equals lines with comments, and JSON", () => {
    const routes = parseRoutes(
      "# types\na100 -> gpu-a100\nh100: gpu-h100  # fast\nt4 = gpu-small\n",
      "routes",
    );
    expect([...routes]).toEqual([
      ["a100", "gpu-a100"],
      ["h100", "gpu-h100"],
      ["t4", "gpu-small"],
    ]);
    expect([...parseRoutes('{"a100": "gpu-a100"}', "routes.json")]).toEqual([["a100", "gpu-a100"]]);
  });

  it("names the line that is wrong", () => {
    expect(() => parseRoutes("a100 -> gpu\nnonsense here and there\n", "routes")).toThrow(
      /routes:2: expected "machine-type -> group"/,
    );
    expect(() => parseRoutes("a100 -> bad!group\n", "routes")).toThrow(
      /routes:1: "bad!group" is not a valid group name/,
    );
  });

  it("routes an unlisted name to the group of the same name", () => {
    expect(resolveGroup(new Map([["a100", "gpu-a100"]]), "cpu")).toBe("cpu");
    expect(resolveGroup(new Map([["a100", "gpu-a100"]]), "a100")).toBe("gpu-a100");
  });
});

describe("submission checks", () => {
  // The router's verdict and the worker's plan for one script: they must never disagree.
  function routerAndWorker(
    name: string,
    content: string,
  ): { routerAccepts: boolean; workerRuns: string } {
    const problem = submissionProblem(
      { ...spec, script: { name, content } },
      "cpu",
      DEFAULT_SUBMISSION_LIMITS,
    );
    try {
      const command = chooseInterpreter(name, content, ALL_INTERPRETERS);
      const workerRuns = command.kind === "shebang" ? "its #! line" : command.runtime;
      return { routerAccepts: problem === undefined, workerRuns };
    } catch (error) {
      if (!(error instanceof SandboxInputError)) throw error;
      return { routerAccepts: problem === undefined, workerRuns: "nothing" };
    }
  }

  it.each([
    ["run.bash", "echo hi\n", "bash"],
    ["train.py", "#!/bin/sh\necho hi\n", "python"],
    ["train.py", "#!\nprint(1)\n", "python"],
    ["eval.cjs", "console.log(1)\n", "node"],
    ["tool", "#!/usr/bin/env ruby\nputs 1\n", "its #! line"],
    [".py", "print(1)\n", "nothing"],
    ["tool", "#!\n", "nothing"],
    ["notes.txt", "hello\n", "nothing"],
  ])("accepts %s starting %j exactly when the worker runs it (with %s)", (name, content, runs) => {
    expect(routerAndWorker(name, content)).toEqual({
      routerAccepts: runs !== "nothing",
      workerRuns: runs,
    });
  });

  it("refuses a script nothing runs with the rule's one line", () => {
    expect(
      submissionProblem(
        { ...spec, script: { name: "notes.txt", content: "hello\n" } },
        "cpu",
        DEFAULT_SUBMISSION_LIMITS,
      ),
    ).toMatch(/^cannot run script notes.txt: modulate runs .*; rename it/);
  });

  it("refuses a script over the size limit, naming the limit's flag", () => {
    const big = { ...spec, script: { name: "a.py", content: "x".repeat(2048) } };
    expect(submissionProblem(big, "cpu", { maxScriptBytes: 1024 })).toMatch(
      /over the router's limit of 1024 \(router --max-script\)/,
    );
    expect(submissionProblem(spec, "cpu", DEFAULT_SUBMISSION_LIMITS)).toBeUndefined();
  });
});

describe("exit codes", () => {
  it("maps each final state to its documented code", () => {
    expect(exitCodeFor(result("succeeded", 0))).toBe(0);
    expect(exitCodeFor(result("failed", 7))).toBe(7);
    expect(exitCodeFor(result("failed", null))).toBe(1);
    expect(exitCodeFor(result("timed_out"))).toBe(124);
    expect(exitCodeFor(result("canceled"))).toBe(130);
    expect(exitCodeFor(rejectedResult(spec, "cpu", "bad", 2))).toBe(2);
  });
});

describe("why a job waits", () => {
  const worker = (group: string, slots: number, busy: number): WorkerView => ({
    group,
    pid: `${group}-${slots}-${busy}`,
    host: "h",
    slots,
    busy,
    startedAt: 0,
    jobs: [],
  });
  it("says when the group has no live worker", () => {
    expect(whyWaiting([worker("cpu", 2, 0)], "gpu")).toBe("no live worker in group gpu");
  });
  it("says when every slot of the group is busy", () => {
    expect(whyWaiting([worker("gpu", 2, 2), worker("gpu", 2, 2)], "gpu")).toBe(
      "all 4 slots of group gpu busy",
    );
  });
  it("has nothing to say while a slot is free", () => {
    expect(whyWaiting([worker("gpu", 2, 1)], "gpu")).toBeUndefined();
  });
  const gpuWorker = (gpus: number, busy: number, interpreters?: string[]): WorkerView => ({
    ...worker("gpu", 4, busy),
    gpus: Array.from({ length: gpus }, (_, i) => String(i)),
    ...(interpreters ? { interpreters } : {}),
  });
  it("says a job waits for its GPU set while slots are free", () => {
    expect(whyWaiting([gpuWorker(4, 2)], "gpu", { gpus: 2 })).toBe(
      "waiting for 2 GPUs free on one worker of group gpu: the GPUs it asks for are held by other jobs or kept for an older job that waits for GPUs",
    );
    expect(whyWaiting([gpuWorker(4, 2)], "gpu", { gpus: "shared" })).toMatch(
      /^waiting for a free GPU share on one worker of group gpu/,
    );
    // A job asking for none waits for nothing but a slot.
    expect(whyWaiting([gpuWorker(4, 2)], "gpu", { gpus: 0 })).toBeUndefined();
    // Without --gpus it wants one: kept for an older job, it waits with slots free.
    expect(whyWaiting([gpuWorker(4, 2)], "gpu")).toMatch(
      /^waiting for 1 GPU free on one worker of group gpu: .* kept for an older job/,
    );
  });
  it("says when no live worker of the group has that many GPUs, or its interpreter", () => {
    expect(whyWaiting([gpuWorker(4, 0), gpuWorker(2, 0)], "gpu", { gpus: 8 })).toBe(
      "no live worker of group gpu has 8 GPUs (the most one has: 4): it waits for one that does",
    );
    expect(whyWaiting([worker("gpu", 2, 0)], "gpu", { gpus: "shared" })).toMatch(
      /has a share of a GPU \(the most one has: 0\)/,
    );
    expect(whyWaiting([gpuWorker(4, 0, ["torch"])], "gpu", { interpreter: "jax" })).toMatch(
      /^interpreter jax is not offered by group gpu \(it offers: torch\)/,
    );
    expect(whyWaiting([gpuWorker(4, 0, ["torch"])], "gpu", { interpreter: "torch" })).toBe(
      undefined,
    );
  });
});

describe("units", () => {
  it("reads durations and sizes, and explains what it cannot read", () => {
    expect(parseDurationMs("10m", "--timeout")).toBe(600_000);
    expect(parseDurationMs("90", "--timeout")).toBe(90_000);
    expect(parseBytes("512M", "--max-memory")).toBe(512 * 1024 * 1024);
    expect(() => parseDurationMs("soon", "--timeout")).toThrow(
      '--timeout "soon" is not a duration',
    );
  });
});
