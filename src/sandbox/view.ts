// What of the host a job sees under bwrap: an allow-list, found once at start-up
// (view-probe.ts) and turned into bwrap's arguments for each job (bwrap-args.ts). Plain data.
// Everything not named here (/root, /home, /run, /var, /srv, /mnt, the worker's and the
// server's data) is absent from the job's root, which is an empty tmpfs.

/** A top-level name that is a symlink on the host, e.g. /bin -> usr/bin on a merged-/usr system. */
export interface HostSymlink {
  readonly path: string;
  readonly target: string;
}

/** A path inside the view that a job must not open; covered by an empty one of mode 0. */
export interface MaskedPath {
  readonly path: string;
  /** A directory is covered by an empty tmpfs, anything else by the view's `maskFile`. */
  readonly isDirectory: boolean;
  /** `root-only`: not readable by "other" (a job run as root would read it as its owner). */
  readonly why: "root-only" | "socket";
}

export interface HostView {
  /** Host directories bound read-only at the same path: /usr, /etc, /opt, /lib... that exist. */
  readonly systemDirs: readonly string[];
  /** Top-level symlinks recreated as such (merged /usr), so /bin/sh and /lib64/ld-* resolve. */
  readonly systemLinks: readonly HostSymlink[];
  /**
   * Install trees of the interpreters outside the system dirs, bound read-only: a pyenv
   * python's prefix (/root/.pyenv/versions/3.11.7), never the home it sits in.
   */
  readonly interpreterTrees: readonly string[];
  /** Root-only entries and unix sockets (and FIFOs) found in the scanned system dirs. */
  readonly masked: readonly MaskedPath[];
  /** An empty host file of mode 0, bound over each masked path that is not a directory. */
  readonly maskFile: string;
  /** Host files outside the view bound only for a job granted the network: resolv.conf's target. */
  readonly networkFiles: readonly string[];
}

/** The system directories a program needs, in the order they are bound; missing ones are left out. */
export const SYSTEM_DIRS = [
  "/usr",
  "/bin",
  "/sbin",
  "/lib",
  "/lib32",
  "/lib64",
  "/libx32",
  "/etc",
  "/opt",
] as const;

/** The system dirs whose files are not all from packages: scanned for root-only files and sockets. */
export const SCANNED_DIRS = ["/etc", "/opt"] as const;

/**
 * What sysfs a GPU job sees: the hardware tree CUDA and NVML read (Flatpak binds the same set
 * for its GPU apps), not /sys/kernel or /sys/firmware.
 */
export const GPU_SYS_DIRS = [
  "/sys/block",
  "/sys/bus",
  "/sys/class",
  "/sys/dev",
  "/sys/devices",
] as const;

/**
 * The view for a configuration made without a start-up probe (by hand, in tests): the program
 * directories only, with neither /etc nor /opt, whose root-only files only a probe can find.
 */
export const UNPROBED_VIEW: HostView = {
  systemDirs: ["/usr", "/bin", "/sbin", "/lib", "/lib64"],
  systemLinks: [],
  interpreterTrees: [],
  masked: [],
  maskFile: "/dev/null",
  networkFiles: [],
};

export function isInside(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir === "/" ? "/" : `${dir}/`);
}

/** "9 root-only files and 1 socket" for the masked paths under `dir`; empty when none. */
function maskedSummary(masked: readonly MaskedPath[], dir: string): string {
  const inside = masked.filter((entry) => isInside(entry.path, dir));
  const rootOnly = inside.filter((entry) => entry.why === "root-only").length;
  const sockets = inside.length - rootOnly;
  const parts = [
    ...(rootOnly > 0 ? [`${rootOnly} root-only ${rootOnly === 1 ? "entry" : "entries"}`] : []),
    ...(sockets > 0 ? [`${sockets} ${sockets === 1 ? "socket" : "sockets"}`] : []),
  ];
  return parts.join(" and ");
}

/** In words, what a job can read: "/usr, /etc less 9 root-only entries, /opt, /root/.pyenv/...". */
export function describeView(view: HostView): string {
  const shown = [...view.systemDirs, ...view.interpreterTrees].map((dir) => {
    const less = maskedSummary(view.masked, dir);
    return less ? `${dir} less ${less}` : dir;
  });
  return shown.join(", ");
}

/**
 * The start-up line for a worker whose jobs run as root: what they can read, and how to stop
 * that. Under no sandbox they read everything root can.
 */
export function rootJobsNote(view: HostView | undefined): string {
  const limits = "process limits do not bind them";
  const fix = "pass --run-as USER to run them unprivileged";
  if (!view)
    return `warning: jobs run as root with no sandbox: they can read and change all root can, and ${limits}; ${fix}`;
  return `warning: jobs run as root: ${limits}, and they can read what the sandbox shows (${describeView(view)}), not /root, /home, /run or data dirs; ${fix}`;
}
