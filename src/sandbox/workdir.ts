// The job's working directory: made fresh for one attempt, owned by the job user, and removed
// afterwards, once the declared outputs have been copied out of it.
import {
  chown,
  chmod,
  lstat,
  mkdir,
  open,
  readdir,
  realpath,
  rm,
  rmdir,
  statfs,
  unlink,
  writeFile,
} from "node:fs/promises";
import { constants } from "node:fs";
import path from "node:path";
import { areaFullness } from "./disk-quota.ts";
import type { DiskFull } from "./outcome.ts";
import type { DiskArea, JobUser, OutputFile } from "./types.ts";

/**
 * Makes `workDir` (it must not exist: a directory is never reused) with the script inside;
 * a directory made already by `makeJobDir` (a standby's, `dirMade`) gets only the script.
 */
export async function createWorkDir(
  workDir: string,
  scriptPath: string,
  script: string | Uint8Array,
  scriptIsExecutable: boolean,
  user: JobUser | undefined,
  dirMade = false,
): Promise<void> {
  if (!dirMade) await makeJobDir(workDir, user);
  await writeFile(scriptPath, script, { flag: "wx", mode: scriptIsExecutable ? 0o700 : 0o600 });
  // The mode given to writeFile is filtered by the umask; the execute bit must survive it.
  if (scriptIsExecutable) await chmod(scriptPath, 0o700);
  if (user) await chown(scriptPath, user.uid, user.gid);
}

/**
 * Makes a job's empty directory. The work root is traversable but not listable by others, so
 * jobs cannot find each other.
 */
export async function makeJobDir(workDir: string, user: JobUser | undefined): Promise<void> {
  const workRoot = path.dirname(workDir);
  // The work root is made once, not looked up again for every job; should it be gone since
  // (a disk area remade), the job's mkdir says so and it is made again.
  if (!madeRoots.has(workRoot)) await makeWorkRoot(workRoot);
  try {
    await mkdir(workDir, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    await makeWorkRoot(workRoot);
    await mkdir(workDir, { mode: 0o700 });
  }
  if (user) {
    // Group root with rwx: bwrap enters the directory as root after dropping its capabilities,
    // when only ownership, not CAP_DAC_OVERRIDE, lets it in.
    await chown(workDir, user.uid, 0);
    await chmod(workDir, 0o770);
  }
}

/** Work roots this process has made (or found made): each job's mkdir needs no `mkdir -p`. */
const madeRoots = new Set<string>();

async function makeWorkRoot(workRoot: string): Promise<void> {
  await mkdir(workRoot, { recursive: true, mode: 0o711 });
  madeRoots.add(workRoot);
}

/**
 * Removes a job's directory. Most jobs leave nothing but the script they were given: that
 * file and the directory go in two calls (where `scriptPath` is given), and only a directory
 * that holds more is walked and removed entry by entry. `walk: false` leaves such a directory
 * as it is, for whoever empties its disk area.
 */
export async function removeWorkDir(
  workDir: string,
  { scriptPath, walk = true }: { scriptPath?: string; walk?: boolean } = {},
): Promise<void> {
  if (scriptPath !== undefined) await unlink(scriptPath).catch(() => undefined);
  try {
    await rmdir(workDir);
    return;
  } catch (error) {
    // Gone already; or more in it than the script (ENOTEMPTY), or not a directory at all.
    if ((error as NodeJS.ErrnoException).code === "ENOENT" || !walk) return;
  }
  await rm(workDir, { recursive: true, force: true, maxRetries: 3 });
}

async function readCapped(
  file: string,
  maxBytes: number,
): Promise<{ content: Buffer; sizeBytes: number }> {
  // O_NOFOLLOW: a job that swaps the file for a symlink between our checks and this open
  // must not get the worker (often root) to read, say, /etc/shadow for it.
  const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const { size } = await handle.stat();
    const content = Buffer.alloc(Math.min(size, maxBytes));
    const { bytesRead } = await handle.read(content, 0, content.length, 0);
    return { content: content.subarray(0, bytesRead), sizeBytes: size };
  } finally {
    await handle.close();
  }
}

/**
 * Copies the declared outputs out of the job's directory. Only regular files whose real path
 * lies inside the directory count; anything else (a symlink to /etc, a directory) is "not
 * found" rather than followed.
 */
export async function collectOutputs(
  workDir: string,
  declared: readonly string[],
  maxFileBytes: number,
): Promise<OutputFile[]> {
  // Most jobs declare none: then not even the directory's real path is looked up.
  if (declared.length === 0) return [];
  const realWorkDir = await realpath(workDir);
  const collected: OutputFile[] = [];
  for (const relative of declared) {
    const file = path.join(workDir, relative);
    const missing: OutputFile = {
      path: relative,
      found: false,
      sizeBytes: 0,
      contentBase64: "",
      truncated: false,
    };
    try {
      const stats = await lstat(file);
      const real = await realpath(path.dirname(file));
      const inside = real === realWorkDir || real.startsWith(`${realWorkDir}/`);
      if (!stats.isFile() || !inside) {
        collected.push(missing);
        continue;
      }
      const { content, sizeBytes } = await readCapped(file, maxFileBytes);
      collected.push({
        path: relative,
        found: true,
        sizeBytes,
        contentBase64: content.toString("base64"),
        truncated: content.length < sizeBytes,
      });
    } catch {
      collected.push(missing);
    }
  }
  return collected;
}

/**
 * Whether the job left a file of at least `maxFileBytes` in its directory: the file size
 * limit stopped a write (python ignores SIGXFSZ and fails with EFBIG instead of dying).
 * Looks at no more than `maxEntries` entries, so a job that made millions of files costs little.
 */
export async function hasFileAtLimit(
  workDir: string,
  maxFileBytes: number,
  maxEntries = 10_000,
): Promise<boolean> {
  const pending = [workDir];
  let seen = 0;
  while (pending.length > 0 && seen < maxEntries) {
    const dir = pending.pop()!;
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      seen += 1;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) pending.push(full);
      else if (
        entry.isFile() &&
        ((await lstat(full).catch(() => undefined))?.size ?? 0) >= maxFileBytes
      )
        return true;
    }
  }
  return false;
}

/** Whether the job's disk area is (nearly) full now that its job has ended, and of what. */
export async function diskAreaFull(area: DiskArea): Promise<DiskFull | undefined> {
  const usage = await statfs(area.dir);
  const of = areaFullness(usage);
  return of && { of, quotaBytes: area.sizeBytes, quotaFiles: usage.files };
}
