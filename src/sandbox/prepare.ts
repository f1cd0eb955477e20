// prepare(request, config, runId) -> JobPlan, then prepareAttempt(job, attempt) -> AttemptPlan:
// every decision about a job that needs no I/O, so that it can be tested exhaustively and the
// worker can fail a bad job at once. The job's plan is made once, before the worker has
// claimed the attempt's number; only the few things named by that number wait for it.
import path from "node:path";
import { buildJobEnv } from "./env.ts";
import { SandboxInputError } from "./errors.ts";
import { mergeLimits } from "./limits.ts";
import { chooseInterpreter, type ScriptCommand } from "./choose-interpreter.ts";
import { scriptKind } from "./script-kind.ts";
import {
  attemptLogFile,
  jobLogDir,
  safeName,
  validateOutputPath,
  validateScriptName,
} from "./paths.ts";
import type { JobCgroup } from "./cgroup.ts";
import type {
  DiskArea,
  JobLimits,
  JobRequest,
  ResolvedInterpreter,
  SandboxConfig,
} from "./types.ts";

/** What `prepare` reads of a request: all of it but the attempt number. */
export type JobPlanRequest = Omit<JobRequest, "attempt">;

/**
 * Everything `execute` needs to run a job that does not depend on the attempt's number; plain
 * data, made once per run.
 */
export interface JobPlan {
  readonly jobId: string;
  /** Fresh directory for this run only; `execute` creates it and removes it afterwards. */
  readonly workDir: string;
  /** `workDir` exists already, made empty for this run (a standby's). */
  readonly workDirMade: boolean;
  /** Where the script is written, inside `workDir`. */
  readonly scriptPath: string;
  readonly script: string | Uint8Array;
  /** Whether the script is run directly (by its #! line) and so needs the execute bit. */
  readonly scriptIsExecutable: boolean;
  /** What runs the script: node is spared RLIMIT_DATA (see `launch.ts`). */
  readonly runtime: "python" | "bash" | "node" | "shebang";
  /** The job's own command, before any sandbox wrapper is put in front of it. */
  readonly program: string;
  readonly args: readonly string[];
  /** The job's environment but for MODULATE_ATTEMPT, which `AttemptPlan.env` adds. */
  readonly jobEnv: Readonly<Record<string, string>>;
  readonly cwd: string;
  readonly limits: JobLimits;
  /** Network granted: asked for by the submission and allowed by the worker. */
  readonly network: boolean;
  readonly outputs: readonly string[];
  readonly gpuIds: readonly string[];
  /** The area `workDir` is made in; its size is the job's disk quota. */
  readonly diskArea?: DiskArea;
  /** The worker's cgroup for the slot running this job; absent: one is made for it. */
  readonly cgroup?: JobCgroup;
  /** The directory of the job's attempt logs, whichever the attempt. */
  readonly logDir: string;
}

/** What depends on the attempt's number, which the worker may still be claiming. */
export interface AttemptPlan {
  readonly attempt: number;
  /** The job's whole environment: `JobPlan.jobEnv` and MODULATE_ATTEMPT. */
  readonly env: Readonly<Record<string, string>>;
  readonly logFile: string;
}

const RUN_ID = /^[A-Za-z0-9]{1,32}$/;

/**
 * Where the attempt's directory goes: its disk area, which must lie under the work root so
 * that bwrap's hiding of the work root covers it (and the other jobs' areas) too.
 */
/**
 * The command of a script run by a named interpreter: that program, with the script's path
 * as its first argument, whatever the script's extension or #! line says. Its runtime is the
 * extension's where it has one; named interpreters are mostly pythons (a venv's), so python
 * otherwise.
 */
function namedCommand(
  scriptName: string,
  script: string | Uint8Array,
  interpreter: ResolvedInterpreter,
): ScriptCommand {
  const kind = scriptKind(scriptName, script);
  const runtime = kind?.kind === "interpreter" ? kind.runtime : "python";
  return { kind: "interpreter", runtime, interpreter };
}

function workParent(area: DiskArea | undefined, workRoot: string): string {
  if (!area) return workRoot;
  const relative = path.relative(workRoot, area.dir);
  if (
    relative === "" ||
    relative === ".." ||
    relative.startsWith("../") ||
    path.isAbsolute(relative)
  )
    throw new Error(`disk area ${area.dir} is not inside the work root ${workRoot}`);
  return area.dir;
}

/**
 * Plans a job, whichever its attempt's number. `runId` is a fresh random token from the
 * caller: it makes the working directory unique even if an attempt number were ever handed
 * out twice. Throws `SandboxInputError` for a job that can never run (the worker fails it
 * without retry).
 */
export function prepare(request: JobPlanRequest, config: SandboxConfig, runId: string): JobPlan {
  if (!RUN_ID.test(runId))
    throw new Error(`runId ${JSON.stringify(runId)}: expected 1-32 letters or digits`);
  validateScriptName(request.scriptName);
  const outputs = (request.outputs ?? []).map(validateOutputPath);
  const limits = mergeLimits(config.defaultLimits, request.limits);

  const parent = workParent(request.diskArea, config.workRoot);
  // Not named by the attempt: a worker may make the directory before its number is claimed.
  const workDir = request.workDir ?? path.join(parent, `${safeName(request.jobId)}-${runId}`);
  if (path.dirname(workDir) !== parent)
    throw new Error(`work directory ${workDir} is not directly inside ${parent}`);
  const scriptPath = path.join(workDir, request.scriptName);
  const command = request.interpreter
    ? namedCommand(request.scriptName, request.script, request.interpreter)
    : chooseInterpreter(request.scriptName, request.script, config.interpreters);
  const gpuIds = [...(request.gpuIds ?? [])];

  const own: Record<string, string> = {
    HOME: workDir,
    // Under bwrap /tmp is the job's own tmpfs; without it, the shared /tmp would be visible
    // to every job, so temporary files go to the job's directory instead.
    TMPDIR: config.mode === "bwrap" ? "/tmp" : workDir,
    // Python buffers stdout in 8 KiB blocks when it is a pipe: lines would reach the log late.
    // The job's own python is started with -u (python-flags.ts; -I ignores this variable);
    // this reaches the pythons it starts itself without -I.
    PYTHONUNBUFFERED: "1",
    MODULATE_JOB_ID: request.jobId,
    ...(request.arrayIndex === undefined
      ? {}
      : {
          MODULATE_ARRAY_INDEX: String(request.arrayIndex),
          SLURM_ARRAY_TASK_ID: String(request.arrayIndex),
        }),
  };
  if (config.jobUser) {
    own.USER = config.jobUser.name;
    own.LOGNAME = config.jobUser.name;
  }
  // Given but empty: the job holds no GPU of a worker that has some, and CUDA sees none.
  if (request.gpuIds !== undefined) own.CUDA_VISIBLE_DEVICES = gpuIds.join(",");

  return {
    jobId: request.jobId,
    workDir,
    workDirMade: request.workDir !== undefined,
    scriptPath,
    script: request.script,
    scriptIsExecutable: command.kind === "shebang",
    runtime: command.kind === "shebang" ? "shebang" : command.runtime,
    program: command.kind === "shebang" ? scriptPath : command.interpreter.path,
    args: [
      ...(command.kind === "shebang" ? [] : [...command.interpreter.prefixArgs, scriptPath]),
      ...(request.args ?? []),
    ],
    jobEnv: buildJobEnv(config.baseEnv, request.env ?? {}, own),
    cwd: workDir,
    limits,
    network: Boolean(request.networkWanted) && config.networkAllowed,
    outputs,
    gpuIds,
    ...(request.diskArea ? { diskArea: request.diskArea } : {}),
    ...(request.cgroup ? { cgroup: request.cgroup } : {}),
    logDir: jobLogDir(config.logDir, request.jobId),
  };
}

/**
 * The attempt's part of the plan of `job`. Throws `SandboxInputError` for a number that is
 * not a whole number from 1.
 */
export function prepareAttempt(job: JobPlan, attempt: number): AttemptPlan {
  if (!Number.isSafeInteger(attempt) || attempt < 1) {
    throw new SandboxInputError(`attempt ${attempt}: expected a whole number from 1`);
  }
  return {
    attempt,
    // MODULATE_ names are the sandbox's own (env.ts refuses them in --env): this one wins too.
    env: { ...job.jobEnv, MODULATE_ATTEMPT: String(attempt) },
    logFile: attemptLogFile(job.logDir, attempt),
  };
}
