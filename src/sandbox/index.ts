/**
 * The sandbox: runs one attempt of one job's script and reports. It imports nothing else of
 * modulate's, nothing of Resonate and nothing of the UI.
 *
 * At worker start-up, once:
 *
 *   const { config, notes } = await setUpSandbox({
 *     sandbox: "auto",              // --sandbox auto|bwrap|none
 *     runAs: "modulate-job",        // --run-as USER (created if missing); needs root
 *     defaultLimits,                // --timeout, --memory, ... of the worker
 *     networkAllowed: false,        // whether a submission may ask for network
 *     workRoot, logDir,             // e.g. <data>/work, <data>/logs
 *     hiddenPaths: [dataDir],       // hidden from jobs under bwrap
 *     env: process.env,
 *   });
 *   for (const note of notes) log(note);            // "sandbox: bwrap", "warning: ..."
 *   const gpus = new GpuPool(await resolveGpus(parseGpuOption(argv.gpus)));
 *   const disk = await setUpDiskAreas({ root: `${workRoot}/.disk`, count: slots, env });
 *   log(disk.note);                                 // "disk quota: 4 areas of 2 GiB ..."
 *
 * Per attempt:
 *
 *   const lease = await gpus.acquire(1, signal);     // only where the job wants a GPU
 *   const diskArea = await disk.areas.pool.acquire(signal); // where areas were made
 *   try {
 *     const outcome = await runJob({ jobId, attempt, scriptName, script, args, env,
 *       limits, outputs, networkWanted, gpuIds: lease.ids, diskArea }, config, { signal });
 *     // outcome.state: succeeded | failed | timed_out | canceled; outcome.reason in words
 *   } finally {
 *     gpus.release(lease);  // safe: runJob resolves only once every job process is gone
 *     await disk.areas.pool.release(diskArea);        // empties it for the next job
 *   }
 *
 * At stop: `await disk.areas.close()` unmounts the areas. A worker killed with kill -9 leaves
 * them mounted; the next `setUpDiskAreas` on the same root unmounts and remakes them.
 *
 * `runJob` never rejects for what a job does (crash, limit, timeout, cancel) nor for a
 * submission that cannot run (unknown script type, bad --env: `failed` at once, nothing
 * started, so do not retry it); it rejects only when the worker's own disk or cgroups fail.
 * Each attempt gets a fresh directory and its own log (the directory is removed before
 * `runJob` resolves, or, in a disk area, when the area is given back and emptied),
 * `<logDir>/<job>/attempt-<n>.jsonl`, of `{t, stream, line}` records.
 *
 * The single executable must route `modulate __script-host -- FILE ARGS...` to
 * `runScriptFile` (src/modes/script-host.ts), which is how `.js`/`.mjs` jobs run there.
 */
export type {
  CapturedOutput,
  CgroupSetup,
  DiskArea,
  Interpreters,
  JobLimits,
  JobOutcome,
  JobRequest,
  JobState,
  JobUser,
  OutputFile,
  ResolvedInterpreter,
  SandboxConfig,
  SandboxMode,
} from "./types.ts";
export { SandboxInputError, SandboxSetupError } from "./errors.ts";
export {
  setUpSandbox,
  type SandboxChoice,
  type SandboxSetup,
  type SandboxSetupOptions,
} from "./probe.ts";
export { runJob } from "./run-job.ts";
export { prepare, type ExecutionPlan } from "./prepare.ts";
export { execute, type ExecuteOptions } from "./execute.ts";
export { mergeLimits } from "./limits.ts";
export {
  GpuPool,
  detectGpus,
  parseGpuOption,
  resolveGpus,
  type GpuLease,
  type GpuSpec,
} from "./gpus.ts";
export {
  setUpDiskAreas,
  type DiskAreaOptions,
  type DiskAreas,
  type DiskAreasSetup,
} from "./disk-areas.ts";
export { DiskAreaPool } from "./disk-area-pool.ts";
export { defaultAreaBytes } from "./disk-quota.ts";
export { capturedText } from "./output.ts";
export { attemptLogFile } from "./paths.ts";
export type { LogRecord, LogStream } from "./attempt-log.ts";
export { formatBytes, formatDuration } from "./format.ts";
export { parseScriptHostArgv, runScriptFile, SCRIPT_HOST_COMMAND } from "./script-host.ts";
