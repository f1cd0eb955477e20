// The quick reading of `submit`'s and `ls`'s command lines (src/modes/quick-args.ts) against the parser it
// stands in for: for each line it reads, the handler gets what cli.ts's yargs root would hand
// it, field for field; every other line is left to yargs.
import { describe, expect, it } from "vitest";
import { register, rootParser, type Positionals } from "../../src/cli.ts";
import type { Options } from "yargs";
import type { ModeArgs, ModeCommand } from "../../src/modes/command.ts";
import { lsCommand } from "../../src/modes/ls.ts";
import { quickArgs } from "../../src/modes/quick-args.ts";
import { submitCommand } from "../../src/modes/submit.ts";
import { captureContext } from "./capture-context.ts";

/** What cli.ts's root parser hands `mode`'s handler for `words`. */
async function yargsArgs<O extends Record<string, Options>, P extends string>(
  mode: ModeCommand<O, P>,
  words: readonly string[],
): Promise<ModeArgs<O> & Record<P, string>> {
  let handed: (ModeArgs<O> & Record<P, string>) | undefined;
  const capture: ModeCommand<O, P> = {
    ...mode,
    run: (args) => {
      handed = args;
      return Promise.resolve(0);
    },
  };
  const positionals: Positionals = new Map();
  const parser = register(
    rootParser(words, positionals),
    capture,
    captureContext(),
    () => undefined,
    positionals,
    words,
  );
  await parser.parseAsync([...words]);
  if (handed === undefined) throw new Error(`yargs ran no handler for ${words.join(" ")}`);
  return handed;
}

const READ_QUICKLY: readonly (readonly string[])[] = [
  ["submit", "job.py"],
  ["submit", "job.py", "--group", "gpu", "--url", "http://127.0.0.1:8001"],
  ["submit", "--group=cpu", "job.py", "--detach", "--json"],
  ["submit", "a.py", "b.py", "evals/c.py", "--max-running", "8", "--wait"],
  ["submit", "job.py", "--array", "0-49%8", "--id", "sweep-1"],
  ["submit", "job.py", "--env", "A=1", "--env=B=two words", "--output", "out.txt"],
  ["submit", "job.py", "--after", "j1,j2", "--after", "j3", "--after-any", "--retries", "2"],
  ["submit", "job.py", "--timeout", "5s", "--queue-timeout", "1m", "--retry-timeouts"],
  ["submit", "job.py", "--memory", "2G", "--cpu-time", "5m", "--max-procs", "64"],
  ["submit", "job.py", "--max-output", "16M", "--output-dir", "/tmp/x", "--network"],
  ["submit", "job.py", "--gpus", "2", "--interpreter", "torch", "--quiet"],
  ["submit", "job.py", "--token", "T", "--", "--epochs", "3", "007", "1.50", "0x10", "-x"],
  ["submit", "007", "b.py"],
  ["submit", "01_prepare.py", "--group", "cpu", "--"],
];

const LEFT_TO_YARGS: readonly (readonly string[])[] = [
  ["submit"],
  ["submit", "--help"],
  ["submit", "job.py", "-h"],
  ["submit", "job.py", "--version"],
  ["submit", "-"],
  ["submit", ""],
  ["submit", "a.py", "1.50"],
  ["submit", "job.py", "--unknown", "x"],
  ["submit", "job.py", "--group", "a", "--group", "b"],
  ["submit", "job.py", "--no-detach"],
  ["submit", "job.py", "--detach=false"],
  ["submit", "job.py", "--detach", "true"],
  ["submit", "job.py", "--group"],
  ["submit", "job.py", "--timeout", "-5s"],
  ["submit", "job.py", "--retries", "two"],
  ["submit", "job.py", "--retries", "-1"],
  ["submit", "--env", "A=1", "job.py"],
  ["submit", "job.py", "--maxRunning", "3"],
  ["get", "job-1"],
];

describe("submit's command line read without yargs", () => {
  it.each(READ_QUICKLY.map((words) => [words.join(" "), words]))(
    "hands the handler what yargs does for: %s",
    async (_line, words) => {
      const quick = quickArgs(submitCommand, words);
      expect(quick).toBeDefined();
      expect(quick).toStrictEqual({ ...(await yargsArgs(submitCommand, words)) });
    },
  );

  it.each(LEFT_TO_YARGS.map((words) => [words.join(" "), words]))(
    "leaves to yargs: %s",
    (_line, words) => {
      expect(quickArgs(submitCommand, words)).toBeUndefined();
    },
  );
});

const LS_READ_QUICKLY: readonly (readonly string[])[] = [
  ["ls"],
  ["ls", "--group", "g"],
  ["ls", "--state", "queued"],
  ["ls", "--all"],
  ["ls", "--since", "2h"],
  ["ls", "--limit", "20"],
  ["ls", "--limit=5"],
  ["ls", "--json"],
  ["ls", "--sweeps"],
  ["ls", "--url", "http://127.0.0.1:8001"],
  ["ls", "--token", "T"],
  ["ls", "--all", "--group=gpu", "--state", "failed", "--since=30m", "--limit", "7", "--json"],
  // Read here, refused by ls's own check, as after yargs.
  ["ls", "--state", "bogus"],
  ["ls", "--limit", "0"],
  ["ls", "--limit", "1.5"],
  ["ls", "--limit", "007"],
  ["ls", "--state="],
  ["ls", "--group", ""],
];

const LS_LEFT_TO_YARGS: readonly (readonly string[])[] = [
  ["ls", "--help"],
  ["ls", "-h"],
  ["ls", "--version"],
  ["ls", "--limit", "abc"],
  ["ls", "--limit=abc"],
  ["ls", "--limit", "-1"],
  ["ls", "--limit"],
  ["ls", "--unknown"],
  ["ls", "--unknown", "x"],
  ["ls", "--no-all"],
  ["ls", "--all=false"],
  ["ls", "--json", "true"],
  ["ls", "--group", "a", "--group", "b"],
  ["ls", "extra"],
  ["ls", "--"],
  ["ls", "--", "x"],
  ["ls", "-"],
  ["submit", "job.py"],
];

describe("ls's command line read without yargs", () => {
  it.each(LS_READ_QUICKLY.map((words) => [words.join(" "), words]))(
    "hands the handler what yargs does for: %s",
    async (_line, words) => {
      const quick = quickArgs(lsCommand, words);
      expect(quick).toBeDefined();
      expect(quick).toStrictEqual({ ...(await yargsArgs(lsCommand, words)) });
    },
  );

  it.each(LS_LEFT_TO_YARGS.map((words) => [words.join(" "), words]))(
    "leaves to yargs: %s",
    (_line, words) => {
      expect(quickArgs(lsCommand, words)).toBeUndefined();
    },
  );
});
