import { describe, expect, it } from "vitest";
import { SandboxInputError } from "../../src/sandbox/errors.ts";
import { prepare, prepareAttempt } from "../../src/sandbox/prepare.ts";
import type { JobRequest, SandboxConfig } from "../../src/sandbox/types.ts";

const CONFIG: SandboxConfig = {
  mode: "bwrap",
  defaultLimits: {
    timeoutMs: 600_000,
    killGraceMs: 5000,
    cpuTimeMs: 300_000,
    memoryBytes: 2 ** 31,
    maxFileBytes: 2 ** 30,
    maxProcs: 256,
    maxOutputBytes: 2 ** 24,
  },
  interpreters: {
    python: { path: "/usr/bin/python3.11", prefixArgs: ["-I"], note: "" },
    bash: { path: "/usr/bin/bash", prefixArgs: [], note: "" },
    node: { path: "/opt/modulate", prefixArgs: ["__script-host", "--"], note: "" },
  },
  networkAllowed: false,
  workRoot: "/var/lib/modulate/work",
  logDir: "/var/lib/modulate/logs",
  jobUser: { name: "modjob", uid: 990, gid: 990 },
  baseEnv: { PATH: "/usr/bin:/bin", LANG: "C.UTF-8" },
};

const REQUEST: JobRequest = {
  jobId: "job-1",
  attempt: 2,
  scriptName: "train.py",
  script: "print(1)",
  args: ["--epochs", "3"],
};

describe("prepare", () => {
  it("runs a .py script with python3 in isolated mode, arguments passed through", () => {
    const plan = prepare(REQUEST, CONFIG, "abc123");
    expect(plan.workDir).toBe("/var/lib/modulate/work/job-1-abc123");
    expect(plan.program).toBe("/usr/bin/python3.11");
    expect(plan.args).toEqual(["-I", `${plan.workDir}/train.py`, "--epochs", "3"]);
    expect(plan.cwd).toBe(plan.workDir);
    expect(prepareAttempt(plan, REQUEST.attempt).logFile).toBe(
      "/var/lib/modulate/logs/job-1/attempt-2.jsonl",
    );
  });

  it("makes the attempt's directory in its disk area, which must lie under the work root", () => {
    const diskArea = { dir: "/var/lib/modulate/work/.disk/0/slot-1", sizeBytes: 2 ** 31 };
    const plan = prepare({ ...REQUEST, diskArea }, CONFIG, "abc123");
    expect(plan.workDir).toBe(`${diskArea.dir}/job-1-abc123`);
    expect(plan.jobEnv.HOME).toBe(plan.workDir);
    expect(plan.diskArea).toEqual(diskArea);
    for (const dir of ["/var/lib/modulate/work", "/var/lib/modulate/workshop", "/tmp/area"])
      expect(() => prepare({ ...REQUEST, diskArea: { dir, sizeBytes: 1 } }, CONFIG, "a")).toThrow(
        /is not inside the work root/,
      );
  });

  it("runs .sh with bash, .mjs through the script host, and a #! script directly", () => {
    expect(prepare({ ...REQUEST, scriptName: "run.sh" }, CONFIG, "a").program).toBe(
      "/usr/bin/bash",
    );
    const node = prepare({ ...REQUEST, scriptName: "eval.mjs", args: [] }, CONFIG, "a");
    expect([node.program, ...node.args]).toEqual([
      "/opt/modulate",
      "__script-host",
      "--",
      `${node.workDir}/eval.mjs`,
    ]);
    const shebang = prepare(
      { ...REQUEST, scriptName: "tool", script: "#!/usr/bin/env perl\n", args: [] },
      CONFIG,
      "a",
    );
    expect(shebang.program).toBe(`${shebang.workDir}/tool`);
    expect(shebang.scriptIsExecutable).toBe(true);
  });

  it("refuses a script it has no interpreter for", () => {
    expect(() =>
      prepare({ ...REQUEST, scriptName: "x.rb", script: "puts 1" }, CONFIG, "a"),
    ).toThrow(SandboxInputError);
    expect(() => prepare(REQUEST, { ...CONFIG, interpreters: {} }, "a")).toThrow(/no python3/);
  });

  it("scrubs the environment to the base, the submission's --env and its own variables", () => {
    const plan = prepare({ ...REQUEST, env: { SEED: "7" }, gpuIds: ["1"] }, CONFIG, "a");
    expect(prepareAttempt(plan, REQUEST.attempt).env).toEqual({
      PATH: "/usr/bin:/bin",
      LANG: "C.UTF-8",
      SEED: "7",
      HOME: plan.workDir,
      TMPDIR: "/tmp",
      PYTHONUNBUFFERED: "1",
      MODULATE_JOB_ID: "job-1",
      MODULATE_ATTEMPT: "2",
      USER: "modjob",
      LOGNAME: "modjob",
      CUDA_VISIBLE_DEVICES: "1",
    });
  });

  it("refuses --env names the worker owns or that are not names", () => {
    expect(() => prepare({ ...REQUEST, env: { CUDA_VISIBLE_DEVICES: "0" } }, CONFIG, "a")).toThrow(
      /set by the worker/,
    );
    expect(() => prepare({ ...REQUEST, env: { "1BAD": "x" } }, CONFIG, "a")).toThrow(
      /not a valid variable name/,
    );
  });

  it("lets a request lower a limit but never raise it", () => {
    const plan = prepare(
      { ...REQUEST, limits: { timeoutMs: 1000, memoryBytes: 2 ** 40 } },
      CONFIG,
      "a",
    );
    expect(plan.limits.timeoutMs).toBe(1000);
    expect(plan.limits.memoryBytes).toBe(2 ** 31);
  });

  it("grants network only when asked for and allowed", () => {
    expect(prepare({ ...REQUEST, networkWanted: true }, CONFIG, "a").network).toBe(false);
    expect(
      prepare({ ...REQUEST, networkWanted: true }, { ...CONFIG, networkAllowed: true }, "a")
        .network,
    ).toBe(true);
    expect(prepare(REQUEST, { ...CONFIG, networkAllowed: true }, "a").network).toBe(false);
  });

  it("refuses outputs and script names that leave the job's directory", () => {
    expect(() => prepare({ ...REQUEST, outputs: ["../x"] }, CONFIG, "a")).toThrow(
      /outside the job's directory/,
    );
    expect(() => prepare({ ...REQUEST, outputs: ["/etc/passwd"] }, CONFIG, "a")).toThrow(
      SandboxInputError,
    );
    expect(() => prepare({ ...REQUEST, scriptName: "../train.py" }, CONFIG, "a")).toThrow(
      /not a plain file name/,
    );
    expect(prepare({ ...REQUEST, outputs: ["out/./model.pt"] }, CONFIG, "a").outputs).toEqual([
      "out/model.pt",
    ]);
  });

  it("keeps a job id with odd characters to one safe directory name", () => {
    const plan = prepare({ ...REQUEST, jobId: "../../etc" }, CONFIG, "a");
    expect(plan.workDir.startsWith("/var/lib/modulate/work/")).toBe(true);
    expect(plan.workDir.slice("/var/lib/modulate/work/".length)).not.toContain("/");
  });

  it("points TMPDIR at the job's directory when there is no private /tmp", () => {
    expect(prepare(REQUEST, { ...CONFIG, mode: "none" }, "a").jobEnv.TMPDIR).toMatch(/job-1-a$/);
  });

  it("plans the job once: attempts 1 and 2 share its plan and differ only in their own part", () => {
    const job = prepare({ ...REQUEST, env: { SEED: "7" } }, CONFIG, "abc123");
    const before = structuredClone(job);
    const first = prepareAttempt(job, 1);
    const second = prepareAttempt(job, 2);
    // Nothing of the job's plan is named by the attempt, nor changed by planning one.
    expect(job).toEqual(before);
    expect(JSON.stringify(job)).not.toMatch(/attempt-\d|MODULATE_ATTEMPT/);
    expect(first).toEqual({
      attempt: 1,
      env: { ...job.jobEnv, MODULATE_ATTEMPT: "1" },
      logFile: "/var/lib/modulate/logs/job-1/attempt-1.jsonl",
    });
    expect(second).toEqual({
      attempt: 2,
      env: { ...job.jobEnv, MODULATE_ATTEMPT: "2" },
      logFile: "/var/lib/modulate/logs/job-1/attempt-2.jsonl",
    });
  });

  it("refuses an attempt number that is not a whole number from 1", () => {
    const job = prepare(REQUEST, CONFIG, "a");
    for (const attempt of [0, -1, 1.5, Number.NaN])
      expect(() => prepareAttempt(job, attempt)).toThrow(SandboxInputError);
  });
});
