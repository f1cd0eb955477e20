// Real processes: scripts that try to exhaust the worker's resources are stopped or contained,
// the result names the cause, and the next job still runs.
import { stat } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  MiB,
  makeSandbox,
  nextJobRuns,
  probeHost,
  runFixture,
  type TestSandbox,
} from "./harness.ts";

const host = await probeHost();
const USER = "modulate-test-a";

describe("a job under the worker's full sandbox", () => {
  let sandbox: TestSandbox;
  beforeAll(async () => {
    sandbox = await makeSandbox({
      sandbox: "auto",
      cgroups: true,
      ...(host.isRoot ? { runAs: USER } : {}),
    });
  });
  afterAll(() => sandbox.cleanup());

  it.skipIf(!host.cgroups && !host.isRoot)(
    "stops a fork bomb at the process limit (needs cgroups or root for a job user)",
    async () => {
      const outcome = await runFixture(sandbox.config, "fork-bomb.py");
      expect(outcome.state).toBe("failed");
      expect(outcome.reason).toMatch(/process limit 64 reached|exited with code 1/);
      if (host.cgroups) expect(outcome.reason).toContain("process limit 64 reached");
      expect((await nextJobRuns(sandbox.config)).state).toBe("succeeded");
    },
  );

  it.skipIf(!host.cgroups)(
    "kills a memory bomb at the memory limit and says so (needs cgroups)",
    async () => {
      const outcome = await runFixture(sandbox.config, "memory-bomb.py", {
        limits: { memoryBytes: 128 * MiB },
      });
      expect(outcome.state).toBe("failed");
      expect(outcome.reason).toBe("killed: memory limit 128 MiB exceeded");
      expect(outcome.limits.memoryBytes).toBe(128 * MiB);
      expect((await nextJobRuns(sandbox.config)).state).toBe("succeeded");
    },
  );

  it("times out an infinite loop: SIGTERM first, which the script may answer", async () => {
    const outcome = await runFixture(sandbox.config, "infinite-loop.sh", {
      limits: { timeoutMs: 1500 },
    });
    expect(outcome.state).toBe("timed_out");
    expect(outcome.reason).toBe("timed out after 1.5s");
    // Only cgroups let SIGTERM reach the job's own processes under bwrap before it is killed.
    if (host.cgroups || !host.bwrap) expect(outcome.stdout.head).toContain("got SIGTERM");
    expect((await nextJobRuns(sandbox.config)).state).toBe("succeeded");
  });

  it("kills a loop that ignores SIGTERM once the grace period is over", async () => {
    const started = Date.now();
    const outcome = await runFixture(sandbox.config, "stubborn-loop.py", {
      limits: { timeoutMs: 1000, killGraceMs: 300 },
    });
    expect(outcome.state).toBe("timed_out");
    expect(outcome.reason).toBe("timed out after 1s");
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await nextJobRuns(sandbox.config)).state).toBe("succeeded");
  });

  it("keeps the head and tail of 1 GiB of output and counts what it dropped", async () => {
    const outcome = await runFixture(sandbox.config, "gigabyte-output.py");
    expect(outcome.state).toBe("succeeded");
    expect(outcome.stdout.totalBytes).toBe(1024 * MiB);
    expect(outcome.stdout.droppedBytes).toBe(1024 * MiB - 64 * 1024);
    expect(outcome.stdout.head.length + outcome.stdout.tail.length).toBe(64 * 1024);
    expect(outcome.reason).toBe("exited with code 0; output truncated: 1023.9 MiB dropped");
    // The log is bounded too: twice the output cap plus 1 MiB of room for its JSON.
    expect((await stat(outcome.logFile)).size).toBeLessThan(2 * 64 * 1024 + 2 * MiB);
    expect((await nextJobRuns(sandbox.config)).state).toBe("succeeded");
  });

  it("stops a process filling the disk at the file size limit", async () => {
    const outcome = await runFixture(sandbox.config, "fill-disk.sh", {
      limits: { maxFileBytes: 8 * MiB },
    });
    expect(outcome.state).toBe("failed");
    expect(outcome.reason).toBe("killed: file size limit 8 MiB exceeded");
    expect((await nextJobRuns(sandbox.config)).state).toBe("succeeded");
  });

  it("names the file size limit when python fails its write instead of dying", async () => {
    const outcome = await runFixture(sandbox.config, "fill-disk.py", {
      limits: { maxFileBytes: 8 * MiB },
    });
    expect(outcome.state).toBe("failed");
    expect(outcome.reason).toBe("exited with code 1; file size limit 8 MiB reached");
  });

  it("cancels a running job when the worker aborts it", async () => {
    const controller = new AbortController();
    const running = runFixture(sandbox.config, "infinite-loop.sh", {}, controller.signal);
    setTimeout(() => controller.abort(), 300);
    const outcome = await running;
    expect(outcome.state).toBe("canceled");
    expect(outcome.reason).toBe("canceled");
  });
});

describe.skipIf(!host.isRoot)(
  "a job with rlimits only (no cgroups, no bwrap) under a job user",
  () => {
    let sandbox: TestSandbox;
    beforeAll(async () => {
      sandbox = await makeSandbox({ sandbox: "none", cgroups: false, runAs: USER });
    });
    afterAll(() => sandbox.cleanup());

    it("stops a fork bomb with RLIMIT_NPROC", async () => {
      const outcome = await runFixture(sandbox.config, "fork-bomb.py");
      expect(outcome.state).toBe("failed");
      expect(outcome.sandbox).toEqual({ mode: "none", user: USER, cgroup: false });
      expect((await nextJobRuns(sandbox.config)).state).toBe("succeeded");
    });

    it("stops a memory bomb with RLIMIT_DATA", async () => {
      const outcome = await runFixture(sandbox.config, "memory-bomb.py", {
        limits: { memoryBytes: 128 * MiB },
      });
      expect(outcome.state).toBe("failed");
      expect(outcome.stderr.head).toContain("MemoryError");
      expect((await nextJobRuns(sandbox.config)).state).toBe("succeeded");
    });
  },
);
