// `ui` called directly (runUi): its client reads a real cluster started in this process; only
// the rendering is left out, by a dashboard that takes one reading and quits.
import { hostname } from "node:os";
import { afterEach, describe, expect, it } from "vitest";
import type { WorkerView } from "../../src/orchestration/presence.ts";
import { processPid } from "../../src/orchestration/jobs/names.ts";
import { openModulateClient } from "../../src/modes/deps.ts";
import { startLocalCluster } from "../../src/modes/local-cluster.ts";
import { runUi, uiCommand } from "../../src/modes/ui.ts";
import { defaultJobLimits } from "../../src/modes/worker-setup.ts";
import { stopAll, tempDir } from "../helpers/processes.ts";
import { captureContext } from "./capture-context.ts";
import { argsOf } from "./mode-args.ts";

const stoppers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stoppers.splice(0).reverse()) await stop();
  await stopAll();
});

describe("runUi", () => {
  it("shows the local cluster's workers by the pids they run under", async () => {
    const cluster = await startLocalCluster({
      groups: ["a", "b"],
      slotsPerWorker: 2,
      port: 0,
      sandbox: {
        sandbox: "none",
        limits: defaultJobLimits(),
        networkAllowed: false,
        workDir: tempDir(),
        maxDiskBytes: 0,
      },
      env: process.env,
    });
    stoppers.push(() => cluster.stop());
    const ctx = { ...captureContext(), isInteractive: true };
    const args = await argsOf(uiCommand, ["--url", cluster.url, "--refresh", "1s"]);
    let seen: { workers: WorkerView[]; url: string; refreshMs: number } | undefined;
    const code = await runUi(args, ctx, {
      openClient: openModulateClient,
      runDashboard: async ({ source, url, refreshMs }) => {
        seen = { workers: await source.workers(), url, refreshMs };
      },
    });
    expect(code).toBe(0);
    expect(seen?.url).toBe(cluster.url);
    expect(seen?.refreshMs).toBe(1_000);
    const pids = new Map(seen?.workers.map((w) => [w.pid, w.group]));
    const here = (role: string): string => processPid(role, hostname(), process.pid);
    // Routers hold presence leases too, but the dashboard's workers are workers only.
    expect(pids.has(here("router"))).toBe(false);
    expect(pids.get(here("a"))).toBe("a");
    expect(pids.get(here("b"))).toBe("b");
    expect(cluster.routerPid).toBe(here("router"));
    expect([...cluster.workerPids.values()]).toEqual([here("a"), here("b")]);
  });
});
