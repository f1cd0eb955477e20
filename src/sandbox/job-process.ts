// A job's main process: spawned as the leader of its own process group, ended with the whole
// group on timeout or cancel (a first signal, then SIGKILL after a grace), and killed if the
// worker itself exits. This is all the sandbox needs of a process library; spawning through
// execa cost the worker's event loop about 2 ms more per job than child_process.spawn does.
import { spawn, type ChildProcess } from "node:child_process";

export interface JobProcessOptions {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  /** Between the first signal and SIGKILL. */
  readonly killGraceMs: number;
  /** The first signal a timeout or cancel sends to the process group. */
  readonly killSignal: NodeJS.Signals;
  /**
   * Aborting it cancels the job. A reason that is a `StopReason` with its own `killGraceMs`
   * shortens the grace: a user's cancel must be over within seconds, while a worker that is
   * stopping gives its jobs the whole grace.
   */
  readonly signal?: AbortSignal;
}

/** An abort reason that says how long the job may take to end on the first signal. */
export interface StopReason {
  readonly killGraceMs: number;
}

function graceAsked(reason: unknown): number | undefined {
  const grace =
    typeof reason === "object" && reason !== null
      ? (reason as Partial<StopReason>).killGraceMs
      : undefined;
  return typeof grace === "number" && Number.isFinite(grace) && grace >= 0 ? grace : undefined;
}

export interface JobProcessResult {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  readonly isCanceled: boolean;
  /** Why it could not start (no such program, not executable), when it did not. */
  readonly startFailure?: string;
}

export interface JobProcess {
  readonly child: ChildProcess;
  /** Also the process group id; undefined when the spawn failed. */
  readonly pid: number | undefined;
  /** Settles once the process has exited and its stdout and stderr are closed. */
  readonly result: Promise<JobProcessResult>;
}

/** Process groups of running jobs, killed if the worker exits before they end. */
const runningGroups = new Set<number>();
let exitHookInstalled = false;

function killOnWorkerExit(pgid: number): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on("exit", () => {
      for (const group of runningGroups) signalGroup(group, "SIGKILL");
    });
  }
  runningGroups.add(pgid);
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // The group is gone already.
  }
}

export function startJobProcess(
  file: string,
  args: readonly string[],
  options: JobProcessOptions,
): JobProcess {
  const child = spawn(file, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  return superviseJobProcess(child, options);
}

/**
 * Watches a job's process already started as its own process group's leader (by
 * `startJobProcess`, or a standby shell that has just been handed its job): timeout, cancel,
 * the worker's exit, and its end. `cwd` and `env` of `options` are not used here.
 */
export function superviseJobProcess(child: ChildProcess, options: JobProcessOptions): JobProcess {
  const pid = child.pid;
  if (pid !== undefined) killOnWorkerExit(pid);
  let timedOut = false;
  let isCanceled = false;
  let forceKill: NodeJS.Timeout | undefined;
  let ended = false;

  const stop = (reason: "timeout" | "cancel"): void => {
    if (ended || timedOut || isCanceled || pid === undefined) return;
    if (reason === "timeout") timedOut = true;
    else isCanceled = true;
    signalGroup(pid, options.killSignal);
    const asked = reason === "cancel" ? graceAsked(options.signal?.reason) : undefined;
    const grace = Math.min(asked ?? options.killGraceMs, options.killGraceMs);
    forceKill = setTimeout(() => signalGroup(pid, "SIGKILL"), grace);
  };
  const timeout = setTimeout(() => stop("timeout"), options.timeoutMs);
  const onAbort = (): void => stop("cancel");
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) stop("cancel");

  const result = new Promise<JobProcessResult>((resolve) => {
    const finish = (outcome: JobProcessResult): void => {
      if (ended) return;
      ended = true;
      clearTimeout(timeout);
      clearTimeout(forceKill);
      options.signal?.removeEventListener("abort", onAbort);
      if (pid !== undefined) runningGroups.delete(pid);
      resolve(outcome);
    };
    // An error with no pid is a failed spawn; later ones (a failed kill) change nothing.
    child.once("error", (error) => {
      if (pid === undefined)
        finish({ exitCode: null, signal: null, timedOut, isCanceled, startFailure: error.message });
    });
    child.once("close", (exitCode, signal) => finish({ exitCode, signal, timedOut, isCanceled }));
  });
  return { child, pid, result };
}
