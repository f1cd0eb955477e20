// What the dashboard reads and does, through the same orchestration module as the CLI: `ls`
// (list), `workers`, `get` (getJob), `logs` (followOutput, waitForJob), `cancel` and `submit`.
import type { ModulateClient } from "../orchestration/client.ts";

export type DashboardSource = Pick<
  ModulateClient,
  "list" | "workers" | "getJob" | "followOutput" | "waitForJob" | "cancel" | "submit"
> &
  // Optional: a source without sweeps shows none.
  Partial<Pick<ModulateClient, "listSweeps">>;

/**
 * The most jobs one refresh asks for: the newest, as `modulate ls --limit` does; the top bar
 * counts the rest. Bounded because `list` reads the attempt records of each running or queued
 * job it returns, every refresh: a cheaper way to list many is work for the client (issue 16,
 * item 5).
 */
export const LIST_LIMIT = 500;
