// What `worker` and `dev` both do before taking jobs: decide the sandbox once, with the
// worker's limits, make the jobs' disk areas, and say what was chosen.
import { realpathSync } from "node:fs";
import { homedir, totalmem } from "node:os";
import { join } from "node:path";
import { UserError } from "../common/errors.ts";
import { MIN_AREA_BYTES } from "../sandbox/disk-quota.ts";
import { SandboxSetupError } from "../sandbox/errors.ts";
import type { CgroupSlots } from "../sandbox/cgroup-slots.ts";
import type { DiskAreas, DiskAreasSetup } from "../sandbox/disk-areas.ts";
import { formatBytes } from "../common/units.ts";
import type { SandboxChoice } from "../sandbox/probe.ts";
import { PYTHON_FLAGS } from "../sandbox/python-flags.ts";
import type { JobLimits, ResolvedInterpreter, SandboxConfig } from "../sandbox/types.ts";
import { parseBytes } from "../common/units.ts";

export interface WorkerSandboxOptions {
  sandbox: SandboxChoice;
  runAs?: string;
  python?: string;
  workDir?: string;
  limits: JobLimits;
  networkAllowed: boolean;
  /** Jobs run at once, over all the worker's groups: one disk area each. */
  slots: number;
  /** `--max-disk`: each job's disk quota; 0: none; absent: from the free space. */
  maxDiskBytes?: number;
  /** Whether the worker has GPUs to hand out (its standby sandboxes are made with them). */
  gpus?: boolean;
  /** Paths of its named interpreters (`--interpreter`), shown read-only under bwrap. */
  namedInterpreterPaths?: readonly string[];
  /**
   * Idle slots wait as a python already started for their next job (`--no-warm-python`:
   * off). Default on.
   */
  warmPython?: boolean;
}

export interface WorkerSandbox {
  config: SandboxConfig;
  notes: readonly string[];
  /** The jobs' disk areas, where made: lease one per job; close them when stopping. */
  disk?: DiskAreas;
  /** One cgroup per slot, where cgroups work: lend one per job; close them when stopping. */
  cgroups?: CgroupSlots;
  /** Whether its .py jobs run in a python started before them (`modulate workers` says so). */
  warmPython?: boolean;
}

/**
 * The options of a worker's sandbox, which `worker` and `dev` both take: `dev`'s workers are
 * workers too, and its own messages point at these options.
 */
export const workerSandboxOptions = {
  "run-as": {
    type: "string",
    describe:
      "Run jobs as this unprivileged user (created if missing); needed for limits to bind when the worker is root",
  },
  "max-disk": {
    type: "string",
    describe:
      "Disk space of one job, or off: each slot gets a loop-mounted filesystem of this size (needs root) [default: half the free space of --work-dir over the slots, at most 64G]",
  },
  "allow-network": {
    type: "boolean",
    default: false,
    describe: "Let jobs that ask for the network have it",
  },
} as const;

/** `--max-disk`: a size, or `off` (also 0) for no quota; absent: the worker picks. */
export function maxDiskFrom(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (text.trim() === "off") return 0;
  const bytes = parseBytes(text, "--max-disk");
  if (bytes !== 0 && bytes < MIN_AREA_BYTES) {
    throw new UserError(
      `--max-disk ${text} is too small: a job's area needs at least 16M; give e.g. 2G, or off`,
    );
  }
  return bytes;
}

/** The worker's ceilings when no flag lowers them. */
export function defaultJobLimits(): JobLimits {
  return {
    timeoutMs: 24 * 60 * 60 * 1000,
    killGraceMs: 10_000,
    cpuTimeMs: 7 * 24 * 60 * 60 * 1000,
    memoryBytes: totalmem(),
    maxFileBytes: 64 * 1024 ** 3,
    maxProcs: 4096,
    maxOutputBytes: 16 * 1024 * 1024,
  };
}

export async function setUpWorkerSandbox(
  options: WorkerSandboxOptions,
  env: NodeJS.ProcessEnv,
): Promise<WorkerSandbox> {
  const workDir = options.workDir ?? join(env["HOME"] ?? homedir(), ".modulate", "worker");
  // Loaded here, not above: every command's start-up would load them (child_process, crypto
  // and the sandbox's modules) for the worker's sake.
  const [{ setUpSandbox }, { CgroupSlots }, { sandboxStandbys, warmCommand }] = await Promise.all([
    import("../sandbox/probe.ts"),
    import("../sandbox/cgroup-slots.ts"),
    import("../sandbox/standby-sandbox.ts"),
  ]);
  let setup;
  try {
    setup = await setUpSandbox({
      sandbox: options.sandbox,
      ...(options.runAs === undefined ? {} : { runAs: options.runAs }),
      // Before the sandbox's view is found: the view holds this python's install tree.
      ...(options.python === undefined ? {} : { python: pythonFromOption(options.python) }),
      defaultLimits: options.limits,
      networkAllowed: options.networkAllowed,
      workRoot: join(workDir, "jobs"),
      logDir: join(workDir, "logs"),
      env,
    });
  } catch (error) {
    if (error instanceof SandboxSetupError) throw new UserError(error.message);
    throw error;
  }
  const named = options.namedInterpreterPaths ?? [];
  const config =
    named.length > 0 ? { ...setup.config, namedInterpreterPaths: [...named] } : setup.config;
  const notes = [...setup.notes];
  const cgroups = config.cgroup
    ? await CgroupSlots.make(config.cgroup, options.slots, config.defaultLimits, config.logDir)
    : undefined;
  // Last: nothing after it may fail and leave the areas mounted.
  const disk = await setUpDisk(config.workRoot, options, env).catch(async (error: unknown) => {
    await cgroups?.close();
    throw error;
  });
  notes.push(disk.note);
  // Under bwrap an idle slot waits in its next job's sandbox, which needs that job's area.
  const warmPython = options.warmPython ?? true;
  cgroups?.useStandbys(
    sandboxStandbys({
      config,
      scratchDir: config.logDir,
      disks: disk.areas?.pool,
      gpus: options.gpus ?? false,
      warmPython,
    }),
  );
  const warmPath = warmCommand(config, true)?.python;
  notes.push(warmPythonNote(cgroups !== undefined, warmPython, warmPath));
  return {
    config,
    notes,
    warmPython: warmPython && warmPath !== undefined && cgroups !== undefined,
    ...(disk.areas ? { disk: disk.areas } : {}),
    ...(cgroups ? { cgroups } : {}),
  };
}

/** Whether python jobs start in a warm python (warm-python.ts), and why not. */
function warmPythonNote(standbys: boolean, wanted: boolean, python: string | undefined): string {
  // Not "python: ...": that prefix names the interpreter in use (bench/lib/e2e-cluster.ts).
  if (!wanted) return "warm python: off (--no-warm-python)";
  if (!python) return `warm python: off (no python3 run as python ${PYTHON_FLAGS.join(" ")})`;
  if (!standbys) return "warm python: off (no cgroups: idle slots keep no standby)";
  return `warm python: on (each .py job gets its own ${python}, started before the job came)`;
}

function pythonFromOption(option: string): ResolvedInterpreter {
  let path: string;
  try {
    path = realpathSync(option);
  } catch {
    throw new UserError(`--python ${option} does not exist: give the path of a python3 executable`);
  }
  return { path, prefixArgs: [...PYTHON_FLAGS], note: `python: ${path} (--python)` };
}

/** The disk areas; a `--max-disk` the host cannot honour is an error, a default only a note. */
async function setUpDisk(
  workRoot: string,
  options: WorkerSandboxOptions,
  env: NodeJS.ProcessEnv,
): Promise<DiskAreasSetup> {
  const { setUpDiskAreas } = await import("../sandbox/disk-areas.ts");
  let disk;
  try {
    disk = await setUpDiskAreas({
      // Under the work root, which bwrap hides from jobs: one job cannot see another's area.
      root: join(workRoot, ".disk"),
      count: options.slots,
      ...(options.maxDiskBytes === undefined ? {} : { sizeBytes: options.maxDiskBytes }),
      env,
    });
  } catch (error) {
    if (error instanceof SandboxSetupError) throw new UserError(`--max-disk: ${error.message}`);
    throw error;
  }
  if (disk.unavailable && options.maxDiskBytes !== undefined) {
    throw new UserError(
      `--max-disk ${formatBytes(options.maxDiskBytes)} cannot be enforced here: ${disk.unavailable}; run the worker as root where loop devices work, or give --max-disk off`,
    );
  }
  return disk;
}
