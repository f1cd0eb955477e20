// One cgroup per job slot, made when the worker starts and reused by each job of that slot.
// Making and removing a memory and a pids cgroup for every job cost about 3 ms of wall time
// and kernel work per job on a v1 host; a reused one only has the next job's limits written.
// Their names carry the worker's pid, so a worker that starts after another died with kill -9
// can tell the dead one's cgroups (and any of its jobs' processes still in them) from those
// of live workers, kill what is left and remove them.
import { randomBytes } from "node:crypto";
import { mkdir, readdir } from "node:fs/promises";
import { JobCgroup, jobCgroupsParent } from "./cgroup.ts";
import type { StandbyShell } from "./standby.ts";
import { plainStandbys, type StandbyFactory } from "./standby-sandbox.ts";
import type { CgroupSetup, JobLimits } from "./types.ts";

const SLOT_NAME = /^w(\d+)-[0-9a-f]+-slot\d+$/;
/** How long emptying a dead worker's cgroup may take at start-up. */
const STALE_KILL_MS = 2_000;

/** `run` tells two workers that share a pid number (in different pid namespaces) apart. */
function slotCgroupName(workerPid: number, run: string, slot: number): string {
  return `w${workerPid}-${run}-slot${slot}`;
}

/** The slot cgroups among `names` whose worker is no longer running. */
export function staleSlotNames(
  names: readonly string[],
  isAlive: (pid: number) => boolean,
): string[] {
  return names.filter((name) => {
    const match = SLOT_NAME.exec(name);
    return match !== null && !isAlive(Number(match[1]));
  });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, only not ours to signal.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export class CgroupSlots {
  readonly #all: readonly JobCgroup[];
  readonly #free: JobCgroup[];
  /** The shell waiting (or on its way) in each free slot's cgroup for its next job. */
  readonly #standby = new Map<JobCgroup, Promise<StandbyShell | undefined>>();
  #makeStandby: StandbyFactory;
  readonly #closing = new AbortController();

  private constructor(cgroups: readonly JobCgroup[], scratchDir: string) {
    this.#makeStandby = plainStandbys(scratchDir);
    this.#all = cgroups;
    this.#free = [...cgroups];
    for (const cgroup of cgroups) this.#prepareStandby(cgroup);
  }

  /**
   * Makes the free slots' standbys with `factory` from now on (in a sandbox, under bwrap):
   * a worker sets it once its disk areas exist.
   */
  useStandbys(factory: StandbyFactory): void {
    this.#makeStandby = factory;
    for (const [cgroup, standby] of [...this.#standby]) {
      this.#standby.delete(cgroup);
      void standby.then((shell) => shell?.discard());
      this.#prepareStandby(cgroup);
    }
  }

  /** Removes what dead workers left, then makes `count` cgroups for this worker. */
  static async make(
    setup: CgroupSetup,
    count: number,
    limits: JobLimits,
    scratchDir: string,
  ): Promise<CgroupSlots> {
    await removeStale(setup);
    await mkdir(scratchDir, { recursive: true, mode: 0o700 });
    const made: JobCgroup[] = [];
    const run = randomBytes(3).toString("hex");
    try {
      for (let slot = 0; slot < count; slot++) {
        made.push(await JobCgroup.create(setup, slotCgroupName(process.pid, run, slot), limits));
      }
    } catch (error) {
      for (const cgroup of made) await cgroup.remove();
      throw error;
    }
    return new CgroupSlots(made, scratchDir);
  }

  /** A free slot's cgroup, empty; undefined if every one is in use (then make one per job). */
  take(): JobCgroup | undefined {
    return this.#free.pop();
  }

  /** The shell preparing or waiting in `cgroup`, left where it is (for tests and notes). */
  peekStandby(cgroup: JobCgroup): Promise<StandbyShell | undefined> | undefined {
    return this.#standby.get(cgroup);
  }

  /**
   * The shell waiting in `cgroup` to become its job, or still joining it (see
   * `StandbyShell.whenUsable`); handed over once, with what it holds (`StandbyShell.take`).
   * `makeNow`: if none is there, one is made at once. A slot's standby is made once the slot
   * is idle, after its last job's answer; when the next job is already waiting (a sweep, a job
   * fetched ahead), it takes the slot first, and its sandbox, made now, starts while its
   * claim is on the network rather than after it (issue 17). It is handed its script only
   * once the claim is won (execute.ts), so a job still runs once.
   */
  async takeStandby(cgroup: JobCgroup, makeNow = false): Promise<StandbyShell | undefined> {
    let pending = this.#standby.get(cgroup);
    this.#standby.delete(cgroup);
    const closing = this.#closing.signal;
    if (pending === undefined && makeNow && !closing.aborted)
      pending = this.#makeStandby(cgroup.procsFiles, closing).catch(() => undefined);
    const standby = await pending;
    if (standby?.joining) return standby.take();
    standby?.discard();
    return undefined;
  }

  /** Gives a cgroup back once every process of its job is gone. */
  give(cgroup: JobCgroup): void {
    if (!this.#all.includes(cgroup) || this.#free.includes(cgroup)) return;
    this.#free.push(cgroup);
    // After the result has gone out: the next job's shell joins while the slot is idle.
    setImmediate(() => this.#prepareStandby(cgroup));
  }

  /** Kills anything left in them and removes them: the worker is stopping. */
  async close(): Promise<void> {
    this.#closing.abort();
    const standbys = [...this.#standby.values()];
    this.#standby.clear();
    for (const standby of await Promise.all(standbys)) standby?.discard();
    for (const cgroup of this.#all) {
      await cgroup.kill(STALE_KILL_MS);
      await cgroup.remove();
    }
  }

  #prepareStandby(cgroup: JobCgroup): void {
    const closing = this.#closing.signal;
    if (closing.aborted || this.#standby.has(cgroup) || !this.#free.includes(cgroup)) return;
    // A standby that cannot be made costs its job only the ordinary start.
    const made = this.#makeStandby(cgroup.procsFiles, closing).catch(() => undefined);
    this.#standby.set(cgroup, made);
  }
}

async function removeStale(setup: CgroupSetup): Promise<void> {
  const names = await readdir(jobCgroupsParent(setup)).catch(() => [] as string[]);
  for (const name of staleSlotNames(names, processAlive)) {
    const cgroup = JobCgroup.at(setup, name);
    await cgroup.kill(STALE_KILL_MS);
    await cgroup.remove();
  }
}
