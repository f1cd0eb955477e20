// Keeps the dashboard's jobs and workers fresh: loads now (the newest few, to fill the screen
// at once), then every `refreshMs` (all of them, up to the limit), never two loads at once, and
// again at once when the question changes (finished jobs shown or not). A source that lists
// gradually (client/list-gradual.ts) is listed so: the refresh never holds this thread for
// long, and a load that answers a new question shows its rows before their attempts are read.
// The effect returns its cleanup, so unmounting stops the timer.
import { useCallback, useEffect, useRef, type Dispatch } from "react";
import type { JobList, ListFilter } from "../orchestration/client/list.ts";
import type { WorkerView } from "../orchestration/presence.ts";
import type { DashboardAction } from "./state.ts";
import { FIRST_LIST_LIMIT, LIST_LIMIT, type DashboardSource } from "./data-source.ts";

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The listing of one load, and the live workers: a source that lists gradually says whom it
 * read while listing (one read of the workers, not two); `onRows` hears the rows early where
 * the source can say them.
 */
function listWithWorkers(
  source: DashboardSource,
  filter: ListFilter,
  onRows: ((list: JobList) => void) | undefined,
): { listing: Promise<JobList>; workers: Promise<WorkerView[]> } {
  if (!source.listGradually) return { listing: source.list(filter), workers: source.workers() };
  let heard: WorkerView[] | undefined;
  let hear: ((workers: WorkerView[]) => void) | undefined;
  const workersHeard = new Promise<WorkerView[]>((resolve) => {
    hear = resolve;
  });
  const listing = source.listGradually(filter, {
    onWorkers: (workers) => {
      heard = workers;
      hear?.(workers);
    },
    ...(onRows ? { onRows } : {}),
  });
  // A source that lists without saying whom it read is asked.
  const workers = Promise.race([workersHeard, listing.then(() => heard ?? source.workers())]);
  return { listing, workers };
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
      // Sweeps, for the top bar and the sweeps view (finished ones with finished jobs); their
      // failure costs only those.
      const sweepsRead = source.listSweeps?.(showFinished).catch(() => []) ?? Promise.resolve([]);
      let ended = false;
      let workersRead: Promise<WorkerView[]> | undefined;
      // Early rows only where the screen shows nothing of this question yet: elsewhere the rows
      // shown are better than rows whose attempts are still being read.
      const onRows =
        shownFinished.current === showFinished
          ? undefined
          : (list: JobList): void => {
              void Promise.all([workersRead, sweepsRead]).then(
                ([workers, sweeps]) => {
                  if (ended || !workers) return;
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
        const read = listWithWorkers(source, filter, onRows);
        workersRead = read.workers;
        const [list, workers, sweeps] = await Promise.all([read.listing, read.workers, sweepsRead]);
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
