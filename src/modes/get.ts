import { ExitCode } from "../common/errors.ts";
import { exitCodeFor } from "../orchestration/job.ts";
import { resolveConnection } from "../orchestration/connection.ts";
import { defineCommand, type CliContext, type ModeArgs } from "./command.ts";
import { connectionOptions } from "./connection-options.ts";
import { jobDetails } from "./job-format.ts";
import { STOPPED, stoppedExitCode, unlessStopped } from "./stop-signal.ts";

const options = {
  ...connectionOptions,
  wait: { type: "boolean", default: false, describe: "Wait until the job has finished" },
  json: { type: "boolean", default: false, describe: "Print the result record as JSON" },
} as const;

export const getCommand = defineCommand({
  command: "get",
  describe: "Show a job's state and result; with --wait, once it has finished",
  positional: { name: "id", describe: "The job id that submit printed" },
  options,
  run: runGet,
});

export async function runGet(
  args: ModeArgs<typeof options> & { id: string },
  ctx: CliContext,
): Promise<number> {
  const client = new (await import("../orchestration/client.ts")).ModulateClient(
    resolveConnection(args.url, args.token, ctx.env),
  );
  try {
    const found = await unlessStopped(client.getJob(args.id), ctx.signal);
    if (found === STOPPED) return stoppedExitCode(ctx.signal);
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
