// A job run in a warm python (warm-python.ts) must not be able to tell it from a cold start:
// each script here runs through the same standby code twice, once handed to a waiting shell
// that execs `PYTHON -I SCRIPT ARGS` (cold) and once handed to a waiting warm python (warm),
// and what it prints, its stderr and its exit are compared. On every python 3.8+ found.
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shellUlimitLines } from "../../src/sandbox/limits.ts";
import { standbyCommand, StandbyShell } from "../../src/sandbox/standby.ts";
import { PYTHON_FLAGS } from "../../src/sandbox/python-flags.ts";
import {
  encodeWarmRecord,
  fitsCommandLine,
  parseReady,
  rlimitsFit,
  sameStart,
  warmPythonArgv,
  warmRlimits,
  type WarmRecord,
} from "../../src/sandbox/warm-python.ts";

const PYTHONS = [
  "/usr/bin/python3",
  "/root/.pyenv/versions/3.8.18/bin/python3",
  "/root/.pyenv/versions/3.13.0/bin/python3",
].filter((python) => existsSync(python));

const RLIMITS = { cpuSeconds: { soft: 30, hard: 31 }, fileBytes: 16 * 1024 * 1024 };

interface Ran {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), "modulate-warm-"));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function finish(standby: StandbyShell): Promise<Ran> {
  const child = standby.child;
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once("close", (c, s) => resolve([c, s])),
  );
  return { stdout, stderr, code, signal };
}

interface Job {
  readonly python: string;
  readonly script: string;
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** The warm python's start environment; the job's by default. */
  readonly startEnv?: Readonly<Record<string, string>>;
}

async function scriptFile(text: string | Buffer): Promise<{ dir: string; file: string }> {
  const dir = await mkdtemp(path.join(scratch, "job-"));
  const file = path.join(dir, "job.py");
  await writeFile(file, text);
  return { dir, file };
}

async function runCold(job: Job, file: string, dir: string): Promise<Ran> {
  const standby = new StandbyShell({ procsFiles: [], scratchDir: scratch });
  expect(await standby.whenUsable()).toBe(true);
  const env = { PATH: "/usr/bin:/bin", ...job.env };
  standby.run(
    standbyCommand(
      job.python,
      [...PYTHON_FLAGS, file, ...(job.args ?? [])],
      env,
      dir,
      shellUlimitLines(RLIMITS),
    )!,
  );
  return finish(standby);
}

async function runWarm(job: Job, file: string, dir: string): Promise<Ran> {
  const env = { PATH: "/usr/bin:/bin", ...job.env };
  const startEnv =
    job.startEnv ?? Object.fromEntries(Object.entries(env).filter(([name]) => name !== "PATH"));
  const standby = new StandbyShell({
    procsFiles: [],
    scratchDir: scratch,
    warm: { python: job.python, startEnv, argv: warmPythonArgv(job.python) },
  });
  expect(await standby.whenUsable()).toBe(true);
  expect(standby.warm?.hardLimits.RLIMIT_CPU).toBeDefined();
  const record: WarmRecord = {
    mode: sameStart(env, startEnv) ? "run" : "exec",
    cwd: dir,
    argv: [job.python, ...PYTHON_FLAGS, file, ...(job.args ?? [])],
    env: { PWD: dir, ...env },
    rlimits: warmRlimits(RLIMITS),
    startNames: Object.keys(startEnv),
  };
  standby.run(encodeWarmRecord(record));
  return finish(standby);
}

/** Runs the script cold and warm; the paths differ only in the job's directory's name. */
async function both(job: Job, text: string | Buffer = job.script): Promise<[Ran, Ran]> {
  const cold = await scriptFile(text);
  const warm = await scriptFile(text);
  const ranCold = await runCold(job, cold.file, cold.dir);
  const ranWarm = await runWarm(job, warm.file, warm.dir);
  const same = (ran: Ran, dir: string): Ran => ({
    ...ran,
    stdout: ran.stdout.replaceAll(dir, "DIR"),
    stderr: ran.stderr.replaceAll(dir, "DIR"),
  });
  return [same(ranCold, cold.dir), same(ranWarm, warm.dir)];
}

const REPORT = String.raw`"""the script's doc"""
import os, sys, __main__, pickle, resource, stat, locale, time
print("argv", sys.argv)
print("orig_argv", getattr(sys, "orig_argv", None))
print("flags", sys.flags)
print("path", sys.path)
print("executable", sys.executable)
print("main", {k: type(v).__name__ for k, v in vars(__main__).items()})
print("main is sys.modules", __main__ is sys.modules["__main__"], __name__)
print("main values", __doc__, __file__, __cached__, __spec__, __package__, __annotations__)
print("loader", type(__loader__).__module__, type(__loader__).__name__, __loader__.name, __loader__.path)
print("builtins", __builtins__ is sys.modules["builtins"])
print("modules", sorted(m for m in sys.modules if m not in ("resource", "pickle", "_pickle", "_compat_pickle", "struct", "_struct", "locale", "_locale", "_struct", "stat", "_stat", "re", "enum", "functools", "copyreg", "operator", "keyword", "reprlib", "collections", "itertools", "types", "_collections", "_functools", "_operator", "_sre") and not m.startswith(("re.", "sre_", "collections.", "encodings.")) ))
print("env", sorted(os.environ.items()))
print("cwd", os.getcwd())
st = os.fstat(0)
print("stdin", stat.S_ISCHR(st.st_mode), st.st_rdev, sys.stdin.read())
print("fds", sorted(os.listdir("/proc/self/fd")))
print("cmdline", open("/proc/self/cmdline", "rb").read().rstrip(b"\0").split(b"\0"), open("/proc/self/comm").read())
print("limits", [resource.getrlimit(getattr(resource, n)) for n in ("RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_CORE", "RLIMIT_DATA", "RLIMIT_NPROC")])
print("encodings", sys.getfilesystemencoding(), sys.stdout.encoding, sys.stdin.encoding, locale.getpreferredencoding(False), sys.stdout.line_buffering)
print("tz", time.tzname, time.timezone)
class Point:
    def __init__(self, x):
        self.x = x
print("pickle", pickle.loads(pickle.dumps(Point(3))).x, Point.__module__, Point.__qualname__)
if __name__ == "__main__":
    print("main guard")
`;

describe.each(PYTHONS)("a job in a warm %s", (python) => {
  it("sees what a cold start shows a script", async () => {
    const [cold, warm] = await both({
      python,
      script: REPORT,
      args: ["a b", "--flag", "ü"],
      env: { LANG: "C.UTF-8", K: "v\nw" },
    });
    expect(cold.stderr).toBe("");
    expect(warm).toEqual(cold);
    expect(warm.stdout).toContain("main guard");
  });

  it("with no locale at all, as python coerces it (LC_CTYPE added at start)", async () => {
    const [cold, warm] = await both({ python, script: REPORT, env: {} });
    expect(warm).toEqual(cold);
  });

  it("runs a script whose encoding cookie says latin-1", async () => {
    const text = Buffer.concat([
      Buffer.from("# -*- coding: latin-1 -*-\nprint(ascii('"),
      Buffer.from([0xe9]),
      Buffer.from("'))\n"),
    ]);
    const [cold, warm] = await both({ python, script: "" }, text);
    expect(cold.stdout).toBe("'\\xe9'\n");
    expect(warm).toEqual(cold);
  });

  it("reports an uncaught exception byte for byte, exit 1, through the script's own hook", async () => {
    const plain = await both({
      python,
      script:
        "import atexit\natexit.register(print, 'atexit ran')\ndef f():\n    raise ValueError('bad')\nf()\n",
    });
    expect(plain[0].code).toBe(1);
    expect(plain[0].stderr).toContain("ValueError: bad");
    expect(plain[1]).toEqual(plain[0]);
    const hooked = await both({
      python,
      script: [
        "import sys, traceback",
        "def hook(t, v, tb):",
        "    print('hook', t.__name__, [f.name for f in traceback.extract_tb(tb)])",
        "sys.excepthook = hook",
        "def g():",
        "    1 / 0",
        "g()",
      ].join("\n"),
    });
    expect(hooked[0].stdout).toBe("hook ZeroDivisionError ['<module>', 'g']\n");
    expect(hooked[1]).toEqual(hooked[0]);
  });

  it("ends as cold python does on SystemExit, a syntax error and KeyboardInterrupt", async () => {
    for (const script of [
      "raise SystemExit(3)",
      "import sys\nsys.exit('a message')",
      "print('before')\nx = = 1\n",
      // Python 3.8's old parser puts an error at the end of a file on the line after when it
      // reads the file itself, on the last line from the bytes compile() is given.
      ...(python.includes("3.8.") ? [] : ["x = (\n"]),
      "import threading, time\nthreading.Thread(target=lambda: (time.sleep(0.2), print('thread done'))).start()\nraise KeyboardInterrupt",
    ]) {
      const [cold, warm] = await both({ python, script });
      expect(warm).toEqual(cold);
    }
    const [cold] = await both({ python, script: "raise KeyboardInterrupt" });
    expect(cold.signal).toBe("SIGINT");
  });

  it("says as cold python does that it cannot open the script, exit 2", async () => {
    const dir = await mkdtemp(path.join(scratch, "gone-"));
    const file = path.join(dir, "job.py");
    const job = { python, script: "" };
    const cold = await runCold(job, file, dir);
    const warm = await runWarm(job, file, dir);
    expect(cold.code).toBe(2);
    expect(cold.stderr).toContain("can't open file");
    expect(warm).toEqual(cold);
  });

  it("runs multiprocessing's spawn children from the script", async () => {
    const script = [
      "import multiprocessing as mp",
      "def square(x):",
      "    return x * x",
      "if __name__ == '__main__':",
      "    with mp.get_context('spawn').Pool(1) as pool:",
      "        print(pool.map(square, [1, 2, 3]))",
    ].join("\n");
    const [cold, warm] = await both({ python, script });
    expect(cold.stdout).toBe("[1, 4, 9]\n");
    expect(warm).toEqual(cold);
  });

  it("execs the job's own command where the job's locale differs from its start", async () => {
    const [cold, warm] = await both({
      python,
      script:
        "import sys, os\nprint(sys.flags.utf8_mode, sys.getfilesystemencoding(), os.environ.get('LC_CTYPE'))",
      env: { LANG: "C" },
      startEnv: { LANG: "C.UTF-8" },
    });
    expect(warm).toEqual(cold);
  });
});

describe("the warm python's record and checks", () => {
  it("says which limits it can set from its hard limits", () => {
    const hard = parseReady("ready -1 1024 -1 -1 100\n")!;
    expect(hard).toEqual({
      RLIMIT_CPU: -1,
      RLIMIT_FSIZE: 1024,
      RLIMIT_CORE: -1,
      RLIMIT_DATA: -1,
      RLIMIT_NPROC: 100,
    });
    expect(rlimitsFit([["RLIMIT_FSIZE", 512, 512]], hard)).toBe(true);
    expect(rlimitsFit([["RLIMIT_FSIZE", 2048, 2048]], hard)).toBe(false);
    expect(rlimitsFit([["RLIMIT_NPROC", -1, -1]], hard)).toBe(false);
    expect(parseReady("ready\n")).toBeUndefined();
  });

  it("runs cold a command line longer than its own, which it could not show in its place", () => {
    const python = "/usr/bin/python3";
    expect(fitsCommandLine(python, [python, ...PYTHON_FLAGS, "/w/job.py", "a"])).toBe(true);
    expect(
      fitsCommandLine(python, [python, ...PYTHON_FLAGS, "/w/job.py", "a".repeat(20_000)]),
    ).toBe(false);
  });

  it("falls back on any difference in what python reads at start", () => {
    expect(sameStart({ LANG: "C.UTF-8", K: "1" }, { LANG: "C.UTF-8" })).toBe(true);
    expect(sameStart({ LANG: "C.UTF-8", LC_ALL: "C" }, { LANG: "C.UTF-8" })).toBe(false);
    expect(sameStart({}, { TZ: "UTC" })).toBe(false);
  });
});
