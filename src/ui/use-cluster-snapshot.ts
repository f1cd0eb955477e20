// Keeps the dashboard's snapshot fresh: loads now, then every `intervalMs`, never two loads at
// once. The effect returns its cleanup, so unmounting stops the timer.
import { useCallback, useEffect, useRef, type Dispatch } from "react";
import type { ClusterSnapshot } from "../orchestration/snapshot.ts";
import type { DashboardAction } from "./dashboard-state.ts";

export function useClusterSnapshot(
  load: () => Promise<ClusterSnapshot>,
  intervalMs: number,
  dispatch: Dispatch<DashboardAction>,
): () => void {
  const inFlight = useRef(false);
  const refresh = useCallback(() => {
    if (inFlight.current) return;
    inFlight.current = true;
    load()
      .then((snapshot) => dispatch({ type: "snapshot-loaded", snapshot }))
      .catch((error: unknown) =>
        dispatch({
          type: "load-failed",
          message: error instanceof Error ? error.message : String(error),
        }),
      )
      .finally(() => {
        inFlight.current = false;
      });
  }, [load, dispatch]);
  useEffect(() => {
    refresh();
    const timer = setInterval(refresh, intervalMs);
    return () => clearInterval(timer);
  }, [refresh, intervalMs]);
  return refresh;
}
