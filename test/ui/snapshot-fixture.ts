// One cluster as the dashboard tests see it: three groups, a router, jobs in each state.
import type { ClusterSnapshot } from "../../src/orchestration/snapshot.ts";

export const SNAPSHOT: ClusterSnapshot = {
  takenAt: 10_000,
  workers: [
    { group: "gpu", pid: "gpu-a-1", host: "a", slots: 2, busy: 1, startedAt: 0, jobs: [] },
    { group: "cpu", pid: "cpu-b-2", host: "b", slots: 4, busy: 0, startedAt: 0, jobs: [] },
    { group: "entry", pid: "router-c-3", host: "c", slots: 0, busy: 0, startedAt: 0, jobs: [] },
  ],
  jobs: [
    {
      id: "job-1",
      group: "gpu",
      state: "running",
      script: "train.py",
      submittedAt: 4_000,
      worker: "gpu-a-1",
    },
    { id: "job-2", group: "gpu", state: "queued", script: "eval.py", submittedAt: 6_000 },
    { id: "job-3", group: "a100", state: "routing", script: "big.py", submittedAt: 8_000 },
  ],
};
