// The sweeps view's state, without a terminal: `4` and `:sweeps` open it, its rows are the
// sweeps (finished ones on `a`), Enter on one shows the jobs view filtered to that sweep's
// jobs, and Esc takes the filter off. The keymap binds and documents its keys.
import { describe, expect, it } from "vitest";
import { dashboardReducer } from "../../src/ui/dashboard-state.ts";
import { Command, helpSections, matchCommand } from "../../src/ui/keymap.ts";
import { jobRows, sweepRows } from "../../src/ui/rows.ts";
import { INITIAL_STATE, type DashboardAction, type DashboardState } from "../../src/ui/state.ts";
import { NOW, WORKERS } from "./fixture.ts";
import { SWEEP_JOBS, SWEEPS } from "./sweeps-fixture.ts";

function run(state: DashboardState, ...actions: DashboardAction[]): DashboardState {
  return actions.reduce(dashboardReducer, state);
}
const loaded: DashboardAction = {
  type: "data-loaded",
  jobs: SWEEP_JOBS,
  moreJobs: 0,
  workers: WORKERS,
  sweeps: SWEEPS,
  at: NOW,
};
const key = (command: Command): DashboardAction => ({ type: "command", command });
const typed = (text: string): DashboardAction[] => [
  key(Command.CommandLine),
  ...[...text].map((c): DashboardAction => ({ type: "input-edit", append: c })),
  { type: "input-submit" },
];

describe("the sweeps view's state", () => {
  it("opens on 4 and on :sweeps, listing outstanding sweeps, and finished ones too on a", () => {
    const byKey = run(INITIAL_STATE, loaded, key(Command.ViewSweeps));
    expect(byKey.view).toBe("sweeps");
    expect(sweepRows(byKey).map((s) => s.record.id)).toEqual(["lr"]);
    expect(run(INITIAL_STATE, loaded, ...typed("sweeps")).view).toBe("sweeps");
    const all = run(byKey, key(Command.ToggleFinished));
    expect(sweepRows(all).map((s) => s.record.id)).toEqual(["lr", "ev"]);
    expect(run(all, key(Command.Down)).cursors.sweeps.key).toBe("ev");
  });

  it("shows on Enter the jobs view filtered to the selected sweep's jobs, finished ones too; Esc takes the filter off", () => {
    const sweeps = run(INITIAL_STATE, loaded, key(Command.ViewSweeps));
    const opened = run(sweeps, key(Command.Open));
    expect(opened).toMatchObject({ view: "jobs", sweepFilter: "lr", showFinished: true });
    // Its retries are its jobs; a sweep whose id begins the same is not. The one its cap
    // holds, which the listing lacks, comes from the sweep's view, with why it waits.
    const rows = jobRows(opened);
    expect(rows.map((j) => j.id)).toEqual(["lr.9", "lr.7", "lr.2-r2", "lr.1", "lr.10"]);
    expect(rows[4]).toMatchObject({
      stage: "queued",
      group: "gpu",
      reason: "held until job 8 of the sweep ends (max-running 2)",
    });
    const back = run(opened, key(Command.Back));
    expect(back.sweepFilter).toBeUndefined();
    expect(jobRows(back).map((j) => j.id)).toContain("job-5");
    // Another view takes the sweep's filter off too.
    expect(run(opened, key(Command.ViewGroups), key(Command.ViewJobs)).sweepFilter).toBeUndefined();
  });

  it("filters the sweeps by text and by group, and opens nothing where there is no sweep", () => {
    const sweeps = run(INITIAL_STATE, loaded, key(Command.ToggleFinished), key(Command.ViewSweeps));
    expect(sweepRows({ ...sweeps, textFilter: "ev" }).map((s) => s.record.id)).toEqual(["ev"]);
    expect(sweepRows({ ...sweeps, groupFilter: "cpu" })).toEqual([]);
    const none = run(INITIAL_STATE, { ...loaded, sweeps: [] }, key(Command.ViewSweeps));
    expect(run(none, key(Command.Open)).view).toBe("sweeps");
  });

  it("binds 4 in every list, a in the sweeps list, and lists both in the help", () => {
    expect(matchCommand("4", {}, "list")).toBe(Command.ViewSweeps);
    expect(matchCommand("4", {}, "jobs")).toBe(Command.ViewSweeps);
    expect(matchCommand("a", {}, "sweeps")).toBe(Command.ToggleFinished);
    expect(matchCommand("\r", { return: true }, "sweeps")).toBe(Command.Open);
    // Job commands mean nothing on a sweep.
    expect(matchCommand("c", {}, "sweeps")).toBeUndefined();
    const sections = helpSections();
    const rows = sections.flatMap((s) => s.rows.map((r) => `${r.keys} ${r.description}`));
    expect(rows).toContain("4 sweeps view: each sweep's progress bar");
    expect(sections.find((s) => s.title === "Sweeps list")?.rows).toEqual([
      { keys: "a", description: "show or hide finished sweeps" },
    ]);
  });
});
