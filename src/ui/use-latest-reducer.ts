// The dashboard's state as React holds it, and a clock for the ages on screen.
import { useCallback, useEffect, useReducer, useRef, useState, type Dispatch } from "react";
import { dashboardReducer } from "./dashboard-state.ts";
import { INITIAL_STATE, type DashboardAction, type DashboardState } from "./state.ts";

/**
 * The reducer, with its latest state also kept in a ref that each dispatch updates at once:
 * keys that arrive together (typed fast, pasted) are each read against the state the ones
 * before them made, not against the last frame's, so none is lost or misread.
 */
export function useLatestReducer(): [
  DashboardState,
  Dispatch<DashboardAction>,
  { current: DashboardState },
] {
  const [state, dispatchToReact] = useReducer(dashboardReducer, INITIAL_STATE);
  const latest = useRef(state);
  const dispatch = useCallback((action: DashboardAction) => {
    latest.current = dashboardReducer(latest.current, action);
    dispatchToReact(action);
  }, []);
  return [state, dispatch, latest];
}

/** A clock for ages on screen: it ticks once a second. */
export function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(timer);
  }, []);
  return now;
}
