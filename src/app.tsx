// The dashboard's root: it picks the layout and wires keys to actions. State lives in the
// reducer (ui/dashboard-state.ts), data comes through the orchestration module
// (ui/data-source.ts), keys mean what the one keymap says (ui/keymap.ts), and views only render.
import { Box, render, useApp, useWindowSize } from "ink";
import { useEffect } from "react";
import { groupRows, jobRows, sweepRows, workerRows } from "./ui/rows.ts";
import type { DashboardSource } from "./ui/data-source.ts";
import type { DashboardState, ViewName } from "./ui/state.ts";
import { GroupsView } from "./ui/GroupsView.tsx";
import { HelpOverlay } from "./ui/HelpOverlay.tsx";
import { JobDetail } from "./ui/JobDetail.tsx";
import { JobsView } from "./ui/JobsView.tsx";
import { keyHint } from "./ui/keymap.ts";
import { PromptLine } from "./ui/PromptLine.tsx";
import { StatusLine } from "./ui/StatusLine.tsx";
import { copyToClipboard } from "./ui/submit-job.ts";
import { SubmitFormView } from "./ui/SubmitFormView.tsx";
import { SweepsView } from "./ui/SweepsView.tsx";
import { ColorContext, colorWanted } from "./ui/theme.ts";
import { TopBar } from "./ui/TopBar.tsx";
import { useDashboardData } from "./ui/use-dashboard-data.ts";
import { useDashboardKeys, whereIs } from "./ui/use-dashboard-keys.ts";
import { useJobDetail } from "./ui/use-job-detail.ts";
import { useLatestReducer, useNow } from "./ui/use-latest-reducer.ts";
import { WorkersView } from "./ui/WorkersView.tsx";

export interface AppProps {
  /** What the dashboard reads and does: a ModulateClient, or a stand-in in tests. */
  source: DashboardSource;
  url: string;
  /** How often the lists and an open job are read again (`--refresh`). */
  refreshMs: number;
  /** Colour on (default: unless NO_COLOR is set). */
  color?: boolean;
  /** The terminal's size, where it is not the real one's (tests). */
  size?: { columns: number; rows: number };
  /** Puts text on the clipboard (`y`); OSC 52 to the terminal by default. */
  copy?: (text: string) => void;
  /** Closes the dashboard when it fires (SIGINT, SIGTERM), as a quit key would. */
  stop?: AbortSignal;
}

/** "row 3 of 120" for the list on screen; nothing where no list is. */
function positionIn(
  state: DashboardState,
  rows: Record<ViewName, readonly unknown[]>,
): string | undefined {
  if (state.detail || state.form || state.overlay) return undefined;
  const count = rows[state.view].length;
  return count === 0 ? undefined : `row ${state.cursors[state.view].index + 1} of ${count}`;
}

/** Lines that are not list rows: tabs, the list's header, the prompt line, the status line. */
const CHROME_ROWS = 4;

export function App({
  source,
  url,
  refreshMs,
  color = colorWanted(process.env),
  size,
  copy,
}: AppProps) {
  const [state, dispatch, latest] = useLatestReducer();
  const refresh = useDashboardData(source, refreshMs, state.showFinished, dispatch);
  useJobDetail(source, state.detail?.id, refreshMs, dispatch);
  const windowSize = useWindowSize();
  const { columns, rows } = size ?? windowSize;
  const pageRows = Math.max(1, rows - CHROME_ROWS - 1);
  useEffect(() => dispatch({ type: "resize", pageRows }), [pageRows]);
  const now = useNow();
  const { exit } = useApp();
  useDashboardKeys({ source, dispatch, latest, refresh, exit, copy: copy ?? copyToClipboard });

  const groups = groupRows(state);
  const jobs = jobRows(state);
  const workers = workerRows(state);
  const sweeps = sweepRows(state);
  const where = whereIs(state);
  const dataNow = state.loadedAt ?? now;
  let body;
  if (state.overlay === "help") body = <HelpOverlay columns={columns} />;
  else if (state.form) body = <SubmitFormView form={state.form} columns={columns} />;
  else if (state.detail) body = <JobDetail detail={state.detail} height={pageRows + 1} now={now} />;
  else if (state.loadedAt === undefined && !state.error) body = <Box flexGrow={1} />;
  else if (state.view === "groups")
    body = <GroupsView rows={groups} cursor={state.cursors.groups} pageRows={pageRows} />;
  else if (state.view === "jobs")
    body = (
      <JobsView
        rows={jobs}
        cursor={state.cursors.jobs}
        pageRows={pageRows}
        marked={state.marked}
        now={dataNow}
        columns={columns}
      />
    );
  else if (state.view === "sweeps")
    body = (
      <SweepsView
        rows={sweeps}
        cursor={state.cursors.sweeps}
        pageRows={pageRows}
        now={dataNow}
        columns={columns}
      />
    );
  else
    body = (
      <WorkersView
        rows={workers}
        cursor={state.cursors.workers}
        pageRows={pageRows}
        now={dataNow}
      />
    );
  return (
    <ColorContext.Provider value={color}>
      {/* One line short of the screen: a frame as tall as the terminal scrolls it. */}
      <Box flexDirection="column" width={columns} height={rows - 1}>
        <TopBar
          state={state}
          counts={{
            groups: groups.length,
            jobs: jobs.length,
            workers: workers.length,
            sweeps: sweeps.length,
          }}
        />
        {body}
        <PromptLine state={state} position={positionIn(state, { groups, jobs, workers, sweeps })} />
        <StatusLine
          url={url}
          loadedAt={state.loadedAt}
          error={state.error}
          now={now}
          hint={keyHint(where)}
          columns={columns}
        />
      </Box>
    </ColorContext.Provider>
  );
}

/** Runs the dashboard on this terminal until the user quits. */
export async function runDashboard(props: AppProps): Promise<void> {
  // Asked for on a terminal, the dashboard is live even where CI is set in the environment
  // (Ink would otherwise print only a final frame). The alternate screen keeps old frames out
  // of the scrollback and leaves no stale lines after a resize; Ctrl+C is the keymap's.
  const instance = render(<App {...props} />, {
    interactive: Boolean(process.stdout.isTTY),
    alternateScreen: true,
    incrementalRendering: true,
    exitOnCtrlC: false,
  });
  const unmount = (): void => instance.unmount();
  props.stop?.addEventListener("abort", unmount, { once: true });
  try {
    await instance.waitUntilExit();
  } finally {
    props.stop?.removeEventListener("abort", unmount);
  }
}
