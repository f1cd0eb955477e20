// The rows each view shows, derived from the state: nothing is stored twice.
import type { ListedJob, ListedStage } from "../orchestration/client/list.ts";
import type { SweepView } from "../orchestration/client/sweep.ts";
import { parseSweepJobId } from "../orchestration/jobs/sweep.ts";
import { withSweepJobs } from "./sweep-jobs.ts";
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

/**
 * `compute` remembered for its last inputs (compared by identity): the state is immutable, so
 * a key press or a clock tick, which leave the jobs and the filters as they were, finds the
 * rows of 10,000 jobs already filtered and ordered.
 */
function lastOf<I extends readonly unknown[], O>(
  compute: (...inputs: I) => O,
): (...inputs: I) => O {
  let last: { inputs: I; output: O } | undefined;
  return (...inputs: I): O => {
    if (last && last.inputs.every((v, i) => Object.is(v, inputs[i]))) return last.output;
    const output = compute(...inputs);
    last = { inputs, output };
    return output;
  };
}

/** Per group: live workers, slots, GPUs, and its outstanding jobs by step. */
export function groupRows(state: Pick<DashboardState, "jobs" | "workers">): readonly GroupRow[] {
  return groupRowsOf(state.jobs, state.workers);
}

const groupRowsOf = lastOf((jobs: readonly ListedJob[], workers: readonly WorkerView[]) =>
  countGroups({ jobs, workers }),
);

function countGroups(state: {
  jobs: readonly ListedJob[];
  workers: readonly WorkerView[];
}): GroupRow[] {
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

type JobQuery = Pick<
  DashboardState,
  | "jobs"
  | "sweeps"
  | "showFinished"
  | "stateFilter"
  | "groupFilter"
  | "sweepFilter"
  | "textFilter"
  | "sort"
>;

export function jobRows(state: JobQuery): readonly ListedJob[] {
  return jobRowsOf(
    state.jobs,
    state.sweeps,
    state.showFinished,
    state.stateFilter,
    state.groupFilter,
    state.sweepFilter,
    state.textFilter,
    state.sort,
  );
}

const jobRowsOf = lastOf(
  (
    listed: ListedJob[],
    sweeps: SweepView[],
    showFinished: boolean,
    stateFilter: StateChoice,
    groupFilter: string | undefined,
    sweepFilter: string | undefined,
    textFilter: string,
    sort: JobSort,
  ): readonly ListedJob[] => {
    // A sweep's jobs its cap holds are not listed: its own view has them.
    const jobs = sweepFilter === undefined ? listed : withSweepJobs(listed, sweeps, sweepFilter);
    const rows = filteredJobs({
      jobs,
      showFinished,
      stateFilter,
      groupFilter,
      sweepFilter,
      textFilter,
    });
    const compare = compareBy(sort);
    return compare ? rows.sort(compare) : rows;
  },
);

function filteredJobs(state: Omit<JobQuery, "sort" | "sweeps">): ListedJob[] {
  const text = state.textFilter.toLowerCase();
  return state.jobs.filter(
    (job) =>
      (state.showFinished ||
        job.stage === "routing" ||
        job.stage === "queued" ||
        job.stage === "running") &&
      matchesState(job, state.stateFilter) &&
      (state.groupFilter === undefined || job.group === state.groupFilter) &&
      (state.sweepFilter === undefined || parseSweepJobId(job.id)?.sweepId === state.sweepFilter) &&
      (text === "" ||
        job.id.toLowerCase().includes(text) ||
        job.script.toLowerCase().includes(text) ||
        (job.worker?.pid.toLowerCase().includes(text) ?? false) ||
        (job.worker?.host.toLowerCase().includes(text) ?? false)),
  );
}

export function workerRows(
  state: Pick<DashboardState, "workers" | "groupFilter" | "textFilter">,
): readonly WorkerView[] {
  return workerRowsOf(state.workers, state.groupFilter, state.textFilter);
}

const workerRowsOf = lastOf(
  (workers: WorkerView[], groupFilter: string | undefined, textFilter: string) =>
    filteredWorkers({ workers, groupFilter, textFilter }),
);

function filteredWorkers(
  state: Pick<DashboardState, "workers" | "groupFilter" | "textFilter">,
): WorkerView[] {
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

/** The sweeps view's rows: newest first, outstanding ones unless finished are shown. */
export function sweepRows(
  state: Pick<DashboardState, "sweeps" | "showFinished" | "groupFilter" | "textFilter">,
): readonly SweepView[] {
  return sweepRowsOf(state.sweeps, state.showFinished, state.groupFilter, state.textFilter);
}

const sweepRowsOf = lastOf(
  (
    sweeps: SweepView[],
    showFinished: boolean,
    groupFilter: string | undefined,
    textFilter: string,
  ): SweepView[] => {
    const text = textFilter.toLowerCase();
    return sweeps.filter(
      ({ record, finished }) =>
        (showFinished || !finished) &&
        (groupFilter === undefined || record.group === groupFilter) &&
        (text === "" ||
          record.id.toLowerCase().includes(text) ||
          record.scripts.some((script) => script.toLowerCase().includes(text))),
    );
  },
);

const keysOf = {
  groups: lastOf((rows: readonly GroupRow[]) => rows.map((g) => g.name)),
  jobs: lastOf((rows: readonly ListedJob[]) => rows.map((j) => j.id)),
  workers: lastOf((rows: readonly WorkerView[]) => rows.map((w) => w.pid)),
  sweeps: lastOf((rows: readonly SweepView[]) => rows.map((s) => s.record.id)),
};

/** The keys of a view's rows, in order: what a cursor points at. */
export function rowKeys(state: DashboardState, view: ViewName): readonly string[] {
  if (view === "groups") return keysOf.groups(groupRows(state));
  if (view === "jobs") return keysOf.jobs(jobRows(state));
  if (view === "sweeps") return keysOf.sweeps(sweepRows(state));
  return keysOf.workers(workerRows(state));
}
