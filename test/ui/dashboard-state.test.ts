import { describe, expect, it } from "vitest";
import { dashboardReducer } from "../../src/ui/dashboard-state.ts";
import { openDetail, visibleLines } from "../../src/ui/detail-state.ts";
import { groupRows, jobRows } from "../../src/ui/rows.ts";
import { INITIAL_STATE, type DashboardAction, type DashboardState } from "../../src/ui/state.ts";
import { Command } from "../../src/ui/keymap.ts";
import { job, JOBS, NOW, WORKERS } from "./fixture.ts";

function run(state: DashboardState, ...actions: DashboardAction[]): DashboardState {
  return actions.reduce(dashboardReducer, state);
}
const loaded = (jobs = JOBS): DashboardAction => ({
  type: "data-loaded",
  jobs,
  moreJobs: 0,
  workers: WORKERS,
  at: NOW,
});
const key = (command: Command): DashboardAction => ({ type: "command", command });

describe("the dashboard state", () => {
  it("opens on the jobs view when there are jobs, on groups when there are none, and only once", () => {
    expect(run(INITIAL_STATE, loaded()).view).toBe("jobs");
    expect(run(INITIAL_STATE, loaded([])).view).toBe("groups");
    expect(run(INITIAL_STATE, loaded([]), loaded()).view).toBe("groups");
  });

  it("counts per group its workers, slots, GPUs and outstanding jobs by step", () => {
    const rows = groupRows({ jobs: JOBS, workers: WORKERS });
    expect(rows.map((g) => g.name)).toEqual(["a100", "cpu", "gpu"]);
    expect(rows.find((g) => g.name === "gpu")).toMatchObject({
      workers: 1,
      slots: 2,
      busy: 1,
      gpus: 2,
      pending: 1,
      running: 1,
    });
    expect(rows.find((g) => g.name === "a100")).toMatchObject({ workers: 0, pending: 1 });
  });

  it("lists outstanding jobs newest first, and finished ones only when toggled", () => {
    const state = run(INITIAL_STATE, loaded());
    expect(jobRows(state).map((j) => j.id)).toEqual(["job-3", "job-2", "job-1"]);
    const all = run(state, key(Command.ToggleFinished));
    expect(jobRows(all).map((j) => j.id)).toEqual(["job-3", "job-2", "job-1", "job-0"]);
  });

  it("filters by text, by state and by group, and Esc clears the filters without leaving", () => {
    const state = run(INITIAL_STATE, loaded(), key(Command.Filter), {
      type: "input-edit",
      append: "eval",
    });
    expect(jobRows(state).map((j) => j.id)).toEqual(["job-2"]);
    const submitted = run(state, { type: "input-submit" });
    expect(submitted.input).toBeUndefined();
    expect(jobRows(submitted).map((j) => j.id)).toEqual(["job-2"]);
    const cleared = run(submitted, key(Command.Back));
    expect(jobRows(cleared)).toHaveLength(3);
    expect(cleared.view).toBe("jobs");
    const running = run(cleared, key(Command.NextState), key(Command.NextState));
    expect(running.stateFilter).toBe("running");
    expect(jobRows(running).map((j) => j.id)).toEqual(["job-1"]);
    const worker = run(INITIAL_STATE, loaded(), key(Command.ViewWorkers), key(Command.Down));
    expect(worker.cursors.workers.key).toBe("gpu-a-1");
    expect(jobRows(run(worker, key(Command.Open))).map((j) => j.id)).toEqual(["job-1"]);
    const group = run(INITIAL_STATE, loaded(), key(Command.ViewGroups));
    const opened = run(group, key(Command.Open)); // a100, the first group
    expect(opened.view).toBe("jobs");
    expect(jobRows(opened).map((j) => j.id)).toEqual(["job-3"]);
  });

  it("cycles the group filter with p: every group, then each by name, then every group again", () => {
    let state = run(INITIAL_STATE, loaded());
    const shown = () => jobRows(state).map((j) => j.id);
    const seen: (string | undefined)[] = [];
    for (let i = 0; i < 4; i++) {
      state = run(state, key(Command.NextGroup));
      seen.push(state.groupFilter);
    }
    expect(seen).toEqual(["a100", "cpu", "gpu", undefined]);
    state = run(state, key(Command.NextGroup));
    expect(shown()).toEqual(["job-3"]);
    state = run(state, key(Command.NextGroup));
    expect(shown()).toEqual([]);
    state = run(state, key(Command.NextGroup));
    expect(shown()).toEqual(["job-2", "job-1"]);
    // Esc clears it with the other filters; a group opened by name that is gone goes to every.
    expect(run(state, key(Command.Back)).groupFilter).toBeUndefined();
    const gone = run(state, { type: "command", command: Command.CommandLine });
    const named = run(gone, { type: "input-edit", append: "jobs h100" }, { type: "input-submit" });
    expect(named.groupFilter).toBe("h100");
    expect(run(named, key(Command.NextGroup)).groupFilter).toBeUndefined();
  });

  it("orders the jobs by o: newest (as listed), oldest, state, group, script", () => {
    let state = run(INITIAL_STATE, loaded());
    const order = () => jobRows(state).map((j) => j.id);
    expect(order()).toEqual(["job-3", "job-2", "job-1"]);
    state = run(state, key(Command.Sort));
    expect(order()).toEqual(["job-1", "job-2", "job-3"]);
    state = run(state, key(Command.Sort));
    expect(state.sort).toBe("state");
    expect(order()).toEqual(["job-1", "job-2", "job-3"]); // running, queued, routing
    state = run(state, key(Command.Sort));
    expect(order()[0]).toBe("job-3"); // a100 before gpu
    state = run(state, key(Command.Sort), key(Command.Sort));
    expect(state.sort).toBe("newest");
  });

  it("moves the selection with the keys, keeps it on screen, and keeps it on its job across refreshes", () => {
    const many = Array.from({ length: 50 }, (_, i) => job(`job-${100 - i}`, "queued"));
    let state = run(INITIAL_STATE, { type: "resize", pageRows: 10 }, loaded(many));
    state = run(state, ...Array.from({ length: 12 }, () => key(Command.Down)));
    expect(state.cursors.jobs).toMatchObject({ index: 12, key: "job-88", offset: 3 });
    state = run(state, key(Command.Bottom));
    expect(state.cursors.jobs).toMatchObject({ index: 49, offset: 40 });
    state = run(state, key(Command.Top), key(Command.Down));
    // A newer job arrives on top: the selection stays on job-99, one row lower.
    state = run(state, loaded([job("job-101", "queued"), ...many]));
    expect(state.cursors.jobs).toMatchObject({ index: 2, key: "job-99" });
  });

  it("switches views by the command line, and says so when it does not know a command", () => {
    const state = run(
      INITIAL_STATE,
      loaded(),
      key(Command.CommandLine),
      { type: "input-edit", append: "workers" },
      { type: "input-submit" },
    );
    expect(state.view).toBe("workers");
    const wrong = run(
      state,
      key(Command.CommandLine),
      { type: "input-edit", append: "nope" },
      { type: "input-submit" },
    );
    expect(wrong.view).toBe("workers");
    expect(wrong.flash).toContain("unknown command :nope");
    expect(
      run(
        wrong,
        key(Command.CommandLine),
        { type: "input-edit", append: "g" },
        { type: "input-submit" },
      ).view,
    ).toBe("groups");
  });

  it("asks before canceling, the selected job or the marked ones, and No leaves them", () => {
    const state = run(INITIAL_STATE, loaded());
    const one = run(state, key(Command.Cancel));
    expect(one.confirm).toEqual({ action: "cancel", ids: ["job-3"] });
    expect(run(one, { type: "confirm", yes: false }).confirm).toBeUndefined();
    const marked = run(state, key(Command.Mark), key(Command.Mark), key(Command.Cancel));
    expect(marked.confirm?.ids).toEqual(["job-3", "job-2"]);
    const yes = run(marked, { type: "confirm", yes: true });
    expect(yes.marked).toEqual([]);
  });

  it("goes back one level with Esc: help, then the detail, and never further than the list", () => {
    const state = run(INITIAL_STATE, loaded(), key(Command.Open), key(Command.Help));
    expect(state.detail?.id).toBe("job-3");
    expect(state.overlay).toBe("help");
    const once = run(state, key(Command.Back));
    expect(once.overlay).toBeUndefined();
    expect(once.detail?.id).toBe("job-3");
    const twice = run(once, key(Command.Back));
    expect(twice.detail).toBeUndefined();
    expect(run(twice, key(Command.Back), key(Command.Back)).view).toBe("jobs");
  });

  it("collects a detail's output as lines, marks a re-dispatch, and holds the view when not following", () => {
    let state: DashboardState = { ...run(INITIAL_STATE, loaded()), detail: openDetail("job-1") };
    state = run(
      state,
      { type: "attempt", id: "job-1", attempt: 1, host: "a" },
      { type: "output", id: "job-1", parts: [["stdout", "one\ntwo\n"]] },
      { type: "attempt", id: "job-1", attempt: 2, host: "b" },
      { type: "output", id: "job-1", parts: [["stderr", "three\n"]] },
      { type: "output", id: "other", parts: [["stdout", "not mine\n"]] },
    );
    expect(state.detail?.lines.map((l) => l.text)).toEqual([
      "one",
      "two",
      "--- attempt 2 on b ---",
      "three",
    ]);
    expect(state.detail?.attempt).toBe(2);
    state = run(state, key(Command.Follow));
    expect(state.detail?.follow).toBe(false);
    state = run(state, key(Command.Up), {
      type: "output",
      id: "job-1",
      parts: [["stdout", "four\n"]],
    });
    expect(state.detail?.scrollBack).toBe(2);
    state = run(state, key(Command.Follow));
    expect(state.detail).toMatchObject({ follow: true, scrollBack: 0 });
  });

  it("searches a detail's output with /, and Esc clears the search before it closes the detail", () => {
    let state: DashboardState = { ...run(INITIAL_STATE, loaded()), detail: openDetail("job-1") };
    state = run(
      state,
      { type: "output", id: "job-1", parts: [["stdout", "epoch 1\nloss 0.5\nepoch 2\n"]] },
      key(Command.Search),
      { type: "input-edit", append: "EPOCH" },
      { type: "input-submit" },
    );
    expect(state.detail?.search).toBe("EPOCH");
    expect(visibleLines(state.detail ?? openDetail("x")).map((l) => l.text)).toEqual([
      "epoch 1",
      "epoch 2",
    ]);
    state = run(state, key(Command.Back));
    expect(state.detail).toMatchObject({ id: "job-1", search: "" });
    expect(run(state, key(Command.Back)).detail).toBeUndefined();
  });

  it("keeps the data when a load fails, and clears the error on the next success", () => {
    const state = run(INITIAL_STATE, loaded(), { type: "load-failed", message: "server gone" });
    expect(state.error).toBe("server gone");
    expect(state.jobs).toHaveLength(4);
    expect(run(state, loaded()).error).toBeUndefined();
  });
});
