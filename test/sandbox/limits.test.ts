import { describe, expect, it } from "vitest";
import {
  jobRlimits,
  mergeLimits,
  prlimitOptions,
  shellUlimitLines,
} from "../../src/sandbox/limits.ts";
import { judgeOutcome, type RunFacts } from "../../src/sandbox/outcome.ts";
import type { JobLimits } from "../../src/sandbox/types.ts";

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

  it.each([
    [{}, "succeeded", "exited with code 0"],
    [{ exitCode: 3 }, "failed", "exited with code 3"],
    [
      { exitCode: null, signal: "SIGKILL", oomKilled: true },
      "failed",
      "killed: memory limit 512 MiB exceeded",
    ],
    [{ exitCode: null, signal: "SIGTERM", timedOut: true }, "timed_out", "timed out after 10m"],
    [{ exitCode: null, signal: "SIGTERM", isCanceled: true }, "canceled", "canceled"],
    [{ exitCode: null, signal: "SIGXCPU" }, "failed", "killed: CPU time limit 1m31s exceeded"],
    [{ exitCode: null, signal: "SIGXFSZ" }, "failed", "killed: file size limit 1 GiB exceeded"],
    [
      { exitCode: 1, pidsLimitHit: true },
      "failed",
      "exited with code 1; process limit 128 reached",
    ],
    [
      { exitCode: 1, diskFull: { of: "space", quotaBytes: 2 ** 31, quotaFiles: 131_072 } },
      "failed",
      "exited with code 1; disk quota 2 GiB exceeded",
    ],
    [
      {
        exitCode: null,
        signal: "SIGABRT",
        diskFull: { of: "files", quotaBytes: 2 ** 31, quotaFiles: 131_072 },
      },
      "failed",
      "killed by SIGABRT; disk quota of 131072 files exceeded",
    ],
    [
      { diskFull: { of: "space", quotaBytes: 2 ** 31, quotaFiles: 131_072 } },
      "succeeded",
      "exited with code 0",
    ],
    [
      { droppedOutputBytes: 48 * 2 ** 20 },
      "succeeded",
      "exited with code 0; output truncated: 48 MiB dropped",
    ],
    [
      { exitCode: null, startFailure: "spawn ENOENT" },
      "failed",
      "sandbox failed to start: spawn ENOENT",
    ],
  ] as const)("judges %o as %s: %s", (facts, state, reason) => {
    expect(judgeOutcome({ ...base, ...facts })).toEqual({ state, reason });
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
