// Issue 12, "done when": 200 jobs while a worker, the router, the server and then all three
// are killed with SIGKILL in turn and started again. Nothing accepted is lost or stuck, and a
// job runs again only where the worker that ran it died. Long: outside the default suite,
// run with `npm run test:chaos` (its figures are printed as one JSON line).
import { afterEach, describe, expect, it } from "vitest";
import { stopAll } from "../helpers/processes.ts";
import {
  ChaosCluster,
  quickJobs,
  submitAll,
  tally,
  untilFinished,
  type ChaosFigures,
} from "./chaos-cluster.ts";

const enabled = process.env["MODULATE_CHAOS"] === "1";
const JOBS = Number(process.env["MODULATE_CHAOS_JOBS"] ?? 200);

afterEach(async () => {
  await stopAll();
});

/** Resolves once the workers have finished `count` jobs, or rejects at the deadline. */
async function untilDone(cluster: ChaosCluster, count: number, deadlineAt: number): Promise<void> {
  while (cluster.finishedJobs().size < count) {
    if (Date.now() > deadlineAt) throw new Error(`fewer than ${count} jobs finished in time`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.skipIf(!enabled)("chaos: kill -9 of each part in turn, with restarts", () => {
  it(
    `loses none of ${JOBS} jobs, leaves none stuck, and re-runs only what a dead worker ran`,
    async () => {
      const cluster = await ChaosCluster.start({ workers: 3, slots: 2 });
      // A second each: long enough that every kill finds jobs running.
      const specs = quickJobs(JOBS, "sleepy.py", ["1"]);
      const startedAt = Date.now();
      const deadlineAt = startedAt + 20 * 60_000;
      // Submissions go on through the kills: one refused while the server is down is sent again.
      const submitting = submitAll(cluster.url, specs, 8, deadlineAt);
      const step = Math.floor(JOBS / 5);
      await untilDone(cluster, step, deadlineAt);
      await cluster.killWorker(0);
      await cluster.restartWorker(0);
      await untilDone(cluster, 2 * step, deadlineAt);
      await cluster.killRouter();
      await cluster.restartRouter();
      await untilDone(cluster, 3 * step, deadlineAt);
      await cluster.killServer();
      // Down until the jobs running have ended while it was away: their answers must wait.
      const running = cluster.runningJobs();
      await untilFinished(cluster, running, Math.min(deadlineAt, Date.now() + 60_000));
      await cluster.restartServer();
      await untilDone(cluster, 4 * step, deadlineAt);
      await cluster.killAll();
      await cluster.restartAll();
      const accepted = await submitting;
      await untilFinished(cluster, accepted, deadlineAt);
      const figures: ChaosFigures = await tally(cluster, specs, accepted, startedAt, deadlineAt);
      console.log(
        JSON.stringify({
          ...figures,
          reruns: figures.reruns.length,
          rerunJobs: figures.reruns,
          endedWhileServerDown: running.length,
          answerNotes: cluster.answerNotes(),
        }),
      );
      if (figures.reruns.length > 0) console.log(cluster.workerOutputs());
      expect(running.length, "jobs that ended while the server was down").toBeGreaterThan(0);
      expect(figures.accepted).toBe(JOBS);
      expect(figures.lost).toEqual([]);
      expect(figures.stuck).toEqual([]);
      expect(figures.reruns).toEqual([]);
    },
    30 * 60_000,
  );
});
