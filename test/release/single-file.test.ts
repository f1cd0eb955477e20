// The release: one executable, built here (`npm run release`) and copied alone into an empty
// directory, runs every mode with no node_modules, no source tree and no `node` on PATH. Its
// PATH is a directory of links to the few tools the test and a worker use: on these machines
// /bin links to /usr/bin, which holds an older node, so a plain PATH would prove nothing.
// One file, so that the release is built once: vitest runs files in parallel.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { basename, join } from "node:path";
import { randomUUID } from "node:crypto";
import { Resonate } from "@resonatehq/sdk";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import packageJson from "../../package.json" with { type: "json" };
import {
  eventually,
  NODE,
  ROOT,
  start,
  stopAll,
  tempDir,
  type Spawned,
} from "../helpers/processes.ts";

const RELEASE = join(ROOT, "release", `modulate-linux-${process.arch}`);

/**
 * The tools the test and a worker call by name, linked where the machine has them. Not node.
 * A worker finds its system tools (bwrap, prlimit, mount...) after its PATH on the standard
 * directories too, as root's PATH has them.
 */
const TOOLS = ["sh", "bash", "env", "python3", "tmux", "bwrap", "prlimit", "setpriv", "flock"];

let dir = "";
let binary = "";
let tools = "";
let nextFile = "";
const clients: Resonate[] = [];
const sessions: string[] = [];
/** What each test started, killed after it; the release's directory stays for the next. */
const running: Spawned[] = [];

/** Builds the release as `npm run release` does; MODULATE_COMMIT names the build. */
function buildRelease(commit?: string): void {
  execFileSync(NODE, [join(ROOT, "release", "build.ts")], {
    cwd: ROOT,
    stdio: "pipe",
    env: { ...process.env, ...(commit === undefined ? {} : { MODULATE_COMMIT: commit }) },
  });
}

/** Every variable of this process unset, so only what the test names reaches the file. */
function bareEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const unset = Object.fromEntries(Object.keys(process.env).map((key) => [key, undefined]));
  return { ...unset, PATH: tools, HOME: dir, LANG: "C.UTF-8", ...extra };
}

function startFile(file: string, args: string[], extra: NodeJS.ProcessEnv = {}): Spawned {
  const p = start(file, args, bareEnv(extra));
  running.push(p);
  return p;
}

function modulate(args: string[], extra: NodeJS.ProcessEnv = {}): Spawned {
  return startFile(binary, args, extra);
}

interface Ran {
  readonly code: number | null;
  readonly out: string;
}

async function run(args: string[]): Promise<Ran> {
  const p = modulate(args);
  const code = await p.exited();
  return { code, out: p.output() };
}

beforeAll(() => {
  buildRelease();
  dir = tempDir("modulate-release-");
  binary = join(dir, "modulate");
  copyFileSync(RELEASE, binary);
  // The sha256 file beside the release checks it, as `sha256sum -c` would.
  const [digest, name] = readFileSync(`${RELEASE}.sha256`, "utf8").trim().split(/\s+/);
  expect(name).toBe(basename(RELEASE));
  expect(createHash("sha256").update(readFileSync(binary)).digest("hex")).toBe(digest);
  // A second build, as a newer release would be, for the upgrade tests.
  buildRelease("next-release");
  nextFile = join(tempDir("modulate-next-"), "modulate");
  copyFileSync(RELEASE, nextFile);
  tools = join(dir, "tools");
  mkdirSync(tools);
  for (const tool of TOOLS) {
    const found = ["/usr/bin", "/bin", "/usr/sbin", "/sbin"]
      .map((d) => join(d, tool))
      .find((path) => existsSync(path));
    if (found !== undefined) symlinkSync(found, join(tools, tool));
  }
}, 180_000);

afterEach(async () => {
  for (const session of sessions.splice(0)) {
    spawnSync("tmux", ["-L", session, "kill-server"]);
  }
  await Promise.all(clients.splice(0).map((c) => c.stop()));
  const stopping = running.splice(0);
  for (const p of stopping) p.kill("SIGKILL");
  await Promise.all(stopping.map((p) => p.exited()));
});

afterAll(stopAll);

async function startServer(data: string, port = "0"): Promise<{ p: Spawned; url: string }> {
  const p = modulate(["server", "--port", port, "--data", data]);
  const url = (await p.waitFor(/listening on (http:\/\/\S+)/))[1] ?? "";
  return { p, url };
}

async function startRouter(url: string): Promise<Spawned> {
  const p = modulate(["router", "--url", url, "--lease", "3s"]);
  await p.waitFor(/modulate router \S+ ready/);
  return p;
}

async function startWorker(url: string, group: string, file = binary): Promise<Spawned> {
  const p = startFile(file, [
    "worker",
    "--url",
    url,
    "--group",
    group,
    "--lease",
    "3s",
    "--work-dir",
    tempDir(),
  ]);
  await p.waitFor(/modulate worker \S+ ready/, 30_000);
  return p;
}

function script(name: string, text: string): string {
  const path = join(tempDir(), name);
  writeFileSync(path, text);
  return path;
}

describe("the single executable", () => {
  it("has no node on its PATH, only the tools linked for it", () => {
    expect(existsSync(join(tools, "node"))).toBe(false);
    expect(spawnSync("sh", ["-c", "command -v node"], { env: bareEnv() }).status).not.toBe(0);
  });

  it("prints its version, commit, protocol and server generations from an empty directory", () => {
    const out = execFileSync(binary, ["--version"], { cwd: tempDir(), env: bareEnv() });
    const lines = out.toString().trim().split("\n");
    expect(lines[0]).toBe(packageJson.version);
    expect(lines).toContainEqual(expect.stringMatching(/^commit: [0-9a-f]{12}(-dirty)?$/));
    expect(lines).toContainEqual(expect.stringMatching(/^protocol: \d{4}-\d{2}-\d{2}$/));
    expect(lines).toContain("server generations: dot, colon, none");
    const next = execFileSync(nextFile, ["--version"], { env: bareEnv() }).toString();
    expect(next).toContain("commit: next-release");
  });

  it("runs a JavaScript job end to end as modulate dev, on the Node inside it", async () => {
    const job = script(
      "job.mjs",
      "await Promise.resolve();\nconsole.log('hello from', process.version);\n",
    );
    const dev = modulate(["dev", "--in-memory", "--port", "0", "--try", job]);
    expect(await dev.exited()).toBe(0);
    expect(dev.output()).toContain(`hello from ${process.version}`);
    expect(dev.output()).not.toContain("ExperimentalWarning");
  });

  it("serves an rpc between two groups as modulate server", async () => {
    const { url } = await startServer(join(tempDir(), "data"));
    const worker = new Resonate({ url, group: "b", logLevel: "error" });
    const caller = new Resonate({ url, group: "a", logLevel: "error" });
    clients.push(worker, caller);
    worker.register("square", (_ctx, n: number) => n * n);
    expect(await caller.rpc("square-1", "square", 12, caller.options({ target: "b" }))).toBe(144);
  });

  it("runs a cluster: server, router, two workers in two groups; submit, get, ls, logs --follow, cancel, a sweep and an array, workers, the dashboard", async () => {
    const { url } = await startServer(join(tempDir(), "data"));
    await startRouter(url);
    await startWorker(url, "py");
    await startWorker(url, "js");
    const workers = await run(["workers", "--url", url]);
    expect(workers.code).toBe(0);
    expect(workers.out).toMatch(/^py\s/m);
    expect(workers.out).toMatch(/^js\s/m);

    // A waiting submit: the .py job's output streams back, and its exit code is submit's.
    const py = script("hello.py", "import sys\nprint('py says', sys.argv[1])\n");
    const waited = await run(["submit", py, "--group", "py", "--url", url, "--", "hi"]);
    expect(waited.out).toContain("py says hi");
    expect(waited.code).toBe(0);

    // A detached submit, then get: a .js job runs on the Node inside the file, not on the
    // machine's older one.
    const js = script("version.js", "console.log('js runs on', process.version);\n");
    const detached = await run(["submit", js, "--group", "js", "--url", url, "--detach"]);
    expect(detached.code).toBe(0);
    const id = detached.out.trim().split("\n").pop() ?? "";
    const got = await run(["get", id, "--wait", "--url", url]);
    expect(got.code).toBe(0);
    expect(got.out).toMatch(/succeeded/);
    const logs = await run(["logs", id, "--url", url]);
    expect(logs.out).toContain(`js runs on ${process.version}`);

    // ls lists it.
    const ls = await run(["ls", "--all", "--url", url]);
    expect(ls.code).toBe(0);
    expect(ls.out).toContain(id);

    // logs --follow prints lines as they come, and ends with the job.
    const slow = script(
      "slow.py",
      "import time\nfor i in range(3):\n    print('line', i, flush=True)\n    time.sleep(0.4)\n",
    );
    const slowId = (await run(["submit", slow, "--group", "py", "--url", url, "--detach"])).out
      .trim()
      .split("\n")
      .pop();
    const followed = await run(["logs", slowId ?? "", "--follow", "--url", url]);
    expect(followed.code).toBe(0);
    expect(followed.out).toMatch(/line 0\nline 1\nline 2/);

    // cancel ends a running job.
    const sleepy = script(
      "sleepy.py",
      "import time\nprint('asleep', flush=True)\ntime.sleep(120)\n",
    );
    const sleepyId =
      (await run(["submit", sleepy, "--group", "py", "--url", url, "--detach"])).out
        .trim()
        .split("\n")
        .pop() ?? "";
    await eventually(async () => {
      const state = await run(["get", sleepyId, "--url", url]);
      return /running/.test(state.out) ? true : undefined;
    }, "the sleepy job running");
    const canceled = await run(["cancel", sleepyId, "--url", url]);
    expect(canceled.code).toBe(0);
    const after = await run(["get", sleepyId, "--wait", "--url", url]);
    expect(after.out).toMatch(/canceled/);

    // A sweep of two scripts and an array of four: submit prints each one's id once every
    // job is durable; `get SWEEP --wait` follows it to the end, exiting 0 only when every
    // job succeeded, and `get SWEEP --json` then counts them and names each job's script.
    const a = script("a.py", "print('sweep a')\n");
    const b = script("b.py", "print('sweep b')\n");
    const indexed = script(
      "indexed.py",
      "import os\nprint('index', os.environ['MODULATE_ARRAY_INDEX'])\n",
    );
    const sweeps = [
      { args: [a, b], scripts: ["a.py", "b.py"], lastSays: "sweep b" },
      // An array's job is told its index, as Slurm tells an array task.
      {
        args: [indexed, "--array", "0-3"],
        scripts: Array<string>(4).fill("indexed.py"),
        lastSays: "index 3",
      },
    ];
    for (const { args, scripts, lastSays } of sweeps) {
      const submitted = await run(["submit", ...args, "--group", "py", "--url", url]);
      expect(submitted.code).toBe(0);
      const sweepId = submitted.out.trim().split("\n").pop() ?? "";
      expect((await run(["get", sweepId, "--wait", "--url", url])).code).toBe(0);
      const view = await run(["get", sweepId, "--json", "--url", url]);
      expect(view.code).toBe(0);
      expect(JSON.parse(view.out)).toMatchObject({
        finished: true,
        progress: { done: scripts.length, failed: 0, running: 0, queued: 0 },
        jobs: scripts.map((name, i) => ({
          id: `${sweepId}.${i + 1}`,
          script: name,
          stage: "succeeded",
        })),
      });
      const lastJob = `${sweepId}.${scripts.length}`;
      expect((await run(["logs", lastJob, "--url", url])).out).toContain(lastSays);
    }

    // The dashboard, opened in a real terminal, shows both groups; q quits it.
    const session = `modulate-release-${randomUUID().slice(0, 8)}`;
    sessions.push(session);
    const tmux = (...args: string[]): string =>
      execFileSync("tmux", ["-L", session, ...args], { env: bareEnv() }).toString();
    tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "30", `${binary} ui --url ${url}`);
    const screen = await eventually(() => {
      const text = tmux("capture-pane", "-p", "-t", session);
      return /^\s*py\s/m.test(text) && /^\s*js\s/m.test(text) ? text : undefined;
    }, "both groups on the dashboard");
    expect(screen).toMatch(/GROUP\s+WORKERS/);
    tmux("send-keys", "-t", session, "q");
    await eventually(
      () =>
        spawnSync("tmux", ["-L", session, "has-session", "-t", session]).status !== 0
          ? true
          : undefined,
      "the dashboard quit",
    );
  }, 240_000);
});

describe("upgrades without losing jobs", () => {
  it("a worker replaced by a newer file and restarted while its jobs run: they finish on a peer or on the restarted worker", async () => {
    const { url } = await startServer(join(tempDir(), "data"));
    await startRouter(url);
    // The node's file, as an operator installs it; the upgrade renames the new one over it.
    const installed = join(tempDir("modulate-node-"), "modulate");
    copyFileSync(binary, installed);
    const first = await startWorker(url, "up", installed);
    const peer = await startWorker(url, "up", binary);
    const slow = script(
      "slow.py",
      "import time, sys\nprint('start', sys.argv[1], flush=True)\ntime.sleep(3)\nprint('end', sys.argv[1])\n",
    );
    const ids: string[] = [];
    for (let i = 0; i < 4; i += 1) {
      const out = await run([
        "submit",
        slow,
        "--group",
        "up",
        "--url",
        url,
        "--detach",
        "--",
        String(i),
      ]);
      ids.push(out.out.trim().split("\n").pop() ?? "");
    }
    const cutId = (await first.waitFor(/^start (\S+) attempt 1$/m))[1] ?? "";
    // The upgrade: the new file renamed over the installed one (the running file is busy),
    // then the worker stopped as systemd stops it, and started again from the new file.
    const staged = `${installed}.new`;
    copyFileSync(nextFile, staged);
    renameSync(staged, installed);
    const stoppedAt = Date.now();
    first.kill("SIGTERM");
    expect(await first.exited()).toBe(0);
    const restarted = await startWorker(url, "up", installed);
    expect(restarted.output()).not.toContain("error");
    // The job cut short is handed on at once, not after the server's pending retry (30 s),
    // which it waited for when the server offered it back to the stopping worker.
    const cut = await run(["get", cutId, "--wait", "--json", "--url", url]);
    expect(JSON.parse(cut.out)).toMatchObject({ state: "succeeded", attempt: 2 });
    expect(Date.now() - stoppedAt).toBeLessThan(20_000);
    for (const id of ids) {
      const got = await run(["get", id, "--wait", "--url", url]);
      expect(got.out).toMatch(/succeeded/);
      expect(got.code).toBe(0);
    }
    expect(peer.output() + restarted.output()).toMatch(/^done /m);
    // So are the offers that waited for the stopping worker's slot: taken and given back,
    // they are offered to the group again at once, not at the server's pending retry.
    expect(Date.now() - stoppedAt).toBeLessThan(25_000);
  }, 180_000);

  it("a server restarted on a newer file keeps every job, finished and waiting", async () => {
    const data = join(tempDir(), "data");
    const { p: server, url } = await startServer(data);
    const port = new URL(url).port;
    await startRouter(url);
    const quick = script("quick.py", "import sys\nprint('quick', sys.argv[1])\n");
    // Finished before the upgrade.
    const done = await run([
      "submit",
      quick,
      "--group",
      "srv",
      "--url",
      url,
      "--detach",
      "--",
      "0",
    ]);
    const doneId = done.out.trim().split("\n").pop() ?? "";
    await startWorker(url, "srv");
    expect((await run(["get", doneId, "--wait", "--url", url])).code).toBe(0);
    // Waiting for a worker of its group when the server goes down.
    const queued = await run([
      "submit",
      quick,
      "--group",
      "later",
      "--url",
      url,
      "--detach",
      "--",
      "1",
    ]);
    const queuedId = queued.out.trim().split("\n").pop() ?? "";
    server.kill("SIGTERM");
    await server.exited();
    // The newer file, on the same data and port: the router and workers reconnect.
    const next = startFile(nextFile, ["server", "--port", port, "--data", data]);
    await next.waitFor(/listening on http:\/\/\S+/);
    const again = await run(["get", doneId, "--url", url]);
    expect(again.out).toMatch(/succeeded/);
    await startWorker(url, "later");
    const late = await run(["get", queuedId, "--wait", "--url", url]);
    expect(late.out).toMatch(/succeeded/);
    expect((await run(["logs", queuedId, "--url", url])).out).toContain("quick 1");
  }, 180_000);
});
