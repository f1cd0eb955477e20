// The table `modulate workers` prints: pure formatting of what the workers announced.
import { describe, expect, it } from "vitest";
import { noWorkersLine, workersTable } from "../../src/modes/workers.ts";
import type { WorkerView } from "../../src/orchestration/presence.ts";

const base = { startedAt: 0, busy: 0, jobs: [] as string[] };

describe("workersTable", () => {
  it("aligns one row per worker under a header, a group's workers together", () => {
    const workers: WorkerView[] = [
      {
        ...base,
        group: "gpu",
        host: "node-7",
        pid: "gpu-node-7-42",
        slots: 2,
        busy: 2,
        jobs: ["job-a", "job-b"],
        gpus: ["0", "1"],
        interpreters: ["jax", "torch"],
        sandbox: "bwrap",
        warmPython: true,
        version: "0.1.0",
        leaseMs: 8_000,
      },
      {
        ...base,
        group: "cpu",
        host: "b",
        pid: "cpu-b-1",
        slots: 4,
        gpus: [],
        interpreters: [],
        sandbox: "none",
        version: "0.1.0",
        leaseMs: 90_000,
      },
      // A worker older than the announcement: what it did not say reads "-".
      { ...base, group: "cpu", host: "a", pid: "cpu-a-9", slots: 1 },
    ];
    expect(workersTable(workers)).toBe(
      [
        "GROUP  HOST    PID            SLOTS  GPUS  INTERPRETERS  SANDBOX            VERSION  JOBS         LAST-SEEN",
        "cpu    a       cpu-a-9        0/1    -     -             -                  -        -            -",
        "cpu    b       cpu-b-1        0/4    none  none          none               0.1.0    -            <1m30s ago",
        "gpu    node-7  gpu-node-7-42  2/2    0,1   jax,torch     bwrap+warm-python  0.1.0    job-a,job-b  <8s ago",
        "",
      ].join("\n"),
    );
  });

  it("says in one line that no worker is alive, and how to start one", () => {
    expect(noWorkersLine(undefined, "http://head:8001")).toBe(
      "no live workers: start one with modulate worker --group GROUP --url http://head:8001\n",
    );
    expect(noWorkersLine("gpu", "http://head:8001")).toBe(
      "no live workers in group gpu: start one with modulate worker --group gpu --url http://head:8001\n",
    );
  });
});
