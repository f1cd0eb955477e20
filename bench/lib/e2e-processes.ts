// Real processes for the end-to-end bench: each child is kept by its PID, its output is read
// line by line with the moment each line arrived, and only children started here are ever
// signalled (other engineers' processes share this machine).
import { spawn, type ChildProcess } from "node:child_process";

export interface SeenLine {
  readonly match: RegExpMatchArray;
  /** `performance.now()` when the bench read the line. */
  readonly atMs: number;
}

export interface BenchProcess {
  readonly name: string;
  readonly pid: number;
  /** Every complete line seen so far on stdout and stderr. */
  lines(): readonly string[];
  exited(): Promise<number | null>;
  readonly isRunning: boolean;
  kill(signal?: NodeJS.Signals): void;
}

interface Watched extends BenchProcess {
  readonly seen: { line: string; atMs: number }[];
  readonly listeners: Set<(line: string, atMs: number) => void>;
}

const started = new Set<Watched>();

export function startProcess(name: string, program: string, args: readonly string[]): BenchProcess {
  const child: ChildProcess = spawn(program, args, {
    env: process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (child.pid === undefined) throw new Error(`could not start ${name}: ${program}`);
  const seen: { line: string; atMs: number }[] = [];
  const listeners = new Set<(line: string, atMs: number) => void>();
  const follow = (stream: NodeJS.ReadableStream | null): void => {
    let partial = "";
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => {
      const atMs = performance.now();
      const parts = (partial + chunk).split("\n");
      partial = parts.pop() ?? "";
      for (const line of parts) {
        seen.push({ line, atMs });
        for (const listener of listeners) listener(line, atMs);
      }
    });
  };
  follow(child.stdout);
  follow(child.stderr);
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  const watched: Watched = {
    name,
    pid: child.pid,
    seen,
    listeners,
    lines: () => seen.map((s) => s.line),
    exited: () => exit,
    get isRunning() {
      return running();
    },
    kill(signal = "SIGTERM") {
      if (running()) child.kill(signal);
    },
  };
  started.add(watched);
  void exit.then(() => started.delete(watched));
  return watched;
}

/**
 * The first line, already seen or still to come, of any of `processes` that matches
 * `pattern`; rejects after `timeoutMs` with the output so far. One timer for all of them,
 * cleared on the first match, so a race leaves nothing behind.
 */
export function firstLine(
  processes: readonly BenchProcess[],
  pattern: RegExp,
  timeoutMs: number,
): Promise<SeenLine & { from: BenchProcess }> {
  const watched = processes.map((p) => p as Watched);
  for (const p of watched) {
    for (const { line, atMs } of p.seen) {
      const match = pattern.exec(line);
      if (match) return Promise.resolve({ match, atMs, from: p });
    }
  }
  return new Promise((resolve, reject) => {
    const hooks = new Map<Watched, (line: string, atMs: number) => void>();
    const cleanup = (): void => {
      clearTimeout(timer);
      for (const [p, hook] of hooks) p.listeners.delete(hook);
    };
    const timer = setTimeout(() => {
      cleanup();
      const tails = watched.map((p) => `${p.name}:\n${p.lines().slice(-20).join("\n")}`);
      reject(new Error(`no line matched ${pattern} in ${timeoutMs} ms\n${tails.join("\n")}`));
    }, timeoutMs);
    for (const p of watched) {
      const hook = (line: string, atMs: number): void => {
        const match = pattern.exec(line);
        if (!match) return;
        cleanup();
        resolve({ match, atMs, from: p });
      };
      hooks.set(p, hook);
      p.listeners.add(hook);
    }
  });
}

/** Stops every process started here: SIGTERM, then SIGKILL for any still alive after `graceMs`. */
export async function stopStarted(graceMs = 5_000): Promise<void> {
  const running = [...started];
  for (const p of running) p.kill("SIGTERM");
  const timer = setTimeout(() => {
    for (const p of running) p.kill("SIGKILL");
  }, graceMs);
  await Promise.all(running.map((p) => p.exited()));
  clearTimeout(timer);
}

/** On Ctrl+C or SIGTERM, kills what this bench started (by PID) before leaving. */
export function killStartedOnInterrupt(): void {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      for (const p of started) p.kill("SIGKILL");
      process.exitCode = 130;
      // Leaving now is the point of an interrupt; the bench's own finally blocks would wait
      // for phases that may take minutes.
      process.exit();
    });
  }
}
