// What each key press does: the keymap says which command a key is; this carries the command
// out, against the latest state, and runs what reaches the world (cancel, submit, quit).
import { useInput, type Key } from "ink";
import { useCallback, type Dispatch } from "react";
import { cycle, type SubmitForm } from "./form-state.ts";
import { Command, keyPresses, matchCommand, type Where } from "./keymap.ts";
import { groupRows } from "./rows.ts";
import type { DashboardAction, DashboardState } from "./state.ts";
import type { DashboardSource } from "./data-source.ts";
import { selectedKey } from "./cursors.ts";
import { completePath, resubmitJob, submitFromForm } from "./submit-job.ts";
import { messageOf } from "./use-dashboard-data.ts";

/** Where the user is, for the keymap. */
export function whereIs(state: DashboardState): Where {
  if (state.form) return "form";
  if (state.detail) return "detail";
  return state.view === "jobs" || state.view === "sweeps" ? state.view : "list";
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

export interface KeyDeps {
  source: DashboardSource;
  dispatch: Dispatch<DashboardAction>;
  /** The state as the actions dispatched so far have made it (use-latest-reducer.ts). */
  latest: { readonly current: DashboardState };
  /** Reads the lists again now. */
  refresh: () => void;
  exit: () => void;
  /** Puts text on the clipboard. */
  copy: (text: string) => void;
}

export function useDashboardKeys({ source, dispatch, latest, refresh, exit, copy }: KeyDeps): void {
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
      const { ids, action } = state.confirm;
      dispatch({ type: "confirm", yes });
      if (yes && action === "cancel") runCancel(ids);
      if (yes && action === "resubmit" && ids[0] !== undefined) {
        const id = ids[0];
        resubmitJob(source, id, Date.now()).then(
          (newId) => {
            dispatch({ type: "open-detail", id: newId });
            dispatch({ type: "flash", message: `resubmitted ${id} as ${newId}` });
            refresh();
          },
          (error: unknown) =>
            dispatch({ type: "flash", message: `${id} not resubmitted: ${messageOf(error)}` }),
        );
      }
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
    if (command === Command.CopyId) {
      const id = state.detail?.id ?? selectedKey(state);
      if (id === undefined) return undefined;
      copy(id);
      dispatch({ type: "flash", message: `copied ${id} (where the terminal takes OSC 52)` });
      return undefined;
    }
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
}
