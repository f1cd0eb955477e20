import { constants, existsSync } from "node:fs";
import { access } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname, isAbsolute, join } from "node:path";
import { ExitCode, UserError } from "../common/errors.ts";
import { groupNameProblem, jobOfExecuteId, processPid } from "../orchestration/jobs/names.ts";
import type { RunningWorker, WorkerOptions } from "../orchestration/worker.ts";
import { SandboxSetupError } from "../sandbox/errors.ts";
import { resolveConnection } from "../orchestration/wire/connection.ts";
import type { JobLimits } from "../sandbox/types.ts";
import { parseBytes, parseDurationMs } from "../common/units.ts";
import { defineCommand, type CliContext, type ModeArgs } from "./command.ts";
import { connectionOptions } from "./connection-options.ts";
import { awaitResonateServer, type AwaitServer } from "./deps.ts";
import { untilAborted } from "./lifecycle.ts";
import { releaseStartupMemory, useLeanV8 } from "./lean-v8.ts";
import { logFormatOptions, loggerFor } from "./log-format.ts";
import { serveMetrics, type MetricsEndpoint } from "./metrics-endpoint.ts";
import { joinError } from "./start-errors.ts";
import {
  defaultJobLimits,
  maxDiskFrom,
  setUpWorkerSandbox,
  workerSandboxOptions,
} from "./worker-setup.ts";
import { ServerLimits } from "../orchestration/wire/server-limits.ts";
import { MODULATE_VERSION } from "./version.ts";
import { GENERATION_NAMES } from "../orchestration/wire/origins.ts";

const options = {
  ...connectionOptions,
  ...logFormatOptions,
  ...workerSandboxOptions,
  group: {
    type: "string",
    demandOption: true,
    describe: "The group this worker serves, e.g. gpu or cpu",
  },
  slots: {
    type: "number",
    describe: "Jobs run at once; no job is taken without a free slot [default: 1, or one per GPU]",
  },
  prefetch: {
    type: "number",
    default: 1,
    describe:
      "Jobs taken ahead while every slot is busy, so a freed slot starts the next at once; one not started within 1 s goes back to the group (0: off)",
  },
  gpus: {
    type: "string",
    describe:
      "GPUs to hand out: auto (from nvidia-smi -L), a count, or a list such as 0,1; a job gets the set it asks for (submit --gpus), one by default",
  },
  "jobs-per-gpu": {
    type: "number",
    default: 1,
    describe:
      "Jobs asking for --gpus shared that may share one GPU; a job asking for whole GPUs never shares one",
  },
  interpreter: {
    type: "string",
    array: true,
    default: [] as string[],
    describe:
      "NAME=PATH: an interpreter jobs may ask for with submit --interpreter NAME, e.g. torch=/opt/venvs/torch/bin/python (repeatable)",
  },
  python: {
    type: "string",
    describe: "Python interpreter for .py jobs [default: python3, resolved past pyenv shims]",
  },
  lease: {
    type: "string",
    default: "8s",
    describe: "A worker silent this long loses its jobs to a peer of its group",
  },
  sandbox: {
    choices: ["auto", "bwrap", "none"] as const,
    default: "auto" as const,
    describe: "Isolate jobs with bubblewrap (auto: where it works)",
  },
  "max-timeout": {
    type: "string",
    default: "24h",
    describe: "Longest a job may run; a submission may ask for less",
  },
  "max-memory": { type: "string", describe: "Memory of one job [default: the machine's]" },
  "max-procs": { type: "number", default: 4096, describe: "Processes and threads of one job" },
  "max-output": {
    type: "string",
    default: "16M",
    describe: "Output kept of each of stdout and stderr",
  },
  "max-cpu-time": { type: "string", default: "7d", describe: "CPU time of one job's processes" },
  "work-dir": {
    type: "string",
    describe: "Where jobs' directories and logs go [default: ~/.modulate/worker]",
  },
  "warm-python": {
    type: "boolean",
    default: true,
    describe:
      "Idle slots keep a python already started for their next .py job, which runs in it as if started cold (--no-warm-python: start python per job)",
  },
  "metrics-port": {
    type: "number",
    describe:
      "Serve GET /metrics (Prometheus text) on this port (0 picks a free one) [default: off]",
  },
  "metrics-host": {
    type: "string",
    default: "127.0.0.1",
    describe: "Address --metrics-port binds",
  },
} as const;

export const workerCommand = defineCommand({
  command: "worker",
  describe: "Run submitted scripts for one group, in a sandbox",
  options,
  run: (args, ctx) => {
    // Here, not in runWorker: tests run that in their own process.
    useLeanV8();
    return runWorker(args, ctx, {
      awaitServer: awaitResonateServer,
      setUpSandbox: setUpWorkerSandbox,
      startWorker: async (workerOptions) =>
        (await import("../orchestration/worker.ts")).startWorker(workerOptions),
      onReady: releaseStartupMemory,
    });
  },
});

export type WorkerArgs = ModeArgs<typeof options>;

/** What `worker` does to the world, handed in. */
export interface WorkerDeps {
  readonly awaitServer: AwaitServer;
  /** Decides the sandbox and makes the jobs' disk areas and cgroups (worker-setup.ts). */
  readonly setUpSandbox: typeof setUpWorkerSandbox;
  readonly startWorker: (options: WorkerOptions) => Promise<RunningWorker>;
  /** Called once the worker has said it is ready, before it waits (lean-v8.ts). */
  readonly onReady?: () => void;
}

function limitsFrom(args: WorkerArgs): JobLimits {
  if (!Number.isInteger(args.maxProcs) || args.maxProcs < 1) {
    throw new UserError(`--max-procs ${args.maxProcs} is not a positive whole number`);
  }
  return {
    ...defaultJobLimits(),
    timeoutMs: parseDurationMs(args.maxTimeout, "--max-timeout"),
    cpuTimeMs: parseDurationMs(args.maxCpuTime, "--max-cpu-time"),
    ...(args.maxMemory === undefined
      ? {}
      : { memoryBytes: parseBytes(args.maxMemory, "--max-memory") }),
    maxProcs: args.maxProcs,
    maxOutputBytes: parseBytes(args.maxOutput, "--max-output"),
  };
}

async function gpusFor(option: string): Promise<string[]> {
  const { parseGpuOption, resolveGpus } = await import("../sandbox/gpus.ts");
  try {
    return await resolveGpus(parseGpuOption(option));
  } catch (error) {
    if (error instanceof SandboxSetupError) throw new UserError(error.message);
    throw error;
  }
}

/** `--interpreter NAME=PATH`s: by name, and the paths a sandbox must show for them. */
async function namedInterpreters(
  pairs: readonly string[],
): Promise<{ byName: Record<string, string>; paths: string[] }> {
  const { interpreterNameProblem } = await import("../orchestration/jobs/resources.ts");
  const byName: Record<string, string> = {};
  const paths: string[] = [];
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    const name = eq > 0 ? pair.slice(0, eq) : "";
    const path = eq > 0 ? pair.slice(eq + 1) : "";
    if (name === "" || !isAbsolute(path)) {
      throw new UserError(
        `--interpreter ${JSON.stringify(pair)} is not NAME=PATH: write it as e.g. torch=/opt/venvs/torch/bin/python`,
      );
    }
    const problem = interpreterNameProblem(name);
    if (problem) throw new UserError(`--interpreter: ${problem}`);
    if (byName[name] !== undefined) {
      throw new UserError(`--interpreter ${name} is given twice: give each name once`);
    }
    try {
      await access(path, constants.X_OK);
    } catch {
      throw new UserError(
        `--interpreter ${name}=${path}: no executable there; give the path of the interpreter's program`,
      );
    }
    byName[name] = path;
    paths.push(path);
    // A venv's python (<venv>/bin/python) needs the venv's own tree too: its site-packages.
    const venv = dirname(dirname(path));
    if (existsSync(join(venv, "pyvenv.cfg"))) paths.push(venv);
  }
  return { byName, paths };
}

export async function runWorker(
  args: WorkerArgs,
  ctx: CliContext,
  deps: WorkerDeps,
): Promise<number> {
  const problem = groupNameProblem(args.group);
  if (problem) throw new UserError(`--group ${problem}`);
  const jobsPerGpu = args.jobsPerGpu;
  if (!Number.isInteger(jobsPerGpu) || jobsPerGpu < 1) {
    throw new UserError(
      `--jobs-per-gpu ${jobsPerGpu} is not a positive whole number: give e.g. 4, or leave it out for 1`,
    );
  }
  const interpreters = await namedInterpreters(args.interpreter.map(String));
  const { sandboxRunner } = await import("../orchestration/sandbox-runner.ts");
  const { GpuSets, describeGpus } = await import("../sandbox/gpus.ts");
  const gpuIds = args.gpus === undefined ? [] : await gpusFor(args.gpus);
  const slots = args.slots ?? Math.max(1, gpuIds.length * jobsPerGpu);
  if (!Number.isInteger(slots) || slots < 1) {
    throw new UserError(`--slots ${slots} is not a positive whole number of jobs`);
  }
  const gpus = gpuIds.length > 0 ? new GpuSets(gpuIds, jobsPerGpu) : undefined;
  // Names and memory for the result records; none where nvidia-smi does not answer.
  const gpuDescriptions = gpus ? await describeGpus() : [];
  const log = loggerFor(args.logFormat, "worker", ctx);
  const metricsPort = args.metricsPort;
  if (
    metricsPort !== undefined &&
    (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65535)
  ) {
    throw new UserError(
      `--metrics-port ${metricsPort} is not a port: use a whole number from 0 to 65535`,
    );
  }
  let running: RunningWorker | undefined;
  const metrics =
    metricsPort === undefined
      ? undefined
      : new (await import("../orchestration/worker-metrics.ts")).WorkerMetrics({
          group: args.group,
          slots,
          busySlots: () => running?.busy ?? 0,
          gpus: () =>
            gpus ? { total: gpus.size, busy: gpus.size - gpus.freeCount } : { total: 0, busy: 0 },
        });
  const connection = resolveConnection(args.url, args.token, ctx.env);
  const leaseMs = parseDurationMs(args.lease, "--lease");
  if (!Number.isInteger(args.prefetch) || args.prefetch < 0) {
    throw new UserError(
      `--prefetch ${args.prefetch} is not a whole number of jobs: use 0 (off) or more`,
    );
  }
  const maxDiskBytes = maxDiskFrom(args.maxDisk);
  const { config, notes, disk, cgroups, warmPython } = await deps.setUpSandbox(
    {
      sandbox: args.sandbox,
      ...(args.runAs === undefined ? {} : { runAs: args.runAs }),
      ...(args.python === undefined ? {} : { python: args.python }),
      ...(args.workDir === undefined ? {} : { workDir: args.workDir }),
      limits: limitsFrom(args),
      networkAllowed: args.allowNetwork,
      slots,
      ...(maxDiskBytes === undefined ? {} : { maxDiskBytes }),
      gpus: gpuIds.length > 0,
      namedInterpreterPaths: interpreters.paths,
      warmPython: args.warmPython,
    },
    ctx.env,
  );
  let endpoint: MetricsEndpoint | undefined;
  try {
    // Before joining: a port that is taken stops the worker before it takes any job.
    endpoint = metrics
      ? await serveMetrics({
          host: args.metricsHost,
          port: metricsPort ?? 0,
          exposition: () => metrics.exposition(),
        })
      : undefined;
    const pid = processPid(args.group, hostname(), process.pid);
    const serverLimits = new ServerLimits();
    await deps.awaitServer(connection, ctx.signal, (why) =>
      log.warn("server.waiting", `modulate worker: waiting for the server (${why})`, { why }),
    );
    const worker = await deps
      .startWorker({
        connection,
        group: args.group,
        slots,
        leaseMs,
        prefetch: args.prefetch,
        pid,
        serverLimits,
        announcement: {
          gpus: gpuIds,
          sandbox: config.mode,
          version: MODULATE_VERSION,
          interpreters: Object.keys(interpreters.byName),
          ...(warmPython === undefined ? {} : { warmPython }),
        },
        ...(gpus ? { gpus } : {}),
        interpreters: Object.keys(interpreters.byName),
        runner: sandboxRunner(config, {
          gpuDescriptions,
          interpreters: interpreters.byName,
          disks: disk?.pool,
          cgroups,
          serverLimits,
          connection,
          observer: metrics,
        }),
        events: {
          onStart: (spec, attempt) => {
            metrics?.started(spec, attempt);
            log.info("job.start", `start ${spec.id} attempt ${attempt}`, {
              jobId: spec.id,
              attempt,
            });
          },
          onFinish: (spec, result) => {
            metrics?.finished(result);
            log.info(
              "job.done",
              `done ${spec.id} ${result.state}${result.reason ? `: ${result.reason}` : ""}`,
              {
                jobId: spec.id,
                state: result.state,
                attempt: result.attempt,
                exitCode: result.exitCode,
                durationMs: result.durationMs,
                ...(result.reason ? { reason: result.reason } : {}),
              },
            );
          },
          onRetry: (spec, attempt, outcome) =>
            log.info(
              "job.retry",
              `retry ${spec.id} attempt ${attempt} ${outcome.state}${outcome.reason ? `: ${outcome.reason}` : ""}`,
              { jobId: spec.id, attempt, state: outcome.state },
            ),
          onAnswerNote: (taskId, note) =>
            log.info("job.answer", `answer ${taskId}: ${note}`, {
              jobId: jobOfExecuteId(taskId),
              taskId,
              note,
            }),
        },
      })
      .catch((error: unknown) => {
        throw joinError("worker", connection.url, error);
      });
    running = worker;
    for (const note of notes) log.info("worker.sandbox", note);
    for (const [name, path] of Object.entries(interpreters.byName))
      log.info("worker.interpreter", `interpreter ${name}: ${path}`, { name, path });
    if (endpoint) log.info("worker.metrics", `metrics: ${endpoint.url}`, { url: endpoint.url });
    if (args.gpus !== undefined) {
      if (gpus)
        log.info(
          "worker.gpus",
          `gpus: ${gpuIds.join(",")} (a job holds what it asks, one by default; up to ${jobsPerGpu} share one with --gpus shared)`,
          { gpus: gpuIds.join(","), jobsPerGpu },
        );
      else log.info("worker.gpus", "warning: --gpus found no GPU: jobs run without one");
    }
    log.info(
      "worker.ready",
      `modulate worker ${pid} ready: group ${args.group}, ${slots} slot${slots === 1 ? "" : "s"}, server ${connection.url}, ${GENERATION_NAMES[worker.generation]}`,
      { pid, group: args.group, slots, url: connection.url },
    );
    deps.onReady?.();
    await untilAborted(ctx.signal);
    await worker.stop();
    log.info("worker.stopped", `modulate worker ${pid} stopped`, { pid });
    return ExitCode.ok;
  } finally {
    await endpoint?.close();
    // After `stop`. The cgroups first: their idle slots' standbys hold disk areas too. The
    // areas are unmounted once the jobs it cut short and the standbys have let them go.
    await cgroups?.close();
    await disk?.close();
  }
}
