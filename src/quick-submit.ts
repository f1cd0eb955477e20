// `modulate submit` in its plain shapes, run without the parser: yargs and the schemas of every
// other command were most of what submit loaded before its first request (issue 17). The line
// is read by the submit command's own schema (modes/quick-args.ts); anything else goes to
// cli.ts as before, so help, errors of usage and every other command read exactly as they did.
import { submitCommand } from "./modes/submit.ts";
import { runWithoutParser } from "./quick-lane.ts";

/** Runs `argv` as a submission and returns its exit code; undefined where yargs must read it. */
export function submitWithoutParser(argv: readonly string[]): Promise<number | undefined> {
  return runWithoutParser(submitCommand, argv);
}
