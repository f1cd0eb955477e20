// Item 7 of issue 12: one job in a thousand ran twice with nothing killed. This soak submits
// thousands of quick jobs under CPU pressure (busy loops started and stopped along the way)
// and counts, from the workers' side, how many times each job's body started: exactly once.
// Long: outside the default suite, run with `npm run test:chaos`.
import { afterEach, describe, expect, it } from "vitest";
import { NODE, start, stopAll, type Spawned } from "../helpers/processes.ts";
import { ChaosCluster, quickJobs, submitAll, tally, untilFinished } from "./chaos-cluster.ts";

const enabled = process.env["MODULATE_CHAOS"] === "1";
const JOBS = Number(process.env["MODULATE_SOAK_JOBS"] ?? 2_000);

afterEach(async () => {
  await stopAll();
});

/** Busy loops, on for a few seconds and off for a few, until stopped. */
function cpuPressure(loops: number): { stop(): void } {
  let running: Spawned[] = [];
  let stopped = false;
  const toggle = (): void => {
    if (stopped) return;
    if (running.length > 0) {
      for (const p of running) p.kill("SIGKILL");
      running = [];
    } else {
      running = Array.from({ length: loops }, () => start(NODE, ["-e", "for (;;) {}"]));
    }
    timer = setTimeout(toggle, 2_000 + Math.random() * 3_000);
  };
  let timer = setTimeout(toggle, 500);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      for (const p of running) p.kill("SIGKILL");
    },
  };
}

describe.skipIf(!enabled)("a soak of quick jobs under CPU pressure", () => {
  it(
    `runs each of ${JOBS} detached jobs exactly once, with nothing killed`,
    async () => {
      const cluster = await ChaosCluster.start({ workers: 2, slots: 4 });
      const specs = quickJobs(JOBS);
      const startedAt = Date.now();
      const deadlineAt = startedAt + 30 * 60_000;
      const pressure = cpuPressure(3);
      let accepted: string[];
      try {
        accepted = await submitAll(cluster.url, specs, 64, deadlineAt);
        await untilFinished(cluster, accepted, deadlineAt);
      } finally {
        pressure.stop();
      }
      const figures = await tally(cluster, specs, accepted, startedAt, deadlineAt);
      console.log(
        JSON.stringify({
          ...figures,
          reruns: figures.reruns.length,
          rerunJobs: figures.reruns,
          answerNotes: cluster.answerNotes(),
        }),
      );
      if (figures.reruns.length > 0) console.log(cluster.workerOutputs());
      expect(figures.accepted).toBe(JOBS);
      expect(figures.lost).toEqual([]);
      expect(figures.stuck).toEqual([]);
      expect(figures.reruns).toEqual([]);
      expect(figures.forcedReruns).toBe(0);
    },
    60 * 60_000,
  );
});
