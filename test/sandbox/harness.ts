// Shared by the real-process sandbox tests: one probe of what this host supports, sandboxes
// in temporary directories, fixtures by name, and condition waits with deadlines.
import { chmod, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { probeBwrap, setUpSandbox, type SandboxChoice } from "../../src/sandbox/probe.ts";
import { probeCgroups } from "../../src/sandbox/cgroup-setup.ts";
import type { DiskAreaPool } from "../../src/sandbox/disk-area-pool.ts";
import { setUpDiskAreas } from "../../src/sandbox/disk-areas.ts";
import { runJob } from "../../src/sandbox/run-job.ts";
import { parseProcStat } from "../../src/sandbox/signals.ts";
import type { JobLimits, JobOutcome, JobRequest, SandboxConfig } from "../../src/sandbox/types.ts";

export const MiB = 1024 * 1024;

export const FIXTURES = fileURLToPath(new URL("../fixtures/sandbox/", import.meta.url));

export const TEST_LIMITS: JobLimits = {
  timeoutMs: 20_000,
  killGraceMs: 500,
  cpuTimeMs: 30_000,
  memoryBytes: 256 * MiB,
  maxFileBytes: 16 * MiB,
  maxProcs: 64,
  maxOutputBytes: 64 * 1024,
};

export interface HostSupport {
  readonly isRoot: boolean;
  readonly bwrap: boolean;
  readonly cgroups: boolean;
}

/** What this machine can do, probed once per test file; tests skip on what it lacks. */
export async function probeHost(): Promise<HostSupport> {
  const isRoot = process.getuid?.() === 0;
  const bwrap = (await probeBwrap("/usr/bin/bwrap", isRoot).catch(() => "no bwrap")) === undefined;
  // Cgroups are only written as root here; probing without would only say "permission denied".
  const cgroups = isRoot && (await probeCgroups()).available;
  return { isRoot, bwrap, cgroups };
}

export interface TestSandbox {
  readonly config: SandboxConfig;
  readonly dir: string;
  cleanup(): Promise<void>;
}

export interface TestSandboxOptions {
  readonly sandbox: SandboxChoice;
  readonly runAs?: string;
  readonly cgroups: boolean;
  readonly hiddenPaths?: readonly string[];
  readonly networkAllowed?: boolean;
  readonly limits?: Partial<JobLimits>;
}

export async function makeSandbox(options: TestSandboxOptions): Promise<TestSandbox> {
  const dir = await mkdtemp(path.join(tmpdir(), "modulate-sandbox-"));
  // mkdtemp makes it 0700: the job user must be able to pass through to its own directory.
  await chmod(dir, 0o711);
  const { config } = await setUpSandbox({
    sandbox: options.sandbox,
    ...(options.runAs ? { runAs: options.runAs } : {}),
    cgroups: options.cgroups,
    defaultLimits: { ...TEST_LIMITS, ...options.limits },
    networkAllowed: options.networkAllowed ?? false,
    workRoot: path.join(dir, "work"),
    logDir: path.join(dir, "logs"),
    hiddenPaths: options.hiddenPaths ?? [],
    // The system python3 starts in ~12 ms; a pyenv shim on the real PATH costs ~120 ms.
    env: { PATH: "/usr/bin:/bin", LANG: "C.UTF-8" },
  });
  return { config, dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function fixture(name: string): Promise<string> {
  return readFile(path.join(FIXTURES, name), "utf8");
}

let jobCounter = 0;

/** Runs a fixture script as a job with a fresh id. */
export async function runFixture(
  config: SandboxConfig,
  scriptName: string,
  extra: Partial<JobRequest> = {},
  signal?: AbortSignal,
): Promise<JobOutcome> {
  jobCounter += 1;
  return runJob(
    {
      jobId: `test-${process.pid}-${jobCounter}`,
      attempt: 1,
      scriptName,
      script: await fixture(scriptName),
      ...extra,
    },
    config,
    signal ? { signal } : {},
  );
}

/** Whether `pid` runs: a zombie waiting for the host's init to reap it counts as gone. */
export async function isRunning(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  const parsed = parseProcStat(stat);
  return parsed !== undefined && parsed.state !== "Z";
}

/** Pids of live processes whose command line contains `marker` (any pid namespace). */
export async function processesWith(marker: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (cmdline.split("\0").includes(marker) && (await isRunning(Number(entry))))
      found.push(Number(entry));
  }
  return found;
}

/** Polls `condition` until it holds or `deadlineMs` passes; returns whether it held. */
export async function waitFor(
  condition: () => Promise<boolean> | boolean,
  deadlineMs: number,
): Promise<boolean> {
  const stopAt = Date.now() + deadlineMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() > stopAt) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Why this machine cannot make disk areas (not root, no loop devices, mounting refused), or
 * undefined where it can: found by making one small area and removing it again.
 */
export async function diskAreasMissing(): Promise<string | undefined> {
  const dir = await mkdtemp(path.join(tmpdir(), "modulate-disk-probe-"));
  try {
    const setup = await setUpDiskAreas({ root: dir, count: 1, sizeBytes: 16 * MiB, env: {} });
    await setup.areas?.close();
    return setup.unavailable;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs a fixture in an area leased from `pool`, and gives the area back afterwards. */
export async function runFixtureInArea(
  pool: DiskAreaPool,
  config: SandboxConfig,
  scriptName: string,
  extra: Partial<JobRequest> = {},
  signal?: AbortSignal,
): Promise<JobOutcome> {
  const diskArea = await pool.acquire();
  try {
    return await runFixture(config, scriptName, { ...extra, diskArea }, signal);
  } finally {
    await pool.release(diskArea);
  }
}

/** The proof that a worker keeps serving: a trivial job right after the hostile one succeeds. */
export async function nextJobRuns(config: SandboxConfig): Promise<JobOutcome> {
  return runFixture(config, "hello.py", { args: ["next"] });
}
