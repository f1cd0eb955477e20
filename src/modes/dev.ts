import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { basename, join } from "node:path";
import type { AppProps } from "../app.tsx";
import { ExitCode, UserError } from "../common/errors.ts";
import type { ModulateClient } from "../orchestration/client.ts";
import { exitCodeFor } from "../orchestration/jobs/job.ts";
import { groupNameProblem, newJobId } from "../orchestration/jobs/names.ts";
import type { DashboardSource } from "../ui/data-source.ts";
import { defineCommand, type CliContext, type ModeArgs } from "./command.ts";
import { openModulateClient, type Clock, type OpenClient } from "./deps.ts";
import { jobSummary } from "./job-format.ts";
import { untilAborted } from "./lifecycle.ts";
import { logFormatOptions, loggerFor } from "./log-format.ts";
import { startLocalCluster, type LocalCluster, type LocalClusterOptions } from "./local-cluster.ts";
import { defaultJobLimits, maxDiskFrom, workerSandboxOptions } from "./worker-setup.ts";

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
  ...logFormatOptions,
  ui: {
    type: "boolean",
    default: true,
    describe:
      "On a terminal, open the dashboard on this stack until you quit it (--no-ui: print where it listens and wait)",
  },
  "work-dir": {
    type: "string",
    describe:
      "Where jobs' directories and logs go [default: worker/ in --data, or ~/.modulate/dev/worker]",
  },
} as const;

export type DevArgs = ModeArgs<typeof options>;

/** What `dev` does to the world, handed in: tests start their cluster or client here. */
export interface DevDeps {
  readonly startCluster: (options: LocalClusterOptions) => Promise<LocalCluster>;
  /** The client that submits `--try`'s script, and the dashboard's. */
  readonly openClient: OpenClient<DashboardSource & Pick<ModulateClient, "close">>;
  /** Renders the dashboard until the user quits it (modes/ui.ts's, loaded with import()). */
  readonly runDashboard: (props: AppProps) => Promise<void>;
  readonly clock: Clock;
}

export const devCommand = defineCommand({
  command: "dev",
  describe: "Server, router and one worker per group in one process, to try modulate out",
  options,
  epilogue: "Then, from another terminal: modulate submit hello.py --group cpu",
  run: (args, ctx) =>
    runDev(args, ctx, {
      startCluster: startLocalCluster,
      openClient: openModulateClient,
      clock: Date.now,
      // Ink and React load only here, and only when the dashboard opens.
      runDashboard: async (props) => (await import("../app.tsx")).runDashboard(props),
    }),
});

/** The groups of `--groups`, each checked and named once: a worker's pid is made of its group. */
export function groupsFrom(option: string): string[] {
  const groups = option
    .split(",")
    .map((g) => g.trim())
    .filter((g) => g !== "");
  for (const [i, group] of groups.entries()) {
    const problem = groupNameProblem(group);
    if (problem) throw new UserError(`--groups ${problem}`);
    if (groups.indexOf(group) !== i) {
      throw new UserError(
        `--groups ${option} names ${group} twice: name each group once (--slots sets how many jobs its worker runs at once)`,
      );
    }
  }
  if (groups.length === 0)
    throw new UserError("--groups is empty: name at least one group, e.g. --groups cpu,gpu");
  return groups;
}

export async function runDev(args: DevArgs, ctx: CliContext, deps: DevDeps): Promise<number> {
  const groups = groupsFrom(args.groups);
  if (!Number.isInteger(args.slots) || args.slots < 1)
    throw new UserError(`--slots ${args.slots} is not a positive whole number of jobs`);
  const tryScript = args.try === undefined ? undefined : readTryScript(args.try);
  const defaultDataDir = join(ctx.env["HOME"] ?? homedir(), ".modulate", "dev");
  const dataDir = args.inMemory ? undefined : (args.data ?? defaultDataDir);
  const maxDiskBytes = maxDiskFrom(args.maxDisk);
  const cluster = await deps.startCluster({
    groups,
    slotsPerWorker: args.slots,
    port: args.port,
    ...(dataDir === undefined ? {} : { dataDir }),
    sandbox: {
      sandbox: args.sandbox,
      limits: defaultJobLimits(),
      networkAllowed: args.allowNetwork,
      // dev's workers keep their jobs beside its store, not in a worker's default place.
      workDir: args.workDir ?? join(args.data ?? defaultDataDir, "worker"),
      ...(args.runAs === undefined ? {} : { runAs: args.runAs }),
      ...(maxDiskBytes === undefined ? {} : { maxDiskBytes }),
      ...(args.python === undefined ? {} : { python: args.python }),
    },
    env: ctx.env,
  });
  try {
    // dev's own lines; --try's job prints its output and summary as they are, in either format.
    const log = loggerFor(args.logFormat, "dev", ctx);
    for (const note of cluster.notes) log.info("dev.sandbox", note);
    log.info(
      "dev.ready",
      `modulate dev ready: server ${cluster.url}, router, workers ${groups.join(", ")}` +
        `${dataDir === undefined ? " (in memory)" : ` (store ${dataDir})`}`,
      { url: cluster.url, groups: groups.join(","), store: dataDir ?? null },
    );
    const firstGroup = groups[0] ?? "cpu";
    if (tryScript) return await tryOnce(cluster.url, firstGroup, tryScript, ctx, deps);
    log.info(
      "dev.hint",
      `submit with: modulate submit SCRIPT --group ${firstGroup}${args.port === 8001 ? "" : ` --url ${cluster.url}`}`,
    );
    if (args.ui && ctx.isInteractive) {
      const client = await deps.openClient({ url: cluster.url });
      try {
        await deps.runDashboard({
          source: client,
          url: cluster.url,
          refreshMs: 2_000,
          stop: ctx.signal,
        });
      } finally {
        await client.close();
      }
      return ExitCode.ok;
    }
    await untilAborted(ctx.signal);
    return ExitCode.ok;
  } finally {
    await cluster.stop();
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
  deps: DevDeps,
): Promise<number> {
  const client = await deps.openClient({ url });
  try {
    const now = deps.clock();
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
