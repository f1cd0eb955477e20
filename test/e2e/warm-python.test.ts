// A worker's idle slots wait as a python already started (warm-python.ts): a .py job runs in
// it, and sees what it would have seen started cold (a worker with --no-warm-python beside it
// runs the same job); a job that would start python differently (its own TZ) or is not python
// is exec'd by it instead; a warm job is cancelled as any other. The worker's metrics say how
// each script started.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseExposition } from "../../src/common/metrics.ts";
import {
  runCli,
  startRouterProcess,
  startWorkerProcess,
  type WorkerProcess,
} from "../helpers/cluster.ts";
import {
  eventually,
  startServerProcess,
  stopAll,
  tempDir,
  type ServerProcess,
} from "../helpers/processes.ts";
import { probeHost } from "../sandbox/harness.ts";

const host = await probeHost();

const REPORT = String.raw`import os, sys, time
here = os.getcwd()
def show(value):
    print(repr(value).replace(here, "DIR"))
show(sys.argv)
show(getattr(sys, "orig_argv", None))
show(sys.flags)
show(sys.path)
show(sorted((k, v) for k, v in os.environ.items() if k not in ("MODULATE_JOB_ID",)))
show(time.tzname)
show(sorted(os.listdir("/proc/self/fd")))
show(os.read(0, 10))
`;

let server: ServerProcess;
let warm: WorkerProcess;
let cold: WorkerProcess;
let script: string;

beforeAll(async () => {
  server = await startServerProcess(["--in-memory"]);
  await startRouterProcess(server.url);
  [warm, cold] = await Promise.all([
    startWorkerProcess(server.url, "warm", tempDir(), ["--metrics-port", "0"]),
    startWorkerProcess(server.url, "cold", tempDir(), ["--no-warm-python"]),
  ]);
  script = join(tempDir(), "report.py");
  writeFileSync(script, REPORT);
});

afterAll(stopAll);

async function launches(): Promise<Record<string, number>> {
  const url = /metrics: (http:\/\/\S+)/.exec(warm.output())?.[1] ?? "";
  const samples = parseExposition(await (await fetch(url)).text());
  const counts: Record<string, number> = {};
  for (const s of samples)
    if (s.name === "modulate_worker_launches_total") counts[s.labels["start"] ?? ""] = s.value;
  return counts;
}

function submit(group: string, ...args: string[]): ReturnType<typeof runCli> {
  return runCli(server.url, "submit", "--json", "--group", group, ...args);
}

describe.skipIf(!host.cgroups)("a warm python (needs cgroups: standbys)", () => {
  it("says so at start, and --no-warm-python turns it off", () => {
    expect(warm.output()).toMatch(/warm python: on/);
    expect(cold.output()).toMatch(/warm python: off \(--no-warm-python\)/);
  });

  it("runs a .py job in itself, which sees what a cold start shows", async () => {
    const before = await launches();
    const w = await submit("warm", script, "--env", "K=v w", "--", "a b", "-x");
    const c = await submit("cold", script, "--env", "K=v w", "--", "a b", "-x");
    expect(c.record.state).toBe("succeeded");
    expect(w.record.state).toBe("succeeded");
    expect(w.record.stdout).toBe(c.record.stdout);
    expect(String(w.record.stdout)).toContain("'a b', '-x'");
    const after = await launches();
    expect((after["warm"] ?? 0) - (before["warm"] ?? 0)).toBe(1);
  });

  it("execs a job that would start python differently, and a job that is not python", async () => {
    const before = await launches();
    const tz = await submit("warm", script, "--env", "TZ=JST-9");
    expect(tz.record.state).toBe("succeeded");
    expect(String(tz.record.stdout)).toContain("('JST', 'JST')");
    const coldTz = await submit("cold", script, "--env", "TZ=JST-9");
    expect(tz.record.stdout).toBe(coldTz.record.stdout);
    const shell = join(tempDir(), "hello.sh");
    writeFileSync(shell, 'echo "shell $0 $1"\n');
    const sh = await submit("warm", shell, "--", "one");
    expect(sh.record.state).toBe("succeeded");
    expect(String(sh.record.stdout)).toMatch(/^shell \S+hello\.sh one\n$/);
    const after = await launches();
    expect((after["standby"] ?? 0) - (before["standby"] ?? 0)).toBe(2);
    expect(after["warm"]).toBe(before["warm"]);
  });

  it("cancels a warm job: its processes end", async () => {
    const sleeper = join(tempDir(), "sleeper.py");
    writeFileSync(
      sleeper,
      "import subprocess, time\nsubprocess.Popen(['sleep', '300'])\nprint('up', flush=True)\ntime.sleep(300)\n",
    );
    const before = await launches();
    const detached = await runCli(server.url, "submit", "--detach", "--group", "warm", sleeper);
    const id = /\S+/.exec(detached.out.trim().split("\n").pop() ?? "")?.[0] ?? "";
    expect(id).not.toBe("");
    await eventually(
      async () => ((await launches())["warm"] ?? 0) > (before["warm"] ?? 0) || undefined,
      "the job's warm launch",
    );
    const cancel = await runCli(server.url, "cancel", id);
    expect(cancel.code).toBe(0);
    const got = await runCli(server.url, "get", id, "--wait", "--json");
    expect(got.record.state).toBe("canceled");
  });
});
