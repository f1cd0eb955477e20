import yargs, { type Argv, type Options } from "yargs";
import packageJson from "../package.json" with { type: "json" };
import { EXIT_CODES_HELP, ExitCode, UserError } from "./errors.ts";
import type { CliContext, ModeCommand } from "./modes/command.ts";
import { serverCommand } from "./modes/server.ts";

export const VERSION: string = packageJson.version;

type Done = (exitCode: number) => void;

function register<O extends Record<string, Options>>(
  parser: Argv,
  mode: ModeCommand<O>,
  ctx: CliContext,
  done: Done,
): Argv {
  return parser.command(
    mode.command,
    mode.describe,
    (sub) => {
      const withOptions = sub.options(mode.options);
      return mode.epilogue ? withOptions.epilogue(mode.epilogue) : withOptions;
    },
    async (argv) => {
      done(await mode.run(argv, ctx));
    },
  );
}

/** Every command of src/modes/, in the order `--help` lists them. */
function registerCommands(parser: Argv, ctx: CliContext, done: Done): Argv {
  return register(parser, serverCommand, ctx, done);
}

/** Parses argv (without node and script), runs the command, returns its exit code. */
export async function main(
  argv: readonly string[],
  ctx: CliContext = processContext(),
): Promise<number> {
  let exitCode: number = ExitCode.ok;
  let parser = yargs([...argv])
    .scriptName("modulate")
    .version(VERSION)
    .strict()
    .demandCommand(1, "name a command: modulate <command> --help shows each one")
    .recommendCommands()
    .epilogue(EXIT_CODES_HELP)
    .wrap(Math.min(100, process.stdout.columns ?? 100))
    .fail((message, error) => {
      // One place turns parse failures into a typed error; the catch below prints it.
      throw error ?? new UserError(message);
    })
    .help();
  parser = registerCommands(parser, ctx, (code) => {
    exitCode = code;
  });
  try {
    let output = "";
    await parser.parseAsync([...argv], {}, (_err, _argv, text) => {
      output = text;
    });
    if (output) ctx.stdout.write(output.endsWith("\n") ? output : `${output}\n`);
    return exitCode;
  } catch (error) {
    if (error instanceof UserError) {
      ctx.stderr.write(`modulate: ${error.message}\n`);
      return error.exitCode;
    }
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    ctx.stderr.write(`modulate: internal error: ${message}\n`);
    return 1;
  }
}

function processContext(): CliContext {
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    signal: controller.signal,
  };
}
