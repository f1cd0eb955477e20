// Keeps the dashboard's jobs and workers fresh: loads now (the newest few, to fill the screen
// at once), then every `refreshMs` (all of them, up to the limit), never two loads at once, and
// again at once when the question changes (finished jobs shown or not).
// The effect returns its cleanup, so unmounting stops the timer.
import { useCallback, useEffect, useRef, type Dispatch } from "react";
import type { DashboardAction } from "./state.ts";
import { FIRST_LIST_LIMIT, LIST_LIMIT, type DashboardSource } from "./data-source.ts";

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function useDashboardData(
  source: DashboardSource,
  refreshMs: number,
  showFinished: boolean,
  dispatch: Dispatch<DashboardAction>,
): () => void {
  const inFlight = useRef(false);
  const loaded = useRef(false);
  const again = useRef(false);
  const refresh = useCallback(() => {
    if (inFlight.current) {
      // Asked while a load runs (a toggle, `r`): one more load follows it.
      again.current = true;
      return;
    }
    inFlight.current = true;
    const load = async (): Promise<void> => {
      try {
        const [list, workers, sweeps] = await Promise.all([
          source.list({ all: showFinished, limit: loaded.current ? LIST_LIMIT : FIRST_LIST_LIMIT }),
          source.workers(),
          // Sweeps, for the top bar and the sweeps view (finished ones with finished jobs);
          // their failure costs only those.
          source.listSweeps?.(showFinished).catch(() => []) ?? [],
        ]);
        loaded.current = true;
        dispatch({
          type: "data-loaded",
          jobs: list.jobs,
          moreJobs: list.more,
          workers,
          sweeps,
          at: Date.now(),
        });
      } catch (error) {
        dispatch({ type: "load-failed", message: messageOf(error) });
      } finally {
        inFlight.current = false;
        if (again.current) {
          again.current = false;
          refresh();
        }
      }
    };
    void load();
  }, [source, showFinished, dispatch]);
  useEffect(() => {
    refresh();
    const timer = setInterval(refresh, refreshMs);
    return () => clearInterval(timer);
  }, [refresh, refreshMs]);
  return refresh;
}
