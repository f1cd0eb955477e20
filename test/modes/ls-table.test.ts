// The table `modulate ls` prints and the options it reads: pure formatting and parsing.
import { describe, expect, it } from "vitest";
import { jobsTable, listFilter, noJobsLine, type LsArgs } from "../../src/modes/ls.ts";
import type { ListedJob } from "../../src/orchestration/client/list.ts";

const NOW = 1_800_000_000_000;

function job(overrides: Partial<ListedJob>): ListedJob {
  return {
    id: "job-a",
    group: "cpu",
    state: "pending",
    stage: "queued",
    script: "train.py",
    reason: "",
    exitCode: null,
    stdout: "",
    stderr: "",
    durationMs: 0,
    worker: null,
    attempt: 0,
    submittedAt: NOW,
    startedAt: null,
    finishedAt: null,
    ...overrides,
  };
}

const running = job({
  id: "job-run",
  state: "running",
  stage: "running",
  worker: { host: "n1", pid: "cpu-n1-7", group: "cpu" },
  attempt: 2,
  submittedAt: NOW - 192_000,
  reason: "running on n1 (cpu-n1-7)",
});
const waiting = job({
  id: "job-wait",
  group: "gpu",
  submittedAt: NOW - 4_000,
  reason: "no live worker in group gpu",
});

describe("jobsTable", () => {
  it("aligns one row per job, in the order given, with human ages and the reason last", () => {
    expect(jobsTable([waiting, running], NOW, false)).toBe(
      [
        "ID        GROUP  SCRIPT    STATE    WORKER    ATTEMPT  AGE    REASON",
        "job-wait  gpu    train.py  queued   -         -        4s     no live worker in group gpu",
        "job-run   cpu    train.py  running  cpu-n1-7  2        3m12s  running on n1 (cpu-n1-7)",
        "",
      ].join("\n"),
    );
  });

  it("adds exit code and duration for history, and leaves a success's reason empty", () => {
    const done = job({
      id: "job-ok",
      state: "succeeded",
      stage: "succeeded",
      exitCode: 0,
      durationMs: 90_000,
      finishedAt: NOW - 1_000,
      submittedAt: NOW - 7_200_000,
      attempt: 1,
      reason: "finished",
    });
    const failed = job({
      id: "job-bad",
      state: "failed",
      stage: "failed",
      exitCode: 3,
      durationMs: 1_500,
      finishedAt: NOW,
      submittedAt: NOW - 60_000,
      attempt: 1,
      reason: "exited with code 3",
    });
    expect(jobsTable([failed, done], NOW, true)).toBe(
      [
        "ID       GROUP  SCRIPT    STATE      WORKER  ATTEMPT  AGE  EXIT  DURATION  REASON",
        "job-bad  cpu    train.py  failed     -       1        1m   3     1.5s      exited with code 3",
        "job-ok   cpu    train.py  succeeded  -       1        2h   0     1m30s",
        "",
      ].join("\n"),
    );
  });
});

describe("noJobsLine", () => {
  it("says what was looked for, and how to see history", () => {
    expect(noJobsLine({ all: false, limit: 100 })).toBe(
      "no outstanding jobs (modulate ls --all lists finished ones too)\n",
    );
    expect(noJobsLine({ all: true, limit: 100, group: "gpu", sinceMs: 7_200_000 })).toBe(
      "no jobs in group gpu submitted in the last 2h\n",
    );
  });
});

describe("listFilter", () => {
  const args = (extra: Partial<LsArgs>): LsArgs =>
    ({ all: false, json: false, limit: 100, ...extra }) as LsArgs;

  it("reads --since as a duration and a finished --state as history", () => {
    expect(listFilter(args({ since: "2h", state: "failed" }))).toEqual({
      all: true,
      limit: 100,
      state: "failed",
      sinceMs: 7_200_000,
    });
    expect(listFilter(args({ state: "running" })).all).toBe(false);
  });

  it("refuses a bad state, limit or duration in one line naming the option", () => {
    expect(() => listFilter(args({ state: "done" }))).toThrow(/^--state "done" is not a state/);
    expect(() => listFilter(args({ limit: 0 }))).toThrow(/^--limit 0 is not a count/);
    expect(() => listFilter(args({ since: "soon" }))).toThrow(/^--since "soon" is not a duration/);
  });
});
