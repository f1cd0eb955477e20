// The dashboard's reducer: the only way its state (state.ts) changes. Pure, so it is tested
// without a terminal; key commands are in commands.ts, an open job's part in detail-state.ts.
import { applyCommand, declined, firstView, runCommandLine } from "./commands.ts";
import { withCursors } from "./cursors.ts";
import { detailReducer, openDetail } from "./detail-state.ts";
import { formReducer, openForm } from "./form-state.ts";
import type { DashboardAction, DashboardState } from "./state.ts";

export function dashboardReducer(state: DashboardState, action: DashboardAction): DashboardState {
  switch (action.type) {
    case "data-loaded": {
      const loaded: DashboardState = {
        ...state,
        jobs: action.jobs,
        moreJobs: action.moreJobs,
        workers: action.workers,
        sweeps: action.sweeps ?? [],
        loadedAt: action.at,
        error: undefined,
      };
      if (!state.viewChosen) {
        loaded.view = firstView(action.jobs);
        loaded.viewChosen = true;
      }
      // Marks of jobs no longer listed go: a cancel must name only what the user sees.
      if (state.marked.length > 0) {
        const listed = new Set(action.jobs.map((j) => j.id));
        loaded.marked = state.marked.filter((id) => listed.has(id));
      }
      return withCursors(loaded);
    }
    case "load-failed":
      return { ...state, error: action.message };
    case "resize":
      return withCursors({ ...state, pageRows: action.pageRows });
    case "command":
      return applyCommand(state, action.command);
    case "input-edit": {
      if (!state.input) return state;
      const text =
        "append" in action ? state.input.text + action.append : state.input.text.slice(0, -1);
      if (state.input.kind === "search" && state.detail)
        return {
          ...state,
          input: { ...state.input, text },
          detail: { ...state.detail, search: text, scrollBack: 0 },
        };
      if (state.input.kind === "filter")
        return withCursors({
          ...state,
          input: { ...state.input, text },
          textFilter: text,
        });
      return { ...state, input: { ...state.input, text } };
    }
    case "input-submit": {
      if (!state.input) return state;
      const closed = { ...state, input: undefined };
      return state.input.kind === "command" ? runCommandLine(closed, state.input.text) : closed;
    }
    case "confirm":
      if (!state.confirm) return state;
      return {
        ...state,
        confirm: undefined,
        marked: action.yes && state.confirm.action === "cancel" ? [] : state.marked,
        flash: action.yes ? undefined : declined(state.confirm.action),
      };
    case "detail-loaded":
    case "detail-failed":
    case "output":
    case "output-reset":
    case "attempt":
      // Reports about a detail since closed (or another job's) change nothing.
      if (state.detail?.id !== action.id) return state;
      return { ...state, detail: detailReducer(state.detail, action) };
    case "form-open":
      return { ...state, form: openForm(action.group), overlay: undefined };
    case "form-edit":
    case "form-set":
    case "form-focus":
    case "form-submitting":
    case "form-failed":
    case "form-close":
      if (!state.form) return state;
      return { ...state, form: formReducer(state.form, action) };
    case "open-detail":
      return { ...state, detail: openDetail(action.id), overlay: undefined };
    case "flash":
      return { ...state, flash: action.message };
  }
}
