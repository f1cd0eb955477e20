// bubblewrap's argument vector for one job. Pure: options in, argv out. What the host holds
// (the view, whether bwrap works at all) is found out once at start-up (probe.ts,
// view-probe.ts), never here.
//
// The job's root is an empty tmpfs into which only the view is put: the system dirs
// read-only, less what a job run as root must not read, the interpreters' install trees, a
// private /tmp, /dev and /proc, and the job's own directory. /root, /home, /run, /var and the
// worker's and server's data are not there at all, and so no host unix socket is either.
import { dirname, resolve } from "node:path";
import { GPU_SYS_DIRS, isInside, type HostView } from "./view.ts";

export interface BwrapOptions {
  /** The job's directory: the only host path it can write. */
  readonly workDir: string;
  /** What of the host the job sees (found at start-up). */
  readonly view: HostView;
  /**
   * Host paths covered by an empty tmpfs where the view would show them (the work root, the
   * worker's data dir, when they lie under a system dir); must exist there. Others are absent.
   */
  readonly hiddenPaths: readonly string[];
  /** Keep the host's network; otherwise the job gets a namespace with only loopback. */
  readonly network: boolean;
  /**
   * Host paths the job must still see read-only where the view does not show them, e.g. its
   * interpreter when modulate itself was copied into /tmp (a missing one is skipped).
   */
  readonly readOnlyPaths?: readonly string[];
  /** Device nodes to bind, e.g. /dev/nvidia0 (a missing one is skipped by bwrap); with them
   * the job also sees sysfs's hardware tree, which CUDA and NVML read. */
  readonly devicePaths: readonly string[];
  /** Size cap of the private /tmp and /dev/shm; their pages also count against the job's memory cgroup. */
  readonly tmpSizeBytes?: number;
  /**
   * A user switch (setpriv) runs inside: keep only the capabilities it needs to change user
   * and drop its bounding set; it gives them all up before the script starts.
   */
  readonly userSwitchInside: boolean;
}

const USER_SWITCH_CAPS = ["CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP"] as const;

// Directories bwrap makes on the way to a mount are 0700, which a job user could not pass
// through; these are made passable but not listable, so they show nothing but the way down.
const PASSAGE_MODE = "0111";

/** The mounts made so far: a path under a tmpfs can be made, one under a read-only bind exists. */
class MountTable {
  readonly #mounts = new Map<string, "tmpfs" | "bound">([["/", "tmpfs"]]);
  readonly #made = new Set<string>();

  add(path: string, kind: "tmpfs" | "bound"): void {
    this.#mounts.set(resolve(path), kind);
  }

  /** The deepest mount strictly above `path`. */
  #above(path: string): [string, "tmpfs" | "bound"] {
    let best: [string, "tmpfs" | "bound"] = ["/", "tmpfs"];
    for (const [mount, kind] of this.#mounts) {
      if (mount !== path && isInside(path, mount) && mount.length >= best[0].length)
        best = [mount, kind];
    }
    return best;
  }

  /** Whether `path` shows through a read-only bind (and no tmpfs hides it). */
  shows(path: string): boolean {
    const target = resolve(path);
    const kind = this.#mounts.get(target) ?? this.#above(target)[1];
    return kind === "bound";
  }

  /** `--dir` arguments for the directories between the nearest tmpfs above `path` and it. */
  passageTo(path: string): string[] {
    const target = resolve(path);
    const [mount, kind] = this.#above(target);
    if (kind === "bound") return [];
    const missing: string[] = [];
    for (let dir = dirname(target); dir !== mount && dir !== "/"; dir = dirname(dir)) {
      if (!this.#made.has(dir)) missing.unshift(dir);
    }
    for (const dir of missing) this.#made.add(dir);
    return missing.flatMap((dir) => ["--perms", PASSAGE_MODE, "--dir", dir]);
  }
}

/** `/bin/bash` as `/usr/bin/bash` where the view has /bin -> usr/bin. */
function throughLinks(view: HostView, path: string): string {
  for (const link of view.systemLinks) {
    if (isInside(path, link.path))
      return resolve(dirname(link.path), link.target) + path.slice(link.path.length);
  }
  return path;
}

/** Arguments for `bwrap ARGS -- program args...`, ending with the `--`. */
export function buildBwrapArgs(options: BwrapOptions): string[] {
  const { view } = options;
  const mounts = new MountTable();
  const args: string[] = [];
  for (const dir of view.systemDirs) {
    args.push("--ro-bind", dir, dir);
    mounts.add(dir, "bound");
  }
  for (const link of view.systemLinks) args.push("--symlink", link.target, link.path);
  args.push("--dev", "/dev", "--proc", "/proc");
  // Sticky and writable by all, as a job user needs them; private to the job.
  for (const dir of ["/tmp", "/dev/shm"]) {
    if (options.tmpSizeBytes !== undefined) args.push("--size", String(options.tmpSizeBytes));
    args.push("--perms", "1777", "--tmpfs", dir);
    mounts.add(dir, "tmpfs");
  }
  if (options.devicePaths.length > 0) {
    for (const dir of GPU_SYS_DIRS) {
      args.push(...mounts.passageTo(dir), "--ro-bind-try", dir, dir);
      mounts.add(dir, "bound");
    }
  }
  // Masks before hidden paths: a tmpfs hiding a directory may cover some of them.
  for (const masked of view.masked) {
    if (masked.isDirectory) args.push("--perms", "0000", "--tmpfs", masked.path);
    else args.push("--ro-bind", view.maskFile, masked.path);
  }
  // Hidden paths next: the work root is hidden, then the job's own directory is bound on top.
  for (const hidden of options.hiddenPaths) {
    if (!mounts.shows(hidden)) continue;
    args.push("--tmpfs", hidden);
    mounts.add(hidden, "tmpfs");
  }
  for (const tree of view.interpreterTrees) {
    args.push(...mounts.passageTo(tree), "--ro-bind", tree, tree);
    mounts.add(tree, "bound");
  }
  for (const path of options.readOnlyPaths ?? []) {
    if (mounts.shows(throughLinks(view, path))) continue;
    args.push(...mounts.passageTo(path), "--ro-bind-try", path, path);
    mounts.add(path, "bound");
  }
  // The resolver's file where resolv.conf points outside the view; with no network it is of no use.
  if (options.network) {
    for (const file of view.networkFiles) {
      args.push(...mounts.passageTo(file), "--ro-bind-try", file, file);
      mounts.add(file, "bound");
    }
  }
  for (const device of options.devicePaths) args.push("--dev-bind-try", device, device);
  args.push(...mounts.passageTo(options.workDir));
  args.push("--bind", options.workDir, options.workDir, "--chdir", options.workDir);
  args.push("--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try");
  // Its own network namespace also puts the host's abstract unix sockets out of reach.
  if (!options.network) args.push("--unshare-net");
  args.push("--hostname", "modulate-job");
  // --die-with-parent: if the worker dies, the whole pid namespace goes with it.
  // --new-session: the job cannot reach a terminal the worker might hold (TIOCSTI).
  args.push("--die-with-parent", "--new-session");
  // Root keeps its capabilities inside bwrap unless they are dropped.
  args.push("--cap-drop", "ALL");
  if (options.userSwitchInside) {
    for (const capability of USER_SWITCH_CAPS) args.push("--cap-add", capability);
  }
  args.push("--");
  return args;
}
