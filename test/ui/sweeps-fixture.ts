// Sweeps as the dashboard tests see them: an outstanding one (`lr`, 10 jobs), a finished one
// (`ev`), and jobs of each beside a job of no sweep and one of a sweep whose id begins alike.
import type { ListedJob } from "../../src/orchestration/client/list.ts";
import type { SweepView } from "../../src/orchestration/client/sweep.ts";
import { job, NOW } from "./fixture.ts";

export function sweep(
  id: string,
  progress: SweepView["progress"],
  fields: { count?: number; finished?: boolean; ageMs?: number } = {},
): SweepView {
  return {
    record: {
      kind: "modulate.sweep",
      id,
      group: "gpu",
      count: fields.count ?? 10,
      scripts: [`${id}.py`],
      submittedAt: NOW - (fields.ageMs ?? 60_000),
    },
    jobs: [],
    progress,
    finished: fields.finished ?? false,
  };
}

/** Newest first, as listSweeps answers with finished ones. */
export const SWEEPS: SweepView[] = [
  {
    ...sweep("lr", { done: 5, failed: 1, running: 2, queued: 2 }, { ageMs: 60_000 }),
    // Listed jobs, and one its cap holds, which no listing has a line for.
    jobs: [
      {
        id: "lr.9",
        index: 9,
        retry: 1,
        script: "lr.py",
        stage: "queued",
        reason: "waiting for a worker",
        exitCode: null,
      },
      {
        id: "lr.10",
        index: 10,
        retry: 1,
        script: "lr.py",
        stage: "queued",
        reason: "held until job 8 of the sweep ends (max-running 2)",
        exitCode: null,
      },
    ],
  },
  sweep(
    "ev",
    { done: 4, failed: 0, running: 0, queued: 0 },
    { count: 4, finished: true, ageMs: 600_000 },
  ),
];

export const SWEEP_JOBS: ListedJob[] = [
  job("lr.9", "queued", { script: "lr.py", submittedAt: NOW - 60_000 }),
  job("lr.7", "running", { script: "lr.py", submittedAt: NOW - 60_000 }),
  job("lr.2-r2", "running", { script: "lr.py", submittedAt: NOW - 30_000 }),
  job("lr.1", "succeeded", { script: "lr.py", submittedAt: NOW - 60_000, exitCode: 0 }),
  job("lrx.1", "running", { script: "other.py", submittedAt: NOW - 20_000 }),
  job("job-5", "running", { script: "solo.py", submittedAt: NOW - 10_000 }),
];
