// Under bwrap, a slot's standby shell waits inside the sandbox of the slot's next job, made
// while the slot is idle: bwrap's namespaces, mounts and pid 1 cost 4 to 6 ms a job on this
// project's machine, on the job's path. A sandbox depends on the job only through its
// directory, network, GPUs and /tmp size (`SandboxShape`): the standby's gets a fresh empty
// directory (in a disk area it holds, where the worker has them) and the worker's defaults,
// which is what nearly every job asks for. A job of any other shape discards it and starts
// the ordinary way, in the same directory.
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import path from "node:path";
import type { DiskAreaPool } from "./disk-area-pool.ts";
import { jobBwrapArgs, setprivArgs, type SandboxShape, type WarmStart } from "./launch.ts";
import { PYTHON_FLAGS } from "./python-flags.ts";
import { StandbyShell, WAIT_INSIDE } from "./standby.ts";
import type { DiskArea, SandboxConfig } from "./types.ts";
import { warmPythonArgv, warmStartEnv } from "./warm-python.ts";
import { makeJobDir } from "./workdir.ts";

/**
 * Makes the standby for a slot whose cgroup has these `cgroup.procs` files; `closing` aborts
 * when the worker stops.
 */
export type StandbyFactory = (
  procsFiles: readonly string[],
  closing: AbortSignal,
) => Promise<StandbyShell>;

/** What a warm python waits as: its start, and its command line behind setpriv. */
type WarmCommand = WarmStart & { readonly argv: readonly string[] };

/**
 * The warm python a worker's standbys wait as (warm-python.ts), where it has a python run as
 * `PYTHON -I -u SCRIPT` (python-flags.ts); undefined where it has none or `warmPython` is off.
 */
export function warmCommand(config: SandboxConfig, warmPython: boolean): WarmCommand | undefined {
  const python = config.interpreters.python;
  if (!warmPython || !python || python.prefixArgs.join(" ") !== PYTHON_FLAGS.join(" "))
    return undefined;
  return {
    python: python.path,
    startEnv: warmStartEnv(config.baseEnv),
    argv: [...setprivArgs(config), ...warmPythonArgv(python.path)],
  };
}

/**
 * Plain standbys: they join the slot's cgroup and wait there (standby.ts), as a shell or,
 * with `warm`, as a warm python.
 */
export function plainStandbys(scratchDir: string, warm?: WarmCommand): StandbyFactory {
  return (procsFiles) =>
    Promise.resolve(new StandbyShell({ procsFiles, scratchDir, ...(warm ? { warm } : {}) }));
}

export interface SandboxStandbyOptions {
  readonly config: SandboxConfig;
  readonly scratchDir: string;
  /** The worker's disk areas: each standby holds one for its job. */
  readonly disks?: DiskAreaPool | undefined;
  /** Whether the worker's jobs get GPUs (then every one does). */
  readonly gpus: boolean;
  /** Standbys wait as a warm python where the worker has one (warm-python.ts). Default off. */
  readonly warmPython?: boolean;
}

/** Standby shells inside a sandbox made for a job of the worker's default shape. */
export function sandboxStandbys(options: SandboxStandbyOptions): StandbyFactory {
  const { config, disks } = options;
  const bwrap = config.bwrapPath;
  const warm = warmCommand(config, options.warmPython ?? false);
  if (config.mode !== "bwrap" || !bwrap) return plainStandbys(options.scratchDir, warm);
  return async (procsFiles, closing) => {
    const area: DiskArea | undefined = disks ? await disks.acquire(closing) : undefined;
    const workDir = path.join(
      area?.dir ?? config.workRoot,
      `standby-${randomBytes(6).toString("hex")}`,
    );
    const giveBack = (): void => {
      void rm(workDir, { recursive: true, force: true }).finally(() => {
        if (area) void disks?.release(area);
      });
    };
    try {
      await makeJobDir(workDir, config.jobUser);
      const shape: SandboxShape = {
        workDir,
        network: false,
        gpus: options.gpus,
        tmpSizeBytes: config.defaultLimits.maxFileBytes,
      };
      return new StandbyShell({
        procsFiles,
        scratchDir: options.scratchDir,
        sandbox: {
          argv: [bwrap, ...jobBwrapArgs(config, shape), ...(warm?.argv ?? WAIT_INSIDE)],
          shape,
          ...(area ? { area } : {}),
        },
        ...(warm ? { warm } : {}),
        onUnused: giveBack,
      });
    } catch (error) {
      giveBack();
      throw error;
    }
  };
}
