import yargs, { type Argv, type Options } from "yargs";
import { EXIT_CODES_HELP, ExitCode, UserError } from "./common/errors.ts";
import type { CliContext, ModeCommand } from "./modes/command.ts";
import { devCommand } from "./modes/dev.ts";
import { getCommand } from "./modes/get.ts";
import { lsCommand } from "./modes/ls.ts";
import { logsCommand } from "./modes/logs.ts";
import { cancelCommand } from "./modes/cancel.ts";
import { retryCommand } from "./modes/retry.ts";
import { routerCommand } from "./modes/router.ts";
import { installServiceCommand } from "./modes/install-service.ts";
import { hostScriptIfAsked } from "./modes/script-host.ts";
import { serverCommand } from "./modes/server.ts";
import { statsCommand } from "./modes/stats.ts";
import { submitCommand } from "./modes/submit.ts";
import { tokenCommand } from "./modes/token.ts";
import { uiCommand } from "./modes/ui.ts";
import { MODULATE_VERSION, versionText } from "./modes/version.ts";
import { workerCommand } from "./modes/worker.ts";
import { workersCommand } from "./modes/workers.ts";
import { processContext, reportFailure } from "./process-context.ts";

export const VERSION: string = MODULATE_VERSION;

export type Done = (exitCode: number) => void;

/** Each command's required positional, by command, for the message when it is left out. */
export type Positionals = Map<string, string>;

/** Adds `mode` to `parser`; its handler reports the exit code to `done`. */
export function register<O extends Record<string, Options>, P extends string>(
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
    positional
      ? `${mode.command} <${positional.name}>${positional.more ? ` [${positional.more}..]` : ""}`
      : mode.command,
    mode.describe,
    (sub) => {
      // Described here, so that the command's --help says what the positional takes. Not typed
      // a string: yargs would then hand a lone `-` over as "" instead of `true` (below).
      const withPositional = positional
        ? sub.positional(positional.name, { describe: positional.describe })
        : sub;
      const withOptions = (
        mode.passUnknownOptions ? withPositional.strict(false) : withPositional
      ).options(mode.options);
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
  p = register(p, lsCommand, ctx, done, positionals, words);
  p = register(p, logsCommand, ctx, done, positionals, words);
  p = register(p, cancelCommand, ctx, done, positionals, words);
  p = register(p, retryCommand, ctx, done, positionals, words);
  p = register(p, devCommand, ctx, done, positionals, words);
  p = register(p, serverCommand, ctx, done, positionals, words);
  p = register(p, routerCommand, ctx, done, positionals, words);
  p = register(p, workerCommand, ctx, done, positionals, words);
  p = register(p, workersCommand, ctx, done, positionals, words);
  p = register(p, statsCommand, ctx, done, positionals, words);
  p = register(p, tokenCommand, ctx, done, positionals, words);
  p = register(p, uiCommand, ctx, done, positionals, words);
  p = register(p, installServiceCommand, ctx, done, positionals, words);
  return p;
}

/** Every command's name, to point an unknown option at its command's own help. */
const KNOWN_COMMANDS: ReadonlySet<string> = new Set(
  [
    submitCommand,
    getCommand,
    lsCommand,
    logsCommand,
    cancelCommand,
    retryCommand,
    devCommand,
    serverCommand,
    routerCommand,
    workerCommand,
    workersCommand,
    statsCommand,
    tokenCommand,
    uiCommand,
    installServiceCommand,
  ].map((mode) => mode.command.split(" ")[0] ?? mode.command),
);

/** The command line's words before `--`: those after it belong to the submitted script. */
function ownWords(words: readonly string[]): readonly string[] {
  const end = words.indexOf("--");
  return end < 0 ? words : words.slice(0, end);
}

/**
 * Words people type from other schedulers, with what modulate offers for them. yargs would
 * suggest the nearest command by spelling, which points at the wrong one.
 */
const FAMILIAR_WORDS: ReadonlyMap<string, string> = new Map([
  ...["ps", "list", "jobs", "squeue", "queue", "status", "sacct"].map(
    (word) =>
      [
        word,
        `modulate ls lists outstanding jobs (--all: finished ones too), and modulate get ID shows one`,
      ] as const,
  ),
  ...["kill", "scancel", "stop", "rm"].map(
    (word) =>
      [
        word,
        `modulate cancel ID cancels a job (--group G --state S: every job they choose)`,
      ] as const,
  ),
  ...["tail", "log", "output"].map(
    (word) =>
      [
        word,
        `modulate logs ID prints a job's output (--follow: as it prints); modulate get ID shows its record`,
      ] as const,
  ),
  ...["nodes", "sinfo"].map(
    (word) =>
      [
        word,
        `modulate workers lists each group's live workers (modulate worker starts one)`,
      ] as const,
  ),
]);

/** `--timeout -5s`: a value that starts with '-' reads as options to yargs. */
function optionValueLikeAFlag(words: readonly string[], help: string): string | undefined {
  for (let i = 0; i + 1 < words.length; i += 1) {
    const option = words[i] ?? "";
    const value = words[i + 1] ?? "";
    if (/^--[a-z][a-z-]*$/.test(option) && /^-[^-]/.test(value) && !/^-[a-z]$/i.test(value)) {
      return `${option} ${value}: a value that starts with '-' reads as an option; write ${option}=${value} if you mean it (${help} says what ${option} takes)`;
    }
  }
  return undefined;
}

/**
 * yargs' parse failures with the fix said: "Not enough non-option arguments: got 0, need at
 * least 1" becomes what is missing, an unknown word points at the help of its command, and
 * words from other schedulers say what modulate has instead.
 */
function plainParseFailure(
  message: string,
  argv: readonly string[],
  positionals: Positionals,
): string {
  const words = ownWords(argv);
  const first = words.find((word) => !word.startsWith("-"));
  if (first !== undefined && !positionals.has(first) && FAMILIAR_WORDS.has(first)) {
    return `there is no "${first}" command: ${FAMILIAR_WORDS.get(first) ?? ""} (modulate --help lists the commands)`;
  }
  if (message.startsWith("Unknown argument")) {
    const command = words.find((word) => KNOWN_COMMANDS.has(word));
    const help = command === undefined ? "modulate --help" : `modulate ${command} --help`;
    const misread = optionValueLikeAFlag(words, help);
    if (misread !== undefined) return misread;
    return `${message} (${help} lists the ${command === undefined ? "commands and options" : "options"})`;
  }
  if (message.startsWith("Did you mean")) {
    return `${message} (modulate --help lists the commands)`;
  }
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

/**
 * The root parser, every command left out: main adds them. Exported so that tests can hold
 * the quick reading of a command line (modes/quick-args.ts) to what this parser makes of it.
 */
export function rootParser(argv: readonly string[], positionals: Positionals): Argv {
  return (
    yargs([...argv])
      .scriptName("modulate")
      .version(versionText())
      .strict()
      .demandCommand(1, "name a command: modulate <command> --help shows each one")
      .recommendCommands()
      // Everything after `--` belongs to the submitted script, word for word: yargs would read
      // `-- 1.50 0x10` as the numbers 1.5 and 16, and a script named 007 as 7.
      .parserConfiguration({ "populate--": true, "parse-positional-numbers": false })
      .epilogue(EXIT_CODES_HELP)
      .wrap(Math.min(100, process.stdout.columns ?? 100))
      .fail((message, error) => {
        // One place turns parse failures into a typed error; the catch below prints it.
        throw error ?? new UserError(plainParseFailure(message, argv, positionals));
      })
      .help()
  );
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
  let parser = rootParser(argv, positionals);
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
    return reportFailure(error, ctx);
  }
}
