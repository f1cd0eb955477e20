// One build for the whole run: bin/modulate and dist/ copied into the run's temp dir, and
// every process of the bench (server, router, workers, every CLI run) started from the copy.
// Other engineers' tests rebuild dist/ in their set-up, which would otherwise mix two builds
// in one run's figures (and a process that loads a chunk late could load a deleted one).
// Processes are started by e2e-cluster.ts's starters, given the copy's path.
import { cp, mkdir, stat, symlink } from "node:fs/promises";
import { join } from "node:path";
import { ROOT } from "./e2e-cluster.ts";
import { timeCommand } from "./ops-spawn.ts";

const COPY_TRIES = 3;

export interface PrivateCli {
  /** The copy's bin/modulate. */
  readonly modulate: string;
  readonly distBuiltAt: string;
}

/** Copies bin/ and dist/ under `root`, again if dist/ changed while it copied. */
export async function privateCli(root: string): Promise<PrivateCli> {
  const dist = join(ROOT, "dist");
  for (let attempt = 1; attempt <= COPY_TRIES; attempt += 1) {
    const dir = join(root, `cli-${attempt}`);
    const before = (await stat(join(dist, "modulate.mjs"))).mtimeMs;
    await mkdir(join(dir, "bin"), { recursive: true });
    await cp(join(ROOT, "bin", "modulate"), join(dir, "bin", "modulate"));
    await cp(dist, join(dir, "dist"), { recursive: true });
    // The shim runs ../node_modules/node/bin/node; the bundle inlines its packages.
    await symlink(join(ROOT, "node_modules"), join(dir, "node_modules"));
    const after = (await stat(join(dist, "modulate.mjs"))).mtimeMs;
    const modulate = join(dir, "bin", "modulate");
    const check = await timeCommand(modulate, ["--version"]);
    if (before === after && check.code === 0) {
      return { modulate, distBuiltAt: new Date(before).toISOString() };
    }
  }
  throw new Error("dist/ kept changing while it was copied: run the bench again");
}
