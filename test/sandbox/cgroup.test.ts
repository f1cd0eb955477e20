import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import {
  parseCgroupMounts,
  parseOwnCgroups,
  probeCgroups,
} from "../../src/sandbox/cgroup-setup.ts";
import { eventsSince, JobCgroup, readCounter } from "../../src/sandbox/cgroup.ts";
import { parseProcStat, signalFromBwrapStatus } from "../../src/sandbox/signals.ts";
import { isRunning, MiB, probeHost, TEST_LIMITS, waitFor } from "./harness.ts";

const host = await probeHost();

describe("cgroup discovery", () => {
  it("finds v1 controllers and the v2 mount in /proc/self/mounts", () => {
    const mounts = [
      "tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0",
      "cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0",
      "cgroup /sys/fs/cgroup/pids cgroup rw,relatime,pids 0 0",
      "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0",
    ].join("\n");
    expect(parseCgroupMounts(mounts)).toEqual([
      {
        type: "cgroup",
        mountPoint: "/sys/fs/cgroup/memory",
        controllers: ["rw", "relatime", "memory"],
      },
      {
        type: "cgroup",
        mountPoint: "/sys/fs/cgroup/pids",
        controllers: ["rw", "relatime", "pids"],
      },
      { type: "cgroup2", mountPoint: "/sys/fs/cgroup/unified", controllers: [] },
    ]);
  });

  it("reads the worker's own cgroup per controller", () => {
    const own = parseOwnCgroups("8:pids:/\n4:memory:/process_api/abc\n2:cpu,cpuacct:/x\n0::/\n");
    expect(own.get("memory")).toBe("/process_api/abc");
    expect(own.get("cpuacct")).toBe("/x");
    expect(own.get("")).toBe("/");
  });

  it("reads OOM and pids counters from flat-keyed files", () => {
    expect(readCounter("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n", "oom_kill")).toBe(2);
    expect(readCounter("max 0\n", "max")).toBe(0);
    expect(readCounter("", "max")).toBe(0);
  });
});

describe("process facts", () => {
  it("reads state and process group from /proc/PID/stat, even with spaces in the name", () => {
    expect(parseProcStat("42 (my (odd) job) S 1 42 42 0 -1")).toEqual({ state: "S", pgid: 42 });
  });

  it("reads bwrap's 128+N exit status as signal N", () => {
    expect(signalFromBwrapStatus(137)).toBe("SIGKILL");
    expect(signalFromBwrapStatus(153)).toBe("SIGXFSZ");
    expect(signalFromBwrapStatus(1)).toBeUndefined();
  });
});

describe.skipIf(!host.cgroups)("a job cgroup's handle (needs root and cgroups)", () => {
  let child: ChildProcess | undefined;
  let cgroup: JobCgroup | undefined;
  afterEach(async () => {
    // By its handle, which does nothing once it has been reaped.
    child?.kill("SIGKILL");
    child = undefined;
    await cgroup?.kill(2_000);
    await cgroup?.remove();
    cgroup = undefined;
  });

  it("is made with its limits, takes a process, lists, kills and removes it, in one value", async () => {
    const probe = await probeCgroups();
    if (!probe.available) throw new Error(probe.note);
    const name = `handle-test-${randomBytes(4).toString("hex")}`;
    cgroup = await JobCgroup.create(probe.setup, name, { ...TEST_LIMITS, memoryBytes: 64 * MiB });
    for (const dir of cgroup.dirs) expect(existsSync(dir)).toBe(true);
    const before = cgroup.readCounters();

    child = spawn("/bin/sleep", ["60"], { stdio: "ignore" });
    const pid = child.pid!;
    await cgroup.addProcess(pid);
    expect(cgroup.pids()).toEqual([pid]);
    // The same cgroup found by name is the same cgroup: what a restarted worker does.
    expect(JobCgroup.at(probe.setup, name).pids()).toEqual([pid]);

    expect(await cgroup.kill(2_000)).toBe(true);
    expect(cgroup.pids()).toEqual([]);
    expect(await waitFor(async () => !(await isRunning(pid)), 2_000)).toBe(true);
    expect(eventsSince(cgroup.readCounters(), before)).toEqual({
      oomKilled: false,
      pidsLimitHit: false,
    });

    expect(await cgroup.remove()).toEqual([]);
    for (const dir of cgroup.dirs) expect(existsSync(dir)).toBe(false);
    cgroup = undefined;
  });
});
