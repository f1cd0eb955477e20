// Under bwrap a slot's idle time is spent making its next job's sandbox: the job then starts
// inside it, with the same isolation as a job started the ordinary way; a job the sandbox was
// not made for (here: one granted the network) starts the ordinary way in the same directory.
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobSpec } from "../../src/orchestration/jobs/job.ts";
import { sandboxRunner } from "../../src/orchestration/sandbox-runner.ts";
import { CgroupSlots } from "../../src/sandbox/cgroup-slots.ts";
import { sandboxStandbys } from "../../src/sandbox/standby-sandbox.ts";
import type { StandbyShell } from "../../src/sandbox/standby.ts";
import { fixture, isRunning, makeSandbox, MiB, probeHost, type TestSandbox } from "./harness.ts";

const host = await probeHost();

const REPORT = [
  "import os, socket",
  "print(os.getcwd())",
  "print(socket.gethostname())",
  "print(sorted(os.listdir('/proc/self/fd')))",
  "print(sorted(k for k in os.environ if k not in ('PWD', 'LC_CTYPE')))",
  "print(sorted(line.split(':')[0].strip() for line in open('/proc/net/dev').readlines()[2:]))",
].join("\n");

let counter = 0;
function spec(network = false): JobSpec {
  counter += 1;
  return {
    id: `standby-sandbox-${process.pid}-${counter}`,
    group: "g",
    script: { name: "report.py", content: REPORT },
    args: [],
    timeoutMs: 30_000,
    mode: "wait",
    submittedAt: Date.now(),
    network,
  };
}

async function usableStandby(slots: CgroupSlots): Promise<StandbyShell> {
  // Every slot is free: take one to learn its cgroup, and give it straight back.
  const cgroup = slots.take()!;
  slots.give(cgroup);
  for (let i = 0; i < 200; i++) {
    const standby = await slots.peekStandby(cgroup);
    if (standby?.usable) return standby;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("the slot's standby never became usable");
}

describe.skipIf(!host.bwrap || !host.cgroups)(
  "a slot's standby sandbox (needs bwrap, cgroups)",
  () => {
    let sandbox: TestSandbox;
    let slots: CgroupSlots;
    beforeAll(async () => {
      // As the unprivileged job user a root worker needs: the shell inside then switches to it.
      sandbox = await makeSandbox({
        sandbox: "bwrap",
        cgroups: true,
        networkAllowed: true,
        runAs: "modulate-test-a",
      });
      slots = await CgroupSlots.make(
        sandbox.config.cgroup!,
        1,
        sandbox.config.defaultLimits,
        sandbox.config.logDir,
      );
      slots.useStandbys(
        sandboxStandbys({ config: sandbox.config, scratchDir: sandbox.config.logDir, gpus: false }),
      );
    });
    afterAll(async () => {
      await slots.close();
      await sandbox.cleanup();
    });

    it("runs the job inside it, isolated as an ordinary start is", async () => {
      const runner = sandboxRunner(sandbox.config, { cgroups: slots });
      const standby = await usableStandby(slots);
      const dir = standby.sandbox!.shape.workDir;
      expect(existsSync(dir)).toBe(true);
      const inside = await runner.run(spec(), 1, new AbortController().signal);
      expect(inside.state).toBe("succeeded");
      const [cwd, hostname, fds, env, interfaces] = inside.stdout.split("\n");
      expect(cwd).toBe(dir);
      // The standby became the job (it ended as the job did), rather than being discarded.
      expect(standby.child.exitCode).toBe(0);
      expect(standby.child.signalCode).toBeNull();
      expect(existsSync(dir)).toBe(false);
      expect(hostname).toBe("modulate-job");
      expect(interfaces).toBe("['lo']");

      // A job granted the network cannot use the next standby, made without: it starts the
      // ordinary way, in the directory made for it.
      const next = await usableStandby(slots);
      const granted = await runner.run(spec(true), 1, new AbortController().signal);
      expect(granted.state).toBe("succeeded");
      const lines = granted.stdout.split("\n");
      expect(lines[0]).toBe(next.sandbox!.shape.workDir);
      expect(lines[4]).not.toBe("['lo']");
      expect(await isRunning(next.child.pid!)).toBe(false);
      expect(next.child.signalCode).toBe("SIGKILL");
      // The same descriptors, hostname and environment either way.
      expect(lines[1]).toBe(hostname);
      expect(lines[2]).toBe(fds);
      expect(lines[3]).toBe(env);
    });

    it("leaves no standby, sandbox or directory behind when the worker stops", async () => {
      const spare = await CgroupSlots.make(
        sandbox.config.cgroup!,
        1,
        sandbox.config.defaultLimits,
        sandbox.config.logDir,
      );
      spare.useStandbys(
        sandboxStandbys({ config: sandbox.config, scratchDir: sandbox.config.logDir, gpus: false }),
      );
      const standby = await usableStandby(spare);
      await spare.close();
      expect(await isRunning(standby.child.pid!)).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(existsSync(standby.sandbox!.shape.workDir)).toBe(false);
    });
  },
);

// The same, where the standby waits as a warm python (warm-python.ts): a python job runs in
// it and sees what one handed to a waiting shell sees; its limits (cgroup memory, rlimit CPU
// time set by the loader, timeout) still bite.
const WARM_REPORT = [
  "import os, sys, resource",
  "here = os.getcwd()",
  "for value in (sys.argv, getattr(sys, 'orig_argv', None), sys.flags, sys.path, os.getuid(),",
  "              sorted(kv for kv in os.environ.items() if kv[0] != 'MODULATE_JOB_ID'), sorted(os.listdir('/proc/self/fd')),",
  "              [resource.getrlimit(r) for r in (resource.RLIMIT_CPU, resource.RLIMIT_FSIZE, resource.RLIMIT_CORE)]):",
  "    print(repr(value).replace(here, 'DIR'))",
].join("\n");

/** One slot whose standbys wait as a warm python or a shell; kept in `made` to be closed. */
async function standbySlots(
  sandbox: TestSandbox,
  warmPython: boolean,
  made: CgroupSlots[],
): Promise<CgroupSlots> {
  const slots = await CgroupSlots.make(
    sandbox.config.cgroup!,
    1,
    sandbox.config.defaultLimits,
    sandbox.config.logDir,
  );
  made.push(slots);
  slots.useStandbys(
    sandboxStandbys({
      config: sandbox.config,
      scratchDir: sandbox.config.logDir,
      gpus: false,
      warmPython,
    }),
  );
  return slots;
}

describe.skipIf(!host.bwrap || !host.cgroups)(
  "a slot's standby as a warm python (needs bwrap, cgroups)",
  () => {
    let sandbox: TestSandbox;
    const made: CgroupSlots[] = [];
    const slotsOf = (warmPython: boolean): Promise<CgroupSlots> =>
      standbySlots(sandbox, warmPython, made);
    function job(content: string, limits: JobSpec["limits"] = {}): JobSpec {
      return { ...spec(), script: { name: "job.py", content }, limits };
    }
    beforeAll(async () => {
      sandbox = await makeSandbox({
        sandbox: "bwrap",
        cgroups: true,
        runAs: "modulate-test-a",
      });
    });
    afterAll(async () => {
      for (const slots of made) await slots.close();
      await sandbox.cleanup();
    });

    it("runs a python job in itself, as the job user, as a shell's exec would", async () => {
      const warmSlots = await slotsOf(true);
      const shellSlots = await slotsOf(false);
      const warm = await usableStandby(warmSlots);
      expect(warm.warm).toBeDefined();
      const shell = await usableStandby(shellSlots);
      expect(shell.warm).toBeUndefined();
      const started: string[] = [];
      const observer = {
        launched: (_: JobSpec, __: number, how: string) => started.push(how),
        ended: () => undefined,
      };
      const inWarm = await sandboxRunner(sandbox.config, { cgroups: warmSlots, observer }).run(
        job(WARM_REPORT),
        1,
        new AbortController().signal,
      );
      const inShell = await sandboxRunner(sandbox.config, { cgroups: shellSlots, observer }).run(
        job(WARM_REPORT),
        1,
        new AbortController().signal,
      );
      expect(started).toEqual(["warm", "standby"]);
      expect(inShell.state).toBe("succeeded");
      expect(inWarm.stderr).toBe("");
      expect(inWarm.stdout).toBe(inShell.stdout);
      expect(warm.child.exitCode).toBe(0);
    });

    it("holds a warm job to its memory, CPU time and timeout", async () => {
      const slots = await slotsOf(true);
      const runner = sandboxRunner(sandbox.config, { cgroups: slots });
      const signal = new AbortController().signal;
      await usableStandby(slots);
      const memory = await runner.run(
        job(await fixture("memory-bomb.py"), { memoryBytes: 128 * MiB }),
        1,
        signal,
      );
      expect(memory.reason).toBe("killed: memory limit 128 MiB exceeded");
      await usableStandby(slots);
      const cpu = await runner.run(job("while True:\n    pass\n", { cpuTimeMs: 1000 }), 1, signal);
      expect(cpu.reason).toBe("killed: CPU time limit 1s exceeded");
      await usableStandby(slots);
      const slow = await runner.run(
        { ...job("import time\ntime.sleep(60)\n"), timeoutMs: 1500 },
        1,
        signal,
      );
      expect(slow.reason).toBe("timed out after 1.5s");
    });
  },
);

// Without bwrap, a slot's standby still waits as a warm python, behind setpriv.
describe.skipIf(!host.cgroups)("a warm python without bwrap (needs cgroups)", () => {
  let sandbox: TestSandbox;
  const made: CgroupSlots[] = [];
  beforeAll(async () => {
    sandbox = await makeSandbox({ sandbox: "none", cgroups: true, runAs: "modulate-test-a" });
  });
  afterAll(async () => {
    for (const slots of made) await slots.close();
    await sandbox.cleanup();
  });

  it("runs a python job in itself as the job user, as a shell's exec would", async () => {
    const outputs: string[] = [];
    const started: string[] = [];
    for (const warmPython of [true, false]) {
      const slots = await standbySlots(sandbox, warmPython, made);
      await usableStandby(slots);
      const observer = {
        launched: (_: JobSpec, __: number, how: string) => started.push(how),
        ended: () => undefined,
      };
      const outcome = await sandboxRunner(sandbox.config, { cgroups: slots, observer }).run(
        { ...spec(), script: { name: "job.py", content: WARM_REPORT } },
        1,
        new AbortController().signal,
      );
      expect(outcome.stderr).toBe("");
      outputs.push(outcome.stdout);
    }
    expect(started).toEqual(["warm", "standby"]);
    expect(outputs[0]).toBe(outputs[1]);
  });
});
