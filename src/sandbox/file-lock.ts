// An exclusive flock(2) on a file, held for as long as the worker lives. Node has no flock,
// so util-linux's flock(1) takes it on a descriptor the worker opened and hands down: the
// lock belongs to that open file, which stays with the worker after flock(1) exits. The
// kernel drops it when the worker closes the file or dies, kill -9 included, so a lock is
// never left behind by a crash.
import { spawn } from "node:child_process";
import { open, type FileHandle } from "node:fs/promises";

/** flock(1)'s exit status when `--nonblock` finds the lock taken (its `-E`). */
const LOCK_TAKEN_EXIT = 75;

export interface HeldLock {
  readonly path: string;
  release(): Promise<void>;
}

/**
 * Takes the lock on `path` (created if missing) without waiting. Resolves `undefined` when
 * another process, or another open file of this one, holds it.
 */
export async function tryLockFile(flockPath: string, path: string): Promise<HeldLock | undefined> {
  const handle: FileHandle = await open(path, "a", 0o600);
  try {
    const status = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(flockPath, ["--nonblock", "-E", String(LOCK_TAKEN_EXIT), "3"], {
        stdio: ["ignore", "ignore", "pipe", handle.fd],
      });
      let stderr = "";
      child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
      child.once("error", reject);
      child.once("close", (code) =>
        code === 0 || code === LOCK_TAKEN_EXIT
          ? resolve(code)
          : reject(new Error(`flock ${path}: ${stderr.trim() || `exit code ${String(code)}`}`)),
      );
    });
    if (status === 0) return { path, release: () => handle.close() };
  } catch (error) {
    await handle.close();
    throw error;
  }
  await handle.close();
  return undefined;
}
