// A shell waiting in a slot's cgroup for the slot's next job. Moving a process into a cgroup
// v1 waits for an RCU grace period per controller: on this project's machine 5 ms when jobs
// follow each other and 15 ms after a pause, on every job's critical path. So the worker
// starts this shell once the slot's last job is over; it joins the cgroup while the slot is
// idle, and when the job comes it is handed the job's command (its rlimits, environment and
// program) and execs it, keeping its pid, process group and the worker's pipes. Its children
// are born in the cgroup.
import { spawn, type ChildProcess } from "node:child_process";
import { CGROUP_JOIN_FAILED_EXIT } from "./launch.ts";

// Joins the cgroups, says so on fd 3 and closes it (the job must not inherit it), reads the
// path of the file that holds its command, and sources it. The command comes as a file, not on
// stdin, because dash reads stdin a byte at a time (about 1,500 read calls for a job's
// command, up to a millisecond). No path (the worker went away) just ends.
const STANDBY_SCRIPT = `for f; do echo $$ > "$f" || exit ${CGROUP_JOIN_FAILED_EXIT}; done
echo ready >&3
exec 3>&-
IFS= read -r p || exit 0
[ -n "$p" ] || exit 0
. "$p"`;

const SHELL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A word the shell reads back exactly as given. */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * The shell text that makes the standby its job: change to `cwd`, export exactly `env` (the
 * shell started with none; like any dash it adds PWD, as the job's cgroup join always has),
 * and exec the program with stdin from /dev/null. Undefined
 * where `env` has a name the shell cannot export; the job then starts the ordinary way.
 */
export function standbyCommand(
  file: string,
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  cwd: string,
  /** Lines to run first, such as the job's `ulimit`s. */
  setup: readonly string[] = [],
): string | undefined {
  const names = Object.keys(env);
  if (!names.every((name) => SHELL_NAME.test(name))) return undefined;
  const lines = [`cd ${shellQuote(cwd)} || exit 127`, "unset OLDPWD"];
  for (const name of names) lines.push(`export ${name}=${shellQuote(env[name] ?? "")}`);
  lines.push(...setup);
  lines.push(`exec ${[file, ...args].map(shellQuote).join(" ")} </dev/null`);
  return `${lines.join("\n")}\n`;
}

export class StandbyShell {
  readonly child: ChildProcess;
  #ready = false;
  #ended = false;
  #used = false;

  /** Starts a shell that joins the cgroups whose `cgroup.procs` files are given. */
  constructor(procsFiles: readonly string[]) {
    this.child = spawn("/bin/sh", ["-c", STANDBY_SCRIPT, "sh", ...procsFiles], {
      cwd: "/",
      env: {},
      stdio: ["pipe", "pipe", "pipe", "pipe"],
      // Its own process group, which the job keeps: timeouts signal the whole group.
      detached: true,
    });
    const control = this.child.stdio[3];
    control?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("ready")) this.#ready = true;
    });
    control?.on("error", () => undefined);
    this.child.stdin?.on("error", () => undefined);
    this.child.once("exit", () => (this.#ended = true));
    this.child.once("error", () => (this.#ended = true));
  }

  /** In its cgroups, waiting, and not yet handed a job. */
  get usable(): boolean {
    return this.#ready && !this.#ended && !this.#used && this.child.exitCode === null;
  }

  /**
   * Hands it its job: the path of a file holding text from `standbyCommand`, readable by the
   * worker's user only, which the shell sources. Once only.
   */
  run(commandFile: string): void {
    this.#used = true;
    this.child.stdin?.end(`${commandFile}\n`);
  }

  /** Ends it unused. */
  discard(): void {
    if (this.#used || this.#ended) return;
    this.#used = true;
    this.child.stdin?.end();
    try {
      if (this.child.pid !== undefined) process.kill(-this.child.pid, "SIGKILL");
    } catch {
      // Gone already.
    }
  }
}
