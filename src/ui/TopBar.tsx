import { Text } from "ink";
import { VIEWS, type DashboardState, type ViewName } from "./state.ts";

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
    state.stateFilter === undefined ? undefined : `state ${state.stateFilter}`,
    state.view === "jobs" && state.sort !== "newest" ? `by ${state.sort}` : undefined,
    state.textFilter === "" ? undefined : `/${state.textFilter}`,
    state.view === "jobs" && state.showFinished ? "with finished" : undefined,
    state.moreJobs > 0 ? `+${state.moreJobs} older not loaded` : undefined,
  ].filter((f) => f !== undefined);
  return (
    <Text wrap="truncate">
      <Text bold>modulate </Text>
      {VIEWS.map((view, i) => (
        <Text key={view} inverse={view === state.view && !state.detail}>
          {` ${i + 1} ${view} (${counts[view]}) `}
        </Text>
      ))}
      {state.detail ? <Text inverse>{" detail "}</Text> : null}
      {filters.length > 0 ? <Text dimColor>{`  ${filters.join(", ")}`}</Text> : null}
    </Text>
  );
}
