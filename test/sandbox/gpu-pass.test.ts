// The fair hand-out of a worker's GPUs (gpu-pass.ts): a job that waits keeps what it needs
// from younger jobs, which go first only where they fit in GPUs it does not need. Pure: passes
// over demands in line, oldest first, as the worker's gate makes one each time something frees.
import { describe, expect, it } from "vitest";
import { GpuPass } from "../../src/sandbox/gpu-pass.ts";
import { GpuSets, type GpuDemand, type GpuLease } from "../../src/sandbox/gpus.ts";

const whole = (count: number): GpuDemand => ({ kind: "whole", count });
const shared: GpuDemand = { kind: "shared" };

/** One pass over `line`, oldest first: the leases of those that got their GPUs, by name. */
function pass(sets: GpuSets, line: [string, GpuDemand][]): Map<string, GpuLease> {
  const look = new GpuPass(sets);
  const taken = new Map<string, GpuLease>();
  for (const [name, demand] of line) {
    const lease = look.take(demand);
    if (lease) taken.set(name, lease);
  }
  return taken;
}

describe("the fair GPU pass", () => {
  it("does not let a stream of 1-GPU jobs starve an older 4-GPU job", () => {
    const sets = new GpuSets(["0", "1", "2", "3"]);
    const running = [0, 1, 2, 3].map(() => sets.take(whole(1))!);
    let line: [string, GpuDemand][] = [["big", whole(4)]];
    let bigAfter: number | undefined;
    // Each round one job ends, and a new 1-GPU job joins the line behind the 4-GPU one.
    for (let round = 1; round <= 20 && bigAfter === undefined; round++) {
      sets.release(running.shift()!);
      line.push([`small-${round}`, whole(1)]);
      const taken = pass(sets, line);
      if (taken.has("big")) bigAfter = round;
      for (const [name, lease] of taken) if (name !== "big") running.push(lease);
      line = line.filter(([name]) => !taken.has(name));
    }
    // The four jobs that held the GPUs when it came ended; no younger one took their GPUs.
    expect(bigAfter).toBe(4);
    expect(line.map(([name]) => name)).toEqual(["small-1", "small-2", "small-3", "small-4"]);
  });

  it("keeps freed GPUs for the job that waits: a younger 1-GPU job waits while 3 of 4 are free", () => {
    const sets = new GpuSets(["0", "1", "2", "3"]);
    const held = sets.take(whole(1))!;
    const look = new GpuPass(sets);
    expect(look.take(whole(4))).toBeUndefined();
    expect(look.kept).toBe(4);
    expect(look.take(whole(1))).toBeUndefined();
    // A job that needs no GPU is not held back.
    expect(look.take(whole(0))?.ids).toEqual([]);
    sets.release(held);
    expect(new GpuPass(sets).take(whole(4))?.ids).toEqual(["0", "1", "2", "3"]);
  });

  it("lets younger jobs by where they fit in GPUs the waiting job does not need", () => {
    const sets = new GpuSets(["0", "1", "2", "3", "4", "5", "6", "7"]);
    const old = [0, 1, 2, 3, 4].map(() => sets.take(whole(1))!);
    const taken = pass(sets, [
      ["big", whole(4)],
      ["a", whole(1)],
      ["b", whole(2)],
      ["c", whole(1)],
    ]);
    // 3 GPUs free, 4 kept for big: a and b fit in the 8 - 4 it does not need; c would not.
    expect([...taken.keys()]).toEqual(["a", "b"]);
    for (const lease of old) sets.release(lease);
    // Those let by hold 3 GPUs at most 4: once the older jobs end, big has its 4.
    const next = pass(sets, [
      ["big", whole(4)],
      ["c", whole(1)],
    ]);
    expect(next.get("big")?.ids).toHaveLength(4);
    expect(next.has("c")).toBe(true);
  });

  it("keeps sharers off a GPU that a waiting whole-GPU job needs, and packs them with those let by", () => {
    const sets = new GpuSets(["0", "1"], 3);
    const first = sets.take(shared)!;
    expect(first.ids).toEqual(["0"]);
    // A sharer joining GPU 0 would keep it busy for ever while whole-GPU jobs wait.
    expect([
      ...pass(sets, [
        ["pair", whole(2)],
        ["s", shared],
      ]).keys(),
    ]).toEqual([]);
    sets.release(first);
    expect(pass(sets, [["pair", whole(2)]]).get("pair")?.ids).toEqual(["0", "1"]);

    const roomy = new GpuSets(["0", "1", "2"], 2);
    const one = roomy.take(whole(1))!;
    const two = roomy.take(whole(1))!;
    // 1 GPU free, 2 kept for the pair: sharers let by pack onto that one GPU only.
    const let1 = pass(roomy, [
      ["pair", whole(2)],
      ["s1", shared],
      ["s2", shared],
      ["s3", shared],
    ]);
    expect([...let1.keys()]).toEqual(["s1", "s2"]);
    expect([let1.get("s1")?.ids, let1.get("s2")?.ids]).toEqual([["2"], ["2"]]);
    expect(let1.get("s1")?.pastWaiting).toBe(true);
    roomy.release(one);
    roomy.release(two);
    expect(pass(roomy, [["pair", whole(2)]]).get("pair")?.ids).toEqual(["0", "1"]);
  });

  it("hands out as before when nothing waits", () => {
    const sets = new GpuSets(["0", "1", "2", "3"]);
    const taken = pass(sets, [
      ["a", whole(2)],
      ["b", whole(1)],
      ["c", whole(1)],
    ]);
    expect([...taken.values()].map((lease) => lease.ids)).toEqual([["0", "1"], ["2"], ["3"]]);
    expect([...taken.values()].every((lease) => !lease.pastWaiting)).toBe(true);
  });
});
