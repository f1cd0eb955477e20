import { ExitCode } from "../common/errors.ts";
import type { ModulateClient } from "../orchestration/client.ts";
import { exitCodeFor } from "../orchestration/jobs/job.ts";
import { resolveConnection } from "../orchestration/wire/connection.ts";
import { defineCommand, type CliContext, type ModeArgs } from "./command.ts";
import { connectionOptions } from "./connection-options.ts";
import { openModulateClient, type OpenClient } from "./deps.ts";
import { jobDetails } from "./job-format.ts";
import { STOPPED, stoppedExitCode, unlessStopped } from "./stop-signal.ts";
import type { SweepView } from "../orchestration/client/sweep.ts";
import { sweepExitCode, waitForSweep } from "./submit-sweep.ts";
import { sweepDetails } from "./sweep-format.ts";

const options = {
  ...connectionOptions,
  wait: { type: "boolean", default: false, describe: "Wait until the job has finished" },
  json: { type: "boolean", default: false, describe: "Print the result record as JSON" },
} as const;

export const getCommand = defineCommand({
  command: "get",
  describe: "Show a job's state and result; with --wait, once it has finished",
  positional: { name: "id", describe: "The job (or sweep) id that submit printed" },
  options,
  run: (args, ctx) => runGet(args, ctx, { openClient: openModulateClient }),
});

export type GetArgs = ModeArgs<typeof options> & { id: string };

/** What `get` does to the world, handed in: tests give a client of their own server. */
export interface GetDeps {
  readonly openClient: OpenClient<
    Pick<ModulateClient, "getJob" | "waitForJob" | "getSweep" | "close">
  >;
}

export async function runGet(args: GetArgs, ctx: CliContext, deps: GetDeps): Promise<number> {
  const client = await deps.openClient(resolveConnection(args.url, args.token, ctx.env));
  try {
    const found = await unlessStopped(
      client.getJob(args.id).catch(async (error: unknown) => {
        // Not a job: a sweep's id, perhaps (asked only then, so a job's get costs nothing more).
        const sweep = await client.getSweep(args.id).catch(() => undefined);
        if (sweep) return sweep;
        throw error;
      }),
      ctx.signal,
    );
    if (found === STOPPED) return stoppedExitCode(ctx.signal);
    // Awaited here: the client is closed (finally) only once the sweep is shown.
    if ("record" in found) return await showSweep(found, args, ctx, client);
    let view = found;
    if (args.wait && !view.finished) {
      // Ctrl+C or SIGTERM ends the wait at once, even while the server is away.
      const waited = await unlessStopped(
        client.waitForJob(args.id, view.spec.mode, ctx.signal).then(() => client.getJob(args.id)),
        ctx.signal,
      );
      if (waited === STOPPED) {
        ctx.stderr.write(`modulate: stopped waiting; job ${args.id} goes on\n`);
        return stoppedExitCode(ctx.signal);
      }
      view = waited;
    }
    ctx.stdout.write(
      args.json ? `${JSON.stringify(view.result)}\n` : jobDetails(view.result, view.attempts),
    );
    return view.finished ? exitCodeFor(view.result) : ExitCode.ok;
  } finally {
    await client.close();
  }
}

/** `get SWEEP`: its summary, each failure with its reason; with --wait, once all have ended. */
async function showSweep(
  found: SweepView,
  args: GetArgs,
  ctx: CliContext,
  client: Pick<ModulateClient, "getSweep">,
): Promise<number> {
  let view = found;
  if (args.wait && !view.finished) {
    const waited = await waitForSweep(client, args.id, ctx);
    if (waited === STOPPED) {
      ctx.stderr.write(`modulate: stopped waiting; sweep ${args.id} goes on\n`);
      return stoppedExitCode(ctx.signal);
    }
    view = waited;
  }
  ctx.stdout.write(args.json ? `${JSON.stringify(view)}\n` : sweepDetails(view));
  return view.finished ? sweepExitCode(view) : ExitCode.ok;
}
