// What each key command does to the state (the keymap says which key is which command).
import type { ListedJob } from "../orchestration/client/list.ts";
import { moveCursor, selectedKey, withCursors } from "./cursors.ts";
import { detailCommand, openDetail } from "./detail-state.ts";
import { Command } from "./keymap.ts";
import { groupRows, JOB_SORTS } from "./rows.ts";
import { STATE_CYCLE, VIEWS, type DashboardState, type ViewName } from "./state.ts";

/** The view with something to show: jobs if any are outstanding, else groups. */
export function firstView(jobs: readonly ListedJob[]): ViewName {
  return jobs.length > 0 ? "jobs" : "groups";
}

function openView(state: DashboardState, view: ViewName, groupFilter?: string): DashboardState {
  return withCursors({
    ...state,
    view,
    viewChosen: true,
    groupFilter,
    sweepFilter: undefined,
    textFilter: "",
    marked: [],
    flash: undefined,
  });
}

export function runCommandLine(state: DashboardState, text: string): DashboardState {
  const [word = "", arg] = text.trim().split(/\s+/);
  const view = VIEWS.find((v) => v.startsWith(word.toLowerCase()) && word !== "");
  if (view) return openView(state, view, arg);
  if (word === "") return state;
  return {
    ...state,
    flash: `unknown command :${word} (try :jobs, :workers, :groups, :sweeps, or ? for keys)`,
  };
}

/** What a No leaves as it was. */
export function declined(action: "cancel" | "resubmit"): string {
  return action === "cancel" ? "nothing canceled" : "nothing resubmitted";
}

/** Esc: closes the innermost thing open; at the top it clears filters; it never quits. */
function back(state: DashboardState): DashboardState {
  if (state.input?.kind === "filter")
    return withCursors({ ...state, input: undefined, textFilter: "" });
  if (state.input?.kind === "search" && state.detail)
    return { ...state, input: undefined, detail: { ...state.detail, search: "" } };
  if (state.input) return { ...state, input: undefined };
  if (state.form) return { ...state, form: undefined };
  if (state.overlay) return { ...state, overlay: undefined };
  if (state.confirm) return { ...state, confirm: undefined, flash: declined(state.confirm.action) };
  if (state.detail?.search) return { ...state, detail: { ...state.detail, search: "" } };
  if (state.detail) return { ...state, detail: undefined };
  if (state.marked.length > 0) return { ...state, marked: [] };
  if (
    state.textFilter !== "" ||
    state.groupFilter !== undefined ||
    state.sweepFilter !== undefined ||
    state.stateFilter !== undefined
  )
    return withCursors({
      ...state,
      textFilter: "",
      groupFilter: undefined,
      sweepFilter: undefined,
      stateFilter: undefined,
    });
  return { ...state, flash: undefined };
}

export function applyCommand(state: DashboardState, command: Command): DashboardState {
  switch (command) {
    case Command.Back:
      return back(state);
    case Command.Help:
      return { ...state, overlay: state.overlay ? undefined : "help" };
    case Command.CommandLine:
      return { ...state, input: { kind: "command", text: "" }, overlay: undefined };
    default:
      break;
  }
  if (state.overlay) return state;
  if (state.detail) return detailCommand(state, state.detail, command);
  const page = Math.max(1, state.pageRows - 1);
  switch (command) {
    case Command.Up:
      return moveCursor(state, (i) => i - 1);
    case Command.Down:
      return moveCursor(state, (i) => i + 1);
    case Command.PageUp:
      return moveCursor(state, (i) => i - page);
    case Command.PageDown:
      return moveCursor(state, (i) => i + page);
    case Command.Top:
      return moveCursor(state, () => 0);
    case Command.Bottom:
      return moveCursor(state, (_, count) => count - 1);
    case Command.Filter:
      return { ...state, input: { kind: "filter", text: state.textFilter } };
    case Command.ViewGroups:
      return openView(state, "groups");
    case Command.ViewJobs:
      return openView(state, "jobs");
    case Command.ViewWorkers:
      return openView(state, "workers");
    case Command.ViewSweeps:
      return openView(state, "sweeps");
    case Command.Open: {
      const key = selectedKey(state);
      if (key === undefined) return state;
      if (state.view === "groups") return openView(state, "jobs", key);
      // A worker's jobs: the jobs view filtered by its pid.
      if (state.view === "workers")
        return withCursors({ ...openView(state, "jobs"), textFilter: key });
      // A sweep's jobs, finished ones too: how each of them ended is what a sweep is about.
      if (state.view === "sweeps")
        return withCursors({ ...openView(state, "jobs"), sweepFilter: key, showFinished: true });
      return { ...state, detail: openDetail(key) };
    }
    case Command.ToggleFinished:
      return withCursors({ ...state, showFinished: !state.showFinished });
    case Command.NextState: {
      const next = STATE_CYCLE[(STATE_CYCLE.indexOf(state.stateFilter) + 1) % STATE_CYCLE.length];
      // Finished states are shown only with finished jobs: choosing one shows them.
      const finished = next === "succeeded" || next === "failed" || next === "canceled";
      return withCursors({
        ...state,
        stateFilter: next,
        showFinished: state.showFinished || finished,
      });
    }
    case Command.NextGroup: {
      // Every group, then each one known (live workers' and listed jobs'), by name.
      const groups = [undefined, ...groupRows(state).map((g) => g.name)];
      const at = groups.indexOf(state.groupFilter);
      // A group named by `:jobs NAME` that is gone: the next is every group.
      const next = at < 0 ? undefined : groups[(at + 1) % groups.length];
      return withCursors({ ...state, groupFilter: next });
    }
    case Command.Sort: {
      const next = JOB_SORTS[(JOB_SORTS.indexOf(state.sort) + 1) % JOB_SORTS.length] ?? "newest";
      return withCursors({ ...state, sort: next });
    }
    case Command.Resubmit: {
      const key = selectedKey(state);
      if (key === undefined || state.view !== "jobs") return state;
      return { ...state, confirm: { action: "resubmit", ids: [key] } };
    }
    case Command.Mark: {
      const key = selectedKey(state);
      if (key === undefined || state.view !== "jobs") return state;
      const marked = state.marked.includes(key)
        ? state.marked.filter((id) => id !== key)
        : [...state.marked, key];
      return moveCursor({ ...state, marked }, (i) => i + 1);
    }
    case Command.Cancel: {
      if (state.view !== "jobs") return state;
      const key = selectedKey(state);
      const ids = state.marked.length > 0 ? state.marked : key === undefined ? [] : [key];
      if (ids.length === 0) return { ...state, flash: "no job selected to cancel" };
      return { ...state, confirm: { action: "cancel", ids } };
    }
    default:
      return state;
  }
}
