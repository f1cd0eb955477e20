// Why each queued job waits, worked out once per group and ask: jobs of one group asking for
// different things still get their own reasons, and the order in the queue is counted per group.
import { describe, expect, it } from "vitest";
import {
  explainingQueued,
  explainQueued,
  type Gathered,
  type Placed,
} from "../../../src/orchestration/client/list-lines.ts";
import { whyWaiting, type JobAsks, type WorkerView } from "../../../src/orchestration/presence.ts";

const WORKERS: WorkerView[] = [
  {
    group: "g",
    pid: "g-a-1",
    host: "a",
    slots: 2,
    busy: 2,
    startedAt: 0,
    jobs: [],
    gpus: ["0"],
    interpreters: ["python3"],
  },
];

function queued(id: string, group: string, submittedAt: number, asks: JobAsks = {}): Gathered {
  return {
    id,
    group,
    state: "pending",
    reason: "",
    exitCode: null,
    stdout: "",
    stderr: "",
    durationMs: 0,
    worker: null,
    attempt: 0,
    submittedAt,
    startedAt: null,
    finishedAt: null,
    script: "x.py",
    stage: "queued",
    asks,
  };
}

/** `ls`'s way: every job placed, every one shown. */
function explainAll(jobs: Gathered[], workers: readonly WorkerView[], now: number): void {
  const placed: Placed[] = jobs.map((job) => ({ ...job, line: () => job }));
  explainQueued(placed, workers, now, placed);
}

describe("explaining queued jobs", () => {
  it("gives each ask of a group its own reason, and counts the queue per group", () => {
    const jobs = [
      queued("j1", "g", 1),
      queued("j2", "g", 2, { gpus: 4 }),
      queued("j3", "g", 3, { interpreter: "julia" }),
      queued("j4", "g", 4),
      queued("j5", "h", 5),
    ];
    explainAll(jobs, WORKERS, 10);
    const reasons = Object.fromEntries(jobs.map((j) => [j.id, j.reason]));
    expect(reasons["j1"]).toBe(whyWaiting(WORKERS, "g", {}));
    expect(reasons["j2"]).toBe(`${whyWaiting(WORKERS, "g", { gpus: 4 })}; queued behind 1`);
    expect(reasons["j3"]).toBe(
      `${whyWaiting(WORKERS, "g", { interpreter: "julia" })}; queued behind 2`,
    );
    expect(reasons["j4"]).toBe(`${whyWaiting(WORKERS, "g", {})}; queued behind 3`);
    expect(reasons["j5"]).toBe(whyWaiting(WORKERS, "h", {}));
    expect(new Set([reasons["j1"], reasons["j2"], reasons["j3"]]).size).toBe(3);
  });

  it("explains a job at a time when stepped, with the same reasons", () => {
    const make = () => [queued("a", "g", 2), queued("b", "g", 1, { gpus: 4 }), queued("c", "h", 3)];
    const whole = make();
    explainAll(whole, WORKERS, 10);
    const stepped = make();
    const steps = explainingQueued(stepped, WORKERS, 10);
    let taken = 0;
    while (!steps.next().done) taken += 1;
    expect(taken).toBe(3);
    expect(stepped.map((j) => j.reason)).toEqual(whole.map((j) => j.reason));
  });
});
