// A waiting `submit` streams its job's output as the job prints it, each stream to its own,
// and prints nothing twice at the end; --quiet and --json keep the old output. Real
// processes, every one run from src/ (dist/ is rebuilt only by the lead), so all speak the
// same ids.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startRouterProcess } from "../helpers/cluster.ts";
import {
  MODULATE,
  start,
  startServerProcess,
  stopAll,
  tempDir,
  type Spawned,
} from "../helpers/processes.ts";

afterEach(async () => {
  await stopAll();
});

/** `modulate ARGS`, the built binary as a user runs it. */
function modulate(args: string[]): Spawned {
  return start(MODULATE, args);
}

/** A server and a router; the server's URL. */
async function serverAndRouter(): Promise<string> {
  const server = await startServerProcess();
  await startRouterProcess(server.url);
  return server.url;
}

/** A cluster of one router and one worker of group g; its server's URL. */
async function cluster(): Promise<string> {
  const url = await serverAndRouter();
  const worker = modulate([
    "worker",
    ...["--url", url, "--group", "g", "--work-dir", tempDir()],
    ...["--python", "/usr/bin/python3"],
  ]);
  await worker.waitFor(/modulate worker \S+ ready/, 60_000);
  return url;
}

/**
 * A script that prints on both streams, sleeps `pauseS` seconds (the sandbox hides the test's
 * files, so no gate file can hold it), prints again and exits 5.
 */
function script(pauseS: number): string {
  const path = join(tempDir(), "job.py");
  writeFileSync(
    path,
    [
      "import sys, time",
      "print('out-1', flush=True)",
      "print('err-1', file=sys.stderr, flush=True)",
      `time.sleep(${pauseS})`,
      "print('out-2', flush=True)",
      "sys.exit(5)",
    ].join("\n"),
  );
  return path;
}

interface Streams {
  stdout(): string;
  stderr(): string;
}

function streams(p: Spawned): Streams {
  let out = "";
  let err = "";
  p.child.stdout?.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")));
  p.child.stderr?.on("data", (chunk: Buffer) => (err += chunk.toString("utf8")));
  return { stdout: () => out, stderr: () => err };
}

function count(text: string, line: string): number {
  return text.split("\n").filter((l) => l === line).length;
}

describe("a waiting submit", () => {
  it("streams the job's output live, stdout to stdout and stderr to stderr, and prints nothing twice", async () => {
    const url = await cluster();
    const submit = modulate(["submit", script(4), "--group", "g", "--url", url]);
    const seen = streams(submit);
    await submit.waitFor(/^err-1$/m, 60_000);
    await submit.waitFor(/^out-1$/m);
    // Before out-2 exists: what submit printed came live, not from the record.
    expect(seen.stdout()).not.toContain("out-2");
    expect(seen.stderr()).toMatch(/job (job-\S+) queued on g/);

    expect(await submit.exited()).toBe(5);
    expect(count(seen.stdout(), "out-1")).toBe(1);
    expect(count(seen.stdout(), "out-2")).toBe(1);
    expect(count(seen.stderr(), "err-1")).toBe(1);
    expect(seen.stdout()).not.toContain("err-1");
    expect(seen.stderr()).toContain("exited with code 5");
  });

  it("with --quiet, prints the output once, at the end", async () => {
    const url = await cluster();
    const submit = modulate(["submit", script(4), "--group", "g", "--quiet", "--url", url]);
    const seen = streams(submit);
    const id = (await submit.waitFor(/job (job-\S+) queued on g/, 60_000))[1] ?? "";
    // Nothing streams: the job's first lines are on the server, and submit prints none.
    const logs = modulate(["logs", id, "--follow", "--url", url]);
    await logs.waitFor(/^out-1$/m, 60_000);
    if (!logs.output().includes("out-2")) expect(seen.stdout()).toBe("");
    expect(await submit.exited()).toBe(5);
    expect(count(seen.stdout(), "out-1")).toBe(1);
    expect(count(seen.stdout(), "out-2")).toBe(1);
    expect(count(seen.stderr(), "err-1")).toBe(1);
    expect(await logs.exited()).toBe(5);
  });

  it("with --json, prints only the result record on stdout", async () => {
    const url = await cluster();
    const submit = modulate(["submit", script(0), "--group", "g", "--json", "--url", url]);
    const seen = streams(submit);
    expect(await submit.exited()).toBe(5);
    const lines = seen.stdout().trim().split("\n");
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0] ?? "{}") as { stdout: string; stderr: string };
    expect(record.stdout).toBe("out-1\nout-2\n");
    expect(record.stderr).toBe("err-1\n");
  });
});
