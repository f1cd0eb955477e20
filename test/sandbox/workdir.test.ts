// The job directory's making and removal: the common case (only the script left) in two calls,
// anything more walked; a work root made once and made again should it be gone.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AttemptLog } from "../../src/sandbox/attempt-log.ts";
import { makeJobDir, removeWorkDir } from "../../src/sandbox/workdir.ts";

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function root(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "modulate-workdir-"));
  made.push(dir);
  return dir;
}

describe("removeWorkDir", () => {
  it("removes a directory holding only its script", async () => {
    const dir = path.join(root(), "job");
    mkdirSync(dir);
    writeFileSync(path.join(dir, "job.py"), "print(1)\n");
    await removeWorkDir(dir, { scriptPath: path.join(dir, "job.py") });
    expect(existsSync(dir)).toBe(false);
  });

  it("walks and removes whatever else the job left, nested directories included", async () => {
    const dir = path.join(root(), "job");
    mkdirSync(path.join(dir, "a", "b"), { recursive: true });
    writeFileSync(path.join(dir, "job.py"), "print(1)\n");
    writeFileSync(path.join(dir, "a", "b", "out.txt"), "x");
    writeFileSync(path.join(dir, "left.txt"), "y");
    await removeWorkDir(dir, { scriptPath: path.join(dir, "job.py") });
    expect(existsSync(dir)).toBe(false);
  });

  it("with walk off, removes the script and leaves a directory that holds more", async () => {
    const dir = path.join(root(), "job");
    mkdirSync(dir);
    writeFileSync(path.join(dir, "job.py"), "print(1)\n");
    writeFileSync(path.join(dir, "left.txt"), "y");
    await removeWorkDir(dir, { scriptPath: path.join(dir, "job.py"), walk: false });
    expect(existsSync(path.join(dir, "job.py"))).toBe(false);
    expect(existsSync(path.join(dir, "left.txt"))).toBe(true);
  });

  it("is a no-op for a directory gone already", async () => {
    const dir = path.join(root(), "gone");
    await expect(removeWorkDir(dir, { scriptPath: path.join(dir, "job.py") })).resolves.toBe(
      undefined,
    );
  });
});

describe("makeJobDir", () => {
  it("makes its work root once, and again where it was removed since", async () => {
    const workRoot = path.join(root(), "jobs");
    await makeJobDir(path.join(workRoot, "one"), undefined);
    expect(existsSync(path.join(workRoot, "one"))).toBe(true);
    rmSync(workRoot, { recursive: true });
    await makeJobDir(path.join(workRoot, "two"), undefined);
    expect(existsSync(path.join(workRoot, "two"))).toBe(true);
  });
});

describe("AttemptLog.makeDir", () => {
  it("makes a job's log directory with its missing parents, and finds it made the second time", async () => {
    const dir = path.join(root(), "logs", "job-1");
    await AttemptLog.makeDir(dir);
    expect(existsSync(dir)).toBe(true);
    await expect(AttemptLog.makeDir(dir)).resolves.toBe(undefined);
    await AttemptLog.makeDir(path.join(path.dirname(dir), "job-2"));
    expect(existsSync(path.join(path.dirname(dir), "job-2"))).toBe(true);
  });
});
