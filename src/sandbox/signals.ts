// Signal bookkeeping shared by execute and the outcome.
import { readdir, readFile } from "node:fs/promises";
import { constants } from "node:os";

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>(
  Object.entries(constants.signals).map(([name, number]) => [number, name as NodeJS.Signals]),
);

/**
 * bwrap reports a job killed by signal N as exit status 128 + N (it cannot die of the same
 * signal itself), so under bwrap that status is read back as the signal.
 */
export function signalFromBwrapStatus(exitCode: number): NodeJS.Signals | undefined {
  if (exitCode <= 128 || exitCode > 128 + 64) return undefined;
  return SIGNAL_NAMES.get(exitCode - 128);
}

/** Parses /proc/PID/stat into its state letter and process group (the command may hold spaces). */
export function parseProcStat(text: string): { state: string; pgid: number } | undefined {
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const [state, , pgid] = fields;
  return state === undefined || pgid === undefined ? undefined : { state, pgid: Number(pgid) };
}

/**
 * Whether a live (not zombie) process is left in process group `pgid`. Zombies do not count:
 * they hold nothing, and orphaned ones wait for the host's init, which may reap them late.
 */
export async function processGroupAlive(pgid: number): Promise<boolean> {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  for (const entry of await readdir("/proc").catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    const parsed = parseProcStat(stat);
    if (parsed && parsed.pgid === pgid && parsed.state !== "Z") return true;
  }
  return false;
}

export function killProcessGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // No process left in the group.
  }
}
