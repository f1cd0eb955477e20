// A shell waiting in a slot's cgroup for the slot's next job. Moving a process into a cgroup
// v1 waits for an RCU grace period per controller: on this project's machine 5 ms when jobs
// follow each other and 15 ms after a pause, on every job's critical path. So the worker
// starts this shell once the slot's last job is over; it joins the cgroup while the slot is
// idle, and when the job comes it is handed the job's command (its rlimits, environment and
// program) and execs it, keeping its pid, process group and the worker's pipes. Its children
// are born in the cgroup. Under bwrap the shell can wait inside a sandbox already made for
// the slot's next job (standby-sandbox.ts), which takes bwrap's milliseconds off the job's path.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, ftruncateSync, openSync, unlinkSync, writeSync } from "node:fs";
import path from "node:path";
import { CGROUP_JOIN_FAILED_EXIT, type SandboxShape, type WarmStart } from "./launch.ts";
import type { DiskArea } from "./types.ts";
import { parseReady, type WarmRlimitName } from "./warm-python.ts";

/** The descriptor on which the waiting shell finds its command. */
const COMMAND_FD = 4;

// Says it is ready on fd 3 and closes it (the job must not inherit it), waits for a line on
// stdin, then sources its command from the file open on fd 4. Not from stdin itself: node's
// stdin pipe is a socket, which cannot be sourced, and `read` takes a byte a call (about 1,500
// calls for a job's command). The file was unlinked once the shell had it open, so it is
// reached through /proc, even inside a sandbox that hides its directory. Stdin closed without
// a line (the standby was discarded, or the worker went away) ends it.
const WAIT_SCRIPT = `echo ready >&3
exec 3>&-
IFS= read -r go || exit 0
. /proc/self/fd/${COMMAND_FD}`;

// Joins the cgroups listed before `--`; then either waits itself or execs the sandbox command
// that follows, which runs WAIT_SCRIPT inside.
const STANDBY_SCRIPT = `for f; do shift; [ "$f" = -- ] && break; echo $$ > "$f" || exit ${CGROUP_JOIN_FAILED_EXIT}; done
[ $# -eq 0 ] || exec "$@"
${WAIT_SCRIPT}`;

/** The argv a sandbox runs to wait inside for its job, after bwrap's `--`. */
export const WAIT_INSIDE: readonly string[] = ["/bin/sh", "-c", WAIT_SCRIPT, "sh"];

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
  // The descriptor that carried this text is not the job's.
  const lines = [`exec ${COMMAND_FD}<&-`, `cd ${shellQuote(cwd)} || exit 127`, "unset OLDPWD"];
  for (const name of names) lines.push(`export ${name}=${shellQuote(env[name] ?? "")}`);
  lines.push(...setup);
  lines.push(`exec ${[file, ...args].map(shellQuote).join(" ")} </dev/null`);
  return `${lines.join("\n")}\n`;
}

/**
 * How long a job waits for a standby still joining its cgroup before starting the ordinary
 * way. A join takes an RCU grace period or two (milliseconds); this bounds a shell that hangs.
 */
const JOIN_WAIT_MS = 2_000;

export interface StandbyOptions {
  /** The `cgroup.procs` files the shell joins. */
  readonly procsFiles: readonly string[];
  /** A directory of the worker's that jobs cannot write: the command's file is made there. */
  readonly scratchDir: string;
  /** A sandbox to wait in, made for the slot's next job (standby-sandbox.ts). */
  readonly sandbox?: StandbySandbox;
  /** Called once if it is discarded before a job took it: give back what it holds. */
  readonly onUnused?: () => void;
  /**
   * It waits as a warm python (warm-python.ts) rather than a shell: handed a record from
   * `warmRecord`, not shell text. `argv` is what runs after the cgroup join where there is no
   * sandbox; a sandbox's `argv` ends in the same command.
   */
  readonly warm?: WarmStart & { readonly argv: readonly string[] };
}

/** A warm python waiting, as it said when ready. */
export interface WarmStandby extends WarmStart {
  /** Its hard limits: it cannot set a job's rlimit above them (-1: unlimited). */
  readonly hardLimits: Readonly<Partial<Record<WarmRlimitName, number>>>;
}

export interface StandbySandbox {
  /** The sandbox command, ending in `WAIT_INSIDE`, run once the cgroups are joined. */
  readonly argv: readonly string[];
  /** The job it was made for: a job of another shape starts the ordinary way. */
  readonly shape: SandboxShape;
  /** The disk area its directory is in, which the job that takes the standby gets. */
  readonly area?: DiskArea;
}

export class StandbyShell {
  readonly child: ChildProcess;
  /** Where the shell waits, if in a sandbox: the job's command then needs none of its own. */
  readonly sandbox: StandbySandbox | undefined;
  #onUnused: (() => void) | undefined;
  readonly #warmStart: WarmStart | undefined;
  #warm: WarmStandby | undefined;
  #commandFd: number | undefined;
  #ready = false;
  #ended = false;
  #used = false;
  readonly #joined: Promise<boolean>;

  constructor(options: StandbyOptions) {
    this.sandbox = options.sandbox;
    this.#onUnused = options.onUnused;
    this.#warmStart = options.warm;
    const file = path.join(options.scratchDir, `.standby-${randomBytes(6).toString("hex")}`);
    const fd = openSync(file, "wx+", 0o600);
    try {
      this.child = spawn(
        "/bin/sh",
        [
          "-c",
          STANDBY_SCRIPT,
          "sh",
          ...options.procsFiles,
          "--",
          ...(options.sandbox?.argv ?? options.warm?.argv ?? []),
        ],
        {
          cwd: "/",
          // A warm python reads these at its start; a shell starts with none.
          env: { ...options.warm?.startEnv },
          stdio: ["pipe", "pipe", "pipe", "pipe", fd],
          // Its own process group, which the job keeps: timeouts signal the whole group.
          detached: true,
        },
      );
    } catch (error) {
      closeSync(fd);
      throw error;
    } finally {
      unlinkSync(file);
    }
    this.#commandFd = fd;
    const control = this.child.stdio[3];
    control?.on("error", () => undefined);
    this.child.stdin?.on("error", () => undefined);
    this.#joined = new Promise<boolean>((resolve) => {
      let said = "";
      control?.on("data", (chunk: Buffer) => {
        said += chunk.toString();
        if (this.#ready || !said.includes("\n")) return;
        if (!said.startsWith("ready")) return;
        if (this.#warmStart) {
          const hardLimits = parseReady(said);
          // Not the loader's line: never usable, as a shell would take text it cannot read.
          if (!hardLimits) return resolve(false);
          this.#warm = { ...this.#warmStart, hardLimits };
        }
        this.#ready = true;
        resolve(true);
      });
      const end = (): void => {
        this.#ended = true;
        this.#closeCommandFile();
        resolve(false);
      };
      this.child.once("exit", end);
      this.child.once("error", end);
    });
  }

  /** What it is, where it waits as a warm python that has said it is ready. */
  get warm(): WarmStandby | undefined {
    return this.#ready ? this.#warm : undefined;
  }

  /** In its cgroups (and sandbox), waiting, and not yet handed a job. */
  get usable(): boolean {
    return this.#ready && !this.#ended && !this.#used && this.child.exitCode === null;
  }

  /** Alive and not yet handed a job: waiting already, or on its way there. */
  get joining(): boolean {
    return !this.#ended && !this.#used && this.child.exitCode === null;
  }

  /**
   * True once it is usable. A job that comes while its slot's standby is still joining
   * waits for it: an ordinary start would pay the same join, and one more spawn besides.
   * False if it ended or took longer than a join should; it is then discarded.
   */
  async whenUsable(): Promise<boolean> {
    if (this.usable || !this.joining) return this.usable;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), JOIN_WAIT_MS);
    });
    const joined = await Promise.race([this.#joined, late]);
    clearTimeout(timer);
    if (joined && this.usable) return true;
    this.discard();
    return false;
  }

  /**
   * A job's now, whether or not it runs in it: what it holds (its directory and disk area)
   * is the job's to use and give back.
   */
  take(): this {
    this.#onUnused = undefined;
    return this;
  }

  /**
   * Hands it its job: text from `standbyCommand`, which the shell sources, or for a warm
   * python the record from `encodeWarmRecord`. Once only.
   */
  run(command: string): void {
    this.#used = true;
    const fd = this.#commandFd;
    if (fd !== undefined) {
      const bytes = Buffer.from(command);
      writeSync(fd, bytes, 0, bytes.length, 0);
      ftruncateSync(fd, bytes.length);
      this.#closeCommandFile();
    }
    this.child.stdin?.end("go\n");
  }

  /** Ends it unused; if no job took it, gives back what it holds. */
  discard(): void {
    const onUnused = this.#onUnused;
    this.#onUnused = undefined;
    onUnused?.();
    if (this.#used || this.#ended) return;
    this.#used = true;
    this.#closeCommandFile();
    this.child.stdin?.end();
    try {
      if (this.child.pid !== undefined) process.kill(-this.child.pid, "SIGKILL");
    } catch {
      // Gone already.
    }
  }

  #closeCommandFile(): void {
    if (this.#commandFd === undefined) return;
    closeSync(this.#commandFd);
    this.#commandFd = undefined;
  }
}
