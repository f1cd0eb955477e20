// A sweep's pure rules: --array as Slurm writes it, its jobs' ids, the cap's lanes, and the
// lineage of a sweep's job and what it creates under every protocol profile.
import { describe, expect, it } from "vitest";
import {
  childId,
  childLineageTags,
  rootLineageTags,
} from "../../../src/orchestration/jobs/lineage.ts";
import {
  isHeldInLane,
  laneAfter,
  parseArray,
  parseSweepJobId,
  sweepJobId,
  sweepMemberProblem,
} from "../../../src/orchestration/jobs/sweep.ts";
import type { Generation } from "../../../src/orchestration/wire/origins.ts";
import { checkRequest } from "../../helpers/protocol-profiles/check.ts";
import { PROTOCOL_VERSION } from "../../helpers/protocol-profiles/envelope.ts";
import { PROFILES, type ProfileName } from "../../helpers/protocol-profiles/profiles.ts";

const GENERATION_OF: Record<ProfileName, Generation> = {
  c8d7c7b: "dot",
  colon: "colon",
  "v0.9.8": "none",
};

function create(id: string, tags: Record<string, string>) {
  return {
    kind: "promise.create",
    head: { corrId: "c", version: PROTOCOL_VERSION },
    data: {
      id,
      timeoutAt: Date.now() + 60_000,
      param: { headers: {}, data: "" },
      tags: { ...tags, "resonate:target": "poll://any@g" },
    },
  };
}

describe("--array", () => {
  it("reads ranges, lists, steps and a cap", () => {
    expect(parseArray("0-3")).toEqual({ indices: [0, 1, 2, 3] });
    expect(parseArray("0-49%8")).toEqual({
      indices: Array.from({ length: 50 }, (_, i) => i),
      maxRunning: 8,
    });
    expect(parseArray("1,3,5")).toEqual({ indices: [1, 3, 5] });
    expect(parseArray("0-10:5%1")).toEqual({ indices: [0, 5, 10], maxRunning: 1 });
  });

  it("names what is wrong and how to write it", () => {
    expect(() => parseArray("5-1")).toThrow(/--array "5-1" has the range 5-1, which ends before/);
    expect(() => parseArray("a-b")).toThrow(/not a number or a range: write a range/);
    expect(() => parseArray("0-9%0")).toThrow(/caps at "0", not a positive number/);
    expect(() => parseArray("0-99999")).toThrow(/more than 10000 jobs/);
  });
});

describe("a sweep's jobs", () => {
  it("are S.k, and a retry S.k-rN, read back from the id", () => {
    expect(sweepJobId("s", 12)).toBe("s.12");
    expect(sweepJobId("s", 12, 3)).toBe("s.12-r3");
    expect(parseSweepJobId("s.12-r3")).toEqual({ sweepId: "s", index: 12, retry: 3 });
    expect(parseSweepJobId("s.12")).toEqual({ sweepId: "s", index: 12 });
    expect(parseSweepJobId("job-1")).toBeUndefined();
  });

  it("are checked against their place by the router", () => {
    const member = { id: "s", index: 2, count: 3 };
    expect(sweepMemberProblem("s.2", member)).toBeUndefined();
    expect(sweepMemberProblem("s.3", member)).toMatch(/not the id of job 2 of sweep s/);
    expect(sweepMemberProblem("s.4", { ...member, index: 4 })).toMatch(/not between 1 and 3/);
    expect(sweepMemberProblem("a.b.2", { ...member, id: "a.b" })).toMatch(/not a valid sweep id/);
  });

  it("under a cap of m run in m lanes: the head of each routes the rest of it in turn", () => {
    const capped = { id: "s", count: 7, maxRunning: 3 };
    expect(laneAfter({ ...capped, index: 1 })).toEqual([4, 7]);
    expect(laneAfter({ ...capped, index: 3 })).toEqual([6]);
    expect(laneAfter({ ...capped, index: 4 })).toEqual([]);
    expect(isHeldInLane({ ...capped, index: 4 })).toBe(true);
    expect(isHeldInLane({ ...capped, index: 3 })).toBe(false);
    // A retry is routed when asked, outside the lanes.
    expect(isHeldInLane({ ...capped, index: 4, retry: 2 })).toBe(false);
    expect(laneAfter({ id: "s", count: 7, index: 1 })).toEqual([]);
  });

  for (const name of Object.keys(PROFILES) as ProfileName[]) {
    it(`declare a lineage ${name} takes, for the job and what it creates`, () => {
      const generation = GENERATION_OF[name];
      const profile = PROFILES[name];
      for (const jobId of ["sw-1.3", "sw-1.3-r2"]) {
        expect(checkRequest(profile, create(jobId, rootLineageTags(generation, jobId)))).toBe(
          undefined,
        );
        for (const part of ["execute", "queue", "attempt-1", "output-1-0", "lane-6"]) {
          const id = childId(jobId, part);
          expect(
            checkRequest(profile, create(id, childLineageTags(generation, jobId, id))),
            `${name} ${id}`,
          ).toBeUndefined();
        }
      }
      expect(checkRequest(profile, create("sw-1", rootLineageTags(generation, "sw-1")))).toBe(
        undefined,
      );
    });
  }
});
