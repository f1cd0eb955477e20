// A capped sweep whose jobs run again (`submit --retries N` with `%K`): every run, retried ones
// too, stays inside the sweep's cap of K at once. Real server, router and worker processes; the
// runs count each other themselves, through marker files in a shared directory (the worker runs
// them without a sandbox), so what is checked is what ran at once, not what a log says.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { SweepView } from "../../src/orchestration/client/sweep.ts";
import { runCli, startRouterProcess, startWorkerProcess } from "../helpers/cluster.ts";
import { startServerProcess, stopAll, tempDir } from "../helpers/processes.ts";

afterEach(stopAll);

/**
 * Marks itself running, waits, counts the runs marked running (itself too), writes that count
 * down, unmarks itself, and fails unless this is attempt `succeedOn`.
 */
const COUNTING_RUN = `import os, sys, time
running, seen, succeed_on = sys.argv[1], sys.argv[2], int(sys.argv[3])
me = os.environ["MODULATE_ARRAY_INDEX"] + "-" + os.environ["MODULATE_ATTEMPT"]
open(os.path.join(running, me), "w").close()
time.sleep(0.4)
with open(os.path.join(seen, me), "w") as f:
    f.write(str(len(os.listdir(running))))
time.sleep(0.2)
os.remove(os.path.join(running, me))
sys.exit(0 if int(os.environ["MODULATE_ATTEMPT"]) >= succeed_on else 3)
`;

describe("a capped sweep's retried runs", () => {
  it("keeps --retries runs of an array with %2 inside the cap of 2, with every run counted", async () => {
    const server = await startServerProcess();
    await startRouterProcess(server.url);
    // Six slots: only the sweep's cap can hold it to two.
    await startWorkerProcess(server.url, "cpu", tempDir(), ["--slots", "6", "--sandbox", "none"]);
    const dir = tempDir();
    const [running, seen] = [join(dir, "running"), join(dir, "seen")];
    mkdirSync(running);
    mkdirSync(seen);
    const script = join(dir, "count.py");
    writeFileSync(script, COUNTING_RUN);

    const run = await runCli(
      server.url,
      "submit",
      script,
      "--array",
      "1-6%2",
      "--id",
      "rc",
      "--retries",
      "2",
      "--wait",
      "--",
      running,
      seen,
      "3",
    );
    expect(run.code, run.out).toBe(0);
    const view = JSON.parse(
      (await runCli(server.url, "get", "rc", "--json")).out.trim().split("\n").pop() ?? "{}",
    ) as SweepView;
    expect(view.progress).toEqual({ done: 6, failed: 0, running: 0, queued: 0 });

    // Every job ran three times (two failed runs, then one that succeeded).
    const runs = readdirSync(seen).sort();
    expect(runs).toHaveLength(18);
    const counts = runs.map((name) => Number(readFileSync(join(seen, name), "utf8")));
    expect(Math.max(...counts)).toBeLessThanOrEqual(2);
  }, 120_000);
});
