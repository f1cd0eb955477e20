import { describe, expect, it } from "vitest";
import {
  dashboardReducer,
  groupsOf,
  groupView,
  INITIAL_STATE,
} from "../../src/ui/dashboard-state.ts";
import { SNAPSHOT } from "./snapshot-fixture.ts";

describe("the dashboard state", () => {
  it("lists worker groups and groups with jobs, not the routers' group", () => {
    expect(groupsOf(SNAPSHOT)).toEqual(["a100", "cpu", "gpu"]);
  });

  it("selects the first group on the first snapshot and keeps the selection across refreshes", () => {
    const loaded = dashboardReducer(INITIAL_STATE, { type: "snapshot-loaded", snapshot: SNAPSHOT });
    expect(loaded.selectedGroup).toBe("a100");
    const moved = dashboardReducer(loaded, { type: "move-selection", by: -1 });
    expect(moved.selectedGroup).toBe("gpu");
    expect(
      dashboardReducer(moved, { type: "snapshot-loaded", snapshot: SNAPSHOT }).selectedGroup,
    ).toBe("gpu");
  });

  it("keeps the last snapshot when a load fails, and clears the error on the next success", () => {
    const loaded = dashboardReducer(INITIAL_STATE, { type: "snapshot-loaded", snapshot: SNAPSHOT });
    const failed = dashboardReducer(loaded, { type: "load-failed", message: "server gone" });
    expect(failed.snapshot).toBe(SNAPSHOT);
    expect(failed.error).toBe("server gone");
    expect(
      dashboardReducer(failed, { type: "snapshot-loaded", snapshot: SNAPSHOT }).error,
    ).toBeUndefined();
  });

  it("sums a group's slots and busy slots", () => {
    expect(groupView(SNAPSHOT, "gpu")).toMatchObject({ slots: 2, busy: 1 });
    expect(groupView(SNAPSHOT, "gpu").jobs.map((j) => j.id)).toEqual(["job-1", "job-2"]);
  });
});
