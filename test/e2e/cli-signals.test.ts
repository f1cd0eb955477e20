// The CLI as a user stops it: Ctrl+C (SIGINT) and SIGTERM end every wait at once, whatever it
// waits for, and what submit reads can neither block it nor fill its memory (issue 12, item 9).
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli, startRouterProcess, startWorkerProcess } from "../helpers/cluster.ts";
import {
  eventually,
  JOB_FIXTURES,
  MODULATE,
  startServerProcess,
  stopAll,
  tempDir,
} from "../helpers/processes.ts";

/** Processes this file spawned with a stdin of its own; killed by PID in afterEach. */
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  await stopAll();
});

interface Run {
  child: ChildProcess;
  /** Exit code, or null if it is still running at the deadline. */
  exitedWithin(ms: number): Promise<number | null>;
  output(): string;
}

function modulate(args: string[], stdin: "pipe" | "ignore" | number = "ignore"): Run {
  const child = spawn(MODULATE, args, { stdio: [stdin, "pipe", "pipe"] });
  children.push(child);
  let text = "";
  child.stdout?.on("data", (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (text += chunk.toString()));
  const exit = new Promise<number | null>((resolve) =>
    child.once("exit", (code, signal) => {
      if (signal) text += `[killed by ${signal}]`;
      resolve(code ?? (signal ? -1 : null));
    }),
  );
  return {
    child,
    output: () => text,
    exitedWithin: (ms) =>
      Promise.race([exit, new Promise<null>((resolve) => setTimeout(() => resolve(null), ms))]),
  };
}

/**
 * TCP connections the process holds to `port`: a waiting client holds one for its requests and
 * one for its poll stream. (Its stdout and stderr are sockets too, so counting those would not do.)
 */
function connectionsTo(pid: number, port: number): number {
  const dir = `/proc/${pid}/fd`;
  const inodes = new Set<string>();
  for (const fd of readdirSync(dir)) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(join(dir, fd)))?.[1];
      if (inode) inodes.add(inode);
    } catch {
      // closed meanwhile
    }
  }
  const portHex = `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  return ["tcp", "tcp6"]
    .flatMap((file) => readFileSync(`/proc/${pid}/net/${file}`, "utf8").split("\n").slice(1))
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => cols[2]?.endsWith(portHex) && cols[3] === "01" && inodes.has(cols[9] ?? ""))
    .length;
}

// Generous for a loaded machine; a CLI that ignores the signal never exits at all.
const PROMPTLY_MS = 5_000;

describe("stopping the CLI", () => {
  it("ends get --wait on SIGTERM with 143 while its server is gone", async () => {
    const server = await startServerProcess(["--data", tempDir()]);
    // No router: the job stays pending, and get --wait waits.
    const submitted = await runCli(
      server.url,
      "submit",
      join(JOB_FIXTURES, "quick.py"),
      "--detach",
    );
    // The id is stdout's one line; stderr warns first that group cpu has no live worker.
    const id = submitted.out.trim().split("\n").pop() ?? "";
    const get = modulate(["get", id, "--wait", "--url", server.url]);
    // Waiting: it has read the job and opened its poll stream beside its request socket.
    const port = Number(new URL(server.url).port);
    await eventually(() => connectionsTo(get.child.pid!, port) >= 2, "get --wait to wait");
    server.kill("SIGKILL");
    await server.exited();
    get.child.kill("SIGTERM");
    expect(await get.exitedWithin(PROMPTLY_MS)).toBe(143);
    expect(get.output()).toContain(`stopped waiting; job ${id} goes on`);
  });

  it("ends submit's wait on SIGINT with 130", async () => {
    const server = await startServerProcess(["--data", tempDir()]);
    const submit = modulate(["submit", join(JOB_FIXTURES, "quick.py"), "--url", server.url]);
    const port = Number(new URL(server.url).port);
    // Submitted (it says so), then waiting: its poll stream open beside its request socket. Two
    // sockets alone also show while it submits, beside its look for a live worker.
    await eventually(() => submit.output().includes(" queued on cpu"), "submit to be accepted");
    await eventually(() => connectionsTo(submit.child.pid!, port) >= 2, "submit to wait");
    submit.child.kill("SIGINT");
    expect(await submit.exitedWithin(PROMPTLY_MS)).toBe(130);
    expect(submit.output()).toContain("stopped waiting; job ");
  });

  it("refuses a FIFO at once instead of blocking on it", async () => {
    const fifo = join(tempDir(), "fifo.py");
    execFileSync("mkfifo", [fifo]);
    const submit = modulate(["submit", fifo, "--url", "http://127.0.0.1:9"]);
    const code = await submit.exitedWithin(PROMPTLY_MS);
    submit.child.kill("SIGTERM");
    expect(code).toBe(2);
    expect(submit.output()).toContain(`cannot read script ${fifo}: it is a named pipe (FIFO)`);
  });

  it("refuses /dev/zero at once instead of reading it without end", async () => {
    const submit = modulate(["submit", "/dev/zero", "--url", "http://127.0.0.1:9"]);
    const code = await submit.exitedWithin(PROMPTLY_MS);
    submit.child.kill("SIGTERM");
    expect(code).toBe(2);
    expect(submit.output()).toContain("cannot read script /dev/zero: it is a device");
  });

  it("reads stdin with -, up to the limit: /dev/zero there is refused once past it", async () => {
    const zero = openSync("/dev/zero", "r");
    try {
      const submit = modulate(["submit", "-", "--url", "http://127.0.0.1:9"], zero);
      const code = await submit.exitedWithin(PROMPTLY_MS * 2);
      submit.child.kill("SIGTERM");
      expect(code).toBe(2);
      expect(submit.output()).toMatch(/script on stdin is larger than 7\.\d MiB/);
    } finally {
      closeSync(zero);
    }
  });

  it("ends submit - on SIGTERM with 143 while stdin stays open and silent", async () => {
    const submit = modulate(["submit", "-", "--url", "http://127.0.0.1:9"], "pipe");
    // 1 MiB, far more than a pipe holds: once it is all written, the CLI is reading stdin
    // (and so handles SIGTERM itself); then nothing more comes.
    await new Promise((resolve) =>
      submit.child.stdin?.write(`#!/usr/bin/env python3\n${"#".repeat(1024 * 1024)}\n`, resolve),
    );
    submit.child.kill("SIGTERM");
    expect(await submit.exitedWithin(PROMPTLY_MS)).toBe(143);
  });

  it("runs a script given on stdin, named stdin, by its #! line", async () => {
    const server = await startServerProcess(["--data", tempDir()]);
    await startRouterProcess(server.url);
    await startWorkerProcess(server.url, "cpu", tempDir());
    const submit = modulate(["submit", "-", "--url", server.url, "--json"], "pipe");
    submit.child.stdin?.end("#!/usr/bin/env python3\nprint('from stdin')\n");
    expect(await submit.exitedWithin(60_000)).toBe(0);
    const record = JSON.parse(submit.output().trim().split("\n").pop() ?? "{}") as {
      stdout?: string;
    };
    expect(record.stdout).toBe("from stdin\n");
  }, 90_000);
});
