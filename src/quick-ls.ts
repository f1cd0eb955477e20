// `modulate ls` in its plain shapes, run without the parser, as quick-submit.ts runs `submit`:
// yargs and every command's schema were about 70 ms of a plain `ls`'s start before its first
// request (issue 15). The line is read by ls's own schema (modes/quick-args.ts); anything else
// (--help, -h, --no-all, an unknown option, a word --limit cannot count) goes to cli.ts as
// before, so help and errors of usage read exactly as they did. Kept apart from quick-submit.ts
// so that neither lane loads the other's command.
import { traceStep } from "./common/trace.ts";
import { lsCommand } from "./modes/ls.ts";
import { quickArgs } from "./modes/quick-args.ts";
import { processContext, reportFailure } from "./process-context.ts";

/** Runs `argv` as a listing and returns its exit code; undefined where yargs must read it. */
export async function lsWithoutParser(argv: readonly string[]): Promise<number | undefined> {
  traceStep("loaded");
  const args = quickArgs(lsCommand, argv);
  if (args === undefined) return undefined;
  const ctx = processContext();
  try {
    return await lsCommand.run(args, ctx);
  } catch (error) {
    return reportFailure(error, ctx);
  }
}
