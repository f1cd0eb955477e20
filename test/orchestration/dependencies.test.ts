import { describe, expect, it } from "vitest";
import {
  awaitDependencies,
  dependencyFailure,
  waitingForReason,
  type DependencyEnding,
} from "../../src/orchestration/dependencies.ts";
import { notRunResult, type JobState } from "../../src/orchestration/jobs/job.ts";
import { PromiseNotFound } from "../../src/orchestration/wire/listener.ts";

const ending = (id: string, state: JobState, reason = ""): DependencyEnding => ({
  id,
  state,
  reason,
});

describe("a job's dependencies", () => {
  it("let the dependant start once every one succeeded", () => {
    const endings = [ending("a", "succeeded"), ending("b", "succeeded")];
    expect(dependencyFailure({ ids: ["a", "b"], any: false }, endings)).toBeUndefined();
  });

  it("fail the dependant with the reason of the first that did not succeed", () => {
    const endings = [
      ending("a", "succeeded"),
      ending("b", "failed", "exit code 7"),
      ending("c", "canceled", "canceled by ann@host"),
    ];
    expect(dependencyFailure({ ids: ["a", "b", "c"], any: false }, endings)).toBe(
      "dependency b failed: exit code 7",
    );
    expect(dependencyFailure({ ids: ["c"], any: false }, [endings[2]])).toBe(
      "dependency c was canceled: canceled by ann@host",
    );
    expect(dependencyFailure({ ids: ["t"], any: false }, [ending("t", "timed_out")])).toBe(
      "dependency t timed out",
    );
  });

  it("let the dependant start whatever they ended as with any", () => {
    const endings = [ending("a", "failed", "x"), ending("b", "canceled")];
    expect(dependencyFailure({ ids: ["a", "b"], any: true }, endings)).toBeUndefined();
  });

  it("are waited for together, and their endings kept in the order given", async () => {
    const order: string[] = [];
    const endings = await awaitDependencies(
      async (id) => {
        await new Promise((resolve) => setTimeout(resolve, id === "slow" ? 20 : 1));
        order.push(id);
        return notRunResult({ id, submittedAt: 0 }, { group: "g", state: "failed", reason: id }, 0);
      },
      ["slow", "fast"],
    );
    expect(order).toEqual(["fast", "slow"]);
    expect(endings.map((e) => e.id)).toEqual(["slow", "fast"]);
  });

  it("that do not exist end the wait as failed, not waited for", async () => {
    const endings = await awaitDependencies(
      (id) => Promise.reject(new PromiseNotFound(`promise ${id} does not exist`)),
      ["job-gone"],
    );
    expect(endings).toEqual([{ id: "job-gone", state: "failed", reason: "no such job" }]);
    expect(dependencyFailure({ ids: ["job-gone"], any: false }, endings)).toBe(
      "dependency job-gone failed: no such job",
    );
    await expect(
      awaitDependencies(() => Promise.reject(new Error("server away")), ["job-a"]),
    ).rejects.toThrow("server away");
  });

  it("are named in the reason a waiting job gives", () => {
    expect(waitingForReason(["a"])).toBe("waiting for job a");
    expect(waitingForReason(["a", "b"])).toBe("waiting for jobs a, b");
  });
});
