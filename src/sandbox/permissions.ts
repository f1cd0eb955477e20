// File permissions as the job user will meet them: the worker (often root) checks at start-up
// what the job user can execute and reach, so a job does not fail later with EACCES.
import { constants } from "node:fs";
import { access, realpath, stat } from "node:fs/promises";
import path from "node:path";
import type { JobUser } from "./types.ts";

/** Whether the permission `bit` (4 r, 2 w, 1 x) is granted to uid/gid by this mode and owner. */
export function modeAllows(
  mode: number,
  owner: { uid: number; gid: number },
  user: { uid: number; gid: number },
  bit: number,
): boolean {
  if (user.uid === 0) return bit !== 1 || (mode & 0o111) !== 0;
  if (owner.uid === user.uid) return ((mode >> 6) & bit) !== 0;
  if (owner.gid === user.gid) return ((mode >> 3) & bit) !== 0;
  return (mode & bit) !== 0;
}

/** Whether `user` (with no supplementary groups, as setpriv leaves it) may execute `file`. */
export async function canExecuteAs(file: string, user: JobUser | undefined): Promise<boolean> {
  try {
    if (!user) {
      await access(file, constants.X_OK);
      return true;
    }
    const real = await realpath(file);
    if (!(await canTraverseAs(path.dirname(real), user))) return false;
    const info = await stat(real);
    return info.isFile() && modeAllows(info.mode, info, user, 1);
  } catch {
    return false;
  }
}

/** Whether `user` can reach into `dir`: execute permission on it and every directory above. */
export async function canTraverseAs(dir: string, user: JobUser): Promise<boolean> {
  try {
    let current = await realpath(dir);
    for (;;) {
      const info = await stat(current);
      if (!modeAllows(info.mode, info, user, 1)) return false;
      const parent = path.dirname(current);
      if (parent === current) return true;
      current = parent;
    }
  } catch {
    return false;
  }
}
