// `modulate dev`: everything in one command, and Ctrl+C stops all of it, jobs included.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { ModulateClient } from "../../src/orchestration/client.ts";
import { jobSpec } from "../helpers/cluster.ts";
import { eventually, MODULATE, ROOT, start, stopAll, tempDir } from "../helpers/processes.ts";

afterEach(stopAll);

/** Processes whose command line holds `marker`: found by reading /proc, never killed by name. */
function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(marker)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

describe("modulate dev", () => {
  it("runs a script end to end with --try and exits with its code", async () => {
    const dev = start(MODULATE, [
      "dev",
      "--in-memory",
      "--port",
      "0",
      "--try",
      join(ROOT, "examples", "hello.py"),
    ]);
    expect(await dev.exited()).toBe(0);
    expect(dev.output()).toMatch(/hello from .*\n[\s\S]*job \S+ succeeded/);
  });

  it("keeps its workers' jobs and logs under its --data, and takes the worker's sandbox options", async () => {
    const data = tempDir();
    const dev = start(MODULATE, [
      "dev",
      "--data",
      data,
      "--port",
      "0",
      "--max-disk",
      "off",
      "--allow-network",
      "--try",
      join(ROOT, "examples", "hello.py"),
    ]);
    expect(await dev.exited()).toBe(0);
    expect(dev.output()).toMatch(/no disk quota per job/);
    // The attempt's log is in the dev's own directory.
    const logs = readdirSync(join(data, "worker", "logs"), { recursive: true, encoding: "utf8" });
    expect(logs.some((entry) => entry.endsWith("attempt-1.jsonl"))).toBe(true);
  });

  it("stops server, router, workers and running jobs on Ctrl+C, leaving no process behind", async () => {
    const dev = start(MODULATE, ["dev", "--in-memory", "--port", "0", "--groups", "g"]);
    const url = (await dev.waitFor(/server (http:\/\/\S+),/))[1] ?? "";
    const client = new ModulateClient({ url });
    const marker = `marker-${randomUUID()}`;
    try {
      const spec = jobSpec("sleepy.py", { args: ["60", marker] });
      await client.submit(spec, 60_000);
      await eventually(
        async () => ((await client.getJob(spec.id)).result.state === "running" ? true : undefined),
        "the job to run",
      );
      expect(processesWith(marker).length).toBeGreaterThan(0);
    } finally {
      await client.close();
    }
    dev.kill("SIGINT");
    expect(await dev.exited()).toBe(0);
    await eventually(
      () => (processesWith(marker).length === 0 ? true : undefined),
      "every process of the job to be gone",
      5_000,
    );
  });
});
