// The dashboard's state and the actions that change it: what is known of the cluster (jobs,
// workers, whether the server answers) and where the user is (view, selection, scroll, filters,
// an open detail, overlay, command line, confirmation). The reducer is dashboard-state.ts.
import type { ListedJob } from "../orchestration/client/list.ts";
import type { WorkerView } from "../orchestration/presence.ts";
import type { SweepView } from "../orchestration/client/sweep.ts";
import type { DetailAction, DetailState } from "./detail-state.ts";
import type { FormAction, SubmitForm } from "./form-state.ts";
import type { Command } from "./keymap.ts";
import type { JobSort } from "./rows.ts";

export type ViewName = "groups" | "jobs" | "workers" | "sweeps";
export const VIEWS: readonly ViewName[] = ["groups", "jobs", "workers", "sweeps"];

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

export interface DashboardState {
  jobs: ListedJob[];
  /** How many more jobs matched than the list's limit let through. */
  moreJobs: number;
  workers: WorkerView[];
  /**
   * Sweeps, newest first: the outstanding ones (finished ones too while finished jobs are
   * shown). The top bar shows the outstanding ones, the sweeps view each with its bar.
   */
  sweeps: SweepView[];
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
  /** The jobs view's order (rows.ts). */
  sort: JobSort;
  groupFilter: string | undefined;
  /** The sweep whose jobs alone the jobs view shows (Enter on a sweep). */
  sweepFilter: string | undefined;
  textFilter: string;
  /** The `:` command line or the `/` filter being typed. */
  input: { kind: "command" | "filter" | "search"; text: string } | undefined;
  overlay: "help" | undefined;
  confirm: { action: "cancel" | "resubmit"; ids: string[] } | undefined;
  marked: string[];
  detail: DetailState | undefined;
  /** The submit form, while it is open. */
  form: SubmitForm | undefined;
  /** A one-line message: what an action did, or why a command was not understood. */
  flash: string | undefined;
}

export const CURSOR: ListCursor = { index: 0, offset: 0, key: undefined };

export const INITIAL_STATE: DashboardState = {
  jobs: [],
  moreJobs: 0,
  workers: [],
  sweeps: [],
  loadedAt: undefined,
  error: undefined,
  view: "groups",
  viewChosen: false,
  cursors: { groups: CURSOR, jobs: CURSOR, workers: CURSOR, sweeps: CURSOR },
  pageRows: 10,
  showFinished: false,
  stateFilter: undefined,
  sort: "newest",
  groupFilter: undefined,
  sweepFilter: undefined,
  textFilter: "",
  input: undefined,
  overlay: undefined,
  confirm: undefined,
  marked: [],
  detail: undefined,
  form: undefined,
  flash: undefined,
};

export type DashboardAction =
  | {
      type: "data-loaded";
      jobs: ListedJob[];
      moreJobs: number;
      workers: WorkerView[];
      /** Sweeps, newest first (as `sweeps` above); absent where the source reads none. */
      sweeps?: SweepView[];
      at: number;
    }
  | { type: "load-failed"; message: string }
  | { type: "resize"; pageRows: number }
  | { type: "command"; command: Command }
  /** Typed into the open input: text appended, or one character taken back. */
  | { type: "input-edit"; append: string }
  | { type: "input-edit"; backspace: true }
  | { type: "input-submit" }
  | { type: "confirm"; yes: boolean }
  | DetailAction
  | FormAction
  /** A job's detail, opened for it (a job just submitted). */
  | { type: "open-detail"; id: string }
  | { type: "flash"; message: string | undefined };
