// execute(plan, config): runs one planned attempt and reports. It owns everything the job
// acquires (directory, cgroup, processes, log) and gives all of it back before resolving,
// so that when the promise settles no process of the job is left. A directory in a disk
// area is the exception: the area is emptied when the worker gives it back.
import { rmdir } from "node:fs/promises";
import path from "node:path";
import type { ChildProcess } from "node:child_process";
import { AttemptLog, type LogRecord, type LogStream } from "./attempt-log.ts";
import {
  applyJobLimits,
  createJobCgroup,
  eventsSince,
  killCgroup,
  NO_COUNTS,
  readCgroupCounters,
  removeJobCgroup,
  signalCgroup,
  type CgroupEvents,
  type JobCgroup,
} from "./cgroup.ts";
import { startJobProcess, superviseJobProcess } from "./job-process.ts";
import {
  buildLaunchCommand,
  sameSandboxShape,
  sandboxShapeOf,
  type LaunchCommand,
} from "./launch.ts";
import { HeadTailCapture, LineSplitter } from "./output.ts";
import { judgeOutcome } from "./outcome.ts";
import type { ExecutionPlan } from "./prepare.ts";
import { killProcessGroup, processGroupAlive, signalFromBwrapStatus } from "./signals.ts";
import { standbyCommand, type StandbyShell } from "./standby.ts";
import type { JobOutcome, SandboxConfig } from "./types.ts";
import {
  collectOutputs,
  createWorkDir,
  diskAreaFull,
  hasFileAtLimit,
  removeWorkDir,
} from "./workdir.ts";

export interface ExecuteOptions {
  /** Aborting it cancels the job: SIGTERM, then SIGKILL after the grace. */
  readonly signal?: AbortSignal;
  /** Clock for durations and log timestamps. Default `Date.now`. */
  readonly now?: () => number;
  /** Called for every line as it is logged, for a live tail that does not poll the file. */
  readonly onLine?: (record: LogRecord) => void;
  /** A shell already in `plan.cgroup`, waiting to become this job (standby.ts). */
  readonly standby?: StandbyShell;
  /**
   * The plan with its attempt number, for a worker that is still claiming that number when
   * the job arrives. `plan` (with a provisional number) serves meanwhile for what does not
   * depend on it: the directory, the script and the cgroup's limits; this one for the rest
   * (the job's environment and log). Rejecting undoes what was made and rejects `execute`.
   */
  readonly claimed?: Promise<ExecutionPlan>;
}

/** How long the final sweep may take to empty a cgroup or process group. */
const SWEEP_DEADLINE_MS = 5_000;
/** After the main process exits, how long streams held open by an escaped child are waited for. */
const STREAM_DRAIN_MS = 1_000;
const DEFAULT_MAX_OUTPUT_FILE_BYTES = 16 * 1024 * 1024;
const LOG_OVERHEAD_BYTES = 1024 * 1024;

interface RunObservation {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly timedOut: boolean;
  readonly isCanceled: boolean;
  readonly startFailure?: string;
}

/** Runs the plan in a fresh directory under the configured sandbox; never rejects for the job's sake. */
export async function execute(
  draft: ExecutionPlan,
  config: SandboxConfig,
  options: ExecuteOptions = {},
): Promise<JobOutcome> {
  const now = options.now ?? Date.now;
  const startedAt = now();
  // A slot's cgroup lent by the worker, or one made for this attempt alone.
  let cgroup: JobCgroup | undefined = draft.cgroup;
  let counted = NO_COUNTS;
  let log: AttemptLog | undefined;
  try {
    // The directories and the cgroup are made side by side, while the attempt is claimed.
    const plan = await allOrFirstError(
      [
        AttemptLog.makeDir(draft.logFile),
        createWorkDir(
          draft.workDir,
          draft.scriptPath,
          draft.script,
          draft.scriptIsExecutable,
          config.jobUser,
          draft.workDirMade,
        ),
        (async () => {
          if (cgroup) {
            await applyJobLimits(cgroup, draft.limits);
            counted = readCgroupCounters(cgroup);
          } else if (config.cgroup) {
            cgroup = await createJobCgroup(
              config.cgroup,
              path.basename(draft.workDir),
              draft.limits,
            );
          }
        })(),
      ],
      options.claimed ?? Promise.resolve(draft),
    );
    if (
      plan.workDir !== draft.workDir ||
      plan.cgroup !== draft.cgroup ||
      path.dirname(plan.logFile) !== path.dirname(draft.logFile)
    ) {
      throw new Error(`the claimed plan of ${plan.jobId} differs from its draft`);
    }
    log = await AttemptLog.open(
      plan.logFile,
      2 * plan.limits.maxOutputBytes + LOG_OVERHEAD_BYTES,
      now,
    );
    const stdout = new HeadTailCapture(plan.limits.maxOutputBytes);
    const stderr = new HeadTailCapture(plan.limits.maxOutputBytes);
    // A standby shell waiting in the slot's cgroup is handed the command, which then needs
    // no cgroup join of its own; otherwise the command joins the cgroup itself. A standby
    // waiting in a sandbox serves only a job of the shape it was made for.
    const ready =
      plan.cgroup && (await options.standby?.whenUsable()) ? options.standby : undefined;
    const standby = ready && fitsStandby(ready, plan, config) ? ready : undefined;
    const inside = standby?.sandbox !== undefined;
    const bare =
      standby &&
      buildLaunchCommand(plan, config, [], { rlimitsInShell: true, insideSandbox: inside });
    const handover =
      bare && standbyCommand(bare.file, bare.args, plan.env, plan.cwd, bare.shellSetup);
    if (!handover) options.standby?.discard();
    const launch =
      bare && handover ? bare : buildLaunchCommand(plan, config, cgroup?.procsFiles ?? []);
    const observed = await runLaunched(launch, plan, config, cgroup, {
      stdout,
      stderr,
      log,
      options,
      ...(handover && standby ? { handover: { standby, command: handover } } : {}),
    });
    // What the job left is read side by side: every process of it is gone by now.
    const counters = cgroup ? readCgroupCounters(cgroup) : undefined;
    const [outputs, fileLimitHit, diskFull] = await Promise.all([
      collectOutputs(
        plan.workDir,
        plan.outputs,
        config.maxOutputFileBytes ?? DEFAULT_MAX_OUTPUT_FILE_BYTES,
      ),
      hasFileAtLimit(plan.workDir, plan.limits.maxFileBytes),
      plan.diskArea ? diskAreaFull(plan.diskArea) : undefined,
    ]);
    const events: CgroupEvents = counters
      ? eventsSince(counters, counted)
      : { oomKilled: false, pidsLimitHit: false };
    const stdoutResult = stdout.result();
    const stderrResult = stderr.result();
    const verdict = judgeOutcome({
      ...observed,
      ...events,
      fileLimitHit,
      ...(diskFull ? { diskFull } : {}),
      limits: plan.limits,
      droppedOutputBytes: stdoutResult.droppedBytes + stderrResult.droppedBytes,
    });
    log.write("sandbox", verdict.reason);
    return {
      jobId: plan.jobId,
      attempt: plan.attempt,
      state: verdict.state,
      reason: verdict.reason,
      exitCode: observed.exitCode,
      signal: observed.signal,
      stdout: stdoutResult,
      stderr: stderrResult,
      durationMs: now() - startedAt,
      outputs,
      gpuIds: plan.gpuIds,
      limits: plan.limits,
      logFile: plan.logFile,
      sandbox: {
        mode: config.mode,
        ...(config.jobUser ? { user: config.jobUser.name } : {}),
        cgroup: cgroup !== undefined,
      },
    };
  } finally {
    if (cgroup) {
      await killCgroup(cgroup, SWEEP_DEADLINE_MS);
      if (cgroup !== draft.cgroup) await removeJobCgroup(cgroup);
    }
    if (log) await log.close();
    // No log was opened (the claim failed): its job's directory goes too, unless an earlier
    // attempt's log is in it.
    else await rmdir(path.dirname(draft.logFile)).catch(() => undefined);
    // A disk area is emptied when the worker gives it back, after it has answered; only a
    // directory outside one is removed before the outcome.
    if (!draft.diskArea) await removeWorkDir(draft.workDir);
  }
}

/**
 * The last value once every step has settled, or the first step's error: no step is still
 * running when the caller's clean-up starts.
 */
async function allOrFirstError<T>(steps: Promise<unknown>[], last: Promise<T>): Promise<T> {
  const settled = await Promise.allSettled([...steps, last]);
  for (const step of settled) if (step.status === "rejected") throw step.reason;
  return await last;
}

function fitsStandby(standby: StandbyShell, plan: ExecutionPlan, config: SandboxConfig): boolean {
  if (!standby.sandbox) return true;
  return config.mode === "bwrap" && sameSandboxShape(standby.sandbox.shape, sandboxShapeOf(plan));
}

interface Sinks {
  readonly stdout: HeadTailCapture;
  readonly stderr: HeadTailCapture;
  readonly log: AttemptLog;
  readonly options: ExecuteOptions;
  /** Run the job in this standby shell instead of spawning it. */
  readonly handover?: { readonly standby: StandbyShell; readonly command: string };
}

function attachStream(
  source: NodeJS.ReadableStream | null,
  name: LogStream,
  capture: HeadTailCapture,
  sinks: Sinks,
): LineSplitter {
  const splitter = new LineSplitter((line) => {
    sinks.log.write(name, line);
    sinks.options.onLine?.({
      t: (sinks.options.now ?? Date.now)(),
      stream: name,
      line: line.toString("utf8"),
    });
  });
  source?.on("data", (chunk: Buffer) => {
    capture.push(chunk);
    // Once the log is full, splitting a gigabyte into lines would only burn the worker's CPU.
    if (!sinks.log.isFull || sinks.options.onLine) splitter.push(chunk);
  });
  return splitter;
}

async function runLaunched(
  launch: LaunchCommand,
  plan: ExecutionPlan,
  config: SandboxConfig,
  cgroup: JobCgroup | undefined,
  sinks: Sinks,
): Promise<RunObservation> {
  // bwrap dies of SIGTERM and its --die-with-parent then SIGKILLs the job at once, leaving no
  // grace. So under bwrap with a cgroup, a timeout or cancel sends bwrap's group a harmless
  // SIGCONT while the job's own processes get SIGTERM through the cgroup (below); the SIGKILL
  // after the grace still ends everything.
  const bwrapLeader = config.mode === "bwrap" && cgroup !== undefined;
  const processOptions = {
    cwd: plan.cwd,
    env: plan.env,
    timeoutMs: plan.limits.timeoutMs,
    killGraceMs: plan.limits.killGraceMs,
    killSignal: bwrapLeader ? ("SIGCONT" as const) : ("SIGTERM" as const),
    ...(sinks.options.signal ? { signal: sinks.options.signal } : {}),
  };
  const { handover } = sinks;
  handover?.standby.run(handover.command);
  const subprocess = handover
    ? superviseJobProcess(handover.standby.child, processOptions)
    : startJobProcess(launch.file, launch.args, processOptions);
  const leaderPid = subprocess.pid;
  const stdoutLines = attachStream(subprocess.child.stdout, "stdout", sinks.stdout, sinks);
  const stderrLines = attachStream(subprocess.child.stderr, "stderr", sinks.stderr, sinks);

  // Without bwrap, the SIGTERM to the process group already reaches the job; signalling
  // the cgroup too would deliver a second SIGTERM into the script's cleanup handler.
  const termJob = (): void => {
    if (cgroup && bwrapLeader && leaderPid) signalCgroup(cgroup, "SIGTERM", [leaderPid]);
  };
  const termTimer = setTimeout(termJob, plan.limits.timeoutMs);
  sinks.options.signal?.addEventListener("abort", termJob, { once: true });
  const sweep = sweepAfterExit(subprocess.child, cgroup);
  try {
    const result = await subprocess.result;
    stdoutLines.end();
    stderrLines.end();
    await sweep;
    const exitCode = result.exitCode ?? null;
    let signal: string | null = result.signal ?? null;
    if (config.mode === "bwrap" && signal === null && exitCode !== null) {
      signal = signalFromBwrapStatus(exitCode) ?? null;
    }
    const spawned = exitCode !== null || signal !== null;
    return {
      exitCode: signal === null ? exitCode : null,
      signal,
      timedOut: result.timedOut,
      isCanceled: result.isCanceled,
      ...(spawned || result.timedOut || result.isCanceled
        ? {}
        : { startFailure: result.startFailure ?? "the job's program did not start" }),
    };
  } finally {
    clearTimeout(termTimer);
    sinks.options.signal?.removeEventListener("abort", termJob);
    if (leaderPid) await killUntilGone(leaderPid, cgroup);
  }
}

/**
 * The job is over when its main process exits: whatever it left behind (a daemon, a child
 * still holding stdout) is killed at once, so the streams close and the result can settle.
 */
async function sweepAfterExit(
  subprocess: ChildProcess,
  cgroup: JobCgroup | undefined,
): Promise<void> {
  await new Promise<void>((resolve) => {
    if (subprocess.exitCode !== null || subprocess.signalCode !== null) resolve();
    subprocess.once("exit", () => resolve());
    // A spawn that fails (no such program) emits "error" and never "exit".
    subprocess.once("error", () => resolve());
  });
  const pid = subprocess.pid;
  if (pid) await killUntilGone(pid, cgroup);
  // Without a cgroup a child that left the process group can still hold our pipes open.
  const drained = new Promise<void>((resolve) => {
    let open = 2;
    const closed = (): void => {
      open -= 1;
      if (open === 0) resolve();
    };
    for (const stream of [subprocess.stdout, subprocess.stderr]) {
      if (!stream || stream.readableEnded || stream.destroyed) closed();
      else stream.once("close", closed);
    }
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), STREAM_DRAIN_MS);
  });
  if (await Promise.race([drained.then(() => false), timedOut])) {
    subprocess.stdout?.destroy();
    subprocess.stderr?.destroy();
  }
  clearTimeout(timer);
}

/** SIGKILLs the job's process group and cgroup until both are empty (or the deadline passes). */
async function killUntilGone(pgid: number, cgroup: JobCgroup | undefined): Promise<void> {
  killProcessGroup(pgid, "SIGKILL");
  if (cgroup) await killCgroup(cgroup, SWEEP_DEADLINE_MS);
  const stopAt = Date.now() + SWEEP_DEADLINE_MS;
  while ((await processGroupAlive(pgid)) && Date.now() < stopAt) {
    killProcessGroup(pgid, "SIGKILL");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
