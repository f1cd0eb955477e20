import { describe, expect, it } from "vitest";
import {
  jobRlimits,
  mergeLimits,
  prlimitOptions,
  shellUlimitLines,
} from "../../src/sandbox/limits.ts";
import {
  describeOutcome,
  isCleanExit,
  judgeOutcome,
  verdictOf,
  type Ending,
  type OutcomeNote,
  type RunFacts,
} from "../../src/sandbox/outcome.ts";
import type { JobLimits, JobState } from "../../src/sandbox/types.ts";

const DEFAULTS: JobLimits = {
  timeoutMs: 600_000,
  killGraceMs: 5000,
  cpuTimeMs: 90_500,
  memoryBytes: 512 * 2 ** 20,
  maxFileBytes: 2 ** 30,
  maxProcs: 128,
  maxOutputBytes: 2 ** 24,
};

describe("mergeLimits", () => {
  it("takes the lower of the worker's default and the request", () => {
    expect(mergeLimits(DEFAULTS, { maxProcs: 16, timeoutMs: 10 ** 9 })).toEqual({
      ...DEFAULTS,
      maxProcs: 16,
    });
  });

  it("refuses a limit that is not a positive whole number", () => {
    expect(() => mergeLimits(DEFAULTS, { memoryBytes: -1 })).toThrow(/memoryBytes is -1/);
    expect(() => mergeLimits(DEFAULTS, { timeoutMs: 1.5 })).toThrow(/positive whole number/);
  });
});

describe("prlimitOptions", () => {
  it("sets CPU (soft, then hard a second later), file size and no core dumps always", () => {
    expect(prlimitOptions(DEFAULTS, { memory: true, pids: true })).toEqual([
      "--cpu=91:92",
      `--fsize=${2 ** 30}`,
      "--core=0",
    ]);
  });

  it("stands in for memory and process cgroups with RLIMIT_DATA and RLIMIT_NPROC", () => {
    const options = prlimitOptions(DEFAULTS, { memory: false, pids: false });
    expect(options).toContain(`--data=${512 * 2 ** 20}`);
    expect(options).toContain("--nproc=128");
  });
});

describe("judgeOutcome", () => {
  const base: RunFacts = {
    exitCode: 0,
    signal: null,
    timedOut: false,
    isCanceled: false,
    oomKilled: false,
    pidsLimitHit: false,
    fileLimitHit: false,
    limits: DEFAULTS,
    droppedOutputBytes: 0,
  };

  const DISK_SPACE = { of: "space", quotaBytes: 2 ** 31, quotaFiles: 131_072 } as const;
  const DISK_FILES = { of: "files", quotaBytes: 2 ** 31, quotaFiles: 131_072 } as const;

  // Each row: the facts, then the verdict as data (what callers decide on) and in words.
  it.each<[Partial<RunFacts>, JobState, Ending, OutcomeNote[], string]>([
    [{}, "succeeded", { kind: "exited", exitCode: 0 }, [], "exited with code 0"],
    [{ exitCode: 3 }, "failed", { kind: "exited", exitCode: 3 }, [], "exited with code 3"],
    [
      { exitCode: null, signal: "SIGKILL", oomKilled: true },
      "failed",
      { kind: "limit_exceeded", limit: "memory", memoryBytes: 512 * 2 ** 20 },
      [],
      "killed: memory limit 512 MiB exceeded",
    ],
    [
      { exitCode: null, signal: "SIGTERM", timedOut: true },
      "timed_out",
      { kind: "timed_out", timeoutMs: 600_000 },
      [],
      "timed out after 10m",
    ],
    [
      { exitCode: null, signal: "SIGTERM", isCanceled: true },
      "canceled",
      { kind: "canceled" },
      [],
      "canceled",
    ],
    [
      { exitCode: null, signal: "SIGXCPU" },
      "failed",
      { kind: "limit_exceeded", limit: "cpu_time", cpuTimeMs: 90_500 },
      [],
      "killed: CPU time limit 1m31s exceeded",
    ],
    [
      { exitCode: null, signal: "SIGXFSZ", fileLimitHit: true },
      "failed",
      { kind: "limit_exceeded", limit: "file_size", maxFileBytes: 2 ** 30 },
      [],
      "killed: file size limit 1 GiB exceeded",
    ],
    [
      { exitCode: null, signal: "SIGSEGV" },
      "failed",
      { kind: "killed", signal: "SIGSEGV" },
      [],
      "killed by SIGSEGV",
    ],
    [
      { exitCode: 1, pidsLimitHit: true },
      "failed",
      { kind: "exited", exitCode: 1 },
      [{ kind: "process_limit_reached", maxProcs: 128 }],
      "exited with code 1; process limit 128 reached",
    ],
    [
      { exitCode: 1, fileLimitHit: true },
      "failed",
      { kind: "exited", exitCode: 1 },
      [{ kind: "file_size_limit_reached", maxFileBytes: 2 ** 30 }],
      "exited with code 1; file size limit 1 GiB reached",
    ],
    [
      { exitCode: 1, diskFull: DISK_SPACE },
      "failed",
      { kind: "exited", exitCode: 1 },
      [{ kind: "disk_quota_exceeded", ...DISK_SPACE }],
      "exited with code 1; disk quota 2 GiB exceeded",
    ],
    [
      { exitCode: null, signal: "SIGABRT", diskFull: DISK_FILES },
      "failed",
      { kind: "killed", signal: "SIGABRT" },
      [{ kind: "disk_quota_exceeded", ...DISK_FILES }],
      "killed by SIGABRT; disk quota of 131072 files exceeded",
    ],
    [
      { diskFull: DISK_SPACE },
      "succeeded",
      { kind: "exited", exitCode: 0 },
      [],
      "exited with code 0",
    ],
    [
      { droppedOutputBytes: 48 * 2 ** 20 },
      "succeeded",
      { kind: "exited", exitCode: 0 },
      [{ kind: "output_truncated", droppedBytes: 48 * 2 ** 20 }],
      "exited with code 0; output truncated: 48 MiB dropped",
    ],
    [
      { exitCode: 1, pidsLimitHit: true, droppedOutputBytes: 1024 },
      "failed",
      { kind: "exited", exitCode: 1 },
      [
        { kind: "process_limit_reached", maxProcs: 128 },
        { kind: "output_truncated", droppedBytes: 1024 },
      ],
      "exited with code 1; process limit 128 reached; output truncated: 1 KiB dropped",
    ],
    [
      { exitCode: null, startFailure: "spawn ENOENT" },
      "failed",
      { kind: "start_failed", detail: "spawn ENOENT" },
      [],
      "sandbox failed to start: spawn ENOENT",
    ],
  ])("judges %o as %s", (facts, state, ending, notes, reason) => {
    expect(judgeOutcome({ ...base, ...facts })).toEqual({ state, ending, notes, reason });
  });

  it("renders a verdict's reason from its ending and notes alone", () => {
    const verdict = judgeOutcome({ ...base, exitCode: 2, pidsLimitHit: true });
    expect(describeOutcome(verdict.ending, verdict.notes)).toBe(verdict.reason);
    expect(verdictOf({ kind: "refused", problem: "no python3 on this worker" })).toEqual({
      state: "failed",
      ending: { kind: "refused", problem: "no python3 on this worker" },
      notes: [],
      reason: "no python3 on this worker",
    });
  });

  it("calls only an exit 0 with nothing noted clean", () => {
    expect(isCleanExit({ kind: "exited", exitCode: 0 }, [])).toBe(true);
    expect(
      isCleanExit({ kind: "exited", exitCode: 0 }, [{ kind: "output_truncated", droppedBytes: 1 }]),
    ).toBe(false);
    expect(isCleanExit({ kind: "exited", exitCode: 1 }, [])).toBe(false);
    expect(isCleanExit({ kind: "killed", signal: "SIGKILL" }, [])).toBe(false);
  });
});

describe("shellUlimitLines", () => {
  it("says prlimit's limits as dash ulimit lines, soft CPU before hard", () => {
    const lines = shellUlimitLines(jobRlimits(DEFAULTS, { memory: true, pids: true }));
    expect(lines?.[0]).toMatch(/^ulimit -S -t \d+ \|\| exit 126$/);
    expect(lines?.[1]).toMatch(/^ulimit -H -t \d+ \|\| exit 126$/);
    expect(lines).toContain(`ulimit -f ${DEFAULTS.maxFileBytes / 512} || exit 126`);
  });

  it("leaves to prlimit what dash cannot say exactly", () => {
    expect(shellUlimitLines(jobRlimits(DEFAULTS, { memory: false, pids: true }))).toBeUndefined();
    const odd = { ...DEFAULTS, maxFileBytes: 1000 };
    expect(shellUlimitLines(jobRlimits(odd, { memory: true, pids: true }))).toBeUndefined();
  });
});
