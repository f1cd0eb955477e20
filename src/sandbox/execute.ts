// execute(job, attempt, config): runs one planned attempt and reports. It owns everything the
// job acquires (directory, cgroup, processes, log) and gives all of it back before resolving,
// so that when the promise settles no process of the job is left. A directory in a disk
// area is the exception: the area is emptied when the worker gives it back.
import { rmdir } from "node:fs/promises";
import path from "node:path";
import type { ChildProcess } from "node:child_process";
import { AttemptLog, type LogRecord, type LogStream } from "./attempt-log.ts";
import { eventsSince, JobCgroup, NO_COUNTS, type CgroupEvents } from "./cgroup.ts";
import { startJobProcess, superviseJobProcess } from "./job-process.ts";
import {
  buildLaunchCommand,
  sameSandboxShape,
  sandboxShapeOf,
  warmRecord,
  type LaunchCommand,
} from "./launch.ts";
import { HeadTailCapture, LineSplitter } from "./output.ts";
import { judgeOutcome } from "./outcome.ts";
import type { AttemptPlan, JobPlan } from "./prepare.ts";
import { killProcessGroup, processGroupAlive, signalFromBwrapStatus } from "./signals.ts";
import { standbyCommand, type StandbyShell, type WarmStandby } from "./standby.ts";
import { encodeWarmRecord, rlimitsFit } from "./warm-python.ts";
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
  /** A shell already in `job.cgroup`, waiting to become this job (standby.ts). */
  readonly standby?: StandbyShell;
  /**
   * Called once the sandbox is ready and the script is about to be launched (for metrics),
   * with how it starts.
   */
  readonly onLaunch?: (start: LaunchStart) => void;
  /**
   * Called once the job's main process has exited, before the sandbox is swept and closed
   * (its last output may still be draining from the pipes).
   */
  readonly onExit?: () => void;
}

/**
 * How a job's program started: `warm`, its script in a warm python that was waiting for it
 * (warm-python.ts); `standby`, exec'd by its slot's standby (a shell, or a warm python that
 * could not run it as if started cold); `cold`, spawned.
 */
export type LaunchStart = "warm" | "standby" | "cold";

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

/**
 * Runs the job's plan in a fresh directory under the configured sandbox, as the attempt
 * `attempt` plans; never rejects for the job's sake. `attempt` may still be on its way (a
 * worker claiming the number when the job arrives): the directory, the script and the
 * cgroup's limits, which do not depend on it, are made meanwhile. If it rejects, what was
 * made is undone and `execute` rejects.
 */
export async function execute(
  job: JobPlan,
  attempt: AttemptPlan | Promise<AttemptPlan>,
  config: SandboxConfig,
  options: ExecuteOptions = {},
): Promise<JobOutcome> {
  const now = options.now ?? Date.now;
  const startedAt = now();
  // A slot's cgroup lent by the worker, or one made for this attempt alone.
  let cgroup: JobCgroup | undefined = job.cgroup;
  let counted = NO_COUNTS;
  let log: AttemptLog | undefined;
  try {
    // The directories and the cgroup are made side by side, while the attempt is claimed.
    const attemptPlan = await allOrFirstError(
      [
        AttemptLog.makeDir(job.logDir),
        createWorkDir(
          job.workDir,
          job.scriptPath,
          job.script,
          job.scriptIsExecutable,
          config.jobUser,
          job.workDirMade,
        ),
        (async () => {
          if (cgroup) {
            await cgroup.applyLimits(job.limits);
            counted = cgroup.readCounters();
          } else if (config.cgroup) {
            cgroup = await JobCgroup.create(config.cgroup, path.basename(job.workDir), job.limits);
          }
        })(),
      ],
      Promise.resolve(attempt),
    );
    const { env, logFile } = attemptPlan;
    log = await AttemptLog.open(logFile, 2 * job.limits.maxOutputBytes + LOG_OVERHEAD_BYTES, now);
    const stdout = new HeadTailCapture(job.limits.maxOutputBytes);
    const stderr = new HeadTailCapture(job.limits.maxOutputBytes);
    // A standby shell waiting in the slot's cgroup is handed the command, which then needs
    // no cgroup join of its own; otherwise the command joins the cgroup itself. A standby
    // waiting in a sandbox serves only a job of the shape it was made for.
    const ready = job.cgroup && (await options.standby?.whenUsable()) ? options.standby : undefined;
    const standby = ready && fitsStandby(ready, job, config) ? ready : undefined;
    const inside = standby?.sandbox !== undefined;
    const bare =
      standby &&
      buildLaunchCommand(job, config, [], { rlimitsInShell: true, insideSandbox: inside });
    const given = standby?.warm
      ? warmHandover(job, env, config, standby.warm)
      : bare && {
          command: standbyCommand(bare.file, bare.args, env, job.cwd, bare.shellSetup),
          start: "standby" as const,
        };
    const handover = given?.command;
    if (!handover) options.standby?.discard();
    const launch =
      bare && handover ? bare : buildLaunchCommand(job, config, cgroup?.procsFiles ?? []);
    options.onLaunch?.(handover && given ? given.start : "cold");
    const observed = await runLaunched(launch, job, env, config, cgroup, {
      stdout,
      stderr,
      log,
      options,
      ...(handover && standby ? { handover: { standby, command: handover } } : {}),
    });
    // What the job left is read side by side: every process of it is gone by now.
    const counters = cgroup ? cgroup.readCounters() : undefined;
    // Only an ending a file size limit or a full disk can explain is looked into (python
    // fails with EFBIG and exits non-zero): a clean exit's directory is not walked, nor its
    // area's fullness read, which explains only a failure (outcome.ts).
    const failed = mayBeFileLimit(observed);
    const [outputs, fileLimitHit, diskFull] = await Promise.all([
      collectOutputs(
        job.workDir,
        job.outputs,
        config.maxOutputFileBytes ?? DEFAULT_MAX_OUTPUT_FILE_BYTES,
      ),
      failed ? hasFileAtLimit(job.workDir, job.limits.maxFileBytes) : false,
      failed && job.diskArea ? diskAreaFull(job.diskArea) : undefined,
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
      limits: job.limits,
      droppedOutputBytes: stdoutResult.droppedBytes + stderrResult.droppedBytes,
    });
    log.write("sandbox", verdict.reason);
    return {
      jobId: job.jobId,
      attempt: attemptPlan.attempt,
      state: verdict.state,
      ending: verdict.ending,
      notes: verdict.notes,
      reason: verdict.reason,
      exitCode: observed.exitCode,
      signal: observed.signal,
      stdout: stdoutResult,
      stderr: stderrResult,
      durationMs: now() - startedAt,
      outputs,
      gpuIds: job.gpuIds,
      limits: job.limits,
      logFile,
      sandbox: {
        mode: config.mode,
        ...(config.jobUser ? { user: config.jobUser.name } : {}),
        cgroup: cgroup !== undefined,
      },
    };
  } finally {
    if (cgroup) {
      await cgroup.kill(SWEEP_DEADLINE_MS);
      if (cgroup !== job.cgroup) await cgroup.remove();
    }
    if (log) await log.close();
    // No log was opened (the claim failed): its job's directory goes too, unless an earlier
    // attempt's log is in it.
    else await rmdir(job.logDir).catch(() => undefined);
    // The script and the directory go now (two calls); a directory in a disk area that holds
    // more is left for the area's emptying, after the worker has answered.
    await removeWorkDir(job.workDir, { scriptPath: job.scriptPath, walk: !job.diskArea });
  }
}

/**
 * Whether the run ended as a job stopped by its file size limit or a full disk can: a failure
 * or a kill.
 */
function mayBeFileLimit(observed: RunObservation): boolean {
  if (observed.timedOut || observed.isCanceled || observed.startFailure !== undefined) return false;
  return observed.signal !== null || observed.exitCode !== 0;
}

/**
 * The last value once every step has settled, or the first step's error: no step is still
 * running when the caller's clean-up starts.
 */
async function allOrFirstError<T>(steps: Promise<unknown>[], last: Promise<T>): Promise<T> {
  const settled = await Promise.allSettled([...steps, last]);
  for (const step of settled) if (step.status === "rejected") throw step.reason;
  return last;
}

/** What a standby is handed, and how the job starts in it. */
interface Handover {
  readonly command: string | undefined;
  readonly start: Exclude<LaunchStart, "cold">;
}

/**
 * A warm python's record for this job (launch.ts `warmRecord`): `warm` where the script runs in
 * it, `standby` where it execs the job's command; undefined where it cannot set the job's
 * rlimits (above its hard limits): the job then starts the ordinary way.
 */
function warmHandover(
  job: JobPlan,
  env: Readonly<Record<string, string>>,
  config: SandboxConfig,
  warm: WarmStandby,
): Handover | undefined {
  const record = warmRecord(job, env, config, warm);
  if (!rlimitsFit(record.rlimits, warm.hardLimits)) return undefined;
  return { command: encodeWarmRecord(record), start: record.mode === "run" ? "warm" : "standby" };
}

function fitsStandby(standby: StandbyShell, job: JobPlan, config: SandboxConfig): boolean {
  if (!standby.sandbox) return true;
  return config.mode === "bwrap" && sameSandboxShape(standby.sandbox.shape, sandboxShapeOf(job));
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
  job: JobPlan,
  env: Readonly<Record<string, string>>,
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
    cwd: job.cwd,
    env,
    timeoutMs: job.limits.timeoutMs,
    killGraceMs: job.limits.killGraceMs,
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
    if (cgroup && bwrapLeader && leaderPid) cgroup.signal("SIGTERM", [leaderPid]);
  };
  const termTimer = setTimeout(termJob, job.limits.timeoutMs);
  sinks.options.signal?.addEventListener("abort", termJob, { once: true });
  const sweep = sweepAfterExit(subprocess.child, cgroup, sinks.options.onExit);
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
  onExit: (() => void) | undefined,
): Promise<void> {
  await new Promise<void>((resolve) => {
    if (subprocess.exitCode !== null || subprocess.signalCode !== null) resolve();
    subprocess.once("exit", () => resolve());
    // A spawn that fails (no such program) emits "error" and never "exit".
    subprocess.once("error", () => resolve());
  });
  onExit?.();
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
  if (cgroup) await cgroup.kill(SWEEP_DEADLINE_MS);
  const stopAt = Date.now() + SWEEP_DEADLINE_MS;
  while ((await processGroupAlive(pgid)) && Date.now() < stopAt) {
    killProcessGroup(pgid, "SIGKILL");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
