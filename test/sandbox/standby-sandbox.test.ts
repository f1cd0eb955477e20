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
import { isRunning, makeSandbox, probeHost, type TestSandbox } from "./harness.ts";

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
