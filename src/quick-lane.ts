// What a command's quick lane does (quick-submit.ts, quick-ls.ts): read the line by the
// command's own schema (modes/quick-args.ts) and run it, or answer undefined so that main.ts
// hands the line to the parser. Each lane names its one command, so neither loads the other's.
import type { Options } from "yargs";
import { traceStep } from "./common/trace.ts";
import type { ModeCommand } from "./modes/command.ts";
import { quickArgs } from "./modes/quick-args.ts";
import { processContext, reportFailure } from "./process-context.ts";

/** Runs `argv` as `mode` and returns its exit code; undefined where yargs must read it. */
export async function runWithoutParser<O extends Record<string, Options>, P extends string>(
  mode: ModeCommand<O, P>,
  argv: readonly string[],
): Promise<number | undefined> {
  traceStep("loaded");
  const args = quickArgs(mode, argv);
  if (args === undefined) return undefined;
  const ctx = processContext();
  try {
    return await mode.run(args, ctx);
  } catch (error) {
    return reportFailure(error, ctx);
  }
}
