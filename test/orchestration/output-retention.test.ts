// The worker's disk keeps each job's whole output (its attempt logs) for the retention after
// the last line, and no longer; the live output on the server keeps only its chunks.
import { existsSync, mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { pruneAttemptLogs } from "../../src/sandbox/attempt-log.ts";
import { stopAll, tempDir } from "../helpers/processes.ts";

afterEach(async () => {
  await stopAll();
});

const DAY_MS = 24 * 60 * 60 * 1000;

function jobLogs(logDir: string, job: string, files: string[], ageMs: number): string {
  const dir = join(logDir, job);
  mkdirSync(dir, { recursive: true });
  const when = new Date(Date.now() - ageMs);
  for (const file of files) {
    writeFileSync(join(dir, file), '{"t":0,"stream":"stdout","line":"x"}\n');
    utimesSync(join(dir, file), when, when);
  }
  return dir;
}

describe("attempt log retention", () => {
  it("removes a job's logs once every attempt's last line is older than the retention, and nothing else", async () => {
    const logDir = tempDir();
    const old = jobLogs(logDir, "job-old", ["attempt-1.jsonl", "attempt-2.jsonl"], 8 * DAY_MS);
    const recent = jobLogs(logDir, "job-recent", ["attempt-1.jsonl"], 1 * DAY_MS);
    // One old attempt and one written today: the job's output is still wanted.
    const mixed = jobLogs(logDir, "job-mixed", ["attempt-1.jsonl"], 8 * DAY_MS);
    writeFileSync(join(mixed, "attempt-2.jsonl"), "");
    // Not a job's log directory: the sandbox keeps files of its own beside them.
    const other = jobLogs(logDir, "standby", ["scratch"], 8 * DAY_MS);
    writeFileSync(join(logDir, ".masked"), "");

    expect(await pruneAttemptLogs(logDir, 7 * DAY_MS, Date.now())).toBe(1);
    expect(existsSync(old)).toBe(false);
    for (const kept of [recent, mixed, other, join(logDir, ".masked")])
      expect(existsSync(kept), kept).toBe(true);
  });

  it("does nothing where the log directory is missing", async () => {
    expect(await pruneAttemptLogs(join(tempDir(), "none"), DAY_MS, Date.now())).toBe(0);
  });
});
