// The dashboard's state and the only way it changes. Pure, so it is tested without a terminal.
import type { ClusterSnapshot, OutstandingJob } from "../orchestration/snapshot.ts";
import type { WorkerView } from "../orchestration/presence.ts";
import { ENTRY_GROUP } from "../orchestration/jobs/names.ts";

export interface DashboardState {
  snapshot: ClusterSnapshot | undefined;
  /** The last load's failure, shown until a load succeeds. */
  error: string | undefined;
  /** The group whose workers and jobs are shown, by name so it survives refreshes. */
  selectedGroup: string | undefined;
}

export type DashboardAction =
  | { type: "snapshot-loaded"; snapshot: ClusterSnapshot }
  | { type: "load-failed"; message: string }
  | { type: "move-selection"; by: 1 | -1 };

export const INITIAL_STATE: DashboardState = {
  snapshot: undefined,
  error: undefined,
  selectedGroup: undefined,
};

/** Worker groups and groups with jobs, in name order; the routers' group is not a worker group. */
export function groupsOf(snapshot: ClusterSnapshot | undefined): string[] {
  if (!snapshot) return [];
  const names = new Set<string>();
  for (const worker of snapshot.workers) if (worker.group !== ENTRY_GROUP) names.add(worker.group);
  for (const job of snapshot.jobs) names.add(job.group);
  return [...names].sort();
}

export function dashboardReducer(state: DashboardState, action: DashboardAction): DashboardState {
  switch (action.type) {
    case "snapshot-loaded": {
      const groups = groupsOf(action.snapshot);
      const selected =
        state.selectedGroup !== undefined && groups.includes(state.selectedGroup)
          ? state.selectedGroup
          : groups[0];
      return { snapshot: action.snapshot, error: undefined, selectedGroup: selected };
    }
    case "load-failed":
      return { ...state, error: action.message };
    case "move-selection": {
      const groups = groupsOf(state.snapshot);
      if (groups.length === 0) return state;
      const at = state.selectedGroup === undefined ? -1 : groups.indexOf(state.selectedGroup);
      const next = (at + action.by + groups.length) % groups.length;
      return { ...state, selectedGroup: groups[next] };
    }
  }
}

export interface GroupView {
  name: string;
  workers: WorkerView[];
  jobs: OutstandingJob[];
  slots: number;
  busy: number;
}

export function groupView(snapshot: ClusterSnapshot | undefined, name: string): GroupView {
  const workers = snapshot?.workers.filter((w) => w.group === name) ?? [];
  return {
    name,
    workers,
    jobs: snapshot?.jobs.filter((j) => j.group === name) ?? [],
    slots: workers.reduce((sum, w) => sum + w.slots, 0),
    busy: workers.reduce((sum, w) => sum + w.busy, 0),
  };
}
