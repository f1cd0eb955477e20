// What `worker` and `dev` both do before taking jobs: decide the sandbox once, with the
// worker's limits, and say what was chosen.
import { realpathSync } from "node:fs";
import { homedir, totalmem } from "node:os";
import { join } from "node:path";
import { UserError } from "../errors.ts";
import { SandboxSetupError } from "../sandbox/errors.ts";
import type { SandboxChoice } from "../sandbox/probe.ts";
import type { JobLimits, SandboxConfig } from "../sandbox/types.ts";

export interface WorkerSandboxOptions {
  sandbox: SandboxChoice;
  runAs?: string;
  python?: string;
  workDir?: string;
  limits: JobLimits;
  networkAllowed: boolean;
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
): Promise<{ config: SandboxConfig; notes: readonly string[] }> {
  const workDir = options.workDir ?? join(env["HOME"] ?? homedir(), ".modulate", "worker");
  const { setUpSandbox } = await import("../sandbox/probe.ts");
  let setup;
  try {
    setup = await setUpSandbox({
      sandbox: options.sandbox,
      ...(options.runAs === undefined ? {} : { runAs: options.runAs }),
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
  if (options.python === undefined) return setup;
  let path: string;
  try {
    path = realpathSync(options.python);
  } catch {
    throw new UserError(
      `--python ${options.python} does not exist: give the path of a python3 executable`,
    );
  }
  const python = { path, prefixArgs: ["-I"], note: `python: ${path} (--python)` };
  return {
    config: { ...setup.config, interpreters: { ...setup.config.interpreters, python } },
    notes: [...setup.notes, python.note],
  };
}
