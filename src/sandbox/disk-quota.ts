// The per-job disk quota's decisions, apart from the mounting that carries them out
// (disk-areas.ts): how big an area is by default, where each area lives, which mounts a
// crashed worker left, and when an area counts as full. Pure.
import path from "node:path";

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

/** The smallest area worth making: ext4's own metadata takes a few MiB of a tiny one. */
export const MIN_AREA_BYTES = 16 * MiB;

/**
 * The default `--max-disk`: half the free space of the work directory's filesystem, split
 * over the areas, so that every job full at once still leaves the host the other half; at
 * most 64 GiB (the default file size limit too), rounded down to a whole GiB (MiB below
 * 1 GiB) so that the start-up note reads well. 0 (no quota) where that is under 64 MiB: an
 * area so small would fail ordinary jobs, and the host has no room to protect anyway.
 */
export function defaultAreaBytes(freeBytes: number, areaCount: number): number {
  const share = Math.min(freeBytes / 2 / Math.max(1, areaCount), 64 * GiB);
  const unit = share >= GiB ? GiB : MiB;
  const rounded = Math.floor(share / unit) * unit;
  return rounded < 64 * MiB ? 0 : rounded;
}

/** Where one worker's areas live: `<root>/<set>/slot-<i>` mounted from `slot-<i>.img`. */
export interface AreaPaths {
  readonly image: string;
  readonly mountDir: string;
}

export function areaPaths(setDir: string, index: number): AreaPaths {
  return {
    image: path.join(setDir, `slot-${index}.img`),
    mountDir: path.join(setDir, `slot-${index}`),
  };
}

/**
 * `mkfs.ext4` for a scratch area. No journal: the area is made anew at every start, so a
 * journal would only cost writes and space. No reserved blocks, so the job may use it all.
 * Lazy inode tables and no discard pass: on a fresh sparse file both would write zeros for
 * nothing (the mount's `noinit_itable` keeps the kernel from zeroing them later).
 */
export function mkfsArgs(image: string): string[] {
  return ["-q", "-F", "-m", "0", "-O", "^has_journal", "-E", "lazy_itable_init=1,nodiscard", image];
}

/**
 * `mount` options: no set-uid programs or device nodes from a job's files; `discard` gives a
 * deleted job's blocks back to the host disk (the image is sparse), so an idle area costs
 * next to nothing.
 */
export const MOUNT_OPTIONS = "loop,nosuid,nodev,noinit_itable,discard";

/** `\040` and the like: how mountinfo escapes space, tab, newline and backslash. */
function unescapeMountPath(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) =>
    String.fromCharCode(parseInt(octal, 8)),
  );
}

/** Mount points listed in `/proc/self/mountinfo` (its fifth field), in mount order. */
export function parseMountPoints(mountinfo: string): string[] {
  const points: string[] = [];
  for (const line of mountinfo.split("\n")) {
    const field = line.split(" ")[4];
    if (field !== undefined && field !== "") points.push(unescapeMountPath(field));
  }
  return points;
}

/**
 * The mount points strictly below `dir`, latest mounted first, so that a mount stacked on
 * another, or one inside another, goes before what it covers.
 */
export function mountPointsUnder(points: readonly string[], dir: string): string[] {
  const prefix = `${path.resolve(dir)}/`;
  return points.filter((point) => point.startsWith(prefix)).reverse();
}

/** What an area's `statfs` says about room left, in the fields node's `fs.statfs` gives. */
export interface AreaUsage {
  readonly bsize: number;
  readonly blocks: number;
  readonly bavail: number;
  readonly files: number;
  readonly ffree: number;
}

export type AreaFullness = "space" | "files";

/**
 * Whether an area is (nearly) full, checked once its job has ended: less than 1% (at least
 * 1 MiB) of its space, or of its inodes, left. A write that got ENOSPC leaves it so; a job
 * that failed with this much left failed for some other reason.
 */
export function areaFullness(usage: AreaUsage): AreaFullness | undefined {
  const totalBytes = usage.blocks * usage.bsize;
  if (usage.bavail * usage.bsize < Math.max(MiB, totalBytes / 100)) return "space";
  if (usage.ffree <= usage.files / 100) return "files";
  return undefined;
}
