// Where each list's selection and scroll stand, kept on screen and on the same row by key.
import { rowKeys } from "./rows.ts";
import { CURSOR, type DashboardState, type ListCursor, type ViewName } from "./state.ts";

/** Puts the cursor at `index` (clamped), scrolled so that it is on screen. */
export function placeCursor(
  keys: readonly string[],
  index: number,
  offset: number,
  pageRows: number,
): ListCursor {
  if (keys.length === 0) return CURSOR;
  const at = Math.max(0, Math.min(keys.length - 1, index));
  const rows = Math.max(1, pageRows);
  let top = Math.max(0, Math.min(offset, keys.length - rows));
  if (at < top) top = at;
  if (at >= top + rows) top = at - rows + 1;
  return { index: at, offset: Math.max(0, top), key: keys[at] };
}

/** After the rows changed: the same row by key where it is still there, else the same place. */
function followCursor(state: DashboardState, view: ViewName): ListCursor {
  const keys = rowKeys(state, view);
  const cursor = state.cursors[view];
  const byKey = cursor.key === undefined ? -1 : keys.indexOf(cursor.key);
  return placeCursor(keys, byKey >= 0 ? byKey : cursor.index, cursor.offset, state.pageRows);
}

export function withCursors(state: DashboardState): DashboardState {
  return {
    ...state,
    cursors: {
      groups: followCursor(state, "groups"),
      jobs: followCursor(state, "jobs"),
      workers: followCursor(state, "workers"),
      sweeps: followCursor(state, "sweeps"),
    },
  };
}

export function moveCursor(
  state: DashboardState,
  to: (index: number, count: number) => number,
): DashboardState {
  const keys = rowKeys(state, state.view);
  const cursor = state.cursors[state.view];
  const moved = placeCursor(keys, to(cursor.index, keys.length), cursor.offset, state.pageRows);
  return { ...state, cursors: { ...state.cursors, [state.view]: moved } };
}

/** The row the cursor is on in the current view, by key. */
export function selectedKey(state: DashboardState): string | undefined {
  return state.cursors[state.view].key;
}
