// Real processes for end-to-end tests: started with their PIDs kept, stopped in afterEach.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { unmountEverythingUnder } from "../../src/sandbox/disk-areas.ts";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** The scripts the end-to-end tests submit. */
export const JOB_FIXTURES = join(ROOT, "test", "fixtures", "jobs");
export const MODULATE = join(ROOT, "bin", "modulate");
export const NODE = join(ROOT, "node_modules", "node", "bin", "node");

export interface Spawned {
  readonly child: ChildProcess;
  readonly pid: number;
  output(): string;
  /** Resolves with the first match of `pattern` in stdout+stderr, or rejects at the deadline. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited(): Promise<number | null>;
  kill(signal?: NodeJS.Signals): void;
}

const live = new Set<Spawned>();
const dirs: string[] = [];

export function tempDir(prefix = "modulate-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

export function start(program: string, args: string[], env: NodeJS.ProcessEnv = {}): Spawned {
  const child = spawn(program, args, {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    text += chunk.toString("utf8");
    for (const wake of waiters) wake();
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  if (child.pid === undefined) throw new Error(`could not start ${program}`);
  const spawned: Spawned = {
    child,
    pid: child.pid,
    output: () => text,
    waitFor(pattern, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const match = pattern.exec(text);
          if (match) {
            cleanup();
            resolve(match);
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(`timed out after ${timeoutMs} ms waiting for ${pattern} in output:\n${text}`),
          );
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    exited: () => exit,
    kill(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
  live.add(spawned);
  void exit.then(() => live.delete(spawned));
  return spawned;
}

/** Stops every process this file started and removes its temp dirs; call from afterEach. */
export async function stopAll(): Promise<void> {
  const running = [...live];
  for (const p of running) p.kill("SIGKILL");
  await Promise.all(running.map((p) => p.exited()));
  for (const dir of dirs.splice(0)) {
    // A worker killed with SIGKILL (as above) leaves its disk areas mounted, to be cleaned
    // at its next start; tests never restart it.
    await unmountEverythingUnder(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface ServerProcess extends Spawned {
  readonly url: string;
}

export async function startServerProcess(
  args: string[] = ["--in-memory"],
  env: NodeJS.ProcessEnv = {},
): Promise<ServerProcess> {
  const port = args.includes("--port") ? [] : ["--port", "0"];
  const p = start(MODULATE, ["server", ...port, ...args], env);
  const match = await p.waitFor(/listening on (http:\/\/\S+)/);
  return Object.assign(p, { url: match[1] ?? "" });
}

/** Waits until `condition` holds, polling; fails with `what` at the deadline. */
export async function eventually<T>(
  condition: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
