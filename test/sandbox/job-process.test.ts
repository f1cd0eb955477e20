// A job's main process as the sandbox starts it: its whole process group ends on timeout or
// cancel, SIGKILL follows a grace the job ignores, a program that cannot start is reported,
// and a worker that exits takes its running jobs with it.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { startJobProcess } from "../../src/sandbox/job-process.ts";
import { isRunning } from "./harness.ts";

const NODE = process.execPath;
const options = { cwd: "/", env: { PATH: "/usr/bin:/bin" }, killGraceMs: 300 };

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 50 && (await isRunning(pid)); i++)
    await new Promise((r) => setTimeout(r, 20));
  return !(await isRunning(pid));
}

describe("a job's main process", () => {
  it("ends the whole process group at the timeout", async () => {
    // The child sleeps in the background, as a script's helper would.
    const job = startJobProcess("/bin/sh", ["-c", "sleep 30 & echo $!; wait"], {
      ...options,
      timeoutMs: 300,
      killSignal: "SIGTERM",
    });
    let text = "";
    job.child.stdout?.on("data", (chunk: Buffer) => (text += chunk.toString()));
    const result = await job.result;
    expect(result.timedOut).toBe(true);
    expect(result.signal).toBe("SIGTERM");
    expect(await gone(Number(text.trim()))).toBe(true);
  });

  it("sends SIGKILL after the grace when the first signal is ignored", async () => {
    const controller = new AbortController();
    const job = startJobProcess("/bin/sh", ["-c", "trap '' TERM; echo ready; sleep 30"], {
      ...options,
      timeoutMs: 60_000,
      killSignal: "SIGTERM",
      signal: controller.signal,
    });
    job.child.stdout?.once("data", () => controller.abort());
    const result = await job.result;
    expect(result.isCanceled).toBe(true);
    expect(result.signal).toBe("SIGKILL");
  });

  it("reports a program that cannot start", async () => {
    const job = startJobProcess("/nonexistent/program", [], {
      ...options,
      timeoutMs: 1_000,
      killSignal: "SIGTERM",
    });
    const result = await job.result;
    expect(result.exitCode).toBeNull();
    expect(result.startFailure).toMatch(/ENOENT/);
  });

  it("is killed when the worker process exits", async () => {
    const module = fileURLToPath(new URL("../../src/sandbox/job-process.ts", import.meta.url));
    const worker = spawn(
      NODE,
      [
        "--input-type=module",
        "-e",
        `const { startJobProcess } = await import(${JSON.stringify(module)});
         const job = startJobProcess("/bin/sleep", ["30"], { cwd: "/", env: {}, timeoutMs: 60000, killGraceMs: 100, killSignal: "SIGTERM" });
         console.log(job.pid);
         setTimeout(() => process.exit(0), 100);`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let text = "";
    worker.stdout.on("data", (chunk: Buffer) => (text += chunk.toString()));
    await new Promise((resolve) => worker.once("exit", resolve));
    const pid = Number(text.trim());
    expect(pid).toBeGreaterThan(0);
    expect(await gone(pid)).toBe(true);
  });
});
