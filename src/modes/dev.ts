import { readFileSync } from "node:fs";
import { homedir, hostname } from "node:os";
import { basename, join } from "node:path";
import { ExitCode, UserError } from "../common/errors.ts";
import { exitCodeFor } from "../orchestration/job.ts";
import { groupNameProblem, newJobId } from "../orchestration/names.ts";
import type { RunningRouter } from "../orchestration/router.ts";
import { DEFAULT_SUBMISSION_LIMITS } from "../orchestration/validate-submission.ts";
import type { RunningWorker } from "../orchestration/worker.ts";
import type { RunningServer } from "../server/server.ts";
import { defineCommand, type CliContext, type ModeArgs } from "./command.ts";
import { jobSummary } from "./job-format.ts";
import { untilAborted } from "./lifecycle.ts";
import {
  defaultJobLimits,
  maxDiskFrom,
  setUpWorkerSandbox,
  workerSandboxOptions,
} from "./worker-setup.ts";

const options = {
  groups: {
    type: "string",
    default: "cpu",
    describe: "Comma-separated worker groups, one worker each",
  },
  slots: { type: "number", default: 2, describe: "Jobs each worker runs at once" },
  port: {
    type: "number",
    default: 8001,
    describe: "Port of the embedded server (0 picks a free one)",
  },
  data: { type: "string", describe: "Directory of the durable store [default: ~/.modulate/dev]" },
  "in-memory": { type: "boolean", default: false, describe: "Keep nothing on disk" },
  sandbox: {
    choices: ["auto", "bwrap", "none"] as const,
    default: "auto" as const,
    describe: "Isolate jobs with bubblewrap (auto: where it works)",
  },
  try: {
    type: "string",
    describe: "Submit this script to the first group, print its result, and stop",
  },
  python: {
    type: "string",
    describe: "Python interpreter for .py jobs [default: python3, resolved past pyenv shims]",
  },
  ...workerSandboxOptions,
  "work-dir": {
    type: "string",
    describe:
      "Where jobs' directories and logs go [default: worker/ in --data, or ~/.modulate/dev/worker]",
  },
} as const;

export const devCommand = defineCommand({
  command: "dev",
  describe: "Server, router and one worker per group in one process, to try modulate out",
  options,
  epilogue: "Then, from another terminal: modulate submit hello.py --group cpu",
  run: runDev,
});

const LEASE_MS = 8_000;

export async function runDev(args: ModeArgs<typeof options>, ctx: CliContext): Promise<number> {
  const groups = args.groups
    .split(",")
    .map((g) => g.trim())
    .filter((g) => g !== "");
  for (const group of groups) {
    const problem = groupNameProblem(group);
    if (problem) throw new UserError(`--groups ${problem}`);
  }
  if (groups.length === 0)
    throw new UserError("--groups is empty: name at least one group, e.g. --groups cpu,gpu");
  if (!Number.isInteger(args.slots) || args.slots < 1)
    throw new UserError(`--slots ${args.slots} is not a positive whole number of jobs`);
  const tryScript = args.try === undefined ? undefined : readTryScript(args.try);
  const defaultDataDir = join(ctx.env["HOME"] ?? homedir(), ".modulate", "dev");
  const dataDir = args.inMemory ? undefined : (args.data ?? defaultDataDir);
  const maxDiskBytes = maxDiskFrom(args.maxDisk);
  const { config, notes, disk, cgroups } = await setUpWorkerSandbox(
    {
      sandbox: args.sandbox,
      limits: defaultJobLimits(),
      networkAllowed: args.allowNetwork,
      // dev's workers keep their jobs beside its store, not in a worker's default place.
      workDir: args.workDir ?? join(args.data ?? defaultDataDir, "worker"),
      ...(args.runAs === undefined ? {} : { runAs: args.runAs }),
      ...(maxDiskBytes === undefined ? {} : { maxDiskBytes }),
      ...(args.python === undefined ? {} : { python: args.python }),
      // The workers share one pool of areas: one for each job that can run at once.
      slots: groups.length * args.slots,
    },
    ctx.env,
  );

  const [{ startServer }, { startRouter }, { startWorker }, { sandboxRunner }] = await Promise.all([
    import("../server/server.ts"),
    import("../orchestration/router.ts"),
    import("../orchestration/worker.ts"),
    import("../orchestration/sandbox-runner.ts"),
  ]);
  // Stopped last (stoppers run in reverse), once the workers have let their areas go.
  const stoppers: (() => Promise<void>)[] = [];
  if (disk) stoppers.push(() => disk.close());
  if (cgroups) stoppers.push(() => cgroups.close());
  const stopAll = async (): Promise<void> => {
    for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
  };
  try {
    const server: RunningServer = await startServer({
      host: "127.0.0.1",
      port: args.port,
      ...(dataDir === undefined ? {} : { dataDir }),
    }).catch((error: unknown) => {
      if (error instanceof Error && error.name === "IncompatibleStore")
        throw new UserError(error.message);
      if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
        throw new UserError(
          `port ${args.port} is in use (another modulate dev or server?): stop it, or pick another with --port`,
        );
      }
      throw error;
    });
    stoppers.push(() => server.close());
    const connection = { url: server.url };
    const router: RunningRouter = await startRouter({
      connection,
      routes: new Map(),
      limits: DEFAULT_SUBMISSION_LIMITS,
      queueTimeoutMs: 24 * 60 * 60 * 1000,
      leaseMs: LEASE_MS,
      pid: `router-${hostname()}-${process.pid}`,
    });
    stoppers.push(() => router.stop());
    for (const group of groups) {
      const worker: RunningWorker = await startWorker({
        connection,
        group,
        slots: args.slots,
        leaseMs: LEASE_MS,
        pid: `${group}-${hostname()}-${process.pid}`,
        runner: sandboxRunner(config, { disks: disk?.pool, cgroups }),
      });
      stoppers.push(() => worker.stop());
    }
    for (const note of notes) ctx.stdout.write(`${note}\n`);
    ctx.stdout.write(
      `modulate dev ready: server ${server.url}, router, workers ${groups.join(", ")}` +
        `${dataDir === undefined ? " (in memory)" : ` (store ${dataDir})`}\n`,
    );
    if (tryScript) return await tryOnce(server.url, groups[0] ?? "cpu", tryScript, ctx);
    ctx.stdout.write(
      `submit with: modulate submit SCRIPT --group ${groups[0] ?? "cpu"}${args.port === 8001 ? "" : ` --url ${server.url}`}\n`,
    );
    await untilAborted(ctx.signal);
    return ExitCode.ok;
  } finally {
    await stopAll();
  }
}

function readTryScript(path: string): { name: string; content: string } {
  try {
    return { name: basename(path), content: readFileSync(path, "utf8") };
  } catch (error) {
    throw new UserError(
      `cannot read --try ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)}): give the path of a script`,
    );
  }
}

async function tryOnce(
  url: string,
  group: string,
  script: { name: string; content: string },
  ctx: CliContext,
): Promise<number> {
  const { ModulateClient } = await import("../orchestration/client.ts");
  const client = new ModulateClient({ url });
  try {
    const now = Date.now();
    const id = newJobId(now);
    await client.submit(
      { id, group, script, args: [], timeoutMs: 10 * 60 * 1000, mode: "wait", submittedAt: now },
      60 * 60 * 1000,
    );
    const result = await client.waitForJob(id);
    ctx.stdout.write(result.stdout);
    ctx.stderr.write(result.stderr);
    ctx.stdout.write(
      `${jobSummary(result)}${result.state === "succeeded" ? ` on ${result.worker?.host ?? "?"} in ${result.durationMs} ms` : ""}\n`,
    );
    return exitCodeFor(result);
  } finally {
    await client.close();
  }
}
