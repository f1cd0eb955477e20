// Which job holds which disk area. Like the GPU pool, an area goes back only when the caller
// releases it, after `runJob` has resolved and so after every process of the job is gone;
// releasing also empties it, so that the next job finds the whole area free.
import { readdir, rm, rmdir } from "node:fs/promises";
import path from "node:path";
import { waitInQueue } from "./queued-wait.ts";
import type { DiskArea } from "./types.ts";

/** ext4 makes it at the root of every filesystem; it belongs to the filesystem, not a job. */
const LOST_AND_FOUND = "lost+found";

/**
 * Removes one entry of an area: an empty directory (a job's, whose script went already) in one
 * call; anything else walked and removed.
 */
async function emptyEntry(entry: string): Promise<void> {
  try {
    await rmdir(entry);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    await rm(entry, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
  }
}

export class DiskAreaPool {
  readonly #free: DiskArea[];
  readonly #held = new Set<DiskArea>();
  readonly #emptying = new Set<DiskArea>();
  readonly #waiting: ((area: DiskArea) => void)[] = [];
  readonly #idle = new Set<() => void>();
  readonly size: number;

  constructor(areas: readonly DiskArea[]) {
    this.#free = [...areas];
    this.size = areas.length;
  }

  get heldCount(): number {
    return this.#held.size;
  }

  /** Resolves with an area once one is free; rejects if `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<DiskArea> {
    if (this.size === 0) return Promise.reject(new RangeError("the disk area pool is empty"));
    if (this.#waiting.length === 0 && this.#free.length > 0)
      return Promise.resolve(this.#hold(this.#free.shift()!));
    return waitInQueue(
      this.#waiting,
      (grant: (area: DiskArea) => void) => grant,
      signal,
      "disk wait",
    );
  }

  /**
   * Empties the area of whatever its job left and hands it on. Call only once the job's
   * processes are all gone (`runJob` normally removed its directory already).
   */
  async release(area: DiskArea): Promise<void> {
    if (!this.#held.has(area) || this.#emptying.has(area)) return;
    this.#emptying.add(area);
    const entries = await readdir(area.dir).catch(() => [] as string[]);
    await Promise.all(
      entries
        .filter((name) => name !== LOST_AND_FOUND)
        .map((name) => emptyEntry(path.join(area.dir, name))),
    );
    this.#emptying.delete(area);
    this.#held.delete(area);
    const next = this.#waiting.shift();
    if (next) next(this.#hold(area));
    else this.#free.push(area);
    if (this.#held.size === 0) for (const wake of this.#idle) wake();
  }

  /** Resolves once no area is held, or after `deadlineMs`; with whether none is held. */
  async whenIdle(deadlineMs: number): Promise<boolean> {
    if (this.#held.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    let wake: (() => void) | undefined;
    await new Promise<void>((resolve) => {
      wake = resolve;
      this.#idle.add(resolve);
      timer = setTimeout(resolve, deadlineMs);
    });
    clearTimeout(timer);
    if (wake) this.#idle.delete(wake);
    return this.#held.size === 0;
  }

  #hold(area: DiskArea): DiskArea {
    this.#held.add(area);
    return area;
  }
}
