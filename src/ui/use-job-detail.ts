// The open job's record and its live output. The record is read now and every `refreshMs`;
// an unfinished job's output is followed as `modulate logs --follow` follows it, across a
// re-dispatch, until the job ends; an ended job shows its stored output. Closing the detail
// aborts the follow.
import { useEffect, type Dispatch } from "react";
import type { DashboardAction } from "./state.ts";
import type { DashboardSource } from "./data-source.ts";
import { messageOf } from "./use-dashboard-data.ts";

export function useJobDetail(
  source: DashboardSource,
  id: string | undefined,
  refreshMs: number,
  dispatch: Dispatch<DashboardAction>,
): void {
  useEffect(() => {
    if (id === undefined) return undefined;
    const stop = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let following = false;
    let ended = false;

    const follow = async (mode: Parameters<DashboardSource["waitForJob"]>[1]): Promise<void> => {
      following = true;
      let read = 0;
      dispatch({ type: "output-reset", id });
      try {
        const end = source.waitForJob(id, mode, stop.signal);
        end.catch(() => undefined);
        const report = await source.followOutput(
          id,
          { follow: true, ended: end, stop: stop.signal },
          {
            onOutput: (part) => {
              read += 1;
              dispatch({ type: "output", id, parts: [part] });
            },
            onAttempt: (record) =>
              dispatch({ type: "attempt", id, attempt: record.attempt, host: record.worker.host }),
          },
        );
        if (stop.signal.aborted) return;
        if (report.result) {
          ended = true;
          dispatch({ type: "detail-loaded", id, view: await source.getJob(id) });
          // A short run publishes no chunk: its record holds its whole output.
          if (read === 0) storedOutput(report.result.stdout, report.result.stderr);
        }
      } catch (error) {
        if (!stop.signal.aborted)
          dispatch({ type: "detail-failed", id, message: messageOf(error) });
      } finally {
        following = false;
      }
    };

    const storedOutput = (stdout: string, stderr: string): void => {
      const parts: ["stdout" | "stderr", string][] = [];
      if (stdout) parts.push(["stdout", stdout.endsWith("\n") ? stdout : `${stdout}\n`]);
      if (stderr) parts.push(["stderr", stderr.endsWith("\n") ? stderr : `${stderr}\n`]);
      if (parts.length > 0) dispatch({ type: "output", id, parts });
    };

    let first = true;
    const load = async (): Promise<void> => {
      try {
        const view = await source.getJob(id);
        if (stop.signal.aborted) return;
        dispatch({ type: "detail-loaded", id, view });
        if (first && view.finished) {
          ended = true;
          storedOutput(view.result.stdout, view.result.stderr);
        }
        if (!view.finished && !following && !ended) void follow(view.spec.mode);
        first = false;
      } catch (error) {
        if (!stop.signal.aborted)
          dispatch({ type: "detail-failed", id, message: messageOf(error) });
      }
      if (!stop.signal.aborted && !ended) timer = setTimeout(() => void load(), refreshMs);
    };
    void load();
    return () => {
      stop.abort();
      clearTimeout(timer);
    };
  }, [source, id, refreshMs, dispatch]);
}
