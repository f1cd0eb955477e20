// Finds, once at start-up, where this worker may make job cgroups: v2 where the unified
// hierarchy has the memory and pids controllers, else v1 per-controller mounts (hybrid hosts,
// hosts without systemd). Parsing is pure; the probe writes a trial cgroup to be sure.
import { mkdir, readFile, rmdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { CgroupSetup } from "./types.ts";

export interface CgroupMount {
  readonly type: "cgroup" | "cgroup2";
  readonly mountPoint: string;
  /** v1 controllers of this mount (from its options); empty for v2. */
  readonly controllers: readonly string[];
}

/** Parses /proc/self/mounts for cgroup filesystems. */
export function parseCgroupMounts(mounts: string): CgroupMount[] {
  const found: CgroupMount[] = [];
  for (const line of mounts.split("\n")) {
    const [, mountPoint, type, options] = line.split(" ");
    if (mountPoint === undefined || options === undefined) continue;
    if (type === "cgroup2") found.push({ type, mountPoint, controllers: [] });
    if (type === "cgroup") found.push({ type, mountPoint, controllers: options.split(",") });
  }
  return found;
}

/** Parses /proc/self/cgroup into controller -> path ("" for the v2 line). */
export function parseOwnCgroups(text: string): Map<string, string> {
  const own = new Map<string, string>();
  for (const line of text.split("\n")) {
    const match = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!match) continue;
    const [, controllers = "", cgroupPath = "/"] = match;
    for (const controller of controllers.split(",")) own.set(controller, cgroupPath);
  }
  return own;
}

export type CgroupProbe =
  | { readonly available: true; readonly setup: CgroupSetup; readonly note: string }
  | { readonly available: false; readonly note: string };

const BASE_NAME = "modulate";

async function trialV1(pidsRoot: string, memoryRoot: string): Promise<void> {
  for (const root of [pidsRoot, memoryRoot]) await mkdir(root, { recursive: true });
  const trial = `probe-${process.pid}`;
  await mkdir(path.join(pidsRoot, trial));
  try {
    await writeFile(path.join(pidsRoot, trial, "pids.max"), "10");
  } finally {
    await rmdir(path.join(pidsRoot, trial));
  }
}

async function setupV1(
  mounts: CgroupMount[],
  own: Map<string, string>,
): Promise<CgroupSetup | undefined> {
  const pidsMount = mounts.find((m) => m.type === "cgroup" && m.controllers.includes("pids"));
  const memoryMount = mounts.find((m) => m.type === "cgroup" && m.controllers.includes("memory"));
  if (!pidsMount || !memoryMount) return undefined;
  // Under the worker's own cgroup, so that whatever limits the worker itself are kept.
  const pidsRoot = path.join(pidsMount.mountPoint, own.get("pids") ?? "/", BASE_NAME);
  const memoryRoot = path.join(memoryMount.mountPoint, own.get("memory") ?? "/", BASE_NAME);
  await trialV1(pidsRoot, memoryRoot);
  return { version: 1, pidsRoot, memoryRoot };
}

/**
 * v2's "no internal processes" rule: controllers can be handed to children only from a
 * cgroup without processes of its own. So the worker moves itself into a leaf beside the
 * jobs' parent, then enables memory and pids for both levels.
 */
async function setupV2(
  mounts: CgroupMount[],
  own: Map<string, string>,
): Promise<CgroupSetup | undefined> {
  const unified = mounts.find((m) => m.type === "cgroup2");
  if (!unified) return undefined;
  const ownDir = path.join(unified.mountPoint, own.get("") ?? "/");
  const available = (await readFile(path.join(ownDir, "cgroup.controllers"), "utf8")).split(/\s+/);
  if (!available.includes("memory") || !available.includes("pids")) return undefined;
  const leaf = path.join(ownDir, `${BASE_NAME}-worker-${process.pid}`);
  await mkdir(leaf, { recursive: true });
  await writeFile(path.join(leaf, "cgroup.procs"), String(process.pid));
  await writeFile(path.join(ownDir, "cgroup.subtree_control"), "+memory +pids");
  const root = path.join(ownDir, BASE_NAME);
  await mkdir(root, { recursive: true });
  await writeFile(path.join(root, "cgroup.subtree_control"), "+memory +pids");
  return { version: 2, root };
}

/** Probes once; never throws: a host without writable cgroups runs jobs with rlimits only. */
export async function probeCgroups(): Promise<CgroupProbe> {
  let mounts: CgroupMount[];
  let own: Map<string, string>;
  try {
    mounts = parseCgroupMounts(await readFile("/proc/self/mounts", "utf8"));
    own = parseOwnCgroups(await readFile("/proc/self/cgroup", "utf8"));
  } catch (error) {
    return { available: false, note: `cannot read cgroup mounts: ${String(error)}` };
  }
  const failures: string[] = [];
  for (const [label, attempt] of [
    ["v2", setupV2],
    ["v1", setupV1],
  ] as const) {
    try {
      const setup = await attempt(mounts, own);
      if (setup) {
        const where = setup.version === 2 ? setup.root : `${setup.pidsRoot}, ${setup.memoryRoot}`;
        return { available: true, setup, note: `cgroup ${label} (memory, pids) under ${where}` };
      }
      failures.push(`${label}: memory and pids controllers not both mounted`);
    } catch (error) {
      failures.push(`${label}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return { available: false, note: `no writable cgroups (${failures.join("; ")})` };
}
