// A worker hands the sandbox its attempt number while it is still claiming it from the
// server: the job must start with the number claimed, and a claim that fails must leave
// nothing of the job behind.
import { access, readdir } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runJob } from "../../src/sandbox/run-job.ts";
import { makeSandbox, type TestSandbox } from "./harness.ts";

const PRINT_ATTEMPT = `import os\nprint(os.environ["MODULATE_ATTEMPT"])\n`;

/** `value()` after `ms`: a claim's answer from the server, or the error it ends in. */
function later<T>(ms: number, value: () => T): Promise<T> {
  return new Promise<void>((resolve) => setTimeout(resolve, ms)).then(value);
}

describe("an attempt number still being claimed", () => {
  let sandbox: TestSandbox | undefined;
  afterEach(async () => {
    await sandbox?.cleanup();
    sandbox = undefined;
  });

  it("starts the job with the number claimed, in its environment and its log's name", async () => {
    sandbox = await makeSandbox({ sandbox: "none", cgroups: false });
    const outcome = await runJob(
      {
        jobId: "pending-1",
        attempt: later(50, () => 3),
        scriptName: "attempt.py",
        script: PRINT_ATTEMPT,
      },
      sandbox.config,
    );
    expect(outcome.state).toBe("succeeded");
    expect(outcome.stdout.head).toBe("3\n");
    expect(outcome.attempt).toBe(3);
    expect(path.basename(outcome.logFile)).toBe("attempt-3.jsonl");
    await access(outcome.logFile);
  });

  it("runs nothing and leaves no directory when the claim fails", async () => {
    sandbox = await makeSandbox({ sandbox: "none", cgroups: false });
    const marker = path.join(sandbox.dir, "ran");
    const run = runJob(
      {
        jobId: "pending-2",
        attempt: later(50, () => {
          throw new Error("server unreachable");
        }),
        scriptName: "touch.py",
        script: `open(${JSON.stringify(marker)}, "w").close()\n`,
      },
      sandbox.config,
    );
    await expect(run).rejects.toThrow("server unreachable");
    expect(await readdir(sandbox.config.workRoot)).toEqual([]);
    await expect(access(marker)).rejects.toThrow();
    await expect(access(path.join(sandbox.config.logDir, "pending-2"))).rejects.toThrow();
  });
});
