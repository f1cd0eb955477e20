// What the dashboard reads and does, through the same orchestration module as the CLI: `ls`
// (list), `workers`, `get` (getJob), `logs` (followOutput, waitForJob), `cancel` and `submit`.
import type { ModulateClient } from "../orchestration/client.ts";

export type DashboardSource = Pick<
  ModulateClient,
  "list" | "workers" | "getJob" | "followOutput" | "waitForJob" | "cancel" | "submit"
> &
  // Optional: a source without sweeps shows none; one that cannot list gradually is listed
  // with `list`, in one piece.
  Partial<Pick<ModulateClient, "listSweeps" | "listGradually">>;

/**
 * The most jobs one refresh asks for: the newest, as `modulate ls --limit` does; the top bar
 * counts the rest. A listing reads every outstanding job's promises whatever the limit; what
 * the limit bounds is the attempt records read, a request or two for each running or queued
 * job listed. The client keeps those of jobs that have not moved (client/attempt-memo.ts), so
 * after the first refresh a listing of 10,000 costs about a tenth of a fresh one (bench:ui).
 */
export const LIST_LIMIT = 10_000;

/**
 * The first load asks for fewer, so the screen fills at once: reading the attempts of 10,000
 * jobs for the first time takes seconds (bench:ui); the next refresh brings in the rest.
 */
export const FIRST_LIST_LIMIT = 500;
