// Fair GPU hand-out: one look over the jobs waiting on a worker, oldest first. A job that cannot
// have its GPUs now keeps them: younger jobs do not take freed GPUs it needs, so a stream of
// `--gpus 1` jobs cannot starve an older `--gpus 4` one. A younger job still goes first where it
// fits in GPUs no waiting job needs: the GPUs held by jobs let past a waiting one stay within
// the worker's GPUs less those kept (GpuSets.take), so once the jobs that were running before
// the waiting one end, what it waits for is free. No backfill by expected end time: a job's
// --timeout is a limit, not an estimate, and a wrong estimate would starve again.
import type { GpuDemand, GpuLease, GpuSets } from "./gpus.ts";

/** GPUs a demand needs free (or a share of) that it does not have. */
function gpusWanted(demand: GpuDemand): number {
  return demand.kind === "shared" ? 1 : demand.count;
}

export class GpuPass {
  readonly sets: GpuSets;
  #kept = 0;

  constructor(sets: GpuSets) {
    this.sets = sets;
  }

  /** GPUs kept so far in this pass for older jobs that must wait. */
  get kept(): number {
    return this.#kept;
  }

  /**
   * The next job in line, from oldest to youngest: its GPUs if they are free and not kept for
   * an older one; else undefined, and what it needs is kept from the younger ones after it.
   */
  take(demand: GpuDemand): GpuLease | undefined {
    if (gpusWanted(demand) === 0) return this.sets.take(demand);
    const lease = this.sets.take(demand, this.#kept);
    if (lease === undefined) this.#kept += gpusWanted(demand);
    return lease;
  }
}
