// Jobs that wait for others (`submit --after`, Slurm's afterok and afterany). The router's
// orchestration waits before it routes the job, in a durable step of its own (`<job>.after`,
// names.ts): the step's promise holds how each dependency ended once all have. A router that
// dies while it waits loses its lease, and the router that takes the orchestration over waits
// again from the start, so a restart changes nothing. The wait itself follows each dependency
// as a client would (client/wait.ts), by listening for its promises: a task may not await a
// promise of another job's lineage on a server with lineage rules (README: server
// generations), so the router's SDK cannot await them itself.
import type { JobDependencies, JobResult, JobState } from "./jobs/job.ts";
import { PromiseNotFound } from "./wire/listener.ts";

/** How a dependency ended, as the dependant's wait records it. */
export interface DependencyEnding {
  id: string;
  state: JobState;
  reason: string;
}

/** Waits for job `id` to end and answers its final record. */
export type WaitForJob = (id: string) => Promise<JobResult>;

/** Every dependency's ending, in the order given, once all have ended. */
export async function awaitDependencies(
  waitFor: WaitForJob,
  ids: readonly string[],
): Promise<DependencyEnding[]> {
  return Promise.all(
    ids.map(async (id): Promise<DependencyEnding> => {
      try {
        const { state, reason } = await waitFor(id);
        return { id, state, reason };
      } catch (error) {
        // The client refuses an unknown id at submit; one written past it (straight through
        // the protocol) would otherwise be waited for until the step's deadline. Anything
        // else (the server away, the router stopping) is waited through: the step runs again.
        if (error instanceof PromiseNotFound) return { id, state: "failed", reason: "no such job" };
        throw error;
      }
    }),
  );
}

const ENDED_AS: Record<JobState, string> = {
  pending: "has not ended",
  running: "has not ended",
  succeeded: "succeeded",
  failed: "failed",
  timed_out: "timed out",
  canceled: "was canceled",
};

/**
 * Why the dependant may not start, in the words its record gives, or undefined when it may:
 * with `any`, every ending lets it; otherwise the first dependency that did not succeed stops
 * it, with that dependency's own reason.
 */
export function dependencyFailure(
  after: JobDependencies,
  endings: readonly DependencyEnding[],
): string | undefined {
  if (after.any) return undefined;
  const failed = endings.find((ending) => ending.state !== "succeeded");
  if (!failed) return undefined;
  const why = failed.reason === "" ? "" : `: ${failed.reason}`;
  return `dependency ${failed.id} ${ENDED_AS[failed.state]}${why}`;
}

/** What `get` and `ls` say of a job that waits for its dependencies. */
export function waitingForReason(ids: readonly string[]): string {
  return ids.length === 1 ? `waiting for job ${ids[0]}` : `waiting for jobs ${ids.join(", ")}`;
}

/**
 * How long a job may wait for its dependencies: the job's promises are made to last this
 * much longer (client/submit.ts), since nothing of the job runs meanwhile.
 */
export const DEPENDENCY_WAIT_MS = 7 * 24 * 60 * 60 * 1000;
