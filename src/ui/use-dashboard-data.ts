// Keeps the dashboard's jobs and workers fresh: loads now (the newest few, to fill the screen
// at once), then every `refreshMs` (all of them, up to the limit), never two loads at once, and
// again at once when the question changes (finished jobs shown or not). A source that lists
// gradually (client/list-gradual.ts) is listed so: the refresh never holds this thread for
// long, and a load that answers a new question shows its rows before their attempts are read.
// The effect returns its cleanup, so unmounting stops the timer.
import { useCallback, useEffect, useRef, type Dispatch } from "react";
import type { JobList, ListFilter } from "../orchestration/client/list.ts";
import type { DashboardAction } from "./state.ts";
import { FIRST_LIST_LIMIT, LIST_LIMIT, type DashboardSource } from "./data-source.ts";

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The listing of one load; `onRows` hears the rows early where the source can say them. */
function listFor(
  source: DashboardSource,
  filter: ListFilter,
  onRows: ((list: JobList) => void) | undefined,
): Promise<JobList> {
  if (!source.listGradually) return source.list(filter);
  return source.listGradually(filter, onRows ? { onRows } : {});
}

export function useDashboardData(
  source: DashboardSource,
  refreshMs: number,
  showFinished: boolean,
  dispatch: Dispatch<DashboardAction>,
): () => void {
  const inFlight = useRef(false);
  const loaded = useRef(false);
  /** Whether the rows shown list finished jobs too; undefined before the first load. */
  const shownFinished = useRef<boolean | undefined>(undefined);
  const again = useRef(false);
  const refresh = useCallback(() => {
    if (inFlight.current) {
      // Asked while a load runs (a toggle, `r`): one more load follows it.
      again.current = true;
      return;
    }
    inFlight.current = true;
    const load = async (): Promise<void> => {
      const workersRead = source.workers();
      // Outstanding sweeps, for the top bar; their failure costs only that line.
      const sweepsRead = source.listSweeps?.(false).catch(() => []) ?? Promise.resolve([]);
      let ended = false;
      // Early rows only where the screen shows nothing of this question yet: elsewhere the rows
      // shown are better than rows whose attempts are still being read.
      const onRows =
        shownFinished.current === showFinished
          ? undefined
          : (list: JobList): void => {
              void Promise.all([workersRead, sweepsRead]).then(
                ([workers, sweeps]) => {
                  if (ended) return;
                  dispatch({
                    type: "data-loaded",
                    jobs: list.jobs,
                    moreJobs: list.more,
                    workers,
                    sweeps,
                    at: Date.now(),
                  });
                },
                () => undefined,
              );
            };
      try {
        const filter = {
          all: showFinished,
          limit: loaded.current ? LIST_LIMIT : FIRST_LIST_LIMIT,
        };
        const [list, workers, sweeps] = await Promise.all([
          listFor(source, filter, onRows),
          workersRead,
          sweepsRead,
        ]);
        ended = true;
        loaded.current = true;
        shownFinished.current = showFinished;
        dispatch({
          type: "data-loaded",
          jobs: list.jobs,
          moreJobs: list.more,
          workers,
          sweeps,
          at: Date.now(),
        });
      } catch (error) {
        ended = true;
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
