// bubblewrap's argument vector for one job. Pure: options in, argv out. Which paths exist and
// whether bwrap works at all is found out once at start-up (probe.ts), never here.
import { dirname, resolve } from "node:path";

export interface BwrapOptions {
  /** The job's directory: the only host path it can write. */
  readonly workDir: string;
  /** Host paths covered by an empty tmpfs (the work root, the worker's data dir); must exist. */
  readonly hiddenPaths: readonly string[];
  /** Keep the host's network; otherwise the job gets a namespace with only loopback. */
  readonly network: boolean;
  /**
   * Host paths the job must still see read-only although a tmpfs above covers them, e.g. its
   * interpreter when modulate itself was copied into /tmp (a missing one is skipped).
   */
  readonly readOnlyPaths?: readonly string[];
  /** Device nodes to bind, e.g. /dev/nvidia0 (a missing one is skipped by bwrap). */
  readonly devicePaths: readonly string[];
  /** Size cap of the private /tmp; its pages also count against the job's memory cgroup. */
  readonly tmpSizeBytes?: number;
  /**
   * A user switch (setpriv) runs inside: keep only the capabilities it needs to change user
   * and drop its bounding set; it gives them all up before the script starts.
   */
  readonly userSwitchInside: boolean;
}

const USER_SWITCH_CAPS = ["CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP"] as const;

/** The directories strictly between the deepest hidden ancestor of `dir` and `dir`. */
function dirsBetween(hiddenPaths: readonly string[], dir: string): string[] {
  const ancestors = hiddenPaths
    .map((hidden) => resolve(hidden))
    .filter((hidden) => dir.startsWith(`${hidden}/`))
    .sort((a, b) => b.length - a.length);
  const top = ancestors[0];
  if (top === undefined) return [];
  const between: string[] = [];
  for (let parent = dirname(dir); parent !== top; parent = dirname(parent)) between.unshift(parent);
  return between;
}

/** Arguments for `bwrap ARGS -- program args...`, ending with the `--`. */
export function buildBwrapArgs(options: BwrapOptions): string[] {
  const args = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"];
  if (options.tmpSizeBytes !== undefined) args.push("--size", String(options.tmpSizeBytes));
  args.push("--tmpfs", "/tmp");
  // Hidden paths first: the work root is hidden, then the job's own directory is bound on top.
  for (const hidden of options.hiddenPaths) args.push("--tmpfs", hidden);
  for (const path of options.readOnlyPaths ?? []) args.push("--ro-bind-try", path, path);
  for (const device of options.devicePaths) args.push("--dev-bind-try", device, device);
  // bwrap would make the directories between a hidden path and the job's directory 0700,
  // which the job user could not pass through (they hold only the way down, nothing else).
  for (const dir of dirsBetween(options.hiddenPaths, options.workDir)) args.push("--dir", dir);
  args.push("--bind", options.workDir, options.workDir, "--chdir", options.workDir);
  args.push("--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try");
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
