// The rows each view shows, derived from the state: nothing is stored twice.
import type { ListedJob, ListedStage } from "../orchestration/client/list.ts";
import type { WorkerView } from "../orchestration/presence.ts";
import type { DashboardState, StateChoice, ViewName } from "./state.ts";

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
/** Orders of the jobs view, which `o` cycles: as listed (newest first) first. */
export const JOB_SORTS = ["newest", "oldest", "state", "group", "script"] as const;
export type JobSort = (typeof JOB_SORTS)[number];

/** The steps in the order a person scans them: what runs, what waits, how things ended. */
const STAGE_ORDER: readonly ListedStage[] = [
  "running",
  "queued",
  "routing",
  "failed",
  "timed_out",
  "canceled",
  "succeeded",
];

function compareBy(sort: JobSort): ((a: ListedJob, b: ListedJob) => number) | undefined {
  const text = (f: (j: ListedJob) => string) => (a: ListedJob, b: ListedJob) =>
    f(a) < f(b) ? -1 : f(a) > f(b) ? 1 : b.submittedAt - a.submittedAt;
  switch (sort) {
    case "newest":
      return undefined; // as listed
    case "oldest":
      return (a, b) => a.submittedAt - b.submittedAt;
    case "state":
      return (a, b) =>
        STAGE_ORDER.indexOf(a.stage) - STAGE_ORDER.indexOf(b.stage) ||
        b.submittedAt - a.submittedAt;
    case "group":
      return text((j) => j.group);
    case "script":
      return text((j) => j.script);
  }
}

export function jobRows(state: DashboardState): ListedJob[] {
  const rows = filteredJobs(state);
  const compare = compareBy(state.sort);
  return compare ? rows.sort(compare) : rows;
}

function filteredJobs(state: DashboardState): ListedJob[] {
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
