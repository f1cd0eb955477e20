// What the sandbox alone costs a job, beside python: bwrap with the arguments a worker gives
// a job of the default shape (the host's view, hidden work root, private /tmp, no network, its
// own pid, ipc and uts namespaces), running /bin/true. With python's own start this is CPU
// every job pays before any orchestration, which bounds the throughput any design reaches.
// It is read from the whole machine's busy time, because the kernel tears namespaces down in
// its own threads, which no process's accounting shows, and /bin/true run the same way is
// taken off, so that what remains is the sandbox's own.
import { mkdtemp } from "node:fs/promises";
import path from "node:path";
import { buildBwrapArgs } from "../../src/sandbox/bwrap-args.ts";
import { probeHostView } from "../../src/sandbox/view-probe.ts";
import { machineBusyMs } from "./e2e-cpu.ts";
import { measureSpawns } from "./e2e-latency.ts";
import { round1 } from "./e2e-stats.ts";

/** The default /tmp size a worker gives a job: its default file size limit (16 MiB). */
const TMP_SIZE_BYTES = 16 * 1024 * 1024;

export interface SandboxStart {
  readonly command: string;
  readonly runs: number;
  /** Machine CPU of one `bwrap ... /bin/true` beyond one `/bin/true` started the same way. */
  readonly cpuPerRunMs: number;
}

/** Runs before the counted ones, to bring the binaries and their pages into memory. */
const WARMUPS = 3;

/** Machine busy time of one run of `file args`, over `runs` runs after the warm-ups. */
async function machineCpuPerRun(
  file: string,
  args: readonly string[],
  runs: number,
): Promise<number> {
  // Warm-ups alone (no counted runs): the machine's busy time is read around the next call.
  await measureSpawns(file, args, WARMUPS, 0, "");
  const before = machineBusyMs();
  await measureSpawns(file, args, 0, runs, "");
  return (machineBusyMs() - before) / runs;
}

export async function measureSandboxStart(
  bwrap: string,
  root: string,
  runs: number,
): Promise<SandboxStart> {
  const workRoot = await mkdtemp(path.join(root, "floor-"));
  const workDir = await mkdtemp(path.join(workRoot, "job-"));
  // The view a worker finds at start-up: its mounts are part of what each job pays.
  const { view } = await probeHostView({
    interpreters: {},
    maskFile: path.join(workRoot, ".masked"),
  });
  const args = buildBwrapArgs({
    workDir,
    view,
    hiddenPaths: [workRoot],
    network: false,
    devicePaths: [],
    tmpSizeBytes: TMP_SIZE_BYTES,
    userSwitchInside: false,
  });
  const trueAlone = await machineCpuPerRun("/bin/true", [], runs);
  const inSandbox = await machineCpuPerRun(bwrap, [...args, "/bin/true"], runs);
  return {
    command: [bwrap, ...args, "/bin/true"].join(" "),
    runs,
    cpuPerRunMs: round1(Math.max(0, inSandbox - trueAlone)),
  };
}
