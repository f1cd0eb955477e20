// One CLI run timed from spawn to exit, its output kept: what a person typing the command
// waits for, start-up included.
import { spawn } from "node:child_process";

export interface TimedRun {
  readonly ms: number;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function timeCommand(program: string, args: readonly string[]): Promise<TimedRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(program, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => (stdout += text));
    child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    child.once("error", reject);
    child.once("close", (code) =>
      resolve({ ms: performance.now() - started, code, stdout, stderr }),
    );
  });
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface FollowedProcess {
  readonly pid: number;
  exited(): Promise<number | null>;
  kill(signal?: NodeJS.Signals): void;
}

/** Children started by `followLines`, killed by PID on an interrupt (`killFollowed`). */
const followed = new Set<FollowedProcess>();

/**
 * Starts `program` and calls `onLine` with each complete stdout line and the wall clock
 * (Date.now(), ms) when the bench read it: the clock a script's printed timestamps use.
 */
export function followLines(
  program: string,
  args: readonly string[],
  onLine: (line: string, wallMs: number) => void,
): FollowedProcess {
  const child = spawn(program, args, { stdio: ["ignore", "pipe", "pipe"] });
  if (child.pid === undefined) throw new Error(`could not start ${program}`);
  let partial = "";
  child.stdout.setEncoding("utf8").on("data", (text: string) => {
    const wallMs = Date.now();
    const parts = (partial + text).split("\n");
    partial = parts.pop() ?? "";
    for (const line of parts) onLine(line, wallMs);
  });
  child.stderr.resume();
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const handle: FollowedProcess = {
    pid: child.pid,
    exited: () => exit,
    kill: (signal = "SIGTERM") => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
  followed.add(handle);
  void exit.then(() => followed.delete(handle));
  return handle;
}

export function killFollowed(): void {
  for (const p of followed) p.kill("SIGKILL");
}
