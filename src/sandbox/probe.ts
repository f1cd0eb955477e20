// Start-up: what this host can do, decided once. The worker prints the notes ("sandbox: bwrap",
// "cgroup v1 ...", "python3: ...") and passes the config to every job.
import { mkdir, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { probeCgroups } from "./cgroup-setup.ts";
import { pickBaseEnv } from "./env.ts";
import { SandboxSetupError } from "./errors.ts";
import { findOnPath, resolveInterpreters, TOOL_PATH } from "./interpreter.ts";
import { ensureJobUser } from "./job-user.ts";
import { canTraverseAs } from "./permissions.ts";
import type { JobLimits, JobUser, ResolvedInterpreter, SandboxConfig } from "./types.ts";
import { rootJobsNote, type HostView } from "./view.ts";
import { probeHostView } from "./view-probe.ts";

export type SandboxChoice = "auto" | "bwrap" | "none";

export interface SandboxSetupOptions {
  /** `auto` (default): bwrap when the probe shows it works; `none` warns. */
  readonly sandbox: SandboxChoice;
  /** `--run-as USER`; absent: jobs run as the worker's user (a warning when that is root). */
  readonly runAs?: string;
  /** Create `runAs` with useradd when missing. Default true. */
  readonly createUser?: boolean;
  /** Use cgroups where they can be written. Default true. */
  readonly cgroups?: boolean;
  readonly defaultLimits: JobLimits;
  readonly networkAllowed?: boolean;
  readonly workRoot: string;
  readonly logDir: string;
  /** `--python PATH`: the python jobs run, in place of the one found on PATH. */
  readonly python?: ResolvedInterpreter;
  /** Paths jobs must not see under bwrap, e.g. the worker's data directory. */
  readonly hiddenPaths?: readonly string[];
  /** The worker's environment: PATH for finding tools, and the base of jobs' environments. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface SandboxSetup {
  readonly config: SandboxConfig;
  /** One line each: what was chosen and why, warnings first marked "warning:". */
  readonly notes: readonly string[];
}

/** Runs `true` the way jobs will be run, so a host where bwrap cannot make namespaces is caught now. */
export async function probeBwrap(
  bwrapPath: string,
  withUserSwitch: boolean,
): Promise<string | undefined> {
  const caps = withUserSwitch ? ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"] : [];
  const args = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"];
  args.push(
    "--unshare-pid",
    "--unshare-net",
    "--unshare-ipc",
    "--die-with-parent",
    "--new-session",
  );
  args.push("--cap-drop", "ALL", ...caps, "--", "/bin/true");
  const result = await execa(bwrapPath, args, { reject: false, timeout: 10_000 });
  return result.exitCode === 0
    ? undefined
    : result.stderr.trim() || `exit code ${String(result.exitCode)}`;
}

async function nvidiaDevices(): Promise<string[]> {
  const names = await readdir("/dev").catch(() => [] as string[]);
  return names.filter((name) => name.startsWith("nvidia")).map((name) => `/dev/${name}`);
}

export async function setUpSandbox(options: SandboxSetupOptions): Promise<SandboxSetup> {
  const notes: string[] = [];
  const searchPath = `${options.env.PATH ?? ""}:${TOOL_PATH}`;
  const isRoot = process.getuid?.() === 0;

  let jobUser: JobUser | undefined;
  if (options.runAs) {
    if (!isRoot)
      throw new SandboxSetupError(`--run-as ${options.runAs} needs the worker to run as root`);
    jobUser = await ensureJobUser(options.runAs, options.createUser ?? true);
    notes.push(`jobs run as ${jobUser.name} (uid ${jobUser.uid})`);
  }

  const [prlimitPath, setprivPath, bwrapPath] = await Promise.all([
    findOnPath("prlimit", searchPath),
    findOnPath("setpriv", searchPath),
    findOnPath("bwrap", searchPath),
  ]);
  if (!prlimitPath)
    notes.push("warning: prlimit (util-linux) not found: no CPU, file size or rlimit limits");
  if (jobUser && !setprivPath)
    throw new SandboxSetupError("--run-as needs setpriv (util-linux): install util-linux");

  let mode: SandboxConfig["mode"] = "none";
  if (options.sandbox !== "none") {
    const failure = bwrapPath
      ? await probeBwrap(bwrapPath, jobUser !== undefined)
      : "bwrap not found (Debian package bubblewrap)";
    if (failure === undefined) mode = "bwrap";
    else if (options.sandbox === "bwrap")
      throw new SandboxSetupError(`--sandbox bwrap: bwrap does not work here: ${failure}`);
    else notes.push(`warning: sandbox none: ${failure}`);
  } else {
    notes.push(
      "warning: sandbox none: jobs can read what the job user can read and use the network",
    );
  }
  notes.unshift(`sandbox: ${mode}`);

  let cgroup: SandboxConfig["cgroup"];
  if (options.cgroups ?? true) {
    const probed = await probeCgroups();
    if (probed.available) cgroup = probed.setup;
    notes.push(
      probed.available
        ? probed.note
        : `warning: ${probed.note}: memory and process limits use rlimits`,
    );
  }

  const onPath = await resolveInterpreters(searchPath, jobUser);
  const interpreters = options.python ? { ...onPath, python: options.python } : onPath;
  for (const found of [interpreters.python, interpreters.bash, interpreters.node]) {
    if (found) notes.push(found.note);
  }

  await mkdir(options.workRoot, { recursive: true, mode: 0o711 });
  if (jobUser && !(await canTraverseAs(options.workRoot, jobUser))) {
    throw new SandboxSetupError(
      `work directory ${options.workRoot} is not reachable by ${jobUser.name}: every directory above it needs o+x (chmod o+x), or choose another`,
    );
  }
  await mkdir(options.logDir, { recursive: true });
  let view: HostView | undefined;
  if (mode === "bwrap") {
    // In the log dir: a path no job can see, and the worker's own.
    const probed = await probeHostView({ interpreters, maskFile: join(options.logDir, ".masked") });
    view = probed.view;
    notes.push(...probed.notes);
  }
  if (isRoot && !jobUser) notes.push(rootJobsNote(view));
  const gpuDevicePaths = await nvidiaDevices();
  // bwrap can only mount over a directory that exists on the read-only host view.
  const hiddenPaths: string[] = [];
  for (const hidden of [options.logDir, ...(options.hiddenPaths ?? [])]) {
    if ((await stat(hidden).catch(() => undefined))?.isDirectory()) hiddenPaths.push(hidden);
  }

  return {
    notes,
    config: {
      mode,
      ...(mode === "bwrap" && bwrapPath ? { bwrapPath } : {}),
      ...(prlimitPath ? { prlimitPath } : {}),
      ...(setprivPath ? { setprivPath } : {}),
      ...(jobUser ? { jobUser } : {}),
      ...(cgroup ? { cgroup } : {}),
      defaultLimits: options.defaultLimits,
      interpreters,
      networkAllowed: options.networkAllowed ?? false,
      workRoot: options.workRoot,
      logDir: options.logDir,
      ...(view ? { view } : {}),
      hiddenPaths,
      gpuDevicePaths,
      baseEnv: pickBaseEnv(options.env),
    },
  };
}
