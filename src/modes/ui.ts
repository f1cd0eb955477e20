import type { AppProps } from "../app.tsx";
import type { DashboardSource } from "../ui/data-source.ts";
import { ExitCode, UserError } from "../common/errors.ts";
import type { ModulateClient } from "../orchestration/client.ts";
import { resolveConnection } from "../orchestration/wire/connection.ts";
import { parseDurationMs } from "../common/units.ts";
import { defineCommand, type CliContext, type ModeArgs } from "./command.ts";
import { connectionOptions } from "./connection-options.ts";
import { openModulateClient, type OpenClient } from "./deps.ts";

const options = {
  ...connectionOptions,
  refresh: { type: "string", default: "2s", describe: "How often the dashboard reads the cluster" },
} as const;

export const uiCommand = defineCommand({
  command: "ui",
  describe:
    "Terminal dashboard: groups, jobs and workers; a job's live output; cancel (the default on a terminal)",
  options,
  run: (args, ctx) =>
    runUi(args, ctx, {
      openClient: openModulateClient,
      // Ink and React load only here, so the server, router and worker never pay for them.
      runDashboard: async (props) => (await import("../app.tsx")).runDashboard(props),
    }),
});

export type UiArgs = ModeArgs<typeof options>;

/** What `ui` does to the world, handed in. */
export interface UiDeps {
  readonly openClient: OpenClient<DashboardSource & Pick<ModulateClient, "close">>;
  /** Renders the dashboard until the user quits it. */
  readonly runDashboard: (props: AppProps) => Promise<void>;
}

export async function runUi(args: UiArgs, ctx: CliContext, deps: UiDeps): Promise<number> {
  // Ink needs a terminal for its keys; off one it would fail with a stack of its own words.
  if (!ctx.isInteractive) {
    throw new UserError(
      "modulate ui needs a terminal (stdin and stdout a TTY): from a script or a pipe, use modulate get ID (--json) for a job",
    );
  }
  const connection = resolveConnection(args.url, args.token, ctx.env);
  const refreshMs = parseDurationMs(args.refresh, "--refresh");
  const client = await deps.openClient(connection);
  try {
    await deps.runDashboard({ source: client, url: connection.url, refreshMs, stop: ctx.signal });
  } finally {
    await client.close();
  }
  return ExitCode.ok;
}
