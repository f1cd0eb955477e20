import { ExitCode, UserError } from "../common/errors.ts";
import { resolveConnection } from "../orchestration/connection.ts";
import { parseDurationMs } from "../common/units.ts";
import { defineCommand, type CliContext, type ModeArgs } from "./command.ts";
import { connectionOptions } from "./connection-options.ts";

const options = {
  ...connectionOptions,
  refresh: { type: "string", default: "2s", describe: "How often the dashboard reads the cluster" },
} as const;

export const uiCommand = defineCommand({
  command: "ui",
  describe:
    "Terminal dashboard: worker groups, their workers and outstanding jobs (the default on a terminal)",
  options,
  run: runUi,
});

export async function runUi(args: ModeArgs<typeof options>, ctx: CliContext): Promise<number> {
  // Ink needs a terminal for its keys; off one it would fail with a stack of its own words.
  if (!ctx.isInteractive) {
    throw new UserError(
      "modulate ui needs a terminal (stdin and stdout a TTY): from a script or a pipe, use modulate get ID (--json) for a job",
    );
  }
  const connection = resolveConnection(args.url, args.token, ctx.env);
  const refreshMs = parseDurationMs(args.refresh, "--refresh");
  const client = new (await import("../orchestration/client.ts")).ModulateClient(connection);
  // Ink and React load only here, so the server, router and worker never pay for them.
  const { runDashboard } = await import("../app.tsx");
  try {
    await runDashboard({ load: () => client.snapshot(), url: connection.url, refreshMs });
  } finally {
    await client.close();
  }
  return ExitCode.ok;
}
