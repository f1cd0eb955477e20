// The dashboard's state and the only way it changes. Pure, so it is tested without a terminal:
// what is known of the cluster (jobs, workers, whether the server answers), where the user is
// (view, selection, scroll, filters, an open detail, overlay, command line, confirmation).
import type { JobView } from "../orchestration/client/view.ts";
import type { ListedJob, ListedStage } from "../orchestration/client/list.ts";
import type { WorkerView } from "../orchestration/presence.ts";
import type { OutputPart } from "../orchestration/output-chunk.ts";
import { Command } from "./keymap.ts";

export type ViewName = "groups" | "jobs" | "workers";
export const VIEWS: readonly ViewName[] = ["groups", "jobs", "workers"];

/** A list's place: the selected row, by index and by key so it survives refreshes. */
export interface ListCursor {
  index: number;
  /** The first row on screen. */
  offset: number;
  key: string | undefined;
}

/** What the jobs view's `t` cycles through: every state, then each one. */
export const STATE_CYCLE = [
  undefined,
  "pending",
  "running",
  "succeeded",
  "failed",
  "canceled",
] as const;
export type StateChoice = (typeof STATE_CYCLE)[number];

/** The most lines of output a detail keeps: older ones scroll away. */
export const DETAIL_MAX_LINES = 5_000;

export interface OutputLine {
  stream: OutputPart[0];
  text: string;
}

export interface DetailState {
  id: string;
  view: JobView | undefined;
  error: string | undefined;
  lines: OutputLine[];
  /** The attempt whose output is being read. */
  attempt: number | undefined;
  /** Keep the newest line on screen; off, the user scrolls with the usual keys. */
  follow: boolean;
  /** Lines scrolled up from the bottom while not following. */
  scrollBack: number;
}

export interface DashboardState {
  jobs: ListedJob[];
  /** How many more jobs matched than the list's limit let through. */
  moreJobs: number;
  workers: WorkerView[];
  /** When data last came in; undefined before the first load. */
  loadedAt: number | undefined;
  /** The last load's failure, shown (with the data's age) until a load succeeds. */
  error: string | undefined;
  view: ViewName;
  /** Whether the user (or the first load) has chosen the view: the first load picks once. */
  viewChosen: boolean;
  cursors: Record<ViewName, ListCursor>;
  /** Rows of a list the screen has room for. */
  pageRows: number;
  showFinished: boolean;
  stateFilter: StateChoice;
  groupFilter: string | undefined;
  textFilter: string;
  /** The `:` command line or the `/` filter being typed. */
  input: { kind: "command" | "filter"; text: string } | undefined;
  overlay: "help" | undefined;
  confirm: { action: "cancel"; ids: string[] } | undefined;
  marked: string[];
  detail: DetailState | undefined;
  /** A one-line message: what an action did, or why a command was not understood. */
  flash: string | undefined;
}

const CURSOR: ListCursor = { index: 0, offset: 0, key: undefined };

export const INITIAL_STATE: DashboardState = {
  jobs: [],
  moreJobs: 0,
  workers: [],
  loadedAt: undefined,
  error: undefined,
  view: "groups",
  viewChosen: false,
  cursors: { groups: CURSOR, jobs: CURSOR, workers: CURSOR },
  pageRows: 10,
  showFinished: false,
  stateFilter: undefined,
  groupFilter: undefined,
  textFilter: "",
  input: undefined,
  overlay: undefined,
  confirm: undefined,
  marked: [],
  detail: undefined,
  flash: undefined,
};

export type DashboardAction =
  | { type: "data-loaded"; jobs: ListedJob[]; moreJobs: number; workers: WorkerView[]; at: number }
  | { type: "load-failed"; message: string }
  | { type: "resize"; pageRows: number }
  | { type: "command"; command: Command }
  /** Typed into the open input: text appended, or one character taken back. */
  | { type: "input-edit"; append: string }
  | { type: "input-edit"; backspace: true }
  | { type: "input-submit" }
  | { type: "confirm"; yes: boolean }
  | { type: "detail-loaded"; id: string; view: JobView }
  | { type: "detail-failed"; id: string; message: string }
  | { type: "output"; id: string; parts: readonly OutputPart[] }
  /** A follow starts over (after a failure): what it reads again replaces what was read. */
  | { type: "output-reset"; id: string }
  | { type: "attempt"; id: string; attempt: number; host: string }
  | { type: "flash"; message: string | undefined };

// ---- derived rows ---------------------------------------------------------------------------

export interface GroupRow {
  name: string;
  workers: number;
  slots: number;
  busy: number;
  gpus: number;
  pending: number;
  running: number;
}

const PENDING: readonly ListedStage[] = ["routing", "queued"];

/** Per group: live workers, slots, GPUs, and its outstanding jobs by step. */
export function groupRows(state: Pick<DashboardState, "jobs" | "workers">): GroupRow[] {
  const rows = new Map<string, GroupRow>();
  const row = (name: string): GroupRow => {
    let found = rows.get(name);
    if (!found) {
      found = { name, workers: 0, slots: 0, busy: 0, gpus: 0, pending: 0, running: 0 };
      rows.set(name, found);
    }
    return found;
  };
  for (const w of state.workers) {
    const r = row(w.group);
    r.workers += 1;
    r.slots += w.slots;
    r.busy += w.busy;
    r.gpus += w.gpus?.length ?? 0;
  }
  for (const job of state.jobs) {
    if (PENDING.includes(job.stage)) row(job.group).pending += 1;
    else if (job.stage === "running") row(job.group).running += 1;
  }
  return [...rows.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function matchesState(job: ListedJob, choice: StateChoice): boolean {
  if (choice === undefined) return true;
  if (choice === "pending") return PENDING.includes(job.stage);
  if (choice === "failed") return job.stage === "failed" || job.stage === "timed_out";
  return job.stage === choice;
}

/** The jobs view's rows: newest first (as listed), filtered by state, group and text. */
export function jobRows(state: DashboardState): ListedJob[] {
  const text = state.textFilter.toLowerCase();
  return state.jobs.filter(
    (job) =>
      (state.showFinished ||
        job.stage === "routing" ||
        job.stage === "queued" ||
        job.stage === "running") &&
      matchesState(job, state.stateFilter) &&
      (state.groupFilter === undefined || job.group === state.groupFilter) &&
      (text === "" ||
        job.id.toLowerCase().includes(text) ||
        job.script.toLowerCase().includes(text) ||
        (job.worker?.pid.toLowerCase().includes(text) ?? false) ||
        (job.worker?.host.toLowerCase().includes(text) ?? false)),
  );
}

export function workerRows(state: DashboardState): WorkerView[] {
  const text = state.textFilter.toLowerCase();
  return state.workers
    .filter(
      (w) =>
        (state.groupFilter === undefined || w.group === state.groupFilter) &&
        (text === "" ||
          w.pid.toLowerCase().includes(text) ||
          w.host.toLowerCase().includes(text) ||
          w.group.toLowerCase().includes(text)),
    )
    .sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : a.pid < b.pid ? -1 : 1));
}

/** The keys of a view's rows, in order: what a cursor points at. */
export function rowKeys(state: DashboardState, view: ViewName): string[] {
  if (view === "groups") return groupRows(state).map((g) => g.name);
  if (view === "jobs") return jobRows(state).map((j) => j.id);
  return workerRows(state).map((w) => w.pid);
}

// ---- cursors --------------------------------------------------------------------------------

/** Puts the cursor at `index` (clamped), scrolled so that it is on screen. */
function placeCursor(
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

function withCursors(state: DashboardState): DashboardState {
  return {
    ...state,
    cursors: {
      groups: followCursor(state, "groups"),
      jobs: followCursor(state, "jobs"),
      workers: followCursor(state, "workers"),
    },
  };
}

function moveCursor(
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

// ---- the reducer ----------------------------------------------------------------------------

/** The view with something to show: jobs if any are outstanding, else groups. */
function firstView(jobs: readonly ListedJob[]): ViewName {
  return jobs.length > 0 ? "jobs" : "groups";
}

function openView(state: DashboardState, view: ViewName, groupFilter?: string): DashboardState {
  return withCursors({
    ...state,
    view,
    viewChosen: true,
    groupFilter,
    textFilter: "",
    marked: [],
    flash: undefined,
  });
}

function runCommandLine(state: DashboardState, text: string): DashboardState {
  const [word = "", arg] = text.trim().split(/\s+/);
  const view = VIEWS.find((v) => v.startsWith(word.toLowerCase()) && word !== "");
  if (view) return openView(state, view, arg);
  if (word === "") return state;
  return {
    ...state,
    flash: `unknown command :${word} (try :jobs, :workers, :groups, or ? for keys)`,
  };
}

/** Esc: closes the innermost thing open; at the top it clears filters; it never quits. */
function back(state: DashboardState): DashboardState {
  if (state.input?.kind === "filter")
    return withCursors({ ...state, input: undefined, textFilter: "" });
  if (state.input) return { ...state, input: undefined };
  if (state.overlay) return { ...state, overlay: undefined };
  if (state.confirm) return { ...state, confirm: undefined, flash: "nothing canceled" };
  if (state.detail) return { ...state, detail: undefined };
  if (state.marked.length > 0) return { ...state, marked: [] };
  if (state.textFilter !== "" || state.groupFilter !== undefined || state.stateFilter !== undefined)
    return withCursors({
      ...state,
      textFilter: "",
      groupFilter: undefined,
      stateFilter: undefined,
    });
  return { ...state, flash: undefined };
}

function detailCommand(
  state: DashboardState,
  detail: DetailState,
  command: Command,
): DashboardState {
  const page = Math.max(1, state.pageRows - 4);
  const scroll = (by: number): DashboardState => {
    const max = Math.max(0, detail.lines.length - 1);
    const scrollBack = Math.max(0, Math.min(max, detail.scrollBack + by));
    return {
      ...state,
      detail: { ...detail, scrollBack, follow: scrollBack === 0 && detail.follow },
    };
  };
  switch (command) {
    case Command.Follow:
      return { ...state, detail: { ...detail, follow: !detail.follow, scrollBack: 0 } };
    case Command.Up:
      return scroll(1);
    case Command.Down:
      return scroll(-1);
    case Command.PageUp:
      return scroll(page);
    case Command.PageDown:
      return scroll(-page);
    case Command.Top:
      return scroll(detail.lines.length);
    case Command.Bottom:
      return { ...state, detail: { ...detail, scrollBack: 0 } };
    case Command.Cancel:
      return { ...state, confirm: { action: "cancel", ids: [detail.id] } };
    default:
      return state;
  }
}

function command(state: DashboardState, command: Command): DashboardState {
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
    case Command.Open: {
      const key = selectedKey(state);
      if (key === undefined) return state;
      if (state.view === "groups") return openView(state, "jobs", key);
      if (state.view === "workers") return state;
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

export function openDetail(id: string): DetailState {
  return {
    id,
    view: undefined,
    error: undefined,
    lines: [],
    attempt: undefined,
    follow: true,
    scrollBack: 0,
  };
}

/** Output parts as lines: a part holds whole lines of one stream, each ending in "\n". */
function appendLines(lines: readonly OutputLine[], parts: readonly OutputPart[]): OutputLine[] {
  const added: OutputLine[] = [];
  for (const [stream, text] of parts) {
    const pieces = text.split("\n");
    if (pieces.at(-1) === "") pieces.pop();
    for (const piece of pieces) added.push({ stream, text: piece });
  }
  const all = [...lines, ...added];
  return all.length > DETAIL_MAX_LINES ? all.slice(-DETAIL_MAX_LINES) : all;
}

export function dashboardReducer(state: DashboardState, action: DashboardAction): DashboardState {
  switch (action.type) {
    case "data-loaded": {
      const loaded: DashboardState = {
        ...state,
        jobs: action.jobs,
        moreJobs: action.moreJobs,
        workers: action.workers,
        loadedAt: action.at,
        error: undefined,
      };
      if (!state.viewChosen) {
        loaded.view = firstView(action.jobs);
        loaded.viewChosen = true;
      }
      // Marks of jobs no longer listed go: a cancel must name only what the user sees.
      const listed = new Set(action.jobs.map((j) => j.id));
      loaded.marked = state.marked.filter((id) => listed.has(id));
      return withCursors(loaded);
    }
    case "load-failed":
      return { ...state, error: action.message };
    case "resize":
      return withCursors({ ...state, pageRows: action.pageRows });
    case "command":
      return command(state, action.command);
    case "input-edit": {
      if (!state.input) return state;
      const text =
        "append" in action ? state.input.text + action.append : state.input.text.slice(0, -1);
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
        marked: action.yes ? [] : state.marked,
        flash: action.yes ? undefined : "nothing canceled",
      };
    case "detail-loaded":
      if (state.detail?.id !== action.id) return state;
      return { ...state, detail: { ...state.detail, view: action.view, error: undefined } };
    case "detail-failed":
      if (state.detail?.id !== action.id) return state;
      return { ...state, detail: { ...state.detail, error: action.message } };
    case "output": {
      const detail = state.detail;
      if (detail?.id !== action.id) return state;
      const lines = appendLines(detail.lines, action.parts);
      // Scrolled up, the view stays on the same lines while new ones arrive below.
      const scrollBack = detail.follow
        ? 0
        : detail.scrollBack + (lines.length - detail.lines.length);
      return { ...state, detail: { ...detail, lines, scrollBack } };
    }
    case "output-reset":
      if (state.detail?.id !== action.id) return state;
      return {
        ...state,
        detail: { ...state.detail, lines: [], attempt: undefined, scrollBack: 0 },
      };
    case "attempt": {
      const detail = state.detail;
      if (detail?.id !== action.id) return state;
      const lines =
        detail.attempt === undefined && action.attempt === 1
          ? detail.lines
          : appendLines(detail.lines, [
              ["stderr", `--- attempt ${action.attempt} on ${action.host} ---\n`],
            ]);
      return { ...state, detail: { ...detail, attempt: action.attempt, lines } };
    }
    case "flash":
      return { ...state, flash: action.message };
  }
}
