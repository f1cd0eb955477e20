import { Text } from "ink";
import { progressBar } from "../orchestration/client/sweep-progress.ts";
import type { SweepView } from "../orchestration/client/sweep.ts";
import { VIEWS, type DashboardState, type ViewName } from "./state.ts";

/** A sweep in the top bar: its id, a bar, and how many of its jobs are done. */
export function sweepBadge(sweep: SweepView): string {
  const { done, failed } = sweep.progress;
  const failures = failed > 0 ? ` ${failed} failed` : "";
  return `${sweep.record.id} ${progressBar(sweep, 10)} ${done}/${sweep.record.count}${failures}`;
}

/** The views as tabs (their number keys), and the filters in force. */
export function TopBar({
  state,
  counts,
}: {
  state: DashboardState;
  counts: Record<ViewName, number>;
}) {
  const filters = [
    state.groupFilter === undefined ? undefined : `group ${state.groupFilter}`,
    state.sweepFilter === undefined ? undefined : `sweep ${state.sweepFilter}`,
    state.stateFilter === undefined ? undefined : `state ${state.stateFilter}`,
    state.view === "jobs" && state.sort !== "newest" ? `by ${state.sort}` : undefined,
    state.textFilter === "" ? undefined : `/${state.textFilter}`,
    state.view === "jobs" && state.showFinished ? "with finished" : undefined,
    state.moreJobs > 0 ? `+${state.moreJobs} older not loaded` : undefined,
  ].filter((f) => f !== undefined);
  return (
    <Text wrap="truncate">
      <Text bold>modulate </Text>
      {VIEWS.map((view, i) =>
        // The sweeps tab once there are sweeps, or it is open: a narrow bar keeps room for
        // the filters where nobody runs sweeps (its key, 4, works all the same).
        view === "sweeps" && state.sweeps.length === 0 && state.view !== "sweeps" ? null : (
          <Text key={view} inverse={view === state.view && !state.detail}>
            {` ${i + 1} ${view} (${counts[view]}) `}
          </Text>
        ),
      )}
      {state.detail ? <Text inverse>{" detail "}</Text> : null}
      {filters.length > 0 ? <Text dimColor>{`  ${filters.join(", ")}`}</Text> : null}
      {state.sweeps
        .filter((sweep) => !sweep.finished)
        .map((sweep) => (
          <Text key={sweep.record.id}>{`  ${sweepBadge(sweep)}`}</Text>
        ))}
    </Text>
  );
}
