// The command line that actually runs: the job's own program behind the wrappers that put it
// in its cgroups, set its rlimits, isolate it and switch its user. Pure.
import { buildBwrapArgs } from "./bwrap-args.ts";
import { UNPROBED_VIEW } from "./view.ts";
import { PYTHON_FLAGS, startsWithPythonFlags } from "./python-flags.ts";
import { jobRlimits, prlimitOptions, shellUlimitLines, type JobRlimits } from "./limits.ts";
import type { JobPlan } from "./prepare.ts";
import type { SandboxConfig } from "./types.ts";
import { fitsCommandLine, sameStart, warmRlimits, type WarmRecord } from "./warm-python.ts";

export interface LaunchCommand {
  readonly file: string;
  readonly args: readonly string[];
  /** `ulimit` lines a shell must run before it execs `file` (in place of prlimit). */
  readonly shellSetup?: readonly string[];
}

/** Exit status of the join wrapper when it cannot enter the job's cgroup. */
export const CGROUP_JOIN_FAILED_EXIT = 125;

// The job must be inside its cgroups before it can fork, or early children would escape
// them; so a shell joins them with its own pid and then execs the rest in place.
const JOIN_SCRIPT = `for f; do shift; [ "$f" = -- ] && break; echo $$ > "$f" || exit ${CGROUP_JOIN_FAILED_EXIT}; done; exec "$@"`;

/**
 * Order matters: cgroup join (needs root) -> prlimit (limits survive exec and the user
 * switch) -> bwrap (as root, so it needs no user namespaces) -> setpriv (drops to the job
 * user, clears capabilities, sets no_new_privs) -> the script.
 */
export function buildLaunchCommand(
  plan: JobPlan,
  config: SandboxConfig,
  cgroupProcsFiles: readonly string[],
  {
    rlimitsInShell = false,
    insideSandbox = false,
  }: {
    /** The command is exec'd by a shell that can set the rlimits itself (standby.ts). */
    rlimitsInShell?: boolean;
    /** That shell waits inside a sandbox made for this job already (standby-sandbox.ts). */
    insideSandbox?: boolean;
  } = {},
): LaunchCommand {
  const argv: string[] = [];
  let shellSetup: string[] | undefined;
  if (cgroupProcsFiles.length > 0)
    argv.push("/bin/sh", "-c", JOIN_SCRIPT, "sh", ...cgroupProcsFiles, "--");
  if (config.prlimitPath) {
    const rlimits = jobRlimitsOf(plan, config);
    shellSetup = rlimitsInShell ? shellUlimitLines(rlimits) : undefined;
    if (!shellSetup) argv.push(config.prlimitPath, ...prlimitOptionsOf(plan, config), "--");
  }
  if (config.mode === "bwrap" && config.bwrapPath && !insideSandbox) {
    argv.push(config.bwrapPath, ...jobBwrapArgs(config, sandboxShapeOf(plan)));
  }
  argv.push(...setprivArgs(config));
  argv.push(plan.program, ...plan.args);
  const [file, ...args] = argv;
  return { file: file ?? plan.program, args, ...(shellSetup ? { shellSetup } : {}) };
}

/** setpriv and its options, up to the `--`, where jobs run as a user of their own; else none. */
export function setprivArgs(config: SandboxConfig): string[] {
  if (!config.jobUser || !config.setprivPath) return [];
  const { uid, gid } = config.jobUser;
  return [
    config.setprivPath,
    `--reuid=${uid}`,
    `--regid=${gid}`,
    "--clear-groups",
    "--inh-caps=-all",
    "--bounding-set=-all",
    "--no-new-privs",
    "--",
  ];
}

function coverageOf(plan: JobPlan, config: SandboxConfig): { memory: boolean; pids: boolean } {
  const covered = cgroupCoverage(config);
  // V8 reserves its code range as writable private memory, which RLIMIT_DATA counts: node
  // aborts at start under any useful value. Without cgroups a node job has no memory limit.
  return { ...covered, memory: covered.memory || plan.runtime === "node" };
}

/** The job's rlimits (what prlimit, a standby's `ulimit`s or a warm python set). */
export function jobRlimitsOf(plan: JobPlan, config: SandboxConfig): JobRlimits {
  return jobRlimits(plan.limits, coverageOf(plan, config));
}

function prlimitOptionsOf(plan: JobPlan, config: SandboxConfig): string[] {
  return prlimitOptions(plan.limits, coverageOf(plan, config));
}

/** What a warm python (warm-python.ts) was started as, which a job must match to run in it. */
export interface WarmStart {
  /** The interpreter it is: the worker's python. */
  readonly python: string;
  /** The environment it was started with (the part of the jobs' base it reads at start). */
  readonly startEnv: Readonly<Record<string, string>>;
}

/**
 * The record that makes a warm python its job: the script run in it where the job is one of
 * the worker's python (`PYTHON -I SCRIPT ARGS`) and its environment starts python the same
 * way; otherwise the job's own command, exec'd by the loader in its place (it is the job's
 * user already, in the job's sandbox, with the job's limits set), as the standby's shell
 * would. Run by the loader inside the sandbox, behind setpriv: no wrapper of its own.
 */
export function warmRecord(
  plan: JobPlan,
  env: Readonly<Record<string, string>>,
  config: SandboxConfig,
  warm: WarmStart,
): WarmRecord {
  // The standby's shell `cd`s before it execs, and dash exports PWD: a cold job sees it too.
  const jobEnv = { PWD: plan.cwd, ...env };
  const argv = [plan.program, ...plan.args];
  const runsInPython =
    plan.program === warm.python &&
    startsWithPythonFlags(plan.args) &&
    plan.args[PYTHON_FLAGS.length] === plan.scriptPath &&
    sameStart(env, warm.startEnv) &&
    fitsCommandLine(warm.python, argv);
  return {
    mode: runsInPython ? "run" : "exec",
    cwd: plan.cwd,
    argv,
    env: jobEnv,
    rlimits: config.prlimitPath ? warmRlimits(jobRlimitsOf(plan, config)) : [],
    startNames: Object.keys(warm.startEnv),
  };
}

function cgroupCoverage(config: SandboxConfig): { memory: boolean; pids: boolean } {
  return { memory: config.cgroup !== undefined, pids: config.cgroup !== undefined };
}

/** What of a job its bwrap sandbox depends on, besides the worker's configuration. */
export interface SandboxShape {
  readonly workDir: string;
  readonly network: boolean;
  readonly gpus: boolean;
  /** Size of its private /tmp. */
  readonly tmpSizeBytes: number;
}

export function sandboxShapeOf(plan: JobPlan): SandboxShape {
  return {
    workDir: plan.workDir,
    network: plan.network,
    gpus: plan.gpuIds.length > 0,
    tmpSizeBytes: plan.limits.maxFileBytes,
  };
}

export function sameSandboxShape(a: SandboxShape, b: SandboxShape): boolean {
  return (
    a.workDir === b.workDir &&
    a.network === b.network &&
    a.gpus === b.gpus &&
    a.tmpSizeBytes === b.tmpSizeBytes
  );
}

/** bwrap's arguments for a job of this shape, up to and including the `--`. */
export function jobBwrapArgs(config: SandboxConfig, shape: SandboxShape): string[] {
  return buildBwrapArgs({
    workDir: shape.workDir,
    view: config.view ?? UNPROBED_VIEW,
    hiddenPaths: [config.workRoot, ...(config.hiddenPaths ?? [])],
    // The interpreters stay visible even where a tmpfs hides their directory. All of them,
    // whichever the job uses, so that a sandbox made before its job is known fits any job.
    readOnlyPaths: interpreterPaths(config),
    network: shape.network,
    devicePaths: shape.gpus ? (config.gpuDevicePaths ?? []) : [],
    tmpSizeBytes: shape.tmpSizeBytes,
    userSwitchInside: config.jobUser !== undefined,
  });
}

function interpreterPaths(config: SandboxConfig): string[] {
  const { python, bash, node } = config.interpreters;
  return [
    ...[python, bash, node].flatMap((interpreter) => (interpreter ? [interpreter.path] : [])),
    ...(config.namedInterpreterPaths ?? []),
  ];
}
