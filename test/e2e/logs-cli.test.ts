// `modulate logs` against real processes: a server, a router, workers that publish their
// jobs' live output, and `logs` itself, killed with kill -9 where the test says so. Every
// process runs from src/ (dist/ is rebuilt only by the lead), so all speak the same ids.
import { afterEach, describe, expect, it } from "vitest";
import { ModulateClient } from "../../src/orchestration/client.ts";
import type { JobSpec } from "../../src/orchestration/jobs/job.ts";
import { newJobId } from "../../src/orchestration/jobs/names.ts";
import { startRouterProcess } from "../helpers/cluster.ts";
import {
  MODULATE,
  start,
  startServerProcess,
  stopAll,
  tempDir,
  type Spawned,
} from "../helpers/processes.ts";

const clients: ModulateClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
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

async function startWorker(url: string): Promise<Spawned & { workerPid: string }> {
  const p = modulate([
    "worker",
    "--url",
    url,
    "--group",
    "g",
    "--work-dir",
    tempDir(),
    "--python",
    "/usr/bin/python3",
    "--lease",
    "3s",
  ]);
  const match = await p.waitFor(/modulate worker (\S+) ready/, 60_000);
  return Object.assign(p, { workerPid: match[1] ?? "" });
}

function pythonJob(code: string): JobSpec {
  const now = Date.now();
  return {
    id: newJobId(now),
    group: "g",
    script: { name: "job.py", content: code },
    args: [],
    timeoutMs: 120_000,
    mode: "detach",
    submittedAt: now,
  };
}

/** Each line a process prints on stdout, with when it arrived. */
function stdoutLines(p: Spawned): { line: string; at: number }[] {
  const lines: { line: string; at: number }[] = [];
  let partial = "";
  p.child.stdout?.on("data", (chunk: Buffer) => {
    const at = Date.now();
    const pieces = (partial + chunk.toString("utf8")).split("\n");
    partial = pieces.pop() ?? "";
    for (const line of pieces) lines.push({ line, at });
  });
  return lines;
}

describe("modulate logs", () => {
  it("follows a script that prints a line a second, each line within a second, and exits with its code", async () => {
    const url = await serverAndRouter();
    await startWorker(url);
    const client = new ModulateClient({ url: url });
    clients.push(client);
    const spec = pythonJob(
      [
        "import sys, time",
        "for i in range(5):",
        "    print(f'tick {i} {time.time() * 1000:.0f}', flush=True)",
        "    time.sleep(1)",
        "print('to stderr', file=sys.stderr, flush=True)",
        "sys.exit(3)",
      ].join("\n"),
    );
    await client.submit(spec, 60_000);
    const follow = modulate(["logs", spec.id, "--follow", "--url", url]);
    const lines = stdoutLines(follow);
    expect(await follow.exited()).toBe(3);

    const ticks = lines.filter((l) => l.line.startsWith("tick "));
    expect(ticks.map((l) => l.line.split(" ")[1])).toEqual(["0", "1", "2", "3", "4"]);
    // The bar: each line within a second of its printing. The follower may start
    // after the first lines (its own start-up), so only lines printed after it began count.
    const firstLive = ticks.findIndex((l) => l.at - Number(l.line.split(" ")[2]) < 1_000);
    const live = ticks.slice(Math.max(firstLive, 0));
    expect(live.length).toBeGreaterThanOrEqual(3);
    for (const { line, at } of live) {
      expect(at - Number(line.split(" ")[2]), line).toBeLessThan(1_000);
    }
    // stderr went to stderr, not into stdout.
    expect(lines.some((l) => l.line === "to stderr")).toBe(false);
    expect(follow.output()).toContain("to stderr");
  });

  it("stops following at once on Ctrl+C and on SIGTERM, and the job goes on", async () => {
    const url = await serverAndRouter();
    await startWorker(url);
    const client = new ModulateClient({ url });
    clients.push(client);
    const spec = pythonJob("import time\nprint('started', flush=True)\ntime.sleep(600)");
    await client.submit(spec, 60_000);
    for (const [signal, code] of [
      ["SIGINT", 130],
      ["SIGTERM", 143],
    ] as const) {
      const follow = modulate(["logs", spec.id, "--follow", "--url", url]);
      // It has printed the job's first line: it is following now.
      await follow.waitFor(/^started$/m, 60_000);
      follow.kill(signal);
      expect(await follow.exited()).toBe(code);
    }
    expect((await client.getJob(spec.id)).finished).toBe(false);
  });

  it("shows a python job's plain print() live, with no flush in the script (python's stdout is unbuffered)", async () => {
    const url = await serverAndRouter();
    await startWorker(url);
    const client = new ModulateClient({ url: url });
    clients.push(client);
    // No flush=True: a user's training loop prints as it goes. A block-buffered stdout would
    // hold these lines until the job ends, 60 s later.
    const spec = pythonJob(
      ["import time", "print('first line')", "time.sleep(60)", "print('last line')"].join("\n"),
    );
    await client.submit(spec, 60_000);
    const follow = modulate(["logs", spec.id, "--follow", "--url", url]);
    await follow.waitFor(/^first line$/m, 30_000);
    expect(follow.output()).not.toContain("last line");
    expect((await client.getJob(spec.id)).finished).toBe(false);
    follow.kill("SIGTERM");
    await follow.exited();
    await client.cancel(spec.id, Date.now());
  });

  it("follows through a kill -9 of the worker onto its peer, and shows the dead attempt's last lines after", async () => {
    const url = await serverAndRouter();
    const workers = await Promise.all([startWorker(url), startWorker(url)]);
    const client = new ModulateClient({ url: url });
    clients.push(client);
    const spec = pythonJob(
      [
        "import time",
        "for i in range(12):",
        "    print(f'n={i}', flush=True)",
        "    time.sleep(0.4)",
        "print('done', flush=True)",
      ].join("\n"),
    );
    await client.submit(spec, 60_000);
    const follow = modulate(["logs", spec.id, "--follow", "--url", url]);
    await follow.waitFor(/^n=3$/m, 60_000);
    const started = new RegExp(`start ${spec.id} attempt 1`);
    const first = workers.find((w) => started.test(w.output()));
    expect(first).toBeDefined();
    const peer = workers.find((w) => w !== first)!;
    first!.kill("SIGKILL");
    await first!.exited();

    expect(await follow.exited()).toBe(0);
    const out = follow.output();
    const switchLine = `--- attempt 2 on `;
    expect(out).toContain(`${switchLine}`);
    expect(out).toContain(`(${peer.workerPid}) ---`);
    // After the switch, the re-run's whole output, once.
    const after = out.slice(out.indexOf(switchLine));
    for (let i = 0; i < 12; i++) expect(after).toMatch(new RegExp(`^n=${i}$`, "m"));
    expect(after.match(/^done$/gm)).toHaveLength(1);

    // The dead attempt's chunks outlive its worker: its last lines, up to where it was killed.
    const dead = modulate(["logs", spec.id, "--attempt", "1", "--url", url]);
    const deadLines = stdoutLines(dead);
    expect(await dead.exited()).toBe(0);
    const printed = deadLines.map((l) => l.line);
    expect(printed.slice(0, 4)).toEqual(["n=0", "n=1", "n=2", "n=3"]);
    expect(printed).not.toContain("done");
    // Following a dead attempt of an ended job reads what there is and ends, with the job's code.
    const deadFollow = modulate(["logs", spec.id, "--attempt", "1", "--follow", "--url", url]);
    const deadFollowLines = stdoutLines(deadFollow);
    expect(await deadFollow.exited()).toBe(0);
    expect(deadFollowLines.map((l) => l.line)).toEqual(printed);
    // --tail keeps the last lines of the same.
    const tail = modulate(["logs", spec.id, "--attempt", "1", "--tail", "2", "--url", url]);
    const tailLines = stdoutLines(tail);
    expect(await tail.exited()).toBe(0);
    expect(tailLines.map((l) => l.line)).toEqual(printed.slice(-2));
  });
});
