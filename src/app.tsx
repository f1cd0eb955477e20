// The dashboard's root: it picks the layout and wires keys to actions. State lives in the
// reducer (ui/dashboard-state.ts), data comes through the orchestration module
// (ui/data-source.ts), keys mean what the one keymap says (ui/keymap.ts), and views only render.
import { Box, render, useApp, useInput, useWindowSize, type Key } from "ink";
import { useCallback, useEffect, useReducer, useRef, useState, type Dispatch } from "react";
import { dashboardReducer } from "./ui/dashboard-state.ts";
import { groupRows, jobRows, workerRows } from "./ui/rows.ts";
import { INITIAL_STATE, type DashboardAction, type DashboardState } from "./ui/state.ts";
import type { DashboardSource } from "./ui/data-source.ts";
import { GroupsView } from "./ui/GroupsView.tsx";
import { HelpOverlay } from "./ui/HelpOverlay.tsx";
import { JobDetail } from "./ui/JobDetail.tsx";
import { JobsView } from "./ui/JobsView.tsx";
import { cycle, type SubmitForm } from "./ui/form-state.ts";
import { Command, keyHint, keyPresses, matchCommand, type Where } from "./ui/keymap.ts";
import { PromptLine } from "./ui/PromptLine.tsx";
import { StatusLine } from "./ui/StatusLine.tsx";
import { completePath, submitFromForm } from "./ui/submit-job.ts";
import { SubmitFormView } from "./ui/SubmitFormView.tsx";
import { ColorContext, colorWanted } from "./ui/theme.ts";
import { TopBar } from "./ui/TopBar.tsx";
import { messageOf, useDashboardData } from "./ui/use-dashboard-data.ts";
import { useJobDetail } from "./ui/use-job-detail.ts";
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
}

/** Lines that are not list rows: tabs, the list's header, the prompt line, the status line. */
const CHROME_ROWS = 4;

/** A clock for ages on screen: it ticks once a second. */
function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

/** Where the user is, for the keymap. */
function whereIs(state: DashboardState): Where {
  if (state.form) return "form";
  if (state.detail) return "detail";
  return state.view === "jobs" ? "jobs" : "list";
}

/** Groups with a live worker now: what the form's group field offers. */
function liveGroups(state: DashboardState): string[] {
  return groupRows(state)
    .filter((g) => g.workers > 0)
    .map((g) => g.name);
}

/** Cancels `ids` and says in one line what happened. */
async function cancelJobs(
  source: DashboardSource,
  ids: readonly string[],
  dispatch: Dispatch<DashboardAction>,
): Promise<void> {
  dispatch({
    type: "flash",
    message: `canceling ${ids.length === 1 ? ids[0] : `${ids.length} jobs`}…`,
  });
  const outcomes = await Promise.allSettled(ids.map((id) => source.cancel(id, Date.now())));
  const canceled: string[] = [];
  const problems: string[] = [];
  outcomes.forEach((outcome, i) => {
    const id = ids[i] ?? "";
    if (outcome.status === "rejected") problems.push(`${id}: ${messageOf(outcome.reason)}`);
    else if (outcome.value.kind === "canceled") canceled.push(id);
    else if (outcome.value.kind === "ended")
      problems.push(`${id} had ended (${outcome.value.record.state})`);
    else problems.push(`${id}: ${outcome.value.problem}`);
  });
  const done =
    canceled.length === 0
      ? []
      : [canceled.length === 1 ? `canceled ${canceled[0]}` : `canceled ${canceled.length} jobs`];
  dispatch({ type: "flash", message: [...done, ...problems].join("; ") });
}

/** Text typed into the `:` command line or the `/` filter. */
function editInput(input: string, key: Partial<Key>, dispatch: Dispatch<DashboardAction>): void {
  if (key.escape) dispatch({ type: "command", command: Command.Back });
  else if (key.return) dispatch({ type: "input-submit" });
  else if (key.backspace || key.delete) dispatch({ type: "input-edit", backspace: true });
  else if (input !== "" && !key.ctrl && !key.meta && !key.tab)
    dispatch({ type: "input-edit", append: input });
}

/**
 * The reducer, with its latest state also kept in a ref that each dispatch updates at once:
 * keys that arrive together (typed fast, pasted) are each read against the state the ones
 * before them made, not against the last frame's, so none is lost or misread.
 */
function useLatestReducer(): [
  DashboardState,
  Dispatch<DashboardAction>,
  { current: DashboardState },
] {
  const [state, dispatchToReact] = useReducer(dashboardReducer, INITIAL_STATE);
  const latest = useRef(state);
  const dispatch = useCallback((action: DashboardAction) => {
    latest.current = dashboardReducer(latest.current, action);
    dispatchToReact(action);
  }, []);
  return [state, dispatch, latest];
}

export function App({ source, url, refreshMs, color = colorWanted(process.env), size }: AppProps) {
  const [state, dispatch, latest] = useLatestReducer();
  const refresh = useDashboardData(source, refreshMs, state.showFinished, dispatch);
  useJobDetail(source, state.detail?.id, refreshMs, dispatch);
  const windowSize = useWindowSize();
  const { columns, rows } = size ?? windowSize;
  const pageRows = Math.max(1, rows - CHROME_ROWS - 1);
  useEffect(() => dispatch({ type: "resize", pageRows }), [pageRows]);
  const now = useNow();
  const { exit } = useApp();
  const runCancel = useCallback(
    (ids: readonly string[]) => {
      void cancelJobs(source, ids, dispatch).finally(refresh);
    },
    [source, refresh],
  );

  const formKey = (form: SubmitForm, input: string, key: Partial<Key>): void => {
    const command = matchCommand(input, key, "form");
    const field = form.focus;
    const value = form.values[field];
    switch (command) {
      case Command.Back:
        return dispatch({ type: "command", command });
      case Command.FormNext: {
        // On the script, Tab completes the path as a shell does; once complete, it moves on.
        const completed = field === "script" ? completePath(value) : value;
        if (completed !== value) return dispatch({ type: "form-set", field, value: completed });
        return dispatch({ type: "form-focus", by: 1 });
      }
      case Command.FormPrevious:
        return dispatch({ type: "form-focus", by: -1 });
      case Command.FormLeft:
      case Command.FormRight: {
        const by = command === Command.FormLeft ? -1 : 1;
        if (field === "group")
          dispatch({
            type: "form-set",
            field,
            value: cycle(liveGroups(latest.current), value, by),
          });
        if (field === "mode")
          dispatch({ type: "form-set", field, value: value === "wait" ? "detach" : "wait" });
        return undefined;
      }
      case Command.FormSubmit: {
        if (form.submitting) return undefined;
        dispatch({ type: "form-submitting" });
        submitFromForm(source, form.values).then(
          (id) => {
            dispatch({ type: "form-close" });
            dispatch({ type: "open-detail", id });
            dispatch({ type: "flash", message: `submitted ${id}` });
            refresh();
          },
          (error: unknown) => dispatch({ type: "form-failed", message: messageOf(error) }),
        );
        return undefined;
      }
      default:
        if (key.backspace || key.delete) return dispatch({ type: "form-edit", backspace: true });
        if (input !== "" && !key.ctrl && !key.meta && !key.tab)
          return dispatch({ type: "form-edit", append: input });
        return undefined;
    }
  };
  const handleKey = (input: string, key: Partial<Key>): void => {
    const state = latest.current;
    if (key.ctrl && input === "c") return exit();
    if (state.input) return editInput(input, key, dispatch);
    if (state.form) return formKey(state.form, input, key);
    if (state.confirm) {
      // Only y says yes: Enter, n, Esc and any other key keep the default, No.
      const yes = input === "y" || input === "Y";
      const ids = state.confirm.ids;
      dispatch({ type: "confirm", yes });
      if (yes) runCancel(ids);
      return undefined;
    }
    const where = whereIs(state);
    const command = matchCommand(input, key, where);
    if (command === undefined) return undefined;
    if (command === Command.ForceQuit) return exit();
    if (command === Command.Quit) {
      if (!state.overlay) return exit();
      dispatch({ type: "command", command: Command.Back });
      return undefined;
    }
    if (command === Command.Refresh) refresh();
    if (command === Command.Submit) {
      const live = liveGroups(state);
      const group = state.groupFilter ?? live[0] ?? "cpu";
      dispatch({ type: "form-open", group });
      return undefined;
    }
    dispatch({ type: "command", command });
    return undefined;
  };
  useInput((input, key) => {
    for (const [one, itsKey] of keyPresses(input, key)) handleKey(one, itsKey);
  });

  const groups = groupRows(state);
  const jobs = jobRows(state);
  const workers = workerRows(state);
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
          counts={{ groups: groups.length, jobs: jobs.length, workers: workers.length }}
        />
        {body}
        <PromptLine state={state} />
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
  await instance.waitUntilExit();
}
