import yargs, { type Argv, type Options } from "yargs";
import packageJson from "../package.json" with { type: "json" };
import { EXIT_CODES_HELP, ExitCode, UserError } from "./errors.ts";
import type { CliContext, ModeCommand } from "./modes/command.ts";
import { devCommand } from "./modes/dev.ts";
import { getCommand } from "./modes/get.ts";
import { routerCommand } from "./modes/router.ts";
import { hostScriptIfAsked } from "./modes/script-host.ts";
import { serverCommand } from "./modes/server.ts";
import { submitCommand } from "./modes/submit.ts";
import { uiCommand } from "./modes/ui.ts";
import { workerCommand } from "./modes/worker.ts";

export const VERSION: string = packageJson.version;

type Done = (exitCode: number) => void;

/** Each command's required positional, by command, for the message when it is left out. */
type Positionals = Map<string, string>;

function register<O extends Record<string, Options>, P extends string>(
  parser: Argv,
  mode: ModeCommand<O, P>,
  ctx: CliContext,
  done: Done,
  positionals: Positionals,
  words: readonly string[],
): Argv {
  const positional = mode.positional;
  if (positional) positionals.set(mode.command, positional.name);
  return parser.command(
    positional ? `${mode.command} <${positional.name}>` : mode.command,
    mode.describe,
    (sub) => {
      const withOptions = sub.options(mode.options);
      return mode.epilogue ? withOptions.epilogue(mode.epilogue) : withOptions;
    },
    async (argv) => {
      const value: unknown = positional ? argv[positional.name] : undefined;
      // yargs hands a lone `-` over as `true`; it means stdin (`submit -`).
      const word = value === true && ownWords(words).includes("-") ? "-" : String(value);
      const named = (positional ? { [positional.name]: word } : {}) as Record<P, string>;
      done(await mode.run({ ...argv, ...named }, ctx));
    },
  );
}

/** Every command of src/modes/, in the order `--help` lists them. */
function registerCommands(
  parser: Argv,
  ctx: CliContext,
  done: Done,
  positionals: Positionals,
  words: readonly string[],
): Argv {
  let p = register(parser, submitCommand, ctx, done, positionals, words);
  p = register(p, getCommand, ctx, done, positionals, words);
  p = register(p, devCommand, ctx, done, positionals, words);
  p = register(p, serverCommand, ctx, done, positionals, words);
  p = register(p, routerCommand, ctx, done, positionals, words);
  p = register(p, workerCommand, ctx, done, positionals, words);
  p = register(p, uiCommand, ctx, done, positionals, words);
  return p;
}

/** The command line's words before `--`: those after it belong to the submitted script. */
function ownWords(words: readonly string[]): readonly string[] {
  const end = words.indexOf("--");
  return end < 0 ? words : words.slice(0, end);
}

/**
 * yargs' parse failures with the fix said: "Not enough non-option arguments: got 0, need at
 * least 1" becomes what is missing, and an unknown word points at the list of commands.
 */
function plainParseFailure(
  message: string,
  argv: readonly string[],
  positionals: Positionals,
): string {
  if (message.startsWith("Unknown argument"))
    return `${message} (modulate --help lists the commands and options)`;
  const command = argv.find((word) => positionals.has(word));
  const name = command === undefined ? undefined : positionals.get(command);
  if (!message.startsWith("Not enough non-option arguments") || name === undefined) return message;
  return `${command} needs its ${name}: modulate ${command} <${name}> (--help shows the rest)`;
}

/**
 * True when argv holds nothing but the dashboard's own options (`--url X`, `--token=T`), as in
 * `modulate --url http://head:8001` typed on a terminal: that means the dashboard, which is
 * what `modulate` alone opens there. Anything else (a command, `--help`) goes to the parser.
 */
export function onlyDashboardOptions(argv: readonly string[]): boolean {
  const options = uiCommand.options as Readonly<Record<string, Options>>;
  for (let i = 0; i < argv.length; i += 1) {
    const token = argv[i] ?? "";
    const equals = token.indexOf("=");
    const name = token.startsWith("--") ? token.slice(2, equals < 0 ? undefined : equals) : "";
    const option = Object.hasOwn(options, name) ? options[name] : undefined;
    if (!option) return false;
    // Its value is the next word unless given after `=`; a boolean takes none.
    if (equals < 0 && option.type !== "boolean") i += 1;
  }
  return true;
}

/** Parses argv (without node and script), runs the command, returns its exit code. */
export async function main(
  argv: readonly string[],
  ctx: CliContext = processContext(),
): Promise<number> {
  const hosted = await hostScriptIfAsked(argv);
  if (hosted !== undefined) return hosted;
  // `modulate` alone on a terminal, or with only the dashboard's options, opens the dashboard;
  // elsewhere it asks for a command.
  if (ctx.isInteractive && onlyDashboardOptions(argv)) return main(["ui", ...argv], ctx);
  let exitCode: number = ExitCode.ok;
  const positionals: Positionals = new Map();
  let parser = yargs([...argv])
    .scriptName("modulate")
    .version(VERSION)
    .strict()
    .demandCommand(1, "name a command: modulate <command> --help shows each one")
    .recommendCommands()
    // Everything after `--` belongs to the submitted script.
    .parserConfiguration({ "populate--": true })
    .epilogue(EXIT_CODES_HELP)
    .wrap(Math.min(100, process.stdout.columns ?? 100))
    .fail((message, error) => {
      // One place turns parse failures into a typed error; the catch below prints it.
      throw error ?? new UserError(plainParseFailure(message, argv, positionals));
    })
    .help();
  parser = registerCommands(
    parser,
    ctx,
    (code) => {
      exitCode = code;
    },
    positionals,
    argv,
  );
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
  // A lasting listener, not `once`: execa's signal-exit re-raises a signal that it sees as the
  // only listener left, which would kill us in the middle of a clean stop.
  const stop = (signal: NodeJS.Signals): void => {
    if (!controller.signal.aborted) {
      // The signal's name is the reason: a command stopped by it exits 130 or 143.
      controller.abort(signal);
      return;
    }
    // A second Ctrl+C: the user will not wait for the clean stop.
    process.stderr.write(`modulate: ${signal} again: exiting now\n`);
    process.exit(signal === "SIGTERM" ? ExitCode.terminated : ExitCode.canceled);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    isInteractive: process.stdin.isTTY && process.stdout.isTTY,
    signal: controller.signal,
  };
}
