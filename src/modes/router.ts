import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { ExitCode, UserError } from "../common/errors.ts";
import { processPid } from "../orchestration/jobs/names.ts";
import type { RouterOptions, RunningRouter } from "../orchestration/router.ts";
import { parseRoutes, type Routes } from "../orchestration/jobs/routes.ts";
import { DEFAULT_SUBMISSION_LIMITS } from "../orchestration/jobs/validate-submission.ts";
import { resolveConnection } from "../orchestration/wire/connection.ts";
import { GENERATION_NAMES } from "../orchestration/wire/origins.ts";
import { parseBytes, parseDurationMs } from "../common/units.ts";
import { defineCommand, type CliContext, type ModeArgs } from "./command.ts";
import { connectionOptions } from "./connection-options.ts";
import { awaitResonateServer, type AwaitServer } from "./deps.ts";
import { untilAborted } from "./lifecycle.ts";
import { logFormatOptions, loggerFor } from "./log-format.ts";
import { joinError } from "./start-errors.ts";

const options = {
  ...connectionOptions,
  ...logFormatOptions,
  routes: {
    type: "string",
    describe: "File mapping machine types to groups, lines of 'a100 -> gpu-a100' (or JSON)",
  },
  "max-script": {
    type: "string",
    // Derived from the server's default request limit (src/common/limits.ts), in bytes.
    default: String(DEFAULT_SUBMISSION_LIMITS.maxScriptBytes),
    describe: "Largest script accepted (the default fits the server's default --max-body)",
  },
  "queue-timeout": {
    type: "string",
    default: "24h",
    describe:
      "How long a job may wait for a worker of its group to take it before it ends timed_out (caps submit --queue-timeout)",
  },
  lease: {
    type: "string",
    default: "10s",
    describe: "A router silent this long hands its submissions to a peer",
  },
} as const;

export const routerCommand = defineCommand({
  command: "router",
  describe: "Route submissions to worker groups (joins the entry group)",
  options,
  run: (args, ctx) =>
    runRouter(args, ctx, {
      awaitServer: awaitResonateServer,
      startRouter: async (routerOptions) =>
        (await import("../orchestration/router.ts")).startRouter(routerOptions),
    }),
});

export type RouterArgs = ModeArgs<typeof options>;

/** What `router` does to the world, handed in. */
export interface RouterDeps {
  readonly awaitServer: AwaitServer;
  readonly startRouter: (options: RouterOptions) => Promise<RunningRouter>;
}

export function loadRoutes(path: string | undefined): Routes {
  if (path === undefined) return new Map();
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new UserError(
      `cannot read --routes ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)}): give the path of a routes file`,
    );
  }
  try {
    return parseRoutes(text, path);
  } catch (error) {
    throw new UserError(`--routes ${error instanceof Error ? error.message : String(error)}`);
  }
}

export async function runRouter(
  args: RouterArgs,
  ctx: CliContext,
  deps: RouterDeps,
): Promise<number> {
  const connection = resolveConnection(args.url, args.token, ctx.env);
  const routes = loadRoutes(args.routes);
  const limits = {
    ...DEFAULT_SUBMISSION_LIMITS,
    maxScriptBytes: parseBytes(args.maxScript, "--max-script"),
  };
  const queueTimeoutMs = parseDurationMs(args.queueTimeout, "--queue-timeout");
  const leaseMs = parseDurationMs(args.lease, "--lease");
  const pid = processPid("router", hostname(), process.pid);
  const log = loggerFor(args.logFormat, "router", ctx);
  await deps.awaitServer(connection, ctx.signal, (why) =>
    log.warn("server.waiting", `modulate router: waiting for the server (${why})`, { why }),
  );
  const router = await deps
    .startRouter({
      connection,
      routes,
      limits,
      queueTimeoutMs,
      leaseMs,
      pid,
      events: {
        onRouted: (jobId, group) =>
          log.info("job.routed", `routed ${jobId} to ${group}`, { jobId, group }),
        onRejected: (jobId, reason) =>
          log.info("job.rejected", `rejected ${jobId}: ${reason}`, { jobId, reason }),
        onQueueTimeout: (jobId, outcome) =>
          log.info("job.queue_timeout", `queue timeout of ${jobId}: ${outcome}`, {
            jobId,
            outcome,
          }),
      },
    })
    .catch((error: unknown) => {
      throw joinError("router", connection.url, error);
    });
  const routeText =
    routes.size === 0
      ? "each group name routes to itself"
      : [...routes].map(([from, to]) => `${from} -> ${to}`).join(", ");
  log.info(
    "router.ready",
    `modulate router ${pid} ready on ${connection.url} (${routeText}; on ${GENERATION_NAMES[router.generation]})`,
    { pid, url: connection.url },
  );
  await untilAborted(ctx.signal);
  await router.stop();
  log.info("router.stopped", `modulate router ${pid} stopped`, { pid });
  return ExitCode.ok;
}
