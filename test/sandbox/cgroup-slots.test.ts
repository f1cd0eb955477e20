// A worker's per-slot cgroups: reused job after job, each job judged by what happened in its
// own run only, limits rewritten per job, and a dead worker's cgroups (with any process left
// in them) removed by the next worker.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CgroupSlots, staleSlotNames } from "../../src/sandbox/cgroup-slots.ts";
import { runJob } from "../../src/sandbox/run-job.ts";
import { shellQuote, standbyCommand } from "../../src/sandbox/standby.ts";
import { isRunning, MiB, makeSandbox, probeHost, runFixture, type TestSandbox } from "./harness.ts";

const host = await probeHost();

describe("stale slot cgroups", () => {
  it("are those whose worker is gone", () => {
    const alive = (pid: number): boolean => pid === 100;
    expect(
      staleSlotNames(
        ["w100-ab12cd-slot0", "w200-ab12cd-slot0", "w200-ab12cd-slot1", "job-7-attempt1-x", "w3"],
        alive,
      ),
    ).toEqual(["w200-ab12cd-slot0", "w200-ab12cd-slot1"]);
  });
});

describe("the command a standby shell is handed", () => {
  it("quotes every word and exports exactly the job's environment", () => {
    expect(shellQuote("it's $HOME")).toBe(`'it'\\''s $HOME'`);
    expect(standbyCommand("/usr/bin/python3", ["-I", "a b", "x\ny"], { K: "v'1" }, "/w d")).toBe(
      [
        "exec 4<&-",
        "cd '/w d' || exit 127",
        "unset OLDPWD",
        "export K='v'\\''1'",
        "exec '/usr/bin/python3' '-I' 'a b' 'x\ny' </dev/null",
        "",
      ].join("\n"),
    );
  });

  it("declines an environment name the shell cannot export", () => {
    expect(standbyCommand("/bin/true", [], { "A-B": "1" }, "/")).toBeUndefined();
  });
});

describe.skipIf(!host.cgroups)("per-slot cgroups (needs root and cgroups)", () => {
  let sandbox: TestSandbox;
  beforeAll(async () => {
    sandbox = await makeSandbox({ sandbox: "none", cgroups: true });
  });
  afterAll(async () => {
    await sandbox.cleanup();
  });

  it("judge each job by its own run: an OOM kill is not held against the next job", async () => {
    const setup = sandbox.config.cgroup!;
    const slots = await CgroupSlots.make(
      setup,
      1,
      sandbox.config.defaultLimits,
      sandbox.config.logDir,
    );
    try {
      const cgroup = slots.take()!;
      expect(slots.take()).toBeUndefined();
      const bomb = await runFixture(sandbox.config, "memory-bomb.py", {
        cgroup,
        limits: { memoryBytes: 128 * MiB },
      });
      expect(bomb.reason).toBe("killed: memory limit 128 MiB exceeded");
      const next = await runFixture(sandbox.config, "hello.py", { cgroup });
      expect(next.state).toBe("succeeded");
      expect(next.reason).not.toContain("memory limit");
      // The cgroup is still there for the slot's next job, and empty.
      expect(existsSync(cgroup.membersFile)).toBe(true);
      expect(cgroup.pids()).toEqual([]);
      slots.give(cgroup);
      expect(slots.take()).toBe(cgroup);
    } finally {
      await slots.close();
    }
  });

  it("make a standby at once for a job that takes the slot before its standby was made", async () => {
    const slots = await CgroupSlots.make(
      sandbox.config.cgroup!,
      1,
      sandbox.config.defaultLimits,
      sandbox.config.logDir,
    );
    try {
      const first = slots.take()!;
      // Its first job had the standby made when the slots were.
      const earlier = await slots.takeStandby(first);
      expect(earlier).toBeDefined();
      earlier?.discard();
      slots.give(first);
      // Taken back in the same turn as it was given, as a job fetched ahead takes it: the idle
      // slot's standby is not made yet.
      const cgroup = slots.take()!;
      expect(slots.peekStandby(cgroup)).toBeUndefined();
      expect(await slots.takeStandby(cgroup)).toBeUndefined();
      const made = await slots.takeStandby(cgroup, true);
      expect(made?.joining).toBe(true);
      expect(await made?.whenUsable()).toBe(true);
      const ran = await runJob(
        {
          jobId: `made-now-${process.pid}`,
          attempt: 1,
          scriptName: "pid.py",
          script: "import os\nprint(os.getpid())",
          cgroup,
        },
        sandbox.config,
        { standby: made! },
      );
      expect(ran.state).toBe("succeeded");
      expect(Number(ran.stdout.head.trim())).toBe(made!.child.pid);
      slots.give(cgroup);
    } finally {
      await slots.close();
    }
  });

  it("hand a job to the shell waiting in the slot: same pid, the slot's cgroup, only its env", async () => {
    const slots = await CgroupSlots.make(
      sandbox.config.cgroup!,
      1,
      sandbox.config.defaultLimits,
      sandbox.config.logDir,
    );
    try {
      const cgroup = slots.take()!;
      // Taken at once, while it is still joining the cgroup: the job waits for it.
      const standby = await slots.takeStandby(cgroup);
      expect(standby?.joining).toBe(true);
      const script = [
        "import os",
        "print(os.getpid())",
        "print(sorted(k for k in os.environ if k not in ('PWD', 'LC_CTYPE')))",
        "print(os.getcwd())",
        "print(open('/proc/self/cgroup').read())",
        "print(os.environ['GREETING'])",
        "print('fds', sorted(os.listdir('/proc/self/fd')))",
        "import resource as r",
        "print('rlimits', [r.getrlimit(x) for x in (r.RLIMIT_CPU, r.RLIMIT_FSIZE, r.RLIMIT_CORE)])",
      ].join("\n");
      const job = (id: string, withStandby: boolean) =>
        runJob(
          {
            jobId: id,
            attempt: 1,
            scriptName: "env.py",
            script,
            env: { GREETING: "it's a 'quoted' value" },
            cgroup,
          },
          sandbox.config,
          withStandby ? { standby: standby! } : {},
        );
      const handed = await job(`standby-${process.pid}`, true);
      const spawned = await job(`spawned-${process.pid}`, false);
      expect(handed.state).toBe("succeeded");
      const [pid, names, cwd, ...rest] = handed.stdout.head.split("\n");
      expect(Number(pid)).toBe(standby!.child.pid);
      expect(standby!.usable).toBe(false);
      // The same environment as a job started the ordinary way, and nothing of the worker's.
      expect(names).toBe(spawned.stdout.head.split("\n")[1]);
      expect(cwd).toContain(`standby-${process.pid}-`);
      expect(rest.join("\n")).toContain(cgroup.dirs[0].split("/").at(-1)!);
      expect(handed.stdout.head).toContain("it's a 'quoted' value");
      // Nothing that carried the command to the shell is left open in the job.
      const fds = (head: string): string | undefined =>
        head.split("\n").find((line) => line.startsWith("fds"));
      expect(fds(handed.stdout.head)).toBe(fds(spawned.stdout.head));
      // The standby sets the rlimits itself (no prlimit): the same ones.
      const rlimits = (head: string): string | undefined =>
        head.split("\n").find((line) => line.startsWith("rlimits"));
      expect(rlimits(handed.stdout.head)).toBe(rlimits(spawned.stdout.head));
      expect(rlimits(handed.stdout.head)).toMatch(
        /^rlimits \[\(\d+, \d+\), \(\d+, \d+\), \(0, 0\)\]$/,
      );
      slots.give(cgroup);
    } finally {
      await slots.close();
    }
  });

  it("removes a dead worker's cgroups, killing what its jobs left in them", async () => {
    const setup = sandbox.config.cgroup!;
    // A worker that makes its slots, puts a process in one, and dies without cleaning up.
    const module = new URL("../../src/sandbox/cgroup-slots.ts", import.meta.url).pathname;
    const worker = spawn(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const { CgroupSlots } = await import(${JSON.stringify(module)});
         const { spawn } = await import("node:child_process");
         const { writeFileSync } = await import("node:fs");
         const setup = JSON.parse(process.argv[1]);
         const slots = await CgroupSlots.make(setup, 2, { maxProcs: 64, memoryBytes: 268435456 }, process.argv[2]);
         const cgroup = slots.take();
         const child = spawn("/bin/sleep", ["60"], { detached: true, stdio: "ignore" });
         for (const file of cgroup.procsFiles) writeFileSync(file, String(child.pid));
         console.log(JSON.stringify({ members: cgroup.membersFile, pid: child.pid }));
         process.kill(process.pid, "SIGKILL");`,
        JSON.stringify(setup),
        sandbox.config.logDir,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let text = "";
    worker.stdout.on("data", (chunk: Buffer) => (text += chunk.toString()));
    await new Promise((resolve) => worker.once("exit", resolve));
    const left = JSON.parse(text) as { members: string; pid: number };
    expect(existsSync(left.members)).toBe(true);

    const next = await CgroupSlots.make(
      setup,
      1,
      sandbox.config.defaultLimits,
      sandbox.config.logDir,
    );
    await next.close();
    expect(existsSync(left.members)).toBe(false);
    expect(await isRunning(left.pid)).toBe(false);
  });
});
