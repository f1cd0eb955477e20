// The dashboard's root: it picks the layout and wires keys to actions. State lives in the
// reducer, data comes through the orchestration module, and the panels only render.
import { Box, render, useApp, useInput } from "ink";
import { useReducer } from "react";
import type { ClusterSnapshot } from "./orchestration/snapshot.ts";
import { dashboardReducer, groupsOf, groupView, INITIAL_STATE } from "./ui/dashboard-state.ts";
import { GroupTabs } from "./ui/GroupTabs.tsx";
import { JobsPanel } from "./ui/JobsPanel.tsx";
import { Command, matchCommand } from "./ui/keymap.ts";
import { StatusLine } from "./ui/StatusLine.tsx";
import { useClusterSnapshot } from "./ui/use-cluster-snapshot.ts";
import { WorkersPanel } from "./ui/WorkersPanel.tsx";

export interface AppProps {
  /** Reads the cluster; the dashboard calls it on a timer and on `r`. */
  load: () => Promise<ClusterSnapshot>;
  url: string;
  refreshMs: number;
}

export function App({ load, url, refreshMs }: AppProps) {
  const [state, dispatch] = useReducer(dashboardReducer, INITIAL_STATE);
  const refresh = useClusterSnapshot(load, refreshMs, dispatch);
  const { exit } = useApp();
  useInput((input, key) => {
    switch (matchCommand(input, key)) {
      case Command.Quit:
        exit();
        break;
      case Command.NextGroup:
        dispatch({ type: "move-selection", by: 1 });
        break;
      case Command.PreviousGroup:
        dispatch({ type: "move-selection", by: -1 });
        break;
      case Command.Refresh:
        refresh();
        break;
      case undefined:
        break;
    }
  });
  const groups = groupsOf(state.snapshot).map((name) => groupView(state.snapshot, name));
  const selected = groups.find((g) => g.name === state.selectedGroup);
  return (
    <Box flexDirection="column" gap={1}>
      <GroupTabs groups={groups} selected={state.selectedGroup} />
      {selected && <WorkersPanel workers={selected.workers} />}
      {selected && <JobsPanel jobs={selected.jobs} now={state.snapshot?.takenAt ?? 0} />}
      <StatusLine url={url} updatedAt={state.snapshot?.takenAt} error={state.error} />
    </Box>
  );
}

/** Runs the dashboard on this terminal until the user quits. */
export async function runDashboard(props: AppProps): Promise<void> {
  // Asked for on a terminal, the dashboard is live even where CI is set in the environment
  // (Ink would otherwise print only a final frame).
  const instance = render(<App {...props} />, { interactive: Boolean(process.stdout.isTTY) });
  await instance.waitUntilExit();
}
