// Disk areas: one loop-mounted ext4 filesystem per job slot, made once at worker start-up.
// Each job's directory is made inside the area it leases, so a job can fill its own area and
// nothing else. A worker claims a set of areas, `<root>/<n>/`, with a lock that dies with it;
// a worker killed with kill -9 leaves its mounts, and the next worker to claim that set
// unmounts them before making its own. Mounts of a set another live worker holds are never
// touched.
import { chmod, mkdir, open, readdir, readFile, rm, rmdir, stat, statfs } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { DiskAreaPool } from "./disk-area-pool.ts";
import {
  areaPaths,
  defaultAreaBytes,
  MIN_AREA_BYTES,
  mkfsArgs,
  MOUNT_OPTIONS,
  mountPointsUnder,
  parseMountPoints,
  type AreaPaths,
} from "./disk-quota.ts";
import { SandboxSetupError } from "./errors.ts";
import { tryLockFile, type HeldLock } from "./file-lock.ts";
import { formatBytes } from "../common/units.ts";
import { findOnPath, TOOL_PATH } from "./interpreter.ts";
import type { DiskArea } from "./types.ts";

export interface DiskAreaOptions {
  /** Where the sets of areas go, e.g. `<workRoot>/.disk`: under the work root, which bwrap hides. */
  readonly root: string;
  /** Areas to make: one for each job the worker runs at once. */
  readonly count: number;
  /** Size of each area, which is one job's disk quota; 0: no quota; absent: see `defaultAreaBytes`. */
  readonly sizeBytes?: number;
  /** The worker's environment: PATH for finding mkfs.ext4, mount, umount and flock. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface DiskAreas {
  /** Hands one area to each running job. */
  readonly pool: DiskAreaPool;
  readonly sizeBytes: number;
  /** This worker's set, `<root>/<n>`. */
  readonly setDir: string;
  /**
   * Waits up to `drainMs` (default 5 s) for leased areas to come back, then unmounts every
   * area (lazily where a process still uses it), removes the images and lets the set go.
   */
  close(drainMs?: number): Promise<void>;
}

export interface DiskAreasSetup {
  /** Absent: jobs get no disk quota, and `note` says why. */
  readonly areas?: DiskAreas;
  /** One line for the start-up notes: the mode, or why there is none ("warning: ..."). */
  readonly note: string;
  /** Why no quota could be made; absent when one was, or when it was turned off. */
  readonly unavailable?: string;
}

interface Tools {
  readonly mkfs: string;
  readonly mount: string;
  readonly umount: string;
  readonly flock: string;
}

/** Sets tried before giving up: more workers than this on one work directory is a mistake. */
const MAX_SETS = 64;
const TOOL_TIMEOUT_MS = 30_000;
const LOCK_FILE = "lock";
const LOOP_CONTROL = "/dev/loop-control";

/** Runs a tool; undefined when it succeeded, otherwise what went wrong in words. */
async function run(file: string, args: readonly string[]): Promise<string | undefined> {
  const result = await execa(file, args, { reject: false, timeout: TOOL_TIMEOUT_MS });
  if (result.exitCode === 0) return undefined;
  return result.stderr.trim() || result.shortMessage;
}

async function findTools(env: DiskAreaOptions["env"]): Promise<Tools | string> {
  const searchPath = `${env["PATH"] ?? ""}:${TOOL_PATH}`;
  const [mkfs, mount, umount, flock] = await Promise.all(
    ["mkfs.ext4", "mount", "umount", "flock"].map((name) => findOnPath(name, searchPath)),
  );
  if (!mkfs) return "mkfs.ext4 not found (Debian package e2fsprogs)";
  if (!mount || !umount || !flock) return "mount, umount or flock not found (util-linux)";
  return { mkfs, mount, umount, flock };
}

/** Unmounts `dir`; lazily where a process still holds it open, so it is gone from the tree. */
async function unmount(tools: Tools, dir: string): Promise<string | undefined> {
  if ((await run(tools.umount, [dir])) === undefined) return undefined;
  return run(tools.umount, ["--lazy", dir]);
}

async function mountsUnder(dir: string): Promise<string[]> {
  return mountPointsUnder(parseMountPoints(await readFile("/proc/self/mountinfo", "utf8")), dir);
}

/**
 * Unmounts every mount under `dir` (lazily), for a caller about to delete a tree in which
 * workers were killed with kill -9: tests and benchmarks, which never restart them.
 */
export async function unmountEverythingUnder(dir: string): Promise<void> {
  for (const point of (await mountsUnder(dir)).reverse()) {
    await execa("umount", ["--lazy", point], { reject: false });
  }
}

/** Unmounts what a dead worker left mounted in this set (stacked mounts included). */
async function clearStaleMounts(tools: Tools, setDir: string): Promise<string | undefined> {
  for (let pass = 0; pass < 3; pass += 1) {
    const stale = await mountsUnder(setDir);
    if (stale.length === 0) return undefined;
    for (const point of stale) await unmount(tools, point);
  }
  const left = await mountsUnder(setDir);
  return left.length === 0 ? undefined : `cannot unmount ${left.join(", ")}`;
}

/** The first set no live worker holds, locked for this one. */
async function claimSet(
  tools: Tools,
  root: string,
): Promise<{ setDir: string; lock: HeldLock } | undefined> {
  for (let index = 0; index < MAX_SETS; index += 1) {
    const setDir = path.join(root, String(index));
    await mkdir(setDir, { recursive: true, mode: 0o711 });
    const lock = await tryLockFile(tools.flock, path.join(setDir, LOCK_FILE));
    if (lock) return { setDir, lock };
  }
  return undefined;
}

/** A fresh sparse image with an empty filesystem on it, mounted on its directory. */
async function makeImage(tools: Tools, area: AreaPaths, sizeBytes: number): Promise<void> {
  await rm(area.image, { force: true });
  const image = await open(area.image, "wx", 0o600);
  try {
    await image.truncate(sizeBytes);
  } finally {
    await image.close();
  }
  const failure = await run(tools.mkfs, mkfsArgs(area.image));
  if (failure) throw new SandboxSetupError(`mkfs.ext4 ${area.image} failed: ${failure}`);
}

async function mountArea(tools: Tools, area: AreaPaths): Promise<void> {
  await mkdir(area.mountDir, { recursive: true, mode: 0o711 });
  const failure = await run(tools.mount, ["-o", MOUNT_OPTIONS, area.image, area.mountDir]);
  if (failure) throw new SandboxSetupError(`mounting a loop device failed: ${failure}`);
  // The filesystem's root comes as root's 0755: the job user must pass through it to reach
  // its own directory, but not list it.
  await chmod(area.mountDir, 0o711);
}

/** Removes whatever is in the set but its lock: images and mount points of an earlier run. */
async function emptySet(setDir: string): Promise<void> {
  for (const name of await readdir(setDir)) {
    // rmdir, never a recursive rm, on a mount point: should a mount be left after all, this
    // fails rather than deleting through it.
    if (name.endsWith(".img")) await rm(path.join(setDir, name), { force: true });
    else if (name !== LOCK_FILE) await rmdir(path.join(setDir, name)).catch(() => undefined);
  }
}

async function removeAreas(tools: Tools, areas: readonly AreaPaths[]): Promise<void> {
  for (const area of areas) {
    await unmount(tools, area.mountDir);
    await rm(area.image, { force: true });
    await rmdir(area.mountDir).catch(() => undefined);
  }
}

async function chooseSize(options: DiskAreaOptions): Promise<number> {
  if (options.sizeBytes !== undefined) return options.sizeBytes;
  const { bavail, bsize } = await statfs(options.root);
  return defaultAreaBytes(bavail * bsize, options.count);
}

function unavailable(why: string): DiskAreasSetup {
  return { note: `warning: no disk quota per job: ${why}`, unavailable: why };
}

/**
 * Makes `count` areas of `sizeBytes` for this worker, or says why it cannot: the worker is
 * not root, the tools or loop devices are missing, or mounting fails (as in a container).
 */
export async function setUpDiskAreas(options: DiskAreaOptions): Promise<DiskAreasSetup> {
  if (!Number.isInteger(options.count) || options.count < 1)
    throw new RangeError(`cannot make ${options.count} disk areas: expected at least one`);
  if (options.sizeBytes === 0) return { note: "no disk quota per job: turned off" };
  if (options.sizeBytes !== undefined && options.sizeBytes < MIN_AREA_BYTES) {
    throw new SandboxSetupError(
      `a disk quota of ${formatBytes(options.sizeBytes)} is below the smallest area, ${formatBytes(MIN_AREA_BYTES)}`,
    );
  }
  const uid = process.getuid?.();
  if (uid !== 0) return unavailable(`loop mounts need root (the worker runs as uid ${uid})`);
  const tools = await findTools(options.env);
  if (typeof tools === "string") return unavailable(tools);
  if (!(await stat(LOOP_CONTROL).catch(() => undefined))?.isCharacterDevice())
    return unavailable(`no loop devices (${LOOP_CONTROL} is missing)`);
  await mkdir(options.root, { recursive: true, mode: 0o711 });
  await chmod(options.root, 0o711);
  const sizeBytes = await chooseSize(options);
  if (sizeBytes === 0) {
    const { bavail, bsize } = await statfs(options.root);
    return unavailable(`only ${formatBytes(bavail * bsize)} free on ${options.root}`);
  }

  const claimed = await claimSet(tools, options.root);
  if (!claimed) return unavailable(`all ${MAX_SETS} area sets in ${options.root} are in use`);
  const { setDir, lock } = claimed;
  const paths = Array.from({ length: options.count }, (_, index) => areaPaths(setDir, index));
  try {
    const stale = await clearStaleMounts(tools, setDir);
    if (stale) throw new SandboxSetupError(stale);
    await emptySet(setDir);
    await Promise.all(paths.map((area) => makeImage(tools, area, sizeBytes)));
    // One at a time: parallel `mount -o loop` can race for the same free loop device.
    for (const area of paths) await mountArea(tools, area);
  } catch (error) {
    await removeAreas(tools, paths);
    await lock.release();
    if (error instanceof SandboxSetupError) return unavailable(error.message);
    throw error;
  }

  const pool = new DiskAreaPool(paths.map((area): DiskArea => ({ dir: area.mountDir, sizeBytes })));
  let closing: Promise<void> | undefined;
  const close = async (drainMs: number): Promise<void> => {
    await pool.whenIdle(drainMs);
    await removeAreas(tools, paths);
    await lock.release();
  };
  return {
    note: `disk quota: ${options.count} area${options.count === 1 ? "" : "s"} of ${formatBytes(sizeBytes)} (loop-mounted ext4 in ${setDir})`,
    areas: {
      pool,
      sizeBytes,
      setDir,
      close: (drainMs = 5_000) => (closing ??= close(drainMs)),
    },
  };
}
