// Start-up: what of the host the jobs' view holds (view.ts), found once. Which system dirs
// exist, which of their entries a job run as root must not read (root-only files, sockets),
// and where the interpreters are installed. /usr and /lib* come from packages and are not
// scanned; /etc and /opt are, with a bound on the walk.
import { lstat, open, readdir, readlink, realpath, rm } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import type { Interpreters } from "./types.ts";
import {
  isInside,
  SCANNED_DIRS,
  SYSTEM_DIRS,
  type HostSymlink,
  type HostView,
  type MaskedPath,
} from "./view.ts";

/** Entries looked at under one scanned dir before giving it up (a normal /etc holds ~1,500). */
const MAX_SCANNED_ENTRIES = 50_000;
/** Masks under one scanned dir before giving it up: each is a mount in every job's sandbox. */
const MAX_MASKS = 256;

// Made and removed within a moment by shadow-utils and editors (passwd.lock, shadow+, x~): a
// mask over one that is gone by the time a job starts would fail bwrap for every job.
const TRANSIENT_NAME = /(\.lock|\+|~)$/;

export interface ViewProbe {
  readonly view: HostView;
  /** Warnings, one line each: a scanned dir left out of the view, and why. */
  readonly notes: readonly string[];
}

interface ScanResult {
  readonly masked: MaskedPath[];
  /** Why the dir cannot be shown safely; absent when the walk finished within its bounds. */
  readonly problem?: string;
}

/** Walks `root` breadth first, without following symlinks, for what a job must not open. */
export async function scanForMasks(
  root: string,
  maxEntries = MAX_SCANNED_ENTRIES,
  maxMasks = MAX_MASKS,
): Promise<ScanResult> {
  const masked: MaskedPath[] = [];
  const queue = [root];
  let seen = 0;
  for (let dir = queue.shift(); dir !== undefined; dir = queue.shift()) {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    seen += entries.length;
    if (seen > maxEntries) return { masked, problem: `more than ${maxEntries} entries` };
    // A directory's entries are looked at together: one at a time, /opt took 0.7 s here.
    // lstat, not the entry's type: some filesystems do not report it.
    const infos = await Promise.all(
      entries.map((entry) =>
        entry.isSymbolicLink()
          ? Promise.resolve(undefined)
          : lstat(path.join(dir, entry.name)).catch(() => undefined),
      ),
    );
    for (const [index, entry] of entries.entries()) {
      const full = path.join(dir, entry.name);
      const info = infos[index];
      if (!info || info.isSymbolicLink()) continue;
      // A FIFO is a way to talk to a host process too.
      if (info.isSocket() || info.isFIFO()) {
        masked.push({ path: full, isDirectory: false, why: "socket" });
      } else {
        if (info.isDirectory()) {
          // Listing and entering both need "other" bits; one without the other stays hidden.
          if ((info.mode & 0o005) === 0o005) queue.push(full);
          else masked.push({ path: full, isDirectory: true, why: "root-only" });
        } else if ((info.mode & 0o004) === 0 && !TRANSIENT_NAME.test(entry.name)) {
          masked.push({ path: full, isDirectory: false, why: "root-only" });
        }
      }
      if (masked.length > maxMasks)
        return { masked, problem: `more than ${maxMasks} root-only entries and sockets` };
    }
  }
  return { masked };
}

async function systemDirsAndLinks(): Promise<{ dirs: string[]; links: HostSymlink[] }> {
  const dirs: string[] = [];
  const links: HostSymlink[] = [];
  const found = await Promise.all(
    SYSTEM_DIRS.map(async (dir) => ({ dir, info: await lstat(dir).catch(() => undefined) })),
  );
  for (const { dir, info } of found) {
    if (info?.isDirectory()) dirs.push(dir);
  }
  for (const { dir, info } of found) {
    if (!info?.isSymbolicLink()) continue;
    const real = await realpath(dir).catch(() => undefined);
    if (real === undefined) continue;
    // A link into a bound dir (merged /usr) is recreated; one that leads elsewhere is bound
    // as the directory it reaches.
    if (dirs.some((bound) => isInside(real, bound))) {
      links.push({ path: dir, target: await readlink(dir) });
    } else if ((await lstat(real).catch(() => undefined))?.isDirectory()) {
      dirs.push(dir);
    }
  }
  return { dirs, links };
}

/** The install prefixes python reports (a venv's and the python it was made from). */
async function pythonTrees(executable: string): Promise<string[]> {
  const asked = await execa(
    executable,
    [
      "-I",
      "-c",
      "import sys; print(sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, sep='\\n')",
    ],
    { reject: false, timeout: 10_000 },
  );
  if (asked.exitCode !== 0) return [];
  const prefixes = asked.stdout.split("\n").filter((line) => line.startsWith("/"));
  const real = await Promise.all(prefixes.map((prefix) => realpath(prefix).catch(() => prefix)));
  return [...prefixes, ...real];
}

/** `trees` less "/", duplicates, and those inside a system dir or inside another tree. */
export function outermostTrees(trees: readonly string[], systemDirs: readonly string[]): string[] {
  const candidates = [...new Set(trees.map((tree) => path.resolve(tree)))]
    .filter((tree) => tree !== "/")
    .filter((tree) => !systemDirs.some((dir) => isInside(tree, dir)));
  return candidates
    .filter((tree) => !candidates.some((other) => other !== tree && isInside(tree, other)))
    .sort();
}

/** Where /etc/resolv.conf really is, when that is outside the view (systemd-resolved's /run). */
async function resolverFiles(systemDirs: readonly string[]): Promise<string[]> {
  const real = await realpath("/etc/resolv.conf").catch(() => undefined);
  return real !== undefined && !systemDirs.some((dir) => isInside(real, dir)) ? [real] : [];
}

/** An empty file no one may open, to bind over masked files. */
async function makeMaskFile(file: string): Promise<void> {
  await rm(file, { force: true });
  const handle = await open(file, "wx", 0o000);
  await handle.close();
}

export interface ViewProbeOptions {
  readonly interpreters: Interpreters;
  /** Where to make the mask file: a path jobs cannot see (in the worker's log dir). */
  readonly maskFile: string;
}

export async function probeHostView(options: ViewProbeOptions): Promise<ViewProbe> {
  const notes: string[] = [];
  const python = options.interpreters.python;
  // Python starts while the dirs are walked: both take a good part of a second on a busy host.
  const treesFound = python ? pythonTrees(python.path) : Promise.resolve([]);
  const { dirs, links } = await systemDirsAndLinks();
  const scans = await Promise.all(
    dirs.map((dir) =>
      (SCANNED_DIRS as readonly string[]).includes(dir)
        ? scanForMasks(dir)
        : Promise.resolve<ScanResult>({ masked: [] }),
    ),
  );
  const masked: MaskedPath[] = [];
  const systemDirs: string[] = [];
  for (const [index, dir] of dirs.entries()) {
    const scan: ScanResult = scans[index] ?? { masked: [] };
    if (scan.problem === undefined) {
      systemDirs.push(dir);
      masked.push(...scan.masked);
    } else {
      notes.push(
        `warning: ${dir} is left out of the jobs' view: ${scan.problem} to look through for root-only files and sockets`,
      );
    }
  }
  const trees = await treesFound;
  await makeMaskFile(options.maskFile);
  return {
    notes,
    view: {
      systemDirs,
      systemLinks: links,
      interpreterTrees: outermostTrees(trees, systemDirs),
      masked,
      maskFile: options.maskFile,
      networkFiles: await resolverFiles(systemDirs),
    },
  };
}
