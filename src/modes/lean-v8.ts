// V8 settings for a process that mostly waits: a worker spends its life waiting on the
// server and on its jobs' processes, and its own JavaScript is never the bottleneck of a job.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/**
 * The V8 flags a worker sets on itself (issue 18: an idle worker under 80 MB resident).
 * `--optimize-for-size` keeps the young generation at 1 MB where start-up had grown it to
 * 13 MB, and grows the old one more slowly. `--no-opt` leaves TurboFan out: its code is 9 MB
 * of Node's executable that would otherwise be paged in, while Ignition, Sparkplug and Maglev
 * still compile the worker's code (its CPU per job measured the same, 12.4 ms beside 12.6).
 */
export const LEAN_V8_FLAGS = "--optimize-for-size --no-opt";

/**
 * Sets LEAN_V8_FLAGS on this process, at run time rather than on its command line, so that the
 * one executable gives them to its workers alone: the server keeps TurboFan for its throughput.
 * Both flags are read each time V8 decides (a collection, a function's next tier), so they
 * take effect from the next decision on; code already optimized stays as it is.
 */
export function useLeanV8(): void {
  setFlagsFromString(LEAN_V8_FLAGS);
}

type Collect = (options: { type: "major"; execution: "sync"; flavor: "last-resort" }) => void;

/**
 * One full, memory-reducing collection, for a process that has just started and is about to
 * wait: start-up's garbage and the heap pages V8 keeps pooled for reuse (8 MB in a worker)
 * are given back now rather than by V8's memory reducer some 30 s later. Takes 50-150 ms.
 * `gc` is only given to contexts made while --expose-gc is set, so one is made for it.
 */
export function releaseStartupMemory(): void {
  setFlagsFromString("--expose-gc");
  try {
    const collect = runInNewContext("gc") as Collect;
    collect({ type: "major", execution: "sync", flavor: "last-resort" });
  } catch {
    // Only memory is at stake: a Node that no longer hands `gc` out this way must not stop a
    // worker that is ready; V8's memory reducer gives the pages back later all the same.
  } finally {
    setFlagsFromString("--no-expose-gc");
  }
}
