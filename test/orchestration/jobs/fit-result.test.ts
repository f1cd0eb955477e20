// The result record always fits in the request that settles it (issue 12, item 4).
import { describe, expect, it } from "vitest";
import {
  base64Bytes,
  DEFAULT_MAX_BODY_BYTES,
  encodedValueBytes,
  maxValueJsonBytes,
  REQUEST_ENVELOPE_BYTES,
} from "../../../src/common/limits.ts";
import {
  fitResultOutput,
  headWithin,
  jsonStringBytes,
  shareBudget,
  tailWithin,
  type CapturedStream,
} from "../../../src/orchestration/jobs/fit-result.ts";
import { outcomeToResult } from "../../../src/orchestration/sandbox-runner.ts";
import type { JobSpec } from "../../../src/orchestration/jobs/job.ts";
import type { JobOutcome } from "../../../src/sandbox/types.ts";

const MiB = 1024 * 1024;

/** A stream as HeadTailCapture keeps it with --max-output `keptBytes` (ASCII text). */
function captured(text: string, keptBytes: number): CapturedStream {
  if (text.length <= keptBytes)
    return { head: text, tail: "", totalBytes: text.length, droppedBytes: 0 };
  const half = Math.floor(keptBytes / 2);
  return {
    head: text.slice(0, half),
    tail: text.slice(text.length - half),
    totalBytes: text.length,
    droppedBytes: text.length - 2 * half,
  };
}

const spec: JobSpec = {
  id: "job-big",
  group: "cpu",
  script: { name: "big.py", content: "" },
  args: [],
  timeoutMs: 60_000,
  mode: "wait",
  submittedAt: 1,
};

function outcome(stdout: CapturedStream, stderr: CapturedStream): JobOutcome {
  return {
    jobId: spec.id,
    attempt: 1,
    state: "succeeded",
    ending: { kind: "exited", exitCode: 0 },
    notes: [],
    reason: "exited with code 0",
    exitCode: 0,
    signal: null,
    stdout,
    stderr,
    durationMs: 10,
    outputs: [],
    gpuIds: [],
    limits: {} as JobOutcome["limits"],
    logFile: "/var/log/modulate/job-big/attempt-1.jsonl",
    sandbox: { mode: "bwrap", cgroup: false },
  };
}

/** The record as the worker sends it: the outcome plus the worker's own fields. */
function recordOf(result: ReturnType<typeof outcomeToResult>): unknown {
  return {
    id: spec.id,
    group: spec.group,
    ...result,
    worker: {
      host: "a-rather-long-host-name.example.org",
      pid: "worker-host-123456",
      group: "cpu",
    },
    attempt: 1,
    submittedAt: Date.now(),
    startedAt: Date.now(),
    finishedAt: Date.now(),
  };
}

describe("the size limits derived from the server's request limit", () => {
  it("leave room for a value's base64 and the request's envelope", () => {
    const value = maxValueJsonBytes(DEFAULT_MAX_BODY_BYTES);
    expect(base64Bytes(value) + REQUEST_ENVELOPE_BYTES).toBeLessThanOrEqual(DEFAULT_MAX_BODY_BYTES);
    expect(value).toBeGreaterThan(7 * MiB);
  });
});

describe("fitting a result record to the request limit", () => {
  it("keeps everything when it fits", () => {
    const result = outcomeToResult(
      spec,
      outcome(captured("hello\n", 16 * MiB), captured("", 16 * MiB)),
    );
    expect(result.stdout).toBe("hello\n");
    expect(result.reason).toBe("");
  });

  it("cuts 12 MB of stdout and 12 MB of stderr, kept whole by --max-output 16M, to fit 10 MiB", () => {
    const out = "o".repeat(12_000_000);
    const err = "e".repeat(12_000_000);
    const result = outcomeToResult(spec, outcome(captured(out, 16 * MiB), captured(err, 16 * MiB)));
    expect(
      base64Bytes(Buffer.byteLength(JSON.stringify(recordOf(result)))) + REQUEST_ENVELOPE_BYTES,
    ).toBeLessThanOrEqual(DEFAULT_MAX_BODY_BYTES);
    expect(result.state).toBe("succeeded");
    expect(result.reason).toMatch(
      /^output cut to fit the result: stdout 11\.4 MiB \(\d.* kept\), stderr 11\.4 MiB/,
    );
    expect(result.reason).toContain(
      "full output in the attempt log /var/log/modulate/job-big/attempt-1.jsonl on ",
    );
    // Both streams get about half each: neither is starved.
    expect(result.stdout.length).toBeGreaterThan(3 * MiB);
    expect(result.stderr.length).toBeGreaterThan(3 * MiB);
    expect(result.stdout).toMatch(/^o+\n\[\.\.\. \d+ bytes dropped \.\.\.\]\no+$/);
  });

  it("fits output made of control bytes, which JSON writes six times larger", () => {
    const out = "\u0001".repeat(8 * MiB);
    const result = outcomeToResult(spec, outcome(captured(out, 16 * MiB), captured("", 16 * MiB)));
    expect(encodedValueBytes(recordOf(result)) + REQUEST_ENVELOPE_BYTES).toBeLessThanOrEqual(
      DEFAULT_MAX_BODY_BYTES,
    );
    expect(result.stdout.length).toBeGreaterThan(MiB / 2);
  });

  it("fits any budget: a small one too, with a stream already cut by --max-output", () => {
    const budgetBytes = 100_000;
    const result = outcomeToResult(
      spec,
      outcome(captured("x".repeat(5 * MiB), 1 * MiB), captured('é"\\\n'.repeat(MiB), 4 * MiB)),
      budgetBytes,
    );
    expect(Buffer.byteLength(JSON.stringify(recordOf(result)))).toBeLessThanOrEqual(budgetBytes);
    expect(result.stdout).toMatch(/^x+\n\[\.\.\. \d+ bytes dropped \.\.\.\]\nx+$/);
  });

  it("shares what is left between output files and streams, marking cut files truncated", () => {
    const big = Buffer.alloc(3 * MiB, 7).toString("base64");
    const small = Buffer.from("tiny").toString("base64");
    const fitted = fitResultOutput({
      stdout: captured("s".repeat(2 * MiB), 16 * MiB),
      stderr: captured("", 16 * MiB),
      outputs: [
        { path: "big.bin", found: true, sizeBytes: 3 * MiB, truncated: false, contentBase64: big },
        { path: "small.txt", found: true, sizeBytes: 4, truncated: false, contentBase64: small },
      ],
      budgetBytes: 2 * MiB,
      otherFieldsBytes: 500,
      fullOutputWhere: "the attempt log L on H",
    });
    const [bigOut, smallOut] = fitted.outputs;
    expect(smallOut).toMatchObject({ truncated: false, contentBase64: small });
    expect(bigOut?.truncated).toBe(true);
    expect(bigOut.contentBase64.length % 4).toBe(0);
    expect(Buffer.byteLength(JSON.stringify(fitted))).toBeLessThanOrEqual(2 * MiB);
    expect(fitted.cutNote).toMatch(
      /stdout 2 MiB .*output big\.bin 3 MiB .*the attempt log L on H$/,
    );
  });
});

describe("the pieces of a cut", () => {
  it("measures a string as JSON writes it", () => {
    for (const text of ["abc", '\u0001\n"\\', "é€😀", "\ud800x"]) {
      expect(jsonStringBytes(text)).toBe(Buffer.byteLength(JSON.stringify(text)) - 2);
      expect(jsonStringBytes(headWithin(text, 1000))).toBe(jsonStringBytes(text));
    }
  });

  it("never splits a surrogate pair, from either end", () => {
    expect(headWithin("a😀b", 3)).toBe("a");
    expect(headWithin("a😀b", 5)).toBe("a😀");
    expect(tailWithin("a😀b", 3)).toBe("b");
    expect(tailWithin("a😀b", 5)).toBe("😀b");
  });

  it("gives small items all they need and splits the rest evenly", () => {
    expect(shareBudget([10, 1000, 1000], 610)).toEqual([10, 300, 300]);
    expect(shareBudget([10, 20], 100)).toEqual([10, 20]);
  });
});
