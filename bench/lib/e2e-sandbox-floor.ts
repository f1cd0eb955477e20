// What the sandbox alone costs a job, beside python: bwrap with the arguments a worker gives
// a job of the default shape (read-only host, hidden work root, private /tmp, no network, its
// own pid, ipc and uts namespaces), running /bin/true. With python's own start this is CPU
// every job pays before any orchestration, which bounds the throughput any design reaches.
import { mkdtemp } from "node:fs/promises";
import path from "node:path";
import { buildBwrapArgs } from "../../src/sandbox/bwrap-args.ts";
import { measureSpawns, type SpawnLatency } from "./e2e-latency.ts";

/** The default /tmp size a worker gives a job: its default file size limit (16 MiB). */
const TMP_SIZE_BYTES = 16 * 1024 * 1024;

export async function measureSandboxStart(
  bwrap: string,
  root: string,
  runs: number,
): Promise<SpawnLatency> {
  const workRoot = await mkdtemp(path.join(root, "floor-"));
  const workDir = await mkdtemp(path.join(workRoot, "job-"));
  const args = buildBwrapArgs({
    workDir,
    hiddenPaths: [workRoot],
    network: false,
    devicePaths: [],
    tmpSizeBytes: TMP_SIZE_BYTES,
    userSwitchInside: false,
  });
  return measureSpawns(bwrap, [...args, "/bin/true"], 3, runs, "");
}
