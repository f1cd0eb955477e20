// The worker's JobRunner over src/sandbox: a job spec becomes a sandbox request, and the
// sandbox's outcome becomes the fields of the result record. Disk areas, where the worker has
// them, are leased per job and given back only once every process of the job is gone; GPU
// sets are lent by the worker's slot gate before the job is taken (worker-resources.ts).
import { hostname } from "node:os";
import { maxValueJsonBytes } from "../common/limits.ts";
import type { CgroupSlots } from "../sandbox/cgroup-slots.ts";
import type { DiskAreaPool } from "../sandbox/disk-area-pool.ts";
import type { LaunchStart } from "../sandbox/execute.ts";
import type { GpuDescription } from "../sandbox/gpus.ts";
import { isCleanExit } from "../sandbox/outcome.ts";
import { attemptLogFile, jobLogDir } from "../sandbox/paths.ts";
import { runJob } from "../sandbox/run-job.ts";
import { removeWorkDir } from "../sandbox/workdir.ts";
import { pruneAttemptLogs } from "../sandbox/attempt-log.ts";
import type { DiskArea, JobOutcome, SandboxConfig } from "../sandbox/types.ts";
import { fitResultOutput } from "./jobs/fit-result.ts";
import { interpreterRefusal } from "./jobs/resources.ts";
import { OutputPublisher } from "./output-publisher.ts";
import type { ServerLimits } from "./wire/server-limits.ts";
import { requestSender, type Connection, type Send } from "./wire/wire.ts";
import type { JobSpec } from "./jobs/job.ts";
import type { JobRunner, RunGrant, RunOutcome } from "./worker.ts";

/**
 * Room in the record for the fields the worker adds around the outcome: the job's id and
 * group, the worker's host and pid, the attempt and its times. A few hundred bytes at most.
 */
const WORKER_FIELDS_BYTES = 4096;

/**
 * The result record of an outcome, its output cut so that the record fits in a request the
 * server accepts (its default --max-body unless told), whatever the worker's --max-output keeps.
 */
export function outcomeToResult(
  spec: JobSpec,
  outcome: JobOutcome,
  budgetBytes: number = maxValueJsonBytes(),
  described: readonly GpuDescription[] = [],
): RunOutcome {
  const gpuInfo = outcome.gpuIds.flatMap((id) => {
    const found = described.find((gpu) => gpu.index === id);
    return found ? [{ index: found.index, name: found.name, memoryMiB: found.memoryMiB }] : [];
  });
  // A clean exit needs no explanation; anything else the sandbox noticed stays.
  const reason = isCleanExit(outcome.ending, outcome.notes) ? "" : outcome.reason;
  const rest = {
    state: outcome.state,
    reason,
    exitCode: outcome.exitCode,
    durationMs: outcome.durationMs,
    ...(outcome.gpuIds.length > 0 ? { gpus: [...outcome.gpuIds] } : {}),
    ...(gpuInfo.length > 0 ? { gpuInfo } : {}),
  };
  const fitted = fitResultOutput({
    stdout: outcome.stdout,
    stderr: outcome.stderr,
    outputs: outcome.outputs,
    budgetBytes,
    otherFieldsBytes:
      Buffer.byteLength(JSON.stringify({ ...rest, id: spec.id, group: spec.group }), "utf8") +
      WORKER_FIELDS_BYTES,
    fullOutputWhere: `the attempt log ${outcome.logFile} on ${hostname()}`,
  });
  return {
    ...rest,
    reason: [reason, fitted.cutNote].filter((part) => part !== "").join("; "),
    stdout: fitted.stdout,
    stderr: fitted.stderr,
    ...(fitted.outputs.length > 0 ? { outputs: fitted.outputs } : {}),
  };
}

/**
 * Whether the job's sandbox may be the one a slot's standby is made in (standby-sandbox.ts),
 * so that one made for it is not made in vain: one without the network, with GPUs where the
 * worker has them (a submission cannot ask for another /tmp size).
 */
function fitsStandbyShape(spec: JobSpec, grant: RunGrant | undefined): boolean {
  const holdsGpus = (grant?.gpuIds.length ?? 0) > 0;
  const workerHasGpus = (grant?.gpusOnWorker ?? 0) > 0;
  return spec.network !== true && holdsGpus === workerHasGpus;
}

/** What the worker lends each job for its run: a disk area, its slot's cgroup. */
export interface JobResources {
  /** What nvidia-smi said of the worker's GPUs: the result names the ones a job held. */
  gpuDescriptions?: readonly GpuDescription[] | undefined;
  /** The worker's named interpreters (`--interpreter NAME=PATH`), by name. */
  interpreters?: Readonly<Record<string, string>> | undefined;
  disks?: DiskAreaPool | undefined;
  cgroups?: CgroupSlots | undefined;
  /** The server's request limit as the worker's network learnt it; the record fits in it. */
  serverLimits?: ServerLimits | undefined;
  /**
   * The server the job's live output is published to, as chunks a follower reads
   * (output-publisher.ts); without it, the output is only in the result and the attempt log.
   */
  connection?: Connection | undefined;
  /** How long a job's attempt logs stay on the worker's disk after their last line. Default 7 days. */
  logRetentionMs?: number | undefined;
  /** Told how each run's sandbox started and how it ended (the worker's metrics). */
  observer?: RunObserver | undefined;
}

/** What the worker's metrics learn from the sandbox, beyond the result record. */
export interface RunObserver {
  /** The script is being launched, `seconds` after the job reached the runner, as `start`. */
  launched(spec: JobSpec, seconds: number, start: LaunchStart): void;
  /** The run ended; `oomKilled` when the memory limit killed it. */
  ended(spec: JobSpec, ending: { oomKilled: boolean }): void;
}

/** Attempt logs are kept a week after their last line (README: where output lives). */
const DEFAULT_LOG_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
/** Old attempt logs are looked for at most this often: at a job's end, not on a timer. */
const LOG_SWEEP_EVERY_MS = 60 * 60 * 1000;

export function sandboxRunner(
  config: SandboxConfig,
  {
    gpuDescriptions,
    interpreters,
    disks,
    cgroups,
    serverLimits,
    connection,
    logRetentionMs,
    observer,
  }: JobResources = {},
): JobRunner {
  let lastSweepAt = Number.NEGATIVE_INFINITY;
  const sweepOldLogs = (): void => {
    const now = Date.now();
    if (now - lastSweepAt < LOG_SWEEP_EVERY_MS) return;
    lastSweepAt = now;
    // Off the job's way: its answer does not wait for a directory walk.
    void pruneAttemptLogs(config.logDir, logRetentionMs ?? DEFAULT_LOG_RETENTION_MS, now).catch(
      () => undefined,
    );
  };
  // Its own sender: chunks must not queue behind the worker's task traffic, nor it behind them.
  const publishTo: Send | undefined = connection ? requestSender(connection) : undefined;
  const host = hostname();
  return {
    async run(spec, attempt, signal, grant): Promise<RunOutcome> {
      const gpuIds = grant?.gpuIds ?? [];
      const named = spec.interpreter === undefined ? undefined : interpreters?.[spec.interpreter];
      if (spec.interpreter !== undefined && named === undefined) {
        // The gate leaves such a job to a peer; one that got here anyway is refused by name.
        throw new Error(
          interpreterRefusal(spec.interpreter, spec.group, Object.keys(interpreters ?? {})),
        );
      }
      const arrivedAt = performance.now();
      const output = publishTo
        ? new OutputPublisher({
            send: publishTo,
            jobId: spec.id,
            attempt,
            publishShortOutput: (spec.retries ?? 0) > 0,
            fullLog: {
              host,
              file: (n) => attemptLogFile(jobLogDir(config.logDir, spec.id), n),
            },
          })
        : undefined;
      let diskArea: DiskArea | undefined;
      const cgroup = cgroups?.take();
      // One made for this job if none waits: only for a job of the standby's shape, which any
      // other discards.
      const standby = cgroup
        ? await cgroups?.takeStandby(cgroup, fitsStandbyShape(spec, grant))
        : undefined;
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
            ...(spec.sweep?.arrayIndex === undefined ? {} : { arrayIndex: spec.sweep.arrayIndex }),
            limits: { ...spec.limits, timeoutMs: spec.timeoutMs },
            ...(spec.outputs ? { outputs: spec.outputs } : {}),
            networkWanted: spec.network ?? false,
            // On a worker with GPUs every job is told its set, an empty one included.
            ...(grant?.gpusOnWorker ? { gpuIds } : {}),
            ...(named === undefined
              ? {}
              : {
                  interpreter: {
                    path: named,
                    prefixArgs: [],
                    note: `${spec.interpreter}: ${named}`,
                  },
                }),
            ...(diskArea ? { diskArea } : {}),
            ...(cgroup ? { cgroup } : {}),
            ...(madeDir ? { workDir: madeDir } : {}),
          },
          config,
          {
            signal,
            ...(standby ? { standby } : {}),
            ...(observer
              ? {
                  onLaunch: (start) =>
                    observer.launched(spec, (performance.now() - arrivedAt) / 1000, start),
                }
              : {}),
            ...(output
              ? {
                  onLine: (record) => {
                    if (record.stream !== "sandbox")
                      output.line(record.stream, record.line, record.t);
                  },
                  // A short job's output then goes in its record alone, with no chunk write
                  // (issue 17: a trivial job's 20 ms gather ran out in the sandbox's clean-up).
                  onExit: () => output.processesEnded(),
                }
              : {}),
          },
        );
        observer?.ended(spec, {
          oomKilled: outcome.ending.kind === "limit_exceeded" && outcome.ending.limit === "memory",
        });
        // Before the answer: once the job's record is there, its live output is complete.
        await output?.finish();
        sweepOldLogs();
        return outcomeToResult(
          spec,
          outcome,
          maxValueJsonBytes(serverLimits?.maxBodyBytes()),
          gpuDescriptions,
        );
      } catch (error) {
        output?.abandon();
        throw error;
      } finally {
        // runJob has resolved: every process of the job is gone from the cgroup. A standby it
        // did not use (a job that never started) must not stay there, nor its directory.
        standby?.discard();
        // Normally gone already (execute removes it); one in a disk area goes with the area's
        // emptying below. Not awaited, to keep it off the result.
        if (madeDir && !standby?.sandbox?.area) void removeWorkDir(madeDir).catch(() => undefined);
        if (cgroup) cgroups?.give(cgroup);
        // Emptying the area need not hold the result back: the next job to want it waits.
        if (diskArea) void disks?.release(diskArea);
      }
    },
  };
}
