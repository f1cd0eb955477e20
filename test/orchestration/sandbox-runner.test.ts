// The worker's bridge from the sandbox's outcome to the result record decides what to say on
// the outcome's typed fields, never on the words of its reason (issue 13).
import { describe, expect, it } from "vitest";
import { outcomeToResult } from "../../src/orchestration/sandbox-runner.ts";
import type { JobSpec } from "../../src/orchestration/jobs/job.ts";
import { judgeOutcome, type RunFacts, type Verdict } from "../../src/sandbox/outcome.ts";
import type { JobLimits, JobOutcome } from "../../src/sandbox/types.ts";

const LIMITS: JobLimits = {
  timeoutMs: 60_000,
  killGraceMs: 5000,
  cpuTimeMs: 60_000,
  memoryBytes: 512 * 2 ** 20,
  maxFileBytes: 2 ** 30,
  maxProcs: 128,
  maxOutputBytes: 2 ** 24,
};

const FACTS: RunFacts = {
  exitCode: 0,
  signal: null,
  timedOut: false,
  isCanceled: false,
  oomKilled: false,
  pidsLimitHit: false,
  fileLimitHit: false,
  limits: LIMITS,
  droppedOutputBytes: 0,
};

const spec: JobSpec = {
  id: "job-1",
  group: "cpu",
  script: { name: "job.py", content: "" },
  args: [],
  timeoutMs: 60_000,
  mode: "wait",
  submittedAt: 1,
};

const NO_OUTPUT = { head: "", tail: "", totalBytes: 0, droppedBytes: 0 };

function outcomeOf(verdict: Verdict): JobOutcome {
  return {
    jobId: spec.id,
    attempt: 1,
    ...verdict,
    exitCode: verdict.ending.kind === "exited" ? verdict.ending.exitCode : null,
    signal: verdict.ending.kind === "killed" ? verdict.ending.signal : null,
    stdout: NO_OUTPUT,
    stderr: NO_OUTPUT,
    durationMs: 10,
    outputs: [],
    gpuIds: [],
    limits: LIMITS,
    logFile: "/var/log/modulate/job-1/attempt-1.jsonl",
    sandbox: { mode: "bwrap", cgroup: true },
  };
}

describe("the result record's reason", () => {
  it.each<[string, Partial<RunFacts>]>([
    ["a failed exit", { exitCode: 3 }],
    ["a kill by a signal", { exitCode: null, signal: "SIGSEGV" }],
    ["a memory limit", { exitCode: null, signal: "SIGKILL", oomKilled: true }],
    ["a CPU time limit", { exitCode: null, signal: "SIGXCPU" }],
    ["a file size limit", { exitCode: null, signal: "SIGXFSZ" }],
    ["a timeout", { exitCode: null, signal: "SIGTERM", timedOut: true }],
    ["a cancel", { exitCode: null, signal: "SIGTERM", isCanceled: true }],
    ["a sandbox that did not start", { exitCode: null, startFailure: "spawn ENOENT" }],
    ["a clean exit with output dropped", { droppedOutputBytes: 2048 }],
    ["a failed exit at the process limit", { exitCode: 1, pidsLimitHit: true }],
  ])("keeps what the sandbox said for %s", (_, facts) => {
    const verdict = judgeOutcome({ ...FACTS, ...facts });
    const result = outcomeToResult(spec, outcomeOf(verdict));
    expect(result.state).toBe(verdict.state);
    expect(result.reason).toBe(verdict.reason);
    expect(result.reason).not.toBe("");
  });

  it("is empty for a clean exit with nothing noted", () => {
    const result = outcomeToResult(spec, outcomeOf(judgeOutcome(FACTS)));
    expect(result).toMatchObject({ state: "succeeded", reason: "", exitCode: 0 });
  });

  it("follows the typed ending, not the reason's words, which may be reworded", () => {
    const clean = judgeOutcome(FACTS);
    // The same clean exit in other words: still nothing to explain.
    const reworded = outcomeToResult(spec, outcomeOf({ ...clean, reason: "finished: status 0" }));
    expect(reworded.reason).toBe("");
    // A failure whose words happen to read like a clean exit is still explained.
    const failed = judgeOutcome({ ...FACTS, exitCode: 1 });
    const lookalike = outcomeToResult(spec, outcomeOf({ ...failed, reason: "exited with code 0" }));
    expect(lookalike.reason).toBe("exited with code 0");
    expect(lookalike.state).toBe("failed");
  });
});
