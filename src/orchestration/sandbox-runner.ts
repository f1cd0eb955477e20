// The worker's JobRunner over src/sandbox: a job spec becomes a sandbox request, and the
// sandbox's outcome becomes the fields of the result record. GPUs and disk areas, where the
// worker has them, are leased per job and given back only once every process of the job is
// gone.
import { rm } from "node:fs/promises";
import type { CgroupSlots } from "../sandbox/cgroup-slots.ts";
import type { DiskAreaPool } from "../sandbox/disk-area-pool.ts";
import { GpuPool } from "../sandbox/gpus.ts";
import { runJob } from "../sandbox/run-job.ts";
import type { CapturedOutput, DiskArea, SandboxConfig } from "../sandbox/types.ts";
import type { JobRunner, RunOutcome } from "./worker.ts";

/** Shown where the middle of a long output was dropped. */
export function joinCaptured(output: CapturedOutput): string {
  if (output.droppedBytes === 0) return output.head + output.tail;
  return `${output.head}\n[... ${output.droppedBytes} bytes dropped ...]\n${output.tail}`;
}

export interface GpuShare {
  pool: GpuPool;
  /** GPUs each job gets. */
  perJob: number;
}

/** Splits a worker's GPUs evenly over its slots: each slot its own CUDA_VISIBLE_DEVICES. */
export function shareGpus(ids: readonly string[], slots: number): GpuShare | undefined {
  if (ids.length === 0) return undefined;
  return { pool: new GpuPool(ids), perJob: Math.max(1, Math.floor(ids.length / slots)) };
}

/** What the worker lends each job for its run: GPUs, a disk area, its slot's cgroup. */
export interface JobResources {
  gpus?: GpuShare | undefined;
  disks?: DiskAreaPool | undefined;
  cgroups?: CgroupSlots | undefined;
}

export function sandboxRunner(
  config: SandboxConfig,
  { gpus, disks, cgroups }: JobResources = {},
): JobRunner {
  return {
    async run(spec, attempt, signal): Promise<RunOutcome> {
      const lease = gpus ? await gpus.pool.acquire(gpus.perJob, signal) : undefined;
      let diskArea: DiskArea | undefined;
      const cgroup = cgroups?.take();
      const standby = cgroup ? await cgroups?.takeStandby(cgroup) : undefined;
      // A standby in a sandbox made the job's directory already, in a disk area it holds.
      const madeDir = standby?.sandbox?.shape.workDir;
      try {
        diskArea = standby?.sandbox?.area ?? (disks ? await disks.acquire(signal) : undefined);
        const outcome = await runJob(
          {
            jobId: spec.id,
            attempt,
            scriptName: spec.script.name,
            script: spec.script.content,
            args: spec.args,
            ...(spec.env ? { env: spec.env } : {}),
            limits: { ...spec.limits, timeoutMs: spec.timeoutMs },
            ...(spec.outputs ? { outputs: spec.outputs } : {}),
            networkWanted: spec.network ?? false,
            ...(lease ? { gpuIds: lease.ids } : {}),
            ...(diskArea ? { diskArea } : {}),
            ...(cgroup ? { cgroup } : {}),
            ...(madeDir ? { workDir: madeDir } : {}),
          },
          config,
          { signal, ...(standby ? { standby } : {}) },
        );
        return {
          state: outcome.state,
          // A clean exit needs no explanation; anything else the sandbox noticed stays.
          reason:
            outcome.state === "succeeded" && /^exited with code 0$/.test(outcome.reason)
              ? ""
              : outcome.reason,
          exitCode: outcome.exitCode,
          stdout: joinCaptured(outcome.stdout),
          stderr: joinCaptured(outcome.stderr),
          durationMs: outcome.durationMs,
          ...(outcome.gpuIds.length > 0 ? { gpus: [...outcome.gpuIds] } : {}),
          ...(outcome.outputs.length > 0
            ? { outputs: outcome.outputs.map((o) => ({ ...o })) }
            : {}),
        };
      } finally {
        // runJob has resolved: every process of the job is gone from the cgroup. A standby it
        // did not use (a job that never started) must not stay there, nor its directory.
        standby?.discard();
        // Normally gone already (execute removes it); not awaited, to keep it off the result.
        if (madeDir) void rm(madeDir, { recursive: true, force: true }).catch(() => undefined);
        if (cgroup) cgroups?.give(cgroup);
        // Emptying the area need not hold the result back: the next job to want it waits.
        if (diskArea) void disks?.release(diskArea);
        if (lease) gpus?.pool.release(lease);
      }
    },
  };
}
