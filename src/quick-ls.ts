// `modulate ls` in its plain shapes, run without the parser, as quick-submit.ts runs `submit`:
// yargs and every command's schema were about 70 ms of a plain `ls`'s start before its first
// request (issue 15). The line is read by ls's own schema (modes/quick-args.ts); anything else
// (--help, -h, --no-all, an unknown option, a word --limit cannot count) goes to cli.ts as
// before, so help and errors of usage read exactly as they did. Kept apart from quick-submit.ts
// so that neither lane loads the other's command.
import { lsCommand } from "./modes/ls.ts";
import { runWithoutParser } from "./quick-lane.ts";

/** Runs `argv` as a listing and returns its exit code; undefined where yargs must read it. */
export function lsWithoutParser(argv: readonly string[]): Promise<number | undefined> {
  return runWithoutParser(lsCommand, argv);
}
